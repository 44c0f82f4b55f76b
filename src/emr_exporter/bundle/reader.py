"""Verify and open `.emrx` bundles (normative procedure: docs/bundle-format.md §Verification).

``verify_bundle`` needs no key: it checks the framing, both signatures (and the chain when trust
anchors are given), that header and trailer belong together, and every part's size and SHA-256
against the signed trailer. ``open_bundle`` (the store) does all of that first, then checks the key
id, unwraps the data key, authenticates every part by decrypting it to nowhere, and only then decrypts
a third time into a tar extraction (no links, nothing outside the folder), validates the BagIt
manifests, the inner signature and the FHIR output (:mod:`.fhir_check`), and moves the bag into place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import shutil
import tarfile
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.exceptions import InvalidTag

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.cms import verify_detached
from emr_exporter.bundle.fhir_check import ENABLE_HINT, FhirCheckReport, check_fhir_output
from emr_exporter.bundle.frames import FRAME_SIZE, FrameDecoder, FrameError, max_encoded_size
from emr_exporter.bundle.keys import RecipientPrivateKey, cert_sha256, describe_certificate, spki_sha256
from emr_exporter.bundle.keywrap import unwrap_key
from emr_exporter.errors import BundleError, ConfigError
from emr_exporter.pipeline.fhir import structure_validator

READ_CHUNK = 1 << 20

#: (stage, bytes done, bytes total) for a progress display: "verify" (reading and hashing every part),
#: "authenticate" (decrypting every part without keeping anything), "open" (decrypting into the bag).
ReadProgress = Callable[[str, int, int], None]
_PROGRESS: ContextVar[ReadProgress | None] = ContextVar("bundle_read_progress", default=None)


class _Meter:
    """Counts the bytes of one stage for the progress callback of the current verify/open call."""

    def __init__(self, stage: str, total: int) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self.callback = _PROGRESS.get()

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.callback is not None:
            self.callback(self.stage, self.done, self.total)


_METER: ContextVar[_Meter | None] = ContextVar("bundle_read_meter", default=None)


def _advance(amount: int) -> None:
    meter = _METER.get()
    if meter is not None:
        meter.advance(amount)


def _finish_stage() -> None:
    """The stage read everything it will (headers, signatures and trailer are not counted as they go)."""
    meter = _METER.get()
    if meter is not None and meter.done < meter.total:
        meter.advance(meter.total - meter.done)


def _start_stage(stage: str, total: int) -> None:
    _METER.set(_Meter(stage, total) if _PROGRESS.get() is not None else None)
INNER_SIGNATURE = "tagmanifest-sha256.txt.p7s"


@dataclass(frozen=True)
class _PartLocation:
    position: int
    index: int  # as framed (unauthenticated; used only to explain problems)
    bundle_uuid: bytes  # as framed (unauthenticated)
    offset: int  # file offset of the ciphertext
    size: int
    sha256: str


@dataclass
class VerifyReport:
    path: Path
    bundle_id: str
    created: str
    institution_code: str
    institution_name: str
    signer_cert_sha256: str
    recipient_key_id: str
    recipient_name: str
    size: int
    parts: int
    part_size: int
    plaintext_size: int
    trusted: bool  # the signer's chain was checked against a trust anchor
    counts: dict[str, Any] = field(default_factory=dict)  # the trailer's signed summary, if any
    format: str = fmt.FORMAT_V1
    header: dict[str, Any] = field(default_factory=dict, repr=False)
    trailer: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "bundle_id": self.bundle_id,
            "created": self.created,
            "institution": {"code": self.institution_code, "name": self.institution_name,
                            "certificate_sha256": self.signer_cert_sha256},
            "recipient": {"key_id": self.recipient_key_id, "name": self.recipient_name},
            "size": self.size,
            "parts": self.parts,
            "part_size": self.part_size,
            "plaintext_size": self.plaintext_size,
            "format": self.format,
            "trusted": self.trusted,
            "counts": self.counts,
        }


@dataclass
class OpenReport:
    verify: VerifyReport
    bag_dir: Path
    plaintext_sha256: str
    payload_files: int
    inner_signer: str
    reconciliation: dict[str, Any] | None
    fhir: FhirCheckReport = field(default_factory=FhirCheckReport)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.verify.to_json(),
            "bag_dir": str(self.bag_dir),
            "plaintext_sha256": self.plaintext_sha256,
            "payload_files": self.payload_files,
            "inner_signer": self.inner_signer,
            "reconciliation": self.reconciliation,
            "fhir": self.fhir.to_json(),
        }


@dataclass
class _Verified:
    report: VerifyReport
    locations: list[_PartLocation]
    #: emrx/v2: the signed tar bytes of each part (what its frames must decode to); None for v1.
    tar_sizes: list[int] | None = None


# ---------------------------------------------------------------------------------------- verify


def verify_bundle(
    path: Path, trust_anchors: list[x509.Certificate] | None = None, *, progress: ReadProgress | None = None
) -> VerifyReport:
    """Check everything a holder of the file can check without the store's key."""
    token = _PROGRESS.set(progress)
    try:
        return _verify(Path(path), trust_anchors).report
    finally:
        _PROGRESS.reset(token)


def _verify(path: Path, trust_anchors: list[x509.Certificate] | None) -> _Verified:
    name = path.name
    if not path.is_file():
        raise BundleError(f"'{path}' does not exist or is not a file.")
    size = path.stat().st_size
    records: dict[bytes, bytes] = {}
    locations: list[_PartLocation] = []
    _start_stage("verify", size)
    with open(path, "rb") as fh:
        if fh.read(len(fmt.MAGIC)) != fmt.MAGIC:
            raise BundleError(f"'{name}' is not a sealed bundle (.emrx): its first bytes are wrong.")
        expected = [fmt.HEAD, fmt.HSIG]
        while True:
            offset = fh.tell()
            raw = fh.read(fmt.RECORD_HEADER.size)
            if not raw:
                break
            if len(raw) < fmt.RECORD_HEADER.size:
                raise _cut_short(name, locations, records)
            record_type, length = fmt.RECORD_HEADER.unpack(raw)
            if record_type not in fmt.RECORD_TYPES:
                raise BundleError(
                    f"'{name}' is damaged at byte {offset}: an unknown record was found there. "
                    "The file was changed or corrupted; get a fresh copy."
                )
            if record_type == fmt.PART and fmt.TRLR in expected and not records.get(fmt.TRLR):
                locations.append(_read_part(fh, name, len(locations), length, size))
                continue
            if record_type not in expected:
                raise BundleError(
                    f"'{name}' is damaged at byte {offset}: a {record_type.decode()} record is out of place."
                )
            if length > fmt.MAX_METADATA_RECORD:
                raise BundleError(f"'{name}' is damaged at byte {offset}: a record claims an absurd length.")
            body = fh.read(length)
            if len(body) < length:
                raise _cut_short(name, locations, records)
            records[record_type] = body
            expected = {
                fmt.HEAD: [fmt.HSIG],
                fmt.HSIG: [fmt.PART, fmt.TRLR],
                fmt.TRLR: [fmt.TSIG],
                fmt.TSIG: [],
            }[record_type]
    if fmt.HSIG not in records:
        raise BundleError(f"'{name}' ends before its signed header: the file is incomplete.")
    if fmt.TSIG not in records:
        raise _cut_short(name, locations, records)
    _finish_stage()

    header_bytes, trailer_bytes = records[fmt.HEAD], records[fmt.TRLR]
    header = _load_json(header_bytes, "header", name)
    trailer = _load_json(trailer_bytes, "trailer", name)
    created = _parse_created(header.get("created"), name)
    header_sig = verify_detached(
        records[fmt.HSIG], header_bytes, what="bundle header", at=created, trust_anchors=trust_anchors
    )
    trailer_sig = verify_detached(
        records[fmt.TSIG], trailer_bytes, what="bundle trailer", at=created, trust_anchors=trust_anchors
    )
    bundle_format = header.get("format")
    if bundle_format not in fmt.FORMATS or trailer.get("format") != bundle_format:
        raise BundleError(
            f"'{name}' has format {bundle_format!r}; this program reads {' and '.join(fmt.FORMATS)}. "
            "A newer exporter made it: open it with that version."
        )
    compressed = bundle_format == fmt.FORMAT_V2
    signer_sha = cert_sha256(header_sig.certificate)
    institution = header.get("institution") or {}
    if institution.get("certificate_sha256") != signer_sha:
        raise BundleError(f"The header of '{name}' names a different certificate than the one that signed it.")
    if cert_sha256(trailer_sig.certificate) != signer_sha:
        raise BundleError(
            f"The trailer of '{name}' was signed by a different certificate than its header: "
            "the header or the trailer was replaced."
        )

    bundle_id = str(header.get("bundle_id"))
    if trailer.get("bundle_id") != bundle_id or trailer.get("header_sha256") != hashlib.sha256(
        header_bytes
    ).hexdigest():
        raise BundleError(
            f"The header of '{name}' does not belong to this bundle (foreign header): the signed trailer "
            "names another header. The header was swapped for one from another bundle."
        )
    try:
        bundle_uuid = uuid.UUID(bundle_id).bytes
        part_size = int(header["payload"]["part_size"])
        fmt.check_part_size(part_size)
        if header["payload"]["enc"] != fmt.PAYLOAD_ENC:
            raise ValueError("unknown payload encryption")
        if compressed and (
            header["payload"]["compression"] != fmt.PAYLOAD_COMPRESSION
            or int(header["payload"]["frame_size"]) != FRAME_SIZE
        ):
            raise ValueError("unknown payload compression")
        signed_parts = [(int(p["index"]), int(p["size"]), str(p["sha256"])) for p in trailer["parts"]]
        tar_sizes = [int(p["tar_size"]) for p in trailer["parts"]] if compressed else None
        n_parts = int(trailer["n_parts"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"The signed header/trailer of '{name}' is not valid ({exc}).") from None

    _check_parts(name, locations, signed_parts, n_parts, bundle_uuid, part_size, tar_sizes)
    if tar_sizes is not None:
        plaintext_size = sum(tar_sizes)
    else:
        plaintext_size = sum(fmt.plaintext_size_of(s) or 0 for _, s, _ in signed_parts)
    if plaintext_size != trailer.get("plaintext_size"):
        raise BundleError(f"The signed trailer of '{name}' is inconsistent (plaintext size).")

    recipient = header.get("recipient") or {}
    report = VerifyReport(
        path=path,
        bundle_id=bundle_id,
        created=str(header.get("created")),
        institution_code=str(institution.get("code", "")),
        institution_name=describe_certificate(header_sig.certificate),
        signer_cert_sha256=signer_sha,
        recipient_key_id=str(recipient.get("key_id", "")),
        recipient_name=str(recipient.get("name", "")),
        size=size,
        parts=n_parts,
        part_size=part_size,
        plaintext_size=plaintext_size,
        trusted=header_sig.trusted and trailer_sig.trusted,
        counts=dict(trailer.get("summary") or {}),
        format=bundle_format,
        header=header,
        trailer=trailer,
    )
    return _Verified(report=report, locations=locations, tar_sizes=tar_sizes)


def _read_part(fh: BinaryIO, name: str, position: int, length: int, file_size: int) -> _PartLocation:
    if length < fmt.PART_PREFIX.size:
        raise BundleError(f"'{name}' is damaged: part at position {position} has an impossible length.")
    prefix = fh.read(fmt.PART_PREFIX.size)
    if len(prefix) < fmt.PART_PREFIX.size:
        raise _cut_short_in_part(name, position)
    index, bundle_uuid = fmt.PART_PREFIX.unpack(prefix)
    offset = fh.tell()
    size = length - fmt.PART_PREFIX.size
    if offset + size > file_size:
        raise _cut_short_in_part(name, position)
    digest = hashlib.sha256()
    remaining = size
    while remaining:
        chunk = fh.read(min(READ_CHUNK, remaining))
        if not chunk:
            raise _cut_short_in_part(name, position)
        digest.update(chunk)
        remaining -= len(chunk)
        _advance(len(chunk))
    return _PartLocation(position, index, bundle_uuid, offset, size, digest.hexdigest())


def _cut_short_in_part(name: str, position: int) -> BundleError:
    return BundleError(
        f"'{name}' ends in the middle of part {position}: the file was cut short (an incomplete copy or "
        "download). Copy the whole file again."
    )


def _cut_short(name: str, locations: list[_PartLocation], records: dict[bytes, bytes]) -> BundleError:
    if fmt.HSIG not in records:
        return BundleError(f"'{name}' ends before its signed header: the file is incomplete.")
    return BundleError(
        f"'{name}' is incomplete: it ends after {len(locations)} part(s) without its signed trailer, so the "
        "final part and the trailer are missing (an unfinished export or a cut-short copy). Copy the whole "
        "file again, or finish the export."
    )


def _check_parts(
    name: str,
    found: list[_PartLocation],
    signed: list[tuple[int, int, str]],
    n_parts: int,
    bundle_uuid: bytes,
    part_size: int,
    tar_sizes: list[int] | None = None,
) -> None:
    if n_parts != len(signed) or [i for i, _, _ in signed] != list(range(n_parts)) or n_parts < 1:
        raise BundleError(f"The signed trailer of '{name}' lists its parts inconsistently.")
    full_size = fmt.ciphertext_size(part_size)
    for i, part_bytes, _ in signed:
        final = i == n_parts - 1
        if tar_sizes is not None:
            # v2: every part but the last carries exactly part_size tar bytes, the last strictly fewer
            # (the truncation rule, on tar bytes); its ciphertext is a valid Cobblestone length no
            # longer than the frames of those bytes stored uncompressed.
            tar = tar_sizes[i]
            encoded = fmt.plaintext_size_of(part_bytes)
            if (
                (not final and tar != part_size) or (final and not 0 <= tar < part_size)
                or encoded is None or encoded > max_encoded_size(tar) or (tar > 0) != (encoded > 0)
            ):
                raise BundleError(f"The signed trailer of '{name}' gives part {i} an impossible size.")
        elif (not final and part_bytes != full_size) or (
            final and not fmt.ciphertext_size(0) <= part_bytes < full_size
        ):
            raise BundleError(f"The signed trailer of '{name}' gives part {i} an impossible size.")
    signed_hashes = {sha: i for i, _, sha in signed}
    if len(found) < n_parts:
        present = {loc.sha256 for loc in found}
        missing = [i for i, _, sha in signed if sha not in present]
        if missing == [n_parts - 1]:
            raise BundleError(
                f"The final part (part {n_parts - 1} of {n_parts}) of '{name}' is missing: the bundle was "
                "truncated. Get a complete copy of the file."
            )
        raise BundleError(
            f"'{name}' has {len(found)} of its {n_parts} parts; missing: {', '.join(map(str, missing[:10]))}."
        )
    for loc in found:
        if loc.position >= n_parts:
            raise BundleError(f"'{name}' has an extra part at position {loc.position} that the trailer does not list.")
        index, size, sha = signed[loc.position]
        if loc.sha256 == sha:
            if loc.index != index or loc.bundle_uuid != bundle_uuid:
                raise BundleError(f"The framing of part {loc.position} of '{name}' was altered (index or bundle id).")
            continue
        if loc.bundle_uuid != bundle_uuid and loc.sha256 not in signed_hashes:
            raise BundleError(
                f"Part {loc.position} of '{name}' comes from another bundle ({uuid.UUID(bytes=loc.bundle_uuid)}): "
                "a part was spliced in from a different export."
            )
        if loc.sha256 in signed_hashes:
            raise BundleError(
                f"The parts of '{name}' are out of order: position {loc.position} holds part "
                f"{signed_hashes[loc.sha256]}. The parts were swapped or reordered."
            )
        if loc.size < size:
            raise BundleError(
                f"Part {loc.position} of '{name}' is truncated: {loc.size} bytes instead of the signed {size}."
            )
        if loc.size != size:
            raise BundleError(
                f"Part {loc.position} of '{name}' has {loc.size} bytes instead of the signed {size}: it was altered."
            )
        raise BundleError(
            f"Part {loc.position} of '{name}' was changed after sealing: its SHA-256 does not match the "
            "signed trailer (damaged or tampered bytes, e.g. a flipped bit). Get a fresh copy of the file."
        )


def _load_json(data: bytes, what: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BundleError(f"The {what} of '{name}' is not valid JSON: the file is damaged.") from None
    if not isinstance(value, dict):
        raise BundleError(f"The {what} of '{name}' is not a JSON object: the file is damaged.")
    return value


def _parse_created(value: Any, name: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BundleError(f"The header of '{name}' has no valid creation time.") from None


# ------------------------------------------------------------------------------------------ open


def _unlock(
    path: Path, store_key: RecipientPrivateKey, trust_anchors: list[x509.Certificate] | None
) -> tuple[_Verified, bytes]:
    """Verify the outer layers, unwrap the data key and authenticate every part (nothing kept)."""
    verified = _verify(path, trust_anchors)
    report, header = verified.report, verified.report.header
    name = path.name
    my_key_id = spki_sha256(store_key.public_key())
    if my_key_id != report.recipient_key_id:
        raise BundleError(
            f"'{name}' is encrypted for a different store key (key id {report.recipient_key_id[:16]}…), not "
            f"for the key you gave (key id {my_key_id[:16]}…). Use the store key the bundle was sealed for."
        )
    try:
        wrapped = base64.b64decode(header["key_wrap"]["wrapped_key"], validate=True)
        alg = str(header["key_wrap"]["alg"])
    except (KeyError, TypeError, binascii.Error):
        raise BundleError(f"The signed header of '{name}' has no valid wrapped key.") from None
    data_key = unwrap_key(store_key, alg, wrapped, info=fmt.hpke_info(report.bundle_id))
    if data_key is None:
        raise BundleError(
            f"The store key cannot unwrap the data key of '{name}' (wrong store key, or a damaged bundle)."
        )

    # Pass 2: authenticate every part completely (and decode its frames); nothing decrypted is kept.
    _start_stage("authenticate", sum(loc.size for loc in verified.locations))
    for _ in _plaintext_chunks(path, verified, data_key):
        pass
    return verified, data_key


def open_bundle(
    path: Path,
    store_key: RecipientPrivateKey,
    out_dir: Path,
    trust_anchors: list[x509.Certificate] | None = None,
    *,
    require_fhir_validation: bool = False,
    progress: ReadProgress | None = None,
) -> OpenReport:
    """Verify every layer, decrypt, extract the bag into ``out_dir/<bundle_id>/`` and validate it.

    The FHIR structure is validated when ``fhir.resources`` is installed (the ``verify`` extra); without
    it ``OpenReport.fhir.structure_validated`` is False, or, with ``require_fhir_validation``, nothing is
    opened and a :class:`ConfigError` says how to install it.
    """
    token = _PROGRESS.set(progress)
    try:
        return _open(Path(path), store_key, Path(out_dir), trust_anchors, require_fhir_validation)
    finally:
        _PROGRESS.reset(token)


def _open(
    path: Path,
    store_key: RecipientPrivateKey,
    out_dir: Path,
    trust_anchors: list[x509.Certificate] | None,
    require_fhir_validation: bool,
) -> OpenReport:
    if require_fhir_validation and structure_validator() is None:
        raise ConfigError(
            f"FHIR structure validation was required, but fhir.resources is not installed: {ENABLE_HINT}"
        )
    verified, data_key = _unlock(path, store_key, trust_anchors)
    report = verified.report
    name = path.name

    # Pass 3: decrypt into the tar extraction, in a staging folder.
    final_dir = out_dir / report.bundle_id
    if final_dir.exists():
        raise BundleError(f"'{final_dir}' already exists: this bundle was opened there before. Choose another --out.")
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".{report.bundle_id}.opening"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        _start_stage("open", sum(loc.size for loc in verified.locations))
        plaintext = _PlaintextReader(path, verified, data_key)
        _check_archive_end(plaintext, name, _extract(plaintext, staging, name))
        bag_root = _find_bag_root(staging, name)
        payload_files = _validate_bag(bag_root, name)
        inner = _verify_inner_signature(bag_root, name, report, trust_anchors)
        fhir = check_fhir_output(bag_root, name)
        os.replace(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    bag_dir = final_dir / bag_root.relative_to(staging)
    reconciliation_path = bag_dir / "data" / "report" / "reconciliation.json"
    reconciliation = (
        json.loads(reconciliation_path.read_text("utf-8")) if reconciliation_path.is_file() else None
    )
    return OpenReport(
        verify=report,
        bag_dir=bag_dir,
        plaintext_sha256=plaintext.sha256.hexdigest(),
        payload_files=payload_files,
        inner_signer=inner,
        reconciliation=reconciliation,
        fhir=fhir,
    )


def _plaintext_chunks(path: Path, verified: _Verified, data_key: bytes) -> Iterator[bytes]:
    """The tar stream, part after part: decrypted, and for v2 decoded from its frames."""
    report = verified.report
    for loc in verified.locations:
        chunks = _decrypt_part(path, loc, data_key, report.bundle_id, report.format)
        if verified.tar_sizes is None:
            yield from chunks
        else:
            yield from _decode_part(path.name, loc.position, chunks, verified.tar_sizes[loc.position])


def _decode_part(name: str, position: int, chunks: Iterator[bytes], tar_size: int) -> Iterator[bytes]:
    frames = FrameDecoder()
    try:
        for chunk in chunks:
            yield from frames.feed(chunk)
        frames.finish()
    except FrameError as exc:
        raise BundleError(
            f"Part {position} of '{name}' decrypts but its compression frames are not valid ({exc}): the "
            "bundle was made by a faulty writer. Ask the clinic to export again."
        ) from None
    if frames.raw_size != tar_size:
        raise BundleError(
            f"Part {position} of '{name}' decodes to {frames.raw_size} bytes, not the {tar_size} its signed "
            "trailer says: the bundle was made by a faulty writer. Ask the clinic to export again."
        )


def _decrypt_part(
    path: Path, loc: _PartLocation, data_key: bytes, bundle_id: str, bundle_format: str = fmt.FORMAT_V1
) -> Any:
    from cryptography.cobblestone import Cobblestone256Decryptor

    decryptor = Cobblestone256Decryptor(data_key, fmt.part_context(bundle_id, loc.position, bundle_format))
    try:
        with open(path, "rb") as fh:
            fh.seek(loc.offset)
            remaining = loc.size
            while remaining:
                chunk = fh.read(min(READ_CHUNK, remaining))
                if not chunk:
                    raise BundleError(f"'{path.name}' changed while it was being read.")
                remaining -= len(chunk)
                _advance(len(chunk))
                out = decryptor.update(chunk)
                if out:
                    yield out
        final = decryptor.finalize()
    except InvalidTag:
        raise BundleError(
            f"Part {loc.position} of '{path.name}' does not decrypt: its authentication failed (not encrypted "
            "for this bundle and position, or damaged before signing)."
        ) from None
    if final:
        yield final


class _PlaintextReader:
    """A read-only file object over the decrypted parts, in order (for streaming tar extraction)."""

    def __init__(self, path: Path, verified: _Verified, data_key: bytes) -> None:
        self._chunks = _plaintext_chunks(path, verified, data_key)
        self._buffer = memoryview(b"")
        self.sha256 = hashlib.sha256()
        self.position = 0  # bytes handed out by read()

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if not self._buffer:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self.sha256.update(chunk)
                self._buffer = memoryview(chunk)
            take = len(self._buffer) if size < 0 else min(size - len(out), len(self._buffer))
            out += self._buffer[:take]
            self._buffer = self._buffer[take:]
        self.position += len(out)
        return bytes(out)


def _check_archive_end(plaintext: _PlaintextReader, name: str, end: int) -> None:
    """After tarfile has read the last member (its data ends at ``end``): the plaintext must end with the two
    zero end-of-archive blocks and the zeros padding the archive to a whole record (tarfile.RECORDSIZE, 10240
    bytes, as pipeline/bag.py writes it), nothing more. tarfile reads in buffers of ``READ_CHUNK`` and no
    further than the end blocks: the padding past its last buffer may still be unread (a sound bundle, when
    the end blocks lie just below a multiple of the buffer), and data after the padding may already be read."""
    rest = plaintext.read(tarfile.RECORDSIZE)
    size = -(-(end + 2 * tarfile.BLOCKSIZE) // tarfile.RECORDSIZE) * tarfile.RECORDSIZE
    if rest.strip(b"\0") or plaintext.read(1) or plaintext.position != size:
        raise BundleError(f"'{name}' has data after the end of its tar archive.")


#: tarfile's extraction filters (PEP 706) came with Python 3.11.4; Debian 12's python3.11 (3.11.2) has none.
_TAR_FILTERS = hasattr(tarfile, "data_filter")
_TAR_FILTER_ERROR: tuple[type[Exception], ...] = (tarfile.FilterError,) if _TAR_FILTERS else ()


def _extract(plaintext: _PlaintextReader, staging: Path, name: str) -> int:
    """Extract the bag into ``staging``; where the last member's data ends in the plaintext."""
    def plain_member(member: tarfile.TarInfo) -> None:
        if not (member.isfile() or member.isdir()):
            raise BundleError(
                f"The bag inside '{name}' contains a link or special file ({member.name!r}); refused."
            )
        if member.name.startswith(("/", "\\")) or ".." in member.name.replace("\\", "/").split("/"):
            raise BundleError(
                f"The bag inside '{name}' tries to write outside its folder ({member.name!r}); refused."
            )

    def only_plain_files(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        plain_member(member)
        return tarfile.data_filter(member, dest)

    try:
        with tarfile.open(fileobj=plaintext, mode="r|", bufsize=READ_CHUNK, encoding="utf-8") as tar:  # type: ignore[call-overload]
            if _TAR_FILTERS:
                tar.extractall(staging, filter=only_plain_files)
            else:
                _extract_plain_files(tar, staging, plain_member, name)
            end: int = tar.offset
    except _TAR_FILTER_ERROR as exc:
        raise BundleError(
            f"The bag inside '{name}' tries to write outside its folder ({exc}); refused. Nothing was "
            "extracted outside the output folder."
        ) from None
    except tarfile.TarError as exc:
        raise BundleError(f"The bag inside '{name}' is not a valid tar archive ({exc}).") from None
    return end


def _extract_plain_files(tar: tarfile.TarFile, staging: Path, plain_member: Callable[[tarfile.TarInfo], None],
                         name: str) -> None:
    """What ``extractall(filter=...)`` does for a bag, on a Python without extraction filters: each member in
    stream order, checked first (files and folders only, no absolute or climbing name), written under ``staging``
    only (its resolved path checked too), plain permissions, no owner or time taken from the archive."""
    root = staging.resolve()
    for member in tar:
        plain_member(member)
        target = (root / member.name).resolve()
        if target != root and root not in target.parents:
            raise BundleError(
                f"The bag inside '{name}' tries to write outside its folder ({member.name!r}); refused."
            )
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None  # (a regular file always has its data)
        with open(target, "wb") as out:
            shutil.copyfileobj(source, out, READ_CHUNK)


def _find_bag_root(staging: Path, name: str) -> Path:
    if (staging / "bagit.txt").is_file():
        return staging
    entries = list(staging.iterdir())
    if len(entries) == 1 and (entries[0] / "bagit.txt").is_file():
        return entries[0]
    raise BundleError(f"'{name}' does not contain a BagIt bag (no bagit.txt).")


def _read_manifest(path: Path, bag_name: str) -> dict[str, str]:
    return _parse_manifest(path.read_text("utf-8"), path.name, bag_name)


def _parse_manifest(text: str, manifest_name: str, bag_name: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition(" ")
        rel = rel.lstrip(" *").replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
        if not rel or rel.startswith("/") or ".." in Path(rel).parts:
            raise BundleError(f"The bag in '{bag_name}' lists an unsafe path in {manifest_name}.")
        entries[rel] = digest.lower()
    return entries


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _validate_bag(bag_root: Path, name: str) -> int:
    """Check manifest-sha256.txt covers every payload file exactly and tagmanifest-sha256.txt holds."""
    for required in ("bagit.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
        if not (bag_root / required).is_file():
            raise BundleError(f"The bag in '{name}' has no {required}.")
    manifest = _read_manifest(bag_root / "manifest-sha256.txt", name)
    payload = {p.relative_to(bag_root).as_posix() for p in (bag_root / "data").rglob("*") if p.is_file()}
    unlisted = sorted(payload - manifest.keys())
    if unlisted:
        raise BundleError(f"The bag in '{name}' has {len(unlisted)} payload file(s) not in its manifest.")
    for rel, digest in manifest.items():
        target = bag_root / rel
        if not target.is_file():
            raise BundleError(f"The bag in '{name}' is missing a payload file listed in its manifest.")
        if _file_sha256(target) != digest:
            raise BundleError(f"A payload file in the bag of '{name}' does not match its manifest checksum.")
    for rel, digest in _read_manifest(bag_root / "tagmanifest-sha256.txt", name).items():
        target = bag_root / rel
        if not target.is_file() or _file_sha256(target) != digest:
            raise BundleError(f"The tag file '{rel}' of the bag in '{name}' does not match its tag manifest.")
    return len(payload)


def _verify_inner_signature(
    bag_root: Path, name: str, report: VerifyReport, trust_anchors: list[x509.Certificate] | None
) -> str:
    signature_path = bag_root / INNER_SIGNATURE
    if not signature_path.is_file():
        raise BundleError(f"The bag in '{name}' has no inner signature ({INNER_SIGNATURE}).")
    info = verify_detached(
        signature_path.read_bytes(),
        (bag_root / "tagmanifest-sha256.txt").read_bytes(),
        what="bag tag manifest",
        at=_parse_created(report.created, name),
        trust_anchors=trust_anchors,
    )
    if cert_sha256(info.certificate) != report.signer_cert_sha256:
        raise BundleError(f"The bag inside '{name}' was signed by a different institution than the bundle.")
    return describe_certificate(info.certificate)


TAG_FILES = frozenset({"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", INNER_SIGNATURE})
BagVisitor = Callable[[str, Iterator[bytes]], None]


def stream_bag(
    path: Path,
    store_key: RecipientPrivateKey,
    visit: BagVisitor,
    trust_anchors: list[x509.Certificate] | None = None,
) -> VerifyReport:
    """Verify and decrypt a bundle in memory, handing each payload file to ``visit`` — nothing on disk.

    For readers that need a few records, not the whole bag (a document preview): every outer layer is
    verified and every part authenticated first (as :func:`open_bundle` does); then the tar is decrypted
    as a stream and ``visit(path_in_bag, chunks)`` sees each payload file (e.g. ``data/fhir/...``) while
    its SHA-256 is taken. Tag files are kept in memory. At the end the BagIt manifests and the inner
    signature are checked; the visitor's results must not be used unless this returns without error.
    """
    path = Path(path)
    verified, data_key = _unlock(path, store_key, trust_anchors)
    report, name = verified.report, path.name
    plaintext = _PlaintextReader(path, verified, data_key)
    digests: dict[str, str] = {}
    tags: dict[str, bytes] = {}
    root: str | None = None
    try:
        with tarfile.open(fileobj=plaintext, mode="r|", bufsize=READ_CHUNK, encoding="utf-8") as tar:  # type: ignore[call-overload]
            for member in tar:
                if member.isdir():
                    continue
                parts = member.name.replace("\\", "/").split("/")
                if not member.isfile() or member.name.startswith("/") or ".." in parts or len(parts) < 2:
                    raise BundleError(f"The bag inside '{name}' holds an unsafe entry ({member.name!r}); refused.")
                if root is None:
                    root = parts[0]
                if parts[0] != root:
                    raise BundleError(f"The bag inside '{name}' has more than one top folder; refused.")
                rel = "/".join(parts[1:])
                handle = tar.extractfile(member)
                assert handle is not None
                digest = hashlib.sha256()

                def chunks(handle: Any = handle, digest: Any = digest) -> Iterator[bytes]:
                    while chunk := handle.read(READ_CHUNK):
                        digest.update(chunk)
                        yield chunk

                if rel in TAG_FILES:
                    tags[rel] = b"".join(chunks())
                else:
                    stream = chunks()
                    visit(rel, stream)
                    for _ in stream:  # what the visitor did not read still counts for the manifest
                        pass
                digests[rel] = digest.hexdigest()
            end: int = tar.offset
    except tarfile.TarError as exc:
        raise BundleError(f"The bag inside '{name}' is not a valid tar archive ({exc}).") from None
    _check_archive_end(plaintext, name, end)
    for required in ("bagit.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", INNER_SIGNATURE):
        if required not in tags:
            raise BundleError(f"The bag in '{name}' has no {required}.")
    manifest = _parse_manifest(tags["manifest-sha256.txt"].decode("utf-8"), "manifest-sha256.txt", name)
    payload = {rel for rel in digests if rel not in TAG_FILES}
    if payload != set(manifest):
        raise BundleError(f"The payload files in the bag of '{name}' do not match its manifest.")
    if any(digests[rel] != digest for rel, digest in manifest.items()):
        raise BundleError(f"A payload file in the bag of '{name}' does not match its manifest checksum.")
    tag_manifest = _parse_manifest(tags["tagmanifest-sha256.txt"].decode("utf-8"), "tagmanifest-sha256.txt", name)
    for rel, tag_digest in tag_manifest.items():
        if digests.get(rel) != tag_digest:
            raise BundleError(f"The tag file '{rel}' of the bag in '{name}' does not match its tag manifest.")
    info = verify_detached(
        tags[INNER_SIGNATURE], tags["tagmanifest-sha256.txt"], what="bag tag manifest",
        at=_parse_created(report.created, name), trust_anchors=trust_anchors,
    )
    if cert_sha256(info.certificate) != report.signer_cert_sha256:
        raise BundleError(f"The bag inside '{name}' was signed by a different institution than the bundle.")
    return report
