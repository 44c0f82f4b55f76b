"""Where the founder left off: a small JSON file in the user's app-data folder.

It lets the wizard offer "continue the unfinished export" on the next start, after the window was closed
or the PC crashed. It holds only settings and paths — never patient data, passwords, keys or connection
strings with passwords (an ODBC string is stored redacted). The sealed bundle writer's own journal (beside
the bundle) is what makes continuing safe; this file only remembers where that journal is.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from emr_exporter.sources.drivers import without_password

ENV_HOME = "EMR_EXPORTER_HOME"  # overrides the app-data folder (tests, portable installs)
STATE_FILE = "wizard-state.json"
APP_FOLDER = "emr-exporter"


def app_data_dir() -> Path:
    """The per-user folder for this program's own small files (not the export itself)."""
    override = os.environ.get(ENV_HOME)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / APP_FOLDER
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_FOLDER
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_FOLDER


@dataclass
class WizardState:
    """What the wizard needs to continue; every field is a setting or a path (no patient data)."""

    step: str = "institution"  # institution | emr | scan | export | verify | upload | done
    demo: bool = False
    institution_code: str = ""
    institution_name: str = ""
    closing_date: str = ""  # ISO date
    custodian: str = ""  # 보관 책임자 and contact for the transfer report (not patient data)
    custodian_contact: str = ""
    certificate_path: str = ""
    connector: str = ""
    database: str = ""
    dsn: str = ""  # an ODBC data source name
    odbc: str = ""  # without its password: the password is asked again
    attachments_root: str = ""
    out_dir: str = ""
    bundle_id: str = ""
    bundle_path: str = ""
    receipt_number: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["odbc"] = without_password(self.odbc) if self.odbc else ""
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WizardState:
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known and isinstance(v, type(getattr(cls(), k)))})
        if state.odbc:  # a state saved by an older version holds PWD=***, which would be tried as the password
            state.odbc = without_password(state.odbc)
        return state


def state_path() -> Path:
    return app_data_dir() / STATE_FILE


def save_state(state: WizardState) -> Path:
    """Write the state atomically (a crash mid-write leaves the previous state)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return path


def load_state() -> WizardState | None:
    """The saved state, or None when there is none or it cannot be read (then the wizard starts afresh)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return WizardState.from_json(data)


def clear_state() -> None:
    state_path().unlink(missing_ok=True)


def free_bytes(folder: Path) -> int:
    """Free space on the drive holding ``folder`` (or its nearest existing parent)."""
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


#: Rough bytes of sealed bundle per source row (FHIR JSON + raw + lists), measured on the demo clinic:
#: 22,602 rows gave a 33.6 MB bundle (about 1,490 bytes per row). The free-space check adds a margin.
BYTES_PER_ROW = 1500
SPACE_MARGIN = 1.25


def estimate_bundle_bytes(source_rows: int, attachment_bytes: int = 0) -> int:
    """The space an export needs before it starts (with a margin): better to ask for too much."""
    return int((source_rows * BYTES_PER_ROW + attachment_bytes) * SPACE_MARGIN) + 16 * 1024 * 1024
