"""The demo clinic on disk: its database, attachments and demo keys, made once in a folder and then reused.

Reusing matters: an interrupted demo export resumes only with the same certificates. File and folder names
are spelled in :mod:`emr_exporter.demo` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emr_exporter.demo import (
    DEMO_ATTACHMENTS,
    DEMO_CONNECTOR,
    DEMO_DB_NAME,
    DEMO_P12_PASSWORD,
    DEMO_PATIENTS,
    DEMO_SEED,
    KEYS_FOLDER,
)


def ensure_demo_clinic(out_dir: Path, *, patients: int = DEMO_PATIENTS, seed: int = DEMO_SEED) -> tuple[Path, Path]:
    """Create the demo clinic database in ``out_dir`` (if absent); return (database, attachments root)."""
    from emr_exporter.demo.clinic import create_demo_clinic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / DEMO_DB_NAME
    attachments = out_dir / DEMO_ATTACHMENTS
    if not database.exists():
        create_demo_clinic(database, patients=patients, seed=seed, attachments_dir=attachments)
    return database, attachments


@dataclass
class DemoMaterial:
    """Everything the wizard's demo needs: the clinic database, its certificate and the demo store's keys."""

    database: Path
    attachments_root: Path
    institution_p12: Path
    institution_password: str
    store_cert: Path
    store_key: Path
    institution_code: str
    institution_name: str


def prepare_demo_material(folder: Path) -> DemoMaterial:
    """The demo clinic database and demo keys in ``folder``, created once and then reused."""
    from emr_exporter.connectors import load_connector
    from emr_exporter.demo.keys import make_demo_keys
    from emr_exporter.pipeline.export import read_institution
    from emr_exporter.sources.base import open_source

    database, attachments = ensure_demo_clinic(folder)
    keys = make_demo_keys(Path(folder) / KEYS_FOLDER)  # loads a complete set instead of replacing it
    source = open_source(database=database)
    try:
        institution = read_institution(load_connector(DEMO_CONNECTOR), source)
    finally:
        source.close()
    return DemoMaterial(
        database=database, attachments_root=attachments, institution_p12=keys.institution_p12,
        institution_password=DEMO_P12_PASSWORD, store_cert=keys.store_cert, store_key=keys.store_key,
        institution_code=institution.code, institution_name=institution.name,
    )
