"""Document readiness: which of the portal's documents the exported data can produce, and what is missing.

The national issuance portal gives patients 17 kinds of documents (``resources/documents/catalogue.toml``
lists them with the canonical-model data each needs). A bundle that is complete row by row can still be
useless for, say, receipts without the 공단부담금 split; the founder should learn that while the EMR is
still running. :class:`ReadinessObserver` watches the export stream (an
:class:`~emr_exporter.pipeline.export.RecordObserver`) and writes ``data/report/readiness.json`` into the bag:
per document type, how many units (patients, visits, receipts, kept copies) it can be issued for, and
per missing requirement how many units lack it **with the affected chart numbers** — those lists exist
only inside the bag; :meth:`Readiness.to_dict` leaves them out unless asked, and logs never see them.

Memory: one compact entry per patient (~40 bytes) and per visit (a 64-bit id prefix and 32 bits of flags in
flat arrays, ~28 bytes per visit), one int per practitioner, and one bitmap over patients per gap. Beyond
:data:`DEFAULT_VISIT_MEMORY` visits (~3.5 MB) the visits, and what later records add to them, go to enciphered
temporary files, resolved when the report is made (:class:`_VisitSpill`). No record is kept; nothing in
memory grows with the number of visits beyond that, nor with diagnoses, orders or fee lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import tomllib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.errors import ConfigError
from emr_exporter.pipeline.scratch import scratch_file
from emr_exporter.resources import resource_path

READINESS_MEMBER = "report/readiness.json"


def default_catalogue_path() -> Path:
    return resource_path("documents", "catalogue.toml")


# --- flags ---------------------------------------------------------------------------------------------

# Patient flags ("NO_x": something is missing; "HAS_x": something was seen).
P_NO_NAME, P_NO_RRN, P_NO_ADDRESS, P_NO_BIRTH, P_NO_SEX = 1, 2, 4, 8, 16
P_HAS_VISIT, P_HAS_NOTE, P_NOTE_NO_CC, P_HAS_DIAG = 32, 64, 128, 256
P_AUTHOR_SHIFT = 9  # practitioner flags of the chart notes' authors, shifted (bits 9-11)
P_HAS_TREATMENT = 1 << 12  # a procedure, order line or vaccination was given (진료확인서)
# Practitioner flags (also shifted into patient / visit / record flags).
PR_NO_NAME, PR_NO_KIND, PR_NO_LICENCE = 1, 2, 4
PR_UNKNOWN = PR_NO_NAME | PR_NO_KIND | PR_NO_LICENCE
# Visit flags.
E_INPATIENT, E_INJURY, E_NO_END, E_NO_DEPT, E_NO_PAYER = 1, 2, 4, 8, 16
E_DOCTOR_SHIFT = 5  # bits 5-7: the visit's doctor
E_HAS_DIAG, E_DIAG_NO_EDITION, E_DIAG_NO_ONSET = 1 << 8, 1 << 9, 1 << 10
E_HAS_RX = 1 << 11
E_PRESCRIBER_SHIFT = 12  # bits 12-14: the prescribers of the prescription lines
E_RX_NO_NAME, E_RX_NO_DOSE, E_RX_NO_FREQ, E_RX_NO_DAYS = 1 << 15, 1 << 16, 1 << 17, 1 << 18
E_HAS_RECEIPT, E_HAS_FEE, E_FEE_NO_NAME, E_FEE_NO_TOTAL, E_FEE_NO_SPLIT = 1 << 19, 1 << 20, 1 << 21, 1 << 22, 1 << 23
E_HAS_LAB, E_LAB_NO_VALUE = 1 << 24, 1 << 25
E_DIAG_NO_CODE = 1 << 26  # a diagnosis written only as text (no KCD code): not enough for a 진단서
# Record flags (receipt, kept certificate copy, operation).
R_NO_NUMBER, R_NO_PATIENT_SHARE, R_NO_INSURER_SHARE, R_NO_TOTAL, R_NO_PAID = 1, 2, 4, 8, 16
R_NO_TEXT, R_NO_PROCEDURE_NAME = 32, 64
R_PRACTITIONER_SHIFT = 7
# Institution flags.
I_NO_NAME, I_NO_ADDRESS, I_NO_PHONE, I_NO_CODE = 1, 2, 4, 8

INJURY_PAYERS = frozenset({"자보", "산재"})
VISIT_SELECTORS: dict[str, int] = {
    "diagnosed": E_HAS_DIAG,
    "injury": E_INJURY | E_HAS_DIAG,
    "inpatient": E_INPATIENT,
    "prescription": E_HAS_RX,
    "billed": E_HAS_RECEIPT,
    "lab": E_HAS_LAB,
}
UNITS = ("patient", "visit", "receipt", "certificate-copy", "operation")

# (scope, mask, present): scope P patient, E visit, R record, I institution. present=True means the
# requirement is met when the bit is set ("at least one"), else it is missing when the bit is set.
_Check = tuple[str, int, bool]
_COMMON: dict[str, _Check] = {
    "patient.name": ("P", P_NO_NAME, False),
    "patient.rrn": ("P", P_NO_RRN, False),
    "patient.address": ("P", P_NO_ADDRESS, False),
    "patient.birth_date": ("P", P_NO_BIRTH, False),
    "patient.sex": ("P", P_NO_SEX, False),
    "institution.name": ("I", I_NO_NAME, False),
    "institution.address": ("I", I_NO_ADDRESS, False),
    "institution.phone": ("I", I_NO_PHONE, False),
    "institution.code": ("I", I_NO_CODE, False),
}


def _practitioner_checks(scope: str, shift: int) -> dict[str, _Check]:
    return {
        "practitioner.name": (scope, PR_NO_NAME << shift, False),
        "practitioner.licence_kind": (scope, PR_NO_KIND << shift, False),
        "practitioner.licence_number": (scope, PR_NO_LICENCE << shift, False),
    }


_VISIT_CHECKS: dict[str, _Check] = {
    "encounter.end": ("E", E_NO_END, False),
    "encounter.department": ("E", E_NO_DEPT, False),
    "encounter.payer_type": ("E", E_NO_PAYER, False),
    "diagnosis": ("E", E_HAS_DIAG, True),
    "diagnosis.kcd_edition": ("E", E_DIAG_NO_EDITION, False),
    "diagnosis.onset": ("E", E_DIAG_NO_ONSET, False),
    "diagnosis.code": ("E", E_DIAG_NO_CODE, False),
    "order_line.name": ("E", E_RX_NO_NAME, False),
    "order_line.dose": ("E", E_RX_NO_DOSE, False),
    "order_line.frequency": ("E", E_RX_NO_FREQ, False),
    "order_line.days": ("E", E_RX_NO_DAYS, False),
    "fee_line": ("E", E_HAS_FEE, True),
    "fee_line.name": ("E", E_FEE_NO_NAME, False),
    "fee_line.total": ("E", E_FEE_NO_TOTAL, False),
    "fee_line.split": ("E", E_FEE_NO_SPLIT, False),
    "lab_result.value": ("E", E_LAB_NO_VALUE, False),
}

#: Which requirement keys each unit understands, and how each is checked.
CHECKS: dict[str, dict[str, _Check]] = {
    "patient": {
        **_COMMON,
        "encounter": ("P", P_HAS_VISIT, True),
        "chart_note": ("P", P_HAS_NOTE, True),
        "chart_note.chief_complaint": ("P", P_NOTE_NO_CC, False),
        "diagnosis": ("P", P_HAS_DIAG, True),
        "treatment": ("P", P_HAS_TREATMENT, True),
        **_practitioner_checks("P", P_AUTHOR_SHIFT),
    },
    "visit": {**_COMMON, **_VISIT_CHECKS, **_practitioner_checks("E", E_DOCTOR_SHIFT)},
    "receipt": {
        **_COMMON,
        "receipt.number": ("R", R_NO_NUMBER, False),
        "receipt.covered_patient": ("R", R_NO_PATIENT_SHARE, False),
        "receipt.covered_insurer": ("R", R_NO_INSURER_SHARE, False),
        "receipt.total": ("R", R_NO_TOTAL, False),
        "receipt.paid": ("R", R_NO_PAID, False),
        "encounter.payer_type": ("E", E_NO_PAYER, False),
        "encounter.department": ("E", E_NO_DEPT, False),
    },
    "certificate-copy": {
        **_COMMON,
        "certificate.text": ("R", R_NO_TEXT, False),
        "certificate.number": ("R", R_NO_NUMBER, False),
        **_practitioner_checks("R", R_PRACTITIONER_SHIFT),
    },
    "operation": {
        **_COMMON,
        "procedure.name": ("R", R_NO_PROCEDURE_NAME, False),
        **_practitioner_checks("R", R_PRACTITIONER_SHIFT),
    },
}
# A prescription's clinician is the prescriber of its lines, not the visit's doctor.
_PRESCRIPTION_CHECKS = {**CHECKS["visit"], **_practitioner_checks("E", E_PRESCRIBER_SHIFT)}


# --- the catalogue -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    en: str
    ko: str


@dataclass(frozen=True, slots=True)
class DocumentType:
    id: str
    ko: str
    en: str
    status: str  # confirmed | unconfirmed
    unit: str
    requires: tuple[str, ...]
    visits: str | None = None
    certificate_kinds: tuple[str, ...] = ()
    basis: str | None = None

    @property
    def unit_key(self) -> str:
        return f"visit.{self.visits}" if self.unit == "visit" else self.unit


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    sha256: str
    documents: tuple[DocumentType, ...]
    requirements: dict[str, Requirement]
    units: dict[str, tuple[str, str]]  # unit key → (en plural, ko)

    def document(self, document_id: str) -> DocumentType:
        for document in self.documents:
            if document.id == document_id:
                return document
        known = ", ".join(d.id for d in self.documents)
        raise ConfigError(f"There is no document type '{document_id}'. Known types: {known}.")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check the document catalogue; a mistake names the file, the document and the field."""
    path = Path(path) if path is not None else default_catalogue_path()
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError:
        raise ConfigError(f"The document catalogue {path} cannot be read. Reinstall emr-exporter.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The document catalogue {path} is not valid TOML: {exc}.") from None

    def fail(where: str, problem: str) -> ConfigError:
        return ConfigError(f"The document catalogue {path}: {where}: {problem}.")

    requirements = {
        key: Requirement(key, str(value.get("en", "")), str(value.get("ko", "")))
        for key, value in data.get("requirements", {}).items()
    }
    units = {key: (str(value["en"]), str(value["ko"])) for key, value in data.get("units", {}).items()}
    documents: list[DocumentType] = []
    seen: set[str] = set()
    for number, entry in enumerate(data.get("document", []), 1):
        doc_id = str(entry.get("id", ""))
        where = f"document {number} ({doc_id or 'no id'})"
        for name in ("id", "ko", "en", "unit", "requires"):
            if not entry.get(name):
                raise fail(where, f"'{name}' is missing")
        if doc_id in seen:
            raise fail(where, "the id is used twice")
        seen.add(doc_id)
        unit = entry["unit"]
        if unit not in UNITS:
            raise fail(where, f"unit '{unit}' is not one of {', '.join(UNITS)}")
        status = entry.get("status", "unconfirmed")
        if status not in ("confirmed", "unconfirmed"):
            raise fail(where, "status must be 'confirmed' or 'unconfirmed'")
        visits = entry.get("visits")
        if (unit == "visit") != (visits is not None) or (visits is not None and visits not in VISIT_SELECTORS):
            raise fail(where, f"a visit document needs visits = one of {', '.join(VISIT_SELECTORS)}")
        kinds = tuple(entry.get("certificate_kinds", ()))
        if (unit == "certificate-copy") != bool(kinds):
            raise fail(where, "certificate_kinds goes with unit = 'certificate-copy' (and only there)")
        document = DocumentType(
            id=doc_id, ko=entry["ko"], en=entry["en"], status=status, unit=unit,
            requires=tuple(entry["requires"]), visits=visits, certificate_kinds=kinds, basis=entry.get("basis"),
        )
        for key in document.requires:
            if key not in requirements:
                raise fail(where, f"requirement '{key}' has no entry in [requirements]")
            if key not in CHECKS[unit]:
                raise fail(where, f"requirement '{key}' cannot be checked for unit '{unit}'")
        if document.unit_key not in units:
            raise fail(where, f"unit '{document.unit_key}' has no entry in [units]")
        documents.append(document)
    if not documents:
        raise fail("[[document]]", "no document types")
    version = str(data.get("catalogue", {}).get("version", ""))
    if not version:
        raise fail("[catalogue]", "'version' is missing")
    return Catalogue(version, hashlib.sha256(raw).hexdigest(), tuple(documents), requirements, units)


# --- compact per-record state --------------------------------------------------------------------------


def _id_key(record_id: str) -> int:
    """A non-zero 64-bit key for a record id (ids are hex SHA-256 prefixes; others are hashed)."""
    try:
        key = int(record_id[:16], 16)
    except ValueError:
        key = int.from_bytes(hashlib.sha256(record_id.encode()).digest()[:8], "big")
    return key or 1


class IdIndex:
    """Record id → dense index, exact, in flat arrays and no Python objects: the ids' 64-bit keys in the order
    they came (8 bytes an id) and an open-addressing table of dense indices (4 bytes a slot, at most 2/3
    full): 14–20 bytes an id, and a growth only rebuilds the 4-byte table (the keys stay where they are).

    Before (flatmem) each slot held its key and index (12 bytes a slot, at most half full: 24–48 bytes an id,
    and old and new tables both alive while growing): ~37 MB at peak for the 10^7 clinic's 10^6 visits.
    tests/test_flat_memory.py holds it to that table over random, repeated and colliding ids.
    """

    def __init__(self) -> None:
        self._keys = array("Q")  # the key of dense index i
        self._slots = array("I", bytes(4 * 1024))  # dense index + 1; 0 = empty
        self._mask = 1023
        self.size = 0

    def _find(self, key: int) -> int:
        """The slot holding ``key``, or the empty slot where it goes (linear probing)."""
        keys, slots, mask = self._keys, self._slots, self._mask
        i = key & mask
        while True:
            slot = slots[i]
            if not slot or keys[slot - 1] == key:
                return i
            i = (i + 1) & mask

    def get(self, record_id: str | None) -> int | None:
        if record_id is None:
            return None
        slot = self._slots[self._find(_id_key(record_id))]
        return slot - 1 if slot else None

    def get_key(self, key: int) -> int | None:
        slot = self._slots[self._find(key)]
        return slot - 1 if slot else None

    def add(self, record_id: str) -> int:
        return self.add_key(_id_key(record_id))

    def add_key(self, key: int) -> int:
        i = self._find(key)
        slot = self._slots[i]
        if slot:
            return slot - 1
        self._keys.append(key)
        self.size += 1
        self._slots[i] = self.size
        if self.size * 3 > self._mask * 2:
            self._grow()
        return self.size - 1

    def _grow(self) -> None:
        capacity = (self._mask + 1) * 2
        slots = array("I", bytes(4 * capacity))
        mask = capacity - 1
        for index, key in enumerate(self._keys, 1):  # keys are unique: no comparison needed
            i = key & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = index
        self._slots, self._mask = slots, mask

    def keys(self) -> array[int]:
        """The keys by dense index (the table's own array: read, do not change)."""
        return self._keys


class _Texts:
    """A list of short strings packed into one buffer (UTF-8 back to back, end offsets in an array): the
    patients' chart numbers, ~10 bytes each instead of a str object (~60 bytes) per patient."""

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> str:
        ends = self._ends
        start = ends[i - 1] if i else 0
        return self._data[start : ends[i]].decode("utf-8", "surrogatepass")


class _Bitmap:
    """A growable set of small ints (patient indices)."""

    __slots__ = ("bits",)

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits) + 64))
        self.bits[byte] |= 1 << (n & 7)

    def __iter__(self) -> Iterator[int]:
        for byte_index, byte in enumerate(self.bits):
            if byte:
                for bit in range(8):
                    if byte & (1 << bit):
                        yield byte_index * 8 + bit


# --- visits beyond memory -------------------------------------------------------------------------------

#: Visits the observer holds in memory (~28 bytes each with their flags: ~3.5 MB) before they, and from then
#: on every visit and what each later record adds to one, go to temporary files, resolved when the report is
#: made. The 10^6 demo clinic has ~111 000 visits (never spills), the 10^7 one ~1.02 M (~28 MB in memory).
#: 2^17, not 2^18: a clinic that spills spills either way, and the other 3.5 MB were part of what the
#: export's memory grew by from 10^4 to 10^7 rows.
DEFAULT_VISIT_MEMORY = 1 << 17
#: Tests and benchmarks: another number of visits in memory (e.g. 5, so a tiny clinic spills too).
VISIT_MEMORY_ENV = "EMR_EXPORTER_VISIT_MEMORY"
_PARTS = 64  # files, by the top 6 bits of the visit's key: resolving one holds ~1/64 of the visits
_PART_BUFFER = 4 * 512  # words buffered per file before a write (512 entries, 16 KB; 1 MB for all 64)
_READ = 32 << 14  # bytes read at once when a file is resolved (16 384 entries)
_LOW32 = 0xFFFFFFFF
_ENCOUNTER, _MARK, _RECEIPT = 0, 1, 2  # entry kinds (bits 40 and up of an entry's second word)


class _VisitSpill:
    """The visits beyond memory, and what later records add to them, in 64 temporary files by key.

    An entry is four 64-bit words: the visit's key; flags | record type << 32 | kind << 40; a stamp; extra.
    An encounter (kind 0) has the visit's own flags, its arrival number as stamp and its patient index + 1 as
    extra (0: unknown patient); a record marking its visit (kind 1) the flags to add and as stamp the number
    of encounters seen before it; a receipt (kind 2) its own record flags, and as extra the patient flags it
    saw | (patient index + 1) << 32, for its tally. When resolved, a record links to its visit only if that
    visit's first encounter came before it (stamp): what the in-memory index would have answered then.
    The files (unnamed: deleted when closed, or when the process ends) are enciphered (AES-256-CTR under a
    key drawn for this observer, kept in memory only): they hold ids' keys and flags.
    """

    def __init__(self, work_dir: Path | None) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        secret = os.urandom(32)
        # One counter stream per file (its number as nonce): each is written once, from the start.
        self._ciphers = [Cipher(algorithms.AES(secret), modes.CTR(part.to_bytes(16, "big"))) for part in range(_PARTS)]
        self._encryptors = [cipher.encryptor() for cipher in self._ciphers]
        self._files = [scratch_file(work_dir, ".emr-visits-") for _ in range(_PARTS)]  # closed by close()
        self._buffers = [array("Q") for _ in range(_PARTS)]
        self.encounters = 0  # encounters written: the next one's stamp
        self.type_names: list[str] = []  # record type names by code (for the count of unlinked records)
        self._types: dict[str, int] = {}

    def _add(self, key: int, word: int, stamp: int, extra: int) -> None:
        part = key >> 58
        buffer = self._buffers[part]
        buffer.extend((key, word, stamp, extra))
        if len(buffer) >= _PART_BUFFER:
            self._files[part].write(self._encryptors[part].update(buffer.tobytes()))
            del buffer[:]

    def encounter(self, key: int, flags: int, patient_index: int | None) -> None:
        self._add(key, flags, self.encounters, 0 if patient_index is None else patient_index + 1)
        self.encounters += 1

    def _code(self, name: str) -> int:
        """The code of a record type name (for the count of unlinked records)."""
        code = self._types.get(name)
        if code is None:
            code = self._types[name] = len(self.type_names)
            self.type_names.append(name)
        return code

    def mark(self, key: int, flags: int, name: str) -> None:
        self._add(key, flags | self._code(name) << 32 | _MARK << 40, self.encounters, 0)

    def receipt(self, key: int, record_flags: int, p: int, patient_index: int | None, name: str) -> None:
        extra = p | (0 if patient_index is None else patient_index + 1) << 32
        self._add(key, record_flags | self._code(name) << 32 | _RECEIPT << 40, self.encounters, extra)

    def entries(self, part: int) -> Iterator[array[int]]:
        """The file's entries in the order written, in arrays of whole entries (call :meth:`finish` first)."""
        handle = self._files[part]
        handle.seek(0)
        decrypt = self._ciphers[part].decryptor().update
        while data := handle.read(_READ):
            chunk = array("Q")
            chunk.frombytes(decrypt(data))
            yield chunk

    def finish(self) -> None:
        """Write what the buffers hold."""
        for part, buffer in enumerate(self._buffers):
            if buffer:
                self._files[part].write(self._encryptors[part].update(buffer.tobytes()))
                del buffer[:]
            self._files[part].flush()

    def close(self) -> None:
        for handle in self._files:
            handle.close()


# --- results -------------------------------------------------------------------------------------------


@dataclass
class Gap:
    requirement: str
    count: int
    message_en: str
    message_ko: str
    chart_numbers: list[str] = field(default_factory=list)

    def to_dict(self, with_chart_numbers: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requirement": self.requirement, "count": self.count,
            "message_en": self.message_en, "message_ko": self.message_ko,
        }
        if with_chart_numbers:
            out["chart_numbers"] = self.chart_numbers
        else:
            out["patients"] = len(self.chart_numbers)
        return out


@dataclass
class DocumentReadiness:
    document: DocumentType
    unit_en: str
    unit_ko: str
    candidates: int
    issuable: int
    gaps: list[Gap]

    def to_dict(self, with_chart_numbers: bool) -> dict[str, Any]:
        d = self.document
        return {
            "id": d.id, "ko": d.ko, "en": d.en, "status": d.status, "unit": d.unit_key,
            "unit_en": self.unit_en, "unit_ko": self.unit_ko,
            "candidates": self.candidates, "issuable": self.issuable,
            "gaps": [gap.to_dict(with_chart_numbers) for gap in self.gaps],
        }


@dataclass
class Readiness:
    catalogue_version: str
    catalogue_sha256: str
    documents: list[DocumentReadiness]
    unlinked: dict[str, int]

    def document(self, document_id: str) -> DocumentReadiness:
        for entry in self.documents:
            if entry.document.id == document_id:
                return entry
        raise KeyError(document_id)

    def to_dict(self, *, with_chart_numbers: bool = False) -> dict[str, Any]:
        """JSON-ready. Chart numbers only when asked (the in-bundle report); never for logs or terminals."""
        return {
            "catalogue": {"version": self.catalogue_version, "sha256": self.catalogue_sha256},
            "documents": [entry.to_dict(with_chart_numbers) for entry in self.documents],
            "records_not_linked_to_a_visit": dict(sorted(self.unlinked.items())),
        }

    def table(self) -> str:
        """Plain text for the terminal: counts and messages, no patient data."""
        lines = [f"{'document':<34}{'issuable':>10}{'of':>8}  unit"]
        for entry in self.documents:
            d = entry.document
            mark = "" if d.status == "confirmed" else " (unconfirmed)"
            lines.append(f"{d.ko + ' / ' + d.id:<34}{entry.issuable:>10}{entry.candidates:>8}  {entry.unit_en}{mark}")
            for gap in entry.gaps:
                lines.append(f"    - {gap.message_en}")
        return "\n".join(lines)


# --- the observer --------------------------------------------------------------------------------------


class _DocumentTally:
    __slots__ = ("candidates", "checks", "document", "gap_counts", "gap_patients", "issuable")

    def __init__(self, document: DocumentType) -> None:
        self.document = document
        table = _PRESCRIPTION_CHECKS if document.visits == "prescription" else CHECKS[document.unit]
        self.checks = [table[key] for key in document.requires]
        self.candidates = 0
        self.issuable = 0
        self.gap_counts = [0] * len(document.requires)
        self.gap_patients: list[_Bitmap | None] = [None] * len(document.requires)

    def tally(self, p: int, e: int, r: int, i: int, patient_index: int | None) -> None:
        self.candidates += 1
        flags = {"P": p, "E": e, "R": r, "I": i}
        complete = True
        for n, (scope, mask, present) in enumerate(self.checks):
            if bool(flags[scope] & mask) == present:
                continue
            complete = False
            self.gap_counts[n] += 1
            if patient_index is not None:
                bitmap = self.gap_patients[n]
                if bitmap is None:
                    bitmap = self.gap_patients[n] = _Bitmap()
                bitmap.add(patient_index)
        if complete:
            self.issuable += 1


def readiness_summary(record: model.Record) -> tuple[Any, ...] | None:
    """What :class:`ReadinessObserver` reads of ``record``: its kind, the ids it links by and the flags
    that depend on the record alone (the ones that depend on records before it are added where it is
    observed). None: the observer has nothing to do with it. Pure: run where the row is mapped."""
    # A record the EMR marked as erroneous is exported, but no document is issued from it.
    if getattr(record, "status", None) == "entered-in-error":
        return None
    summarise = _SUMMARISERS.get(type(record))
    return None if summarise is None else summarise(record)


def _practitioner_summary(r: model.Practitioner) -> tuple[Any, ...]:
    return ("practitioner", r.id, (0 if r.name else PR_NO_NAME) | (0 if r.licence_kind else PR_NO_KIND)
            | (0 if r.licence_number else PR_NO_LICENCE))


def _patient_summary(r: model.Patient) -> tuple[Any, ...]:
    return ("patient", r.id, r.chart_number,
            (0 if r.name else P_NO_NAME) | (0 if (r.rrn or r.rrn_missing_reason) else P_NO_RRN)
            | (0 if r.address else P_NO_ADDRESS) | (0 if r.birth_date else P_NO_BIRTH)
            | (0 if r.sex and r.sex != "unknown" else P_NO_SEX))


def _encounter_summary(r: model.Encounter) -> tuple[Any, ...] | None:
    if r.status in model.NOT_DONE_STATUSES:  # a planned or cancelled visit: exported, on no document
        return None
    flags = (0 if r.department else E_NO_DEPT) | (0 if r.payer_type else E_NO_PAYER)
    if r.kind == "inpatient":
        flags |= E_INPATIENT | (0 if r.end else E_NO_END)
    if r.payer_type in INJURY_PAYERS:
        flags |= E_INJURY
    return ("encounter", r.id, r.practitioner_id, r.patient_id, flags)


def _diagnosis_summary(r: model.Diagnosis) -> tuple[Any, ...]:
    # A problem-list entry is the patient's, no visit's (the documents skip it): no visit of its own (False).
    return ("diagnosis", r.patient_id, False if r.problem_list else r.encounter_id,
            E_HAS_DIAG | (0 if r.kcd_edition else E_DIAG_NO_EDITION) | (0 if r.onset else E_DIAG_NO_ONSET)
            | (0 if r.code else E_DIAG_NO_CODE))


def _chart_note_summary(r: model.ChartNote) -> tuple[Any, ...] | None:
    if r.nursing:  # a nursing record is no 진료기록부 note: it has no chief complaint to give
        return None
    return ("chart_note", r.patient_id, r.author_id, P_HAS_NOTE | (0 if r.chief_complaint else P_NOTE_NO_CC))


def _order_line_summary(r: model.OrderLine) -> tuple[Any, ...] | None:
    if r.status in model.NOT_DONE_STATUSES:  # a draft or cancelled order: exported, on no prescription
        return None
    if not r.outside_prescription or r.code_type not in ("drug", None):
        return ("order_line", r.patient_id, None, None, None)
    return ("order_line", r.patient_id, r.encounter_id, r.prescriber_id,
            E_HAS_RX | (0 if r.name else E_RX_NO_NAME) | (0 if r.dose is not None else E_RX_NO_DOSE)
            | (0 if r.frequency else E_RX_NO_FREQ) | (0 if r.days else E_RX_NO_DAYS))


def _lab_result_summary(r: model.LabResult) -> tuple[Any, ...]:
    return ("lab_result", r.encounter_id, E_HAS_LAB | (0 if r.value not in (None, "") else E_LAB_NO_VALUE))


def _immunization_summary(r: model.Immunization) -> tuple[Any, ...] | None:
    return ("immunization", r.patient_id) if r.status != "not-done" else None


def _procedure_summary(r: model.ProcedureRecord) -> tuple[Any, ...] | None:
    if r.status in model.NOT_DONE_STATUSES:  # planned or not done: exported, on no document as given
        return None
    if not r.is_operation:
        return ("procedure", r.patient_id, None, None)
    return ("procedure", r.patient_id, r.performer_id, 0 if (r.name or r.edi_code) else R_NO_PROCEDURE_NAME)


def _certificate_summary(r: model.Certificate) -> tuple[Any, ...]:
    return ("certificate", r.kind.strip(), r.patient_id, r.doctor_id,
            (0 if r.text else R_NO_TEXT) | (0 if r.number else R_NO_NUMBER))


def _receipt_summary(r: model.Receipt) -> tuple[Any, ...]:
    return ("receipt", r.patient_id, r.encounter_id,
            (0 if r.number else R_NO_NUMBER) | (0 if r.covered_patient is not None else R_NO_PATIENT_SHARE)
            | (0 if r.covered_insurer is not None else R_NO_INSURER_SHARE)
            | (0 if r.total is not None else R_NO_TOTAL) | (0 if r.paid is not None else R_NO_PAID))


def _fee_line_summary(r: model.FeeLine) -> tuple[Any, ...]:
    split_missing = not r.non_covered and (r.patient_share is None or r.insurer_share is None)
    return ("fee_line", r.encounter_id,
            E_HAS_FEE | (0 if (r.name or r.code) else E_FEE_NO_NAME) | (0 if r.total is not None else E_FEE_NO_TOTAL)
            | (E_FEE_NO_SPLIT if split_missing else 0))


_SUMMARISERS: dict[type, Any] = {
    model.Practitioner: _practitioner_summary,
    model.Patient: _patient_summary,
    model.Encounter: _encounter_summary,
    model.Diagnosis: _diagnosis_summary,
    model.ChartNote: _chart_note_summary,
    model.OrderLine: _order_line_summary,
    model.ProcedureRecord: _procedure_summary,
    model.LabResult: _lab_result_summary,
    model.Certificate: _certificate_summary,
    model.Receipt: _receipt_summary,
    model.FeeLine: _fee_line_summary,
    model.Immunization: _immunization_summary,
}


class ReadinessObserver:
    """Sees every exported record (``ExportRun(observers=[...])``); reports ``data/report/readiness.json``.

    Visits are held in memory up to ``visit_memory`` (None: :data:`DEFAULT_VISIT_MEMORY`, or
    ``EMR_EXPORTER_VISIT_MEMORY`` for tests); from then on in enciphered temporary files in ``work_dir`` (None:
    the system's temporary folder), resolved when the result is made: the same report either way."""

    def __init__(
        self, institution: model.Institution, catalogue: Catalogue | None = None, *,
        visit_memory: int | None = None, work_dir: Path | None = None,
    ) -> None:
        if visit_memory is None:  # the default, or the tests' hook
            visit_memory = int(os.environ.get(VISIT_MEMORY_ENV) or DEFAULT_VISIT_MEMORY)
        if visit_memory < 1:
            raise ValueError("visit_memory must be at least 1 visit")
        self.visit_memory = visit_memory
        self.work_dir = work_dir
        self._spill: _VisitSpill | None = None  # the visits, once more than visit_memory came
        self.catalogue = catalogue or load_catalogue()
        self.institution_flags = (
            (0 if institution.name else I_NO_NAME) | (0 if institution.address else I_NO_ADDRESS)
            | (0 if institution.phone else I_NO_PHONE) | (0 if institution.code else I_NO_CODE)
        )
        self._lock = threading.Lock()  # the wizard may ask for the result from another thread
        self.practitioners: dict[str, int] = {}
        self.patients = IdIndex()
        self.patient_flags = array("I")
        self.chart_numbers = _Texts()  # by patient index
        self.visits = IdIndex()
        self.visit_flags = array("I")
        self.visit_patient = array("i")  # patient index, -1 when unknown
        self.unlinked: dict[str, int] = {}
        self.tallies = [_DocumentTally(d) for d in self.catalogue.documents]
        self._certificate_tallies: dict[str, list[_DocumentTally]] = {}
        for tally in self.tallies:
            for kind in tally.document.certificate_kinds:
                self._certificate_tallies.setdefault(kind, []).append(tally)
        self._result: Readiness | None = None

    # -- lookups --
    def _practitioner(self, practitioner_id: str | None) -> int:
        if practitioner_id is None:
            return PR_UNKNOWN
        return self.practitioners.get(practitioner_id, PR_UNKNOWN)

    def _patient(self, patient_id: str | None) -> tuple[int | None, int]:
        index = self.patients.get(patient_id)
        if index is None:
            return None, P_NO_NAME | P_NO_RRN | P_NO_ADDRESS | P_NO_BIRTH | P_NO_SEX
        return index, self.patient_flags[index]

    def _visit(self, name: str, encounter_id: str | None) -> int | None:
        """The visit's index; a record of type ``name`` whose visit is not (yet) seen is counted unlinked."""
        index = self.visits.get(encounter_id)
        if index is None:
            self.unlinked[name] = self.unlinked.get(name, 0) + 1
        return index

    def _mark_visit(self, name: str, encounter_id: str | None, flags: int) -> None:
        """Add ``flags`` to the visit of a record of type ``name`` (one without a visit is counted unlinked)."""
        spill = self._spill
        if spill is not None and encounter_id is not None:
            spill.mark(_id_key(encounter_id), flags, name)
            return
        index = self._visit(name, encounter_id)
        if index is not None:
            self.visit_flags[index] |= flags

    def _spill_visits(self) -> None:
        """The visits in memory to the files; every visit and visit mark from now on goes there too."""
        spill = self._spill = _VisitSpill(self.work_dir)
        for key, flags, patient_index in zip(self.visits.keys(), self.visit_flags, self.visit_patient, strict=True):
            spill.encounter(key, flags, None if patient_index < 0 else patient_index)
        self.visits, self.visit_flags, self.visit_patient = IdIndex(), array("I"), array("i")

    def _mark_patient(self, patient_id: str, flags: int) -> None:
        index = self.patients.get(patient_id)
        if index is not None:
            self.patient_flags[index] |= flags

    # -- the stream --
    #: The few ids, dates and flags of a record this observer reads, made where the row is mapped (a worker
    #: process too: a module-level function, pickled by name); the parent gets them instead of the record.
    summarise = staticmethod(readiness_summary)

    def observe(self, record: model.Record) -> None:
        summary = readiness_summary(record)
        if summary is not None:
            self.observe_summary(summary)

    def observe_summary(self, summary: tuple[Any, ...]) -> None:
        """A record's :func:`readiness_summary`, in the export's order (the records before it are seen)."""
        _SUMMARY_HANDLERS[summary[0]](self, summary)

    def _on_practitioner(self, s: tuple[Any, ...]) -> None:
        _, practitioner_id, flags = s
        self.practitioners[practitioner_id] = flags

    def _on_patient(self, s: tuple[Any, ...]) -> None:
        _, patient_id, chart_number, flags = s
        index = self.patients.add(patient_id)
        if index == len(self.patient_flags):
            self.chart_numbers.append(chart_number)
            self.patient_flags.append(flags)

    def _on_encounter(self, s: tuple[Any, ...]) -> None:
        _, encounter_id, practitioner_id, patient_id, flags = s
        spill = self._spill
        if spill is None and self.visits.add(encounter_id) != len(self.visit_flags):
            return  # its id came before: the first visit with it stays
        flags |= self._practitioner(practitioner_id) << E_DOCTOR_SHIFT
        patient_index = self.patients.get(patient_id)
        if spill is not None:  # its patient is marked when resolved, if it is the first visit with its id
            spill.encounter(_id_key(encounter_id), flags, patient_index)
            return
        self.visit_flags.append(flags)
        self.visit_patient.append(-1 if patient_index is None else patient_index)
        self._mark_patient(patient_id, P_HAS_VISIT)
        if len(self.visit_flags) >= self.visit_memory:
            self._spill_visits()

    def _on_diagnosis(self, s: tuple[Any, ...]) -> None:
        _, patient_id, encounter_id, flags = s
        self._mark_patient(patient_id, P_HAS_DIAG)
        if encounter_id is not False:  # False: a problem-list entry, no visit's diagnosis (_diagnosis_summary)
            self._mark_visit("Diagnosis", encounter_id, flags)

    def _on_chart_note(self, s: tuple[Any, ...]) -> None:
        _, patient_id, author_id, flags = s
        self._mark_patient(patient_id, flags | (self._practitioner(author_id) << P_AUTHOR_SHIFT))

    def _on_order_line(self, s: tuple[Any, ...]) -> None:
        _, patient_id, encounter_id, prescriber_id, flags = s
        self._mark_patient(patient_id, P_HAS_TREATMENT)
        if flags is None:  # not a prescription given outside
            return
        self._mark_visit("OrderLine", encounter_id, flags | (self._practitioner(prescriber_id) << E_PRESCRIBER_SHIFT))

    def _on_lab_result(self, s: tuple[Any, ...]) -> None:
        _, encounter_id, flags = s
        self._mark_visit("LabResult", encounter_id, flags)

    def _on_immunization(self, s: tuple[Any, ...]) -> None:
        self._mark_patient(s[1], P_HAS_TREATMENT)

    def _on_procedure(self, s: tuple[Any, ...]) -> None:
        _, patient_id, performer_id, flags = s
        self._mark_patient(patient_id, P_HAS_TREATMENT)
        if flags is None:  # not an operation
            return
        patient_index, p = self._patient(patient_id)
        flags |= self._practitioner(performer_id) << R_PRACTITIONER_SHIFT
        for tally in self.tallies:
            if tally.document.unit == "operation":
                tally.tally(p, 0, flags, self.institution_flags, patient_index)

    def _on_certificate(self, s: tuple[Any, ...]) -> None:
        _, kind, patient_id, doctor_id, flags = s
        tallies = self._certificate_tallies.get(kind)
        if not tallies:
            return
        patient_index, p = self._patient(patient_id)
        flags |= self._practitioner(doctor_id) << R_PRACTITIONER_SHIFT
        for tally in tallies:
            tally.tally(p, 0, flags, self.institution_flags, patient_index)

    def _on_receipt(self, s: tuple[Any, ...]) -> None:
        _, patient_id, encounter_id, flags = s
        patient_index, p = self._patient(patient_id)
        spill = self._spill
        if spill is not None and encounter_id is not None:  # linked and tallied when resolved
            spill.receipt(_id_key(encounter_id), flags, p, patient_index, "Receipt")
            return
        visit = self._visit("Receipt", encounter_id)
        e = E_NO_PAYER | E_NO_DEPT
        if visit is not None:
            e = self.visit_flags[visit]
            self.visit_flags[visit] |= E_HAS_RECEIPT
        for tally in self.tallies:
            if tally.document.unit == "receipt":
                tally.tally(p, e, flags, self.institution_flags, patient_index)

    def _on_fee_line(self, s: tuple[Any, ...]) -> None:
        _, encounter_id, flags = s
        self._mark_visit("FeeLine", encounter_id, flags)

    # -- the end --
    def result(self) -> Readiness:
        """The readiness figures (computed once, when the stream has ended)."""
        with self._lock:
            if self._result is None:
                self._result = self._compute()
            return self._result

    def _compute(self) -> Readiness:
        i = self.institution_flags
        spill, self._spill = self._spill, None
        if spill is not None:
            try:
                self._resolve(spill)
            finally:
                spill.close()
        for tally in self.tallies:
            document = tally.document
            if document.unit == "patient":
                for index, p in enumerate(self.patient_flags):
                    tally.tally(p, 0, 0, i, index)
            elif document.unit == "visit":
                self._tally_visits(tally, self.visit_flags, self.visit_patient)
        documents = []
        for tally in self.tallies:
            document = tally.document
            unit_en, unit_ko = self.catalogue.units[document.unit_key]
            gaps = []
            for n, key in enumerate(document.requires):
                count = tally.gap_counts[n]
                if not count:
                    continue
                requirement = self.catalogue.requirements[key]
                bitmap = tally.gap_patients[n]
                charts = sorted(self.chart_numbers[k] for k in bitmap) if bitmap is not None else []
                gaps.append(Gap(
                    requirement=key, count=count,
                    message_en=f"{count} {unit_en} lack {requirement.en}",
                    message_ko=f"{unit_ko} {count}건: {requirement.ko} 없음",
                    chart_numbers=charts,
                ))
            documents.append(DocumentReadiness(document, unit_en, unit_ko, tally.candidates, tally.issuable, gaps))
        return Readiness(self.catalogue.version, self.catalogue.sha256, documents, dict(self.unlinked))

    def _tally_visits(self, tally: _DocumentTally, visit_flags: array[int], visit_patient: array[int]) -> None:
        wanted = VISIT_SELECTORS[tally.document.visits or ""]
        i = self.institution_flags
        for index, e in enumerate(visit_flags):
            if e & wanted == wanted:
                patient_index = visit_patient[index]
                p = self.patient_flags[patient_index] if patient_index >= 0 else P_NO_NAME | P_NO_RRN
                tally.tally(p, e, 0, i, patient_index if patient_index >= 0 else None)

    def _resolve(self, spill: _VisitSpill) -> None:
        """The spilled visits file by file: each file's visits (first encounter of an id wins) in a table, then
        its marks and receipts applied in the order they came, then its visits tallied; the patients of its
        visits marked as having one. Tallies are counts and sets of patients: the order does not change them."""
        spill.finish()
        i = self.institution_flags
        receipt_tallies = [t for t in self.tallies if t.document.unit == "receipt"]
        visit_tallies = [t for t in self.tallies if t.document.unit == "visit"]
        patient_flags = self.patient_flags
        for part in range(_PARTS):
            index = IdIndex()
            visit_flags, visit_patient, stamps = array("I"), array("i"), array("Q")
            for chunk in spill.entries(part):
                for n in range(0, len(chunk), 4):
                    if chunk[n + 1] >> 40 == _ENCOUNTER and index.add_key(chunk[n]) == len(visit_flags):
                        visit_flags.append(chunk[n + 1] & _LOW32)
                        stamps.append(chunk[n + 2])
                        visit_patient.append(chunk[n + 3] - 1)
            for chunk in spill.entries(part):
                for n in range(0, len(chunk), 4):
                    word = chunk[n + 1]
                    kind = word >> 40
                    if kind == _ENCOUNTER:
                        continue
                    visit = index.get_key(chunk[n])
                    if visit is not None and stamps[visit] >= chunk[n + 2]:
                        visit = None  # its visit came after it
                    if visit is None:
                        name = spill.type_names[word >> 32 & 0xFF]
                        self.unlinked[name] = self.unlinked.get(name, 0) + 1
                    if kind == _MARK:
                        if visit is not None:
                            visit_flags[visit] |= word & _LOW32
                        continue
                    # A receipt: its visit's flags now, not as it came, but a receipt is only checked for the
                    # visit's payer and department (CHECKS["receipt"]), which are the encounter's own.
                    e = E_NO_PAYER | E_NO_DEPT
                    if visit is not None:
                        e = visit_flags[visit]
                        visit_flags[visit] |= E_HAS_RECEIPT
                    extra = chunk[n + 3]
                    patient_index = (extra >> 32) - 1
                    for tally in receipt_tallies:
                        tally.tally(extra & _LOW32, e, word & _LOW32, i, None if patient_index < 0 else patient_index)
            for patient_index in visit_patient:
                if patient_index >= 0:
                    patient_flags[patient_index] |= P_HAS_VISIT
            for tally in visit_tallies:
                self._tally_visits(tally, visit_flags, visit_patient)

    def report_members(self) -> list[tuple[str, bytes]]:
        data = json.dumps(self.result().to_dict(with_chart_numbers=True), ensure_ascii=False, sort_keys=True, indent=1)
        return [(READINESS_MEMBER, data.encode("utf-8") + b"\n")]


_SUMMARY_HANDLERS: dict[str, Any] = {
    "practitioner": ReadinessObserver._on_practitioner,
    "patient": ReadinessObserver._on_patient,
    "encounter": ReadinessObserver._on_encounter,
    "diagnosis": ReadinessObserver._on_diagnosis,
    "chart_note": ReadinessObserver._on_chart_note,
    "order_line": ReadinessObserver._on_order_line,
    "procedure": ReadinessObserver._on_procedure,
    "lab_result": ReadinessObserver._on_lab_result,
    "certificate": ReadinessObserver._on_certificate,
    "receipt": ReadinessObserver._on_receipt,
    "fee_line": ReadinessObserver._on_fee_line,
    "immunization": ReadinessObserver._on_immunization,
}


# --- readiness straight from a source -------------------------------------------------------------------


def readiness_for(
    spec: Any,
    source: Any,
    *,
    institution: model.Institution | None = None,
    attachments_root: Path | None = None,
    catalogue: Catalogue | None = None,
    progress: Any = None,
    cancel: threading.Event | None = None,
) -> Readiness:
    """Readiness of a clinic database without writing anything: the export stream, hashed and dropped."""
    import datetime as dt

    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution

    institution = institution or read_institution(spec, source)
    observer = ReadinessObserver(institution, catalogue)
    run = ExportRun(
        spec, source, institution=institution, created=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        attachments_root=attachments_root, progress=progress, cancel=cancel, observers=[observer],
    )
    digest_stream(run.stream())
    return observer.result()


__all__ = [
    "READINESS_MEMBER",
    "Catalogue",
    "DocumentReadiness",
    "DocumentType",
    "Gap",
    "Readiness",
    "ReadinessObserver",
    "load_catalogue",
    "readiness_for",
    "readiness_summary",
]
