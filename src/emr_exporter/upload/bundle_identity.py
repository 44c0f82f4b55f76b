"""Which bundle is this file? Read from the signed header only (the first few kilobytes), not a full verify.

The uploader needs a bundle's id before it can ask the store or the journal about it. Verifying the whole
bundle (every part's SHA-256, both signatures) costs a full read of a multi-gigabyte file; the header record
and its detached CMS signature sit at the very start of the file (docs/bundle-format.md), so checking that
signature is enough to trust the id. The full verify still runs once, right before a brand-new upload is
started (see :mod:`emr_exporter.jobs.upload`), so a damaged file is never sent.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.cms import verify_detached
from emr_exporter.errors import BundleError


@dataclass(frozen=True)
class BundleIdentity:
    bundle_id: str
    institution_code: str
    created: str


def _read_record(handle: object, name: str, expected: bytes) -> bytes:
    raw = handle.read(fmt.RECORD_HEADER.size)  # type: ignore[attr-defined]
    if len(raw) < fmt.RECORD_HEADER.size:
        raise BundleError(f"'{name}' ends before its signed header: the file is incomplete.")
    record_type, length = fmt.RECORD_HEADER.unpack(raw)
    if record_type != expected:
        raise BundleError(f"'{name}' is damaged: it does not start with a signed bundle header.")
    if length > fmt.MAX_METADATA_RECORD:
        raise BundleError(f"'{name}' is damaged: its header claims an absurd length.")
    body: bytes = handle.read(length)  # type: ignore[attr-defined]
    if len(body) < length:
        raise BundleError(f"'{name}' ends before its signed header: the file is incomplete.")
    return body


def read_bundle_identity(path: Path) -> BundleIdentity:
    """The bundle id and institution code from the header, after checking the header's signature."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise BundleError(f"'{path}' does not exist or is not a file.")
    with open(path, "rb") as handle:
        if handle.read(len(fmt.MAGIC)) != fmt.MAGIC:
            raise BundleError(f"'{name}' is not a sealed bundle (.emrx): its first bytes are wrong.")
        header_bytes = _read_record(handle, name, fmt.HEAD)
        signature = _read_record(handle, name, fmt.HSIG)
    try:
        header = json.loads(header_bytes)
        created = dt.datetime.fromisoformat(str(header["created"]).replace("Z", "+00:00"))
        bundle_id = str(header["bundle_id"])
    except (ValueError, KeyError, TypeError):
        raise BundleError(f"The signed header of '{name}' is not readable; the file is damaged.") from None
    verify_detached(signature, header_bytes, what="bundle header", at=created)
    if header.get("format") not in fmt.FORMATS:
        raise BundleError(
            f"'{name}' has format {header.get('format')!r}; this program reads {' and '.join(fmt.FORMATS)}."
        )
    institution = header.get("institution") or {}
    return BundleIdentity(
        bundle_id=bundle_id, institution_code=str(institution.get("code", "")), created=str(header["created"])
    )
