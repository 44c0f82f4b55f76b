"""The upload journal: one small SQLite file beside the bundle (``<bundle>.upload-journal``).

It remembers, per bundle id and store, the upload URL the store gave us, the bundle's size and SHA-256, and
whether the store has accepted it (with the receipt number). It is written with ``synchronous=FULL`` so a
power cut cannot lose a committed row. Because it sits beside the bundle, copying both files to another PC
lets ``upload`` continue there. The store, not the journal, is the truth about how many bytes arrived: the
journal's offset is only for ``status``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from emr_exporter.errors import ConfigError

JOURNAL_SUFFIX = ".upload-journal"

# States, in order: created -> sending -> complete (all bytes in) -> accepted (receipt) | rejected
# | stored (a store without receipts holds every byte, by its own HEAD answer: "stored, unconfirmed")
STATES = ("new", "sending", "complete", "stored", "accepted", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    bundle_id      TEXT NOT NULL,
    store_url      TEXT NOT NULL,
    bundle_name    TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    upload_url     TEXT,
    state          TEXT NOT NULL,
    offset_seen    INTEGER NOT NULL DEFAULT 0,
    receipt_number TEXT,
    reason         TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    PRIMARY KEY (bundle_id, store_url)
)
"""


@dataclass(frozen=True)
class JournalEntry:
    bundle_id: str
    store_url: str
    bundle_name: str
    size: int
    sha256: str
    upload_url: str | None
    state: str
    offset_seen: int
    receipt_number: str | None
    reason: str | None
    created_at: float
    updated_at: float


def journal_path_for(bundle_path: Path) -> Path:
    return bundle_path.with_name(bundle_path.name + JOURNAL_SUFFIX)


class UploadJournal:
    """The journal file beside one bundle. Each method is one short, durable transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with self._connect() as db:
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"The upload journal {path} is damaged. Move it away and run the upload again; the store "
                "keeps what it already received."
            ) from exc

    @classmethod
    def beside(cls, bundle_path: Path) -> UploadJournal:
        return cls(journal_path_for(bundle_path))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            # DELETE journal mode (not WAL): one self-contained file that can be copied with the bundle.
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA synchronous=FULL")
            db.row_factory = sqlite3.Row
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def get(self, bundle_id: str, store_url: str) -> JournalEntry | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM uploads WHERE bundle_id = ? AND store_url = ?", (bundle_id, store_url)
            ).fetchone()
        return JournalEntry(**dict(row)) if row else None

    def entries(self) -> list[JournalEntry]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM uploads ORDER BY updated_at").fetchall()
        return [JournalEntry(**dict(r)) for r in rows]

    def start(self, bundle_id: str, store_url: str, bundle_name: str, size: int, sha256: str) -> JournalEntry:
        """Create the row for a first upload (or return the existing one unchanged)."""
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO uploads (bundle_id, store_url, bundle_name, size, sha256, state, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'new', ?, ?)",
                (bundle_id, store_url, bundle_name, size, sha256, now, now),
            )
        entry = self.get(bundle_id, store_url)
        assert entry is not None
        return entry

    def update(self, bundle_id: str, store_url: str, **fields: object) -> None:
        allowed = {"upload_url", "state", "offset_seen", "receipt_number", "reason", "bundle_name"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown journal fields {sorted(unknown)}")
        if "state" in fields and fields["state"] not in STATES:
            raise ValueError(f"unknown journal state {fields['state']!r}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._connect() as db:
            db.execute(
                f"UPDATE uploads SET {assignments}, updated_at = ? WHERE bundle_id = ? AND store_url = ?",
                (*fields.values(), time.time(), bundle_id, store_url),
            )


def find_journals(directory: Path) -> list[Path]:
    return sorted(directory.glob("*" + JOURNAL_SUFFIX))
