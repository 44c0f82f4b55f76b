"""The checks every FHIR resource passes: in the export before it enters the bag, and in ``open`` after.

One implementation, two callers (issue 13: every sealed bundle opens). :class:`ResourceCheck` holds
them: the export (:mod:`emr_exporter.pipeline.export`) runs it on each resource while it streams and
quarantines the row of a resource that fails; ``open`` (:mod:`emr_exporter.bundle.fhir_check`) runs it
on each line of the opened bag and rejects the bag. What is checked:

* the resource's ``id``: present and matching FHIR's id pattern;
* its serialised line (:func:`line_problem`, below);
* its structure against the FHIR R4 models (``fhir.resources``), when that is installed and asked for:
  ``open`` asks whenever it can; the export only when told (``ExportRun(validate_structure=True)``,
  the connector check), because the models cost ~60 µs a resource and would halve the export rate
  (docs/performance.md), and the Windows installer does not ship them;
* ids unique per resource type (:class:`IdIndex`: 64-bit digests, ~8 bytes an id);
* every reference to a Patient, Encounter, Practitioner or Organization resolves to a resource in the
  bag (:func:`references`). ``open`` resolves in a second pass (its files are read in name order); the
  export in the same pass, because it writes every referenced type before the types that refer to it
  (entities in dependency order, the Organization first) — a reference to a resource not written yet,
  or never (its row quarantined), is an orphan.

What is checked on each line:

* no control character below U+0020 other than tab, CR and LF (and no DEL) in any string;
* no empty string (FHIR: a string has at least one character);
* no ``code`` or ``contentType`` with leading, trailing or doubled whitespace (FHIR's ``code`` pattern);
* every resource ``id`` matches FHIR's id pattern (checked on the resource, not the line).

A line that fails is not written: its row is quarantined with a reason naming the entity, the masked key
and the JSON path kind that failed, never the value.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

#: What can be wrong with a line's strings shows as a backslash (an escape), a DEL byte or two quotes in a
#: row (an empty string, or an escaped quote ending a text): only such lines are looked at closely.
#: An empty string value: it starts after ':' ',' or '[' (an escaped quote ending a text is '\\""').
_EMPTY = re.compile(rb'[:,\[]""')
#: Two quotes in a row, found by the regular-expression engine's literal search (~0.5 µs a line where
#: ``b'""' in line`` takes ~1 µs: quotes are frequent, so the two-byte search seldom skips ahead).
_QUOTES = re.compile(rb'""')
#: Escapes taken pairwise from the left (so an escaped backslash is never misread): a forbidden control
#: character is \b, \f or \u0000-\u001f other than \t \n \r (written short by the encoder).
_ESCAPE = re.compile(rb'\\(u00[01][0-9a-fA-F]|[bf])|\\.')
#: A code value that is not plain printable ASCII without spaces: only those are looked at closely. The
#: FHIR ``code`` elements whose value can come from the clinic's data: ``code`` (Coding, Quantity) and
#: ``contentType`` (an attachment's media type, as the EMR recorded it).
_CODE_SUSPECT = re.compile(rb'"(?:code|contentType)":"(?![!#-\[\]-~]*")')
_CODE_VALUE = re.compile(rb'"(?:code|contentType)":"((?:[^"\\]|\\.)*)"')
#: In a line without a backslash (a JSON string then ends at its next quote): the value of every code that
#: holds a byte other than plain printable ASCII (a space, a control byte, UTF-8), in one literal-led
#: scan (``"co`` then the two keys; ~1 µs a line where the suspect search plus a walk over every code
#: value took ~2-6). Plain values always fit FHIR's code pattern (an empty one is found as empty first).
_ODD_CODE_VALUE = re.compile(rb'"co(?:de|ntentType)":"([!#-~]*[^"!-~][^"]*)"')
#: FHIR's ``code`` and ``id`` patterns (as ``open``'s structure check applies them).
CODE_PATTERN = re.compile(r"[^\s]+(\s[^\s]+)*")  # used with fullmatch ($ would allow a final LF)
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_CONTROL_PROBLEM = "a text holds a control character FHIR does not allow"
_EMPTY_PROBLEM = "a text is empty (FHIR strings hold at least one character)"
_CODE_PROBLEM = "a code has leading, trailing or repeated spaces (FHIR's code pattern)"


def line_problem(line: bytes) -> str | None:
    """The first FHIR rule one canonical JSON line breaks, or None.

    Ordered cheapest first: plain substring searches decide for almost every line; the regular
    expressions only run on lines that hold a suspect byte sequence. Gives exactly what
    :func:`line_problem_reference` gives for every canonical line (test: tests/test_output_check.py, over
    the demo clinic's lines and planted defects).
    """
    if b"\\" in line or b"\x7f" in line:  # rare: escapes to read pairwise, the general path
        return line_problem_reference(line)
    # No escape: a quote always ends a string, no control character can be there (the encoder escapes
    # them), and two quotes in a row are an empty string or an empty key.
    if _QUOTES.search(line) is not None and _EMPTY.search(line) is not None:
        return _EMPTY_PROBLEM
    for raw in _ODD_CODE_VALUE.findall(line):  # usually none; Korean codes (payer types) are the usual ones
        if CODE_PATTERN.fullmatch(raw.decode("utf-8")) is None:
            return _CODE_PROBLEM
    return None


def line_problem_reference(line: bytes) -> str | None:
    """:func:`line_problem` the straightforward way: the reference its fast path is proven against, and
    the path for lines that hold an escape or a DEL byte."""
    # Substring searches (memchr-fast) rather than one regular expression: ~1.6 µs a line, not ~11.
    if b"\\" in line or b"\x7f" in line or b'""' in line:
        if b"\x7f" in line or any(m.group(1) for m in _ESCAPE.finditer(line)):
            return _CONTROL_PROBLEM
        if _EMPTY.search(line):
            return _EMPTY_PROBLEM
    if (b'"code":"' in line or b'"contentType":"' in line) and _CODE_SUSPECT.search(line):
        for match in _CODE_VALUE.finditer(line):
            raw = match.group(1)
            # A JSON string without a backslash is its UTF-8 text as is: no decoder call (most suspect
            # codes are Korean text, checked here on every such line).
            text = json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")
            if not CODE_PATTERN.fullmatch(text):
                return _CODE_PROBLEM
    return None


#: Resource types whose references must resolve inside the bag.
REFERENCE_TARGETS = ("Patient", "Encounter", "Practitioner", "Organization")
ID_MISSING = "id: missing (every resource needs an id)"
ID_INVALID = "id: does not match FHIR's id pattern"

Validator = Callable[[dict[str, Any]], str | None]


_RECORD_ID = re.compile(r"[0-9a-f]{32}")  # model.record_id: 128 bits of SHA-256 in hex


def id_digest(resource_id: str) -> int:
    """64 bits of an id: what :class:`IdIndex` keeps instead of the string. A record id is already 128 bits
    of SHA-256: its first 64 are taken as they are (a BLAKE2b call costs ~1 µs, and this runs for every
    resource and every reference); any other id is hashed. The same in every process (no ``hash()``)."""
    if len(resource_id) == 32 and _RECORD_ID.fullmatch(resource_id):
        return int(resource_id[:16], 16)
    return int.from_bytes(hashlib.blake2b(resource_id.encode("utf-8"), digest_size=8).digest(), "big")


class IdIndex:
    """64-bit id digests in 4096 sorted arrays by their top 12 bits: about 8 bytes an id, where a set of
    ints costs ~60. Adding and looking up work at any time (the export adds as it writes), each a binary
    search plus a short move inside one array (10⁷ ids: ~2 400 an array).

    A digest can stand for two ids: a duplicate it reports is confirmed on the real ids where the caller
    still has them (``open``); the export takes it as a duplicate (1 in 2⁶⁴/n for any one id)."""

    __slots__ = ("_buckets", "size")

    def __init__(self) -> None:
        self._buckets: list[array[int] | None] = [None] * 4096
        self.size = 0

    def add(self, digest: int) -> bool:
        """Add a digest; False (nothing added) when it is there already."""
        bucket = self._buckets[digest >> 52]
        if bucket is None:
            bucket = self._buckets[digest >> 52] = array("Q")
        position = bisect_left(bucket, digest)
        if position < len(bucket) and bucket[position] == digest:
            return False
        bucket.insert(position, digest)
        self.size += 1
        return True

    def __contains__(self, digest: int) -> bool:
        bucket = self._buckets[digest >> 52]
        if bucket is None:
            return False
        position = bisect_left(bucket, digest)
        return position < len(bucket) and bucket[position] == digest

    def discard(self, digest: int) -> None:
        """Take a digest out again (the export: a row whose resources claimed ids and then failed)."""
        bucket = self._buckets[digest >> 52]
        if bucket is not None:
            position = bisect_left(bucket, digest)
            if position < len(bucket) and bucket[position] == digest:
                del bucket[position]
                self.size -= 1


def references(value: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, target type, target id) of every relative reference to a REFERENCE_TARGETS type."""
    if isinstance(value, dict):
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if key == "reference" and isinstance(item, str):
                target_type, slash, target_id = item.partition("/")
                if slash and target_type in REFERENCE_TARGETS and target_id and "/" not in target_id:
                    yield item_path, target_type, target_id
            elif isinstance(item, dict | list):
                yield from references(item, item_path)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from references(item, f"{path}.{position}")


#: Every reference in a canonical JSON line, as the line spells it. In canonical JSON ``"reference":"``
#: is always a key (inside a text its quotes would be escaped). One literal-led pattern (an alternation of
#: the target types after it would cost ~6 µs a line instead of ~1).
_LINE_REFERENCE = re.compile(rb'"reference":"([^"\\]*(?:\\.[^"\\]*)*)"')
_TARGETS = frozenset(t.encode("ascii") for t in REFERENCE_TARGETS)


def _decoded(raw: bytes) -> str:
    return json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")


def _target(raw: bytes) -> tuple[str, str] | None:
    """(type, id) of a reference as :func:`references` takes it (a REFERENCE_TARGETS type, a non-empty id
    without '/'), or None."""
    target_type, slash, raw_id = raw.partition(b"/")
    if not slash or target_type not in _TARGETS:
        return None
    target_id = _decoded(raw_id)
    if not target_id or "/" in target_id:
        return None
    return target_type.decode("ascii"), target_id


def line_references(line: bytes) -> Iterator[tuple[str, str]]:
    """(target type, target id) of every reference :func:`references` finds, read off the canonical line
    (one regular-expression scan: walking the parsed resource costs ~20 µs a resource)."""
    if b'"reference":"' not in line:
        return
    for raw in _LINE_REFERENCE.findall(line):
        target = _target(raw)
        if target is not None:
            yield target


#: Found references remembered as found (as the line spells them) before a new search: a clinic's
#: patients, doctors and the clinic itself are referred to over and over. Bounded: cleared when full.
#: 16 384 references are ~2 MB (65 536 were ~8.5 MB at 10^6 rows, where a full set was cleared anyway);
#: the 10^5 demo clinic's ~11 000 patients and visits all fit, and a miss costs one look-up (~1 µs).
_VERIFIED_MAX = 1 << 14


class ResourceCheck:
    """The per-resource checks and the id bookkeeping both the export and ``open`` run (module docstring).

    ``validator``: :func:`emr_exporter.pipeline.fhir.structure_validator`'s function, or None to leave the
    FHIR structure unchecked.
    """

    def __init__(self, validator: Validator | None = None) -> None:
        self.validator = validator
        self.ids: dict[str, IdIndex] = {}  # resource type -> the ids written (export) or read (open)
        self.references_checked = 0
        self._verified: set[bytes] = set()  # references found before, as the line spells them

    def problem(self, resource: Mapping[str, Any], line: bytes) -> str | None:
        """The first rule ``resource`` (serialised canonically as ``line``) breaks, or None: its id, its
        strings and codes, its structure. Never names a value."""
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            return ID_MISSING
        if not ID_PATTERN.fullmatch(resource_id):
            return ID_INVALID
        problem = line_problem(line)
        if problem is None and self.validator is not None:
            problem = self.validator(dict(resource))
        return problem

    def index(self, resource_type: str) -> IdIndex:
        found = self.ids.get(resource_type)
        if found is None:
            found = self.ids[resource_type] = IdIndex()
        return found

    def known(self, resource_type: str, resource_id: str) -> bool:
        found = self.ids.get(resource_type)
        return found is not None and id_digest(resource_id) in found

    def claim(self, resource_type: str, resource_id: str) -> int | None:
        """Record the id of a resource about to be written; its digest, or None when the id is taken."""
        # id_digest, inlined: this runs for every resource the export writes.
        if len(resource_id) == 32 and _RECORD_ID.fullmatch(resource_id):
            digest = int(resource_id[:16], 16)
        else:
            digest = id_digest(resource_id)
        found = self.ids.get(resource_type)
        if found is None:
            found = self.index(resource_type)
        # IdIndex.add, inlined (one call less for every resource the export writes).
        buckets = found._buckets
        bucket = buckets[digest >> 52]
        if bucket is None:
            bucket = buckets[digest >> 52] = array("Q")
        position = bisect_left(bucket, digest)
        if position < len(bucket) and bucket[position] == digest:
            return None
        bucket.insert(position, digest)
        found.size += 1
        if resource_type in REFERENCE_TARGETS:  # children usually follow soon: remember it as found
            verified = self._verified
            if len(verified) >= _VERIFIED_MAX:
                verified.clear()
            verified.add(f"{resource_type}/{resource_id}".encode())
        return digest

    def release(self, claimed: Iterable[tuple[str, int]]) -> None:
        """Give back the ids a row claimed before it failed (it writes nothing)."""
        for resource_type, digest in claimed:
            self.ids[resource_type].discard(digest)
        self._verified.clear()  # a remembered reference may have been to one of them

    def dangling(
        self, resource: Mapping[str, Any] | None, line: bytes, paths: Iterable[tuple[str, str, str]] | None = None
    ) -> tuple[str, str] | None:
        """(path, target type) of the first reference of ``resource`` (serialised as ``line``) whose target
        is not in the bag (written or read so far), or None. Counts them in :attr:`references_checked`.

        ``resource`` is only read for the path of a dangling reference: ``paths`` (its references in its
        own order) may stand in for it, or, both None, the parsed line (the export's worker processes)."""
        found_all = _LINE_REFERENCE.findall(line)  # one literal-led scan (no substring test before it)
        if not found_all:
            return None
        verified = self._verified
        self.references_checked += len(found_all)
        for found in found_all:
            if found in verified:
                continue
            target = _target(found)
            if target is None:  # not a reference that must resolve here (references() leaves it out)
                self.references_checked -= 1
                continue
            target_type, target_id = target
            if not self.known(target_type, target_id):
                # Rare: the path is found on the parsed resource, for the message.
                walk = paths if paths is not None else references(
                    resource if resource is not None else json.loads(line))
                path = next((p for p, t, i in walk if (t, i) == (target_type, target_id)), "?")
                return path, target_type
            if len(verified) >= _VERIFIED_MAX:
                verified.clear()
            verified.add(found)
        return None


__all__ = [
    "CODE_PATTERN", "ID_PATTERN", "REFERENCE_TARGETS", "IdIndex", "ResourceCheck", "id_digest", "line_problem",
    "line_references", "references",
]
