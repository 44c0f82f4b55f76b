"""The writer's crash journal: enough to resume the same bundle after a kill, and no secret in clear.

Two files beside the bundle, named after a hash of the export key (so the same export finds them):

- ``.emrx-<key>.journal.json``: written once at start and atomically replaced (temp + fsync + rename)
  when an inner signature is added or the bundle is sealed. Holds bundle id, created time, the header
  and its signature, the data key *wrapped to the institution's own certificate* (so only the signer,
  with the same password, can resume), cached inner signatures, and the state.
- ``.emrx-<key>.parts.jsonl``: one fsynced JSON line per finished part (index, sizes, SHA-256 of the
  ciphertext, end offset in the spool file). A torn last line is ignored. No plaintext digest: a resume
  checks a journaled part by decrypting it from the spool and comparing it with the regenerated stream.

Nothing here is plaintext record data: only sizes, digests, signatures and the wrapped key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class JournalPart:
    index: int
    plaintext_size: int  # tar bytes in this part (before compression in emrx/v2)
    ciphertext_size: int
    ciphertext_sha256: str
    end_offset: int  # file offset just after this part's record in the spool file


@dataclass
class JournalState:
    export_key: str
    bundle_id: str
    created: str
    institution_code: str
    file_name: str
    part_size: int
    signer_cert_sha256: str
    recipient_key_id: str
    self_wrap_alg: str
    self_wrapped_key: str  # base64: the data key wrapped to the signer's certificate
    header_b64: str
    header_signature_b64: str
    header_end_offset: int
    state: str = "writing"  # "writing" → "sealed"
    inner_signatures: dict[str, str] = field(default_factory=dict)  # sha256(data) hex → base64 CMS
    # Filled when sealed, so a rerun after a crash between "sealed" and cleanup can report the result.
    plaintext_sha256: str = ""  # "" when the writer was asked not to digest the plaintext
    plaintext_size: int = 0
    file_sha256: str = ""  # SHA-256 of the sealed .emrx file
    # A journal from before emrx/v2 has no format: it resumes as the v1 bundle it started as.
    format: str = "emrx/v1"


def journal_paths(out_dir: Path, export_key: str) -> tuple[Path, Path]:
    tag = hashlib.sha256(export_key.encode("utf-8")).hexdigest()[:16]
    return out_dir / f".emrx-{tag}.journal.json", out_dir / f".emrx-{tag}.parts.jsonl"


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; NTFS metadata journaling covers renames
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Journal:
    def __init__(self, state_path: Path, parts_path: Path, state: JournalState, parts: list[JournalPart]) -> None:
        self.state_path = state_path
        self.parts_path = parts_path
        self.state = state
        self.parts = parts

    @classmethod
    def load(cls, out_dir: Path, export_key: str) -> Journal | None:
        state_path, parts_path = journal_paths(out_dir, export_key)
        if not state_path.exists():
            return None
        return cls._read(state_path, parts_path)

    @classmethod
    def unfinished(cls, out_dir: Path) -> list[Journal]:
        """The journals of the bundles still being written in ``out_dir`` (their ``.emrx.partial`` beside them),
        whatever their export: what a cancelled or stopped export leaves behind for the next run to continue."""
        found: list[Journal] = []
        with contextlib.suppress(OSError):
            for state_path in sorted(Path(out_dir).glob(".emrx-*.journal.json")):
                parts_path = state_path.with_name(state_path.name.removesuffix(".journal.json") + ".parts.jsonl")
                try:
                    journal = cls._read(state_path, parts_path)
                except (OSError, ValueError, TypeError):
                    continue  # not a journal this version can read: not one the next run continues either
                if journal.state.state == "writing":
                    found.append(journal)
        return found

    @classmethod
    def _read(cls, state_path: Path, parts_path: Path) -> Journal:
        raw: dict[str, Any] = json.loads(state_path.read_text("utf-8"))
        state = JournalState(**_known(JournalState, raw))
        parts: list[JournalPart] = []
        if parts_path.exists():
            for line in parts_path.read_bytes().split(b"\n"):
                try:
                    entry = JournalPart(**_known(JournalPart, json.loads(line)))
                except (ValueError, TypeError, AttributeError):
                    break  # torn write at the end of the log: that part is not finished
                if entry.index != len(parts):
                    break
                parts.append(entry)
        return cls(state_path, parts_path, state, parts)

    @classmethod
    def create(cls, out_dir: Path, state: JournalState) -> Journal:
        state_path, parts_path = journal_paths(out_dir, state.export_key)
        parts_path.unlink(missing_ok=True)
        journal = cls(state_path, parts_path, state, [])
        journal.save_state()
        return journal

    def save_state(self) -> None:
        write_atomic(self.state_path, json.dumps(asdict(self.state), indent=1).encode("utf-8"))

    def truncate_parts(self, count: int) -> None:
        """Keep only the first ``count`` parts (rewrites the log; used after a torn line)."""
        self.parts = self.parts[:count]
        write_atomic(self.parts_path, b"".join(_line(p) for p in self.parts))

    def add_part(self, part: JournalPart) -> None:
        with open(self.parts_path, "ab") as fh:
            fh.write(_line(part))
            fh.flush()
            os.fsync(fh.fileno())
        self.parts.append(part)

    def remove(self) -> None:
        self.parts_path.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)


def _known(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    """Only the fields ``cls`` has: a journal left by an older version (extra keys) still loads."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in raw.items() if key in names}


def _line(part: JournalPart) -> bytes:
    return json.dumps(asdict(part), separators=(",", ":")).encode("utf-8") + b"\n"
