"""A modern small desktop clinic app's SQLite database (as a .NET or Electron app keeps one), through the IT
contractor's flow (``scaffold`` → ``connector check`` → dry run → sealed ``export`` → ``verify`` → ``open``).

Unlike the other SQLite clinics of the tests: WAL journal mode with recent rows still in the ``-wal`` file (the
app has the database open and writes while the export runs), the founder's copy on a read-only stick, STRICT and
WITHOUT ROWID tables, generated columns (virtual and stored), a composite text key, a second database file the
app ATTACHes (``records.db``), attachments as files beside the database named by relative paths (one escaping the
folder with ``..``, one missing, one written with Windows backslashes, one with a Hangul file name), JSON text,
and dates as ISO-8601 text with ``Z`` and ``+09:00`` and as Unix milliseconds; a few bad values.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.errors import SourceUnavailable
from emr_exporter.sources.base import SqliteFileSource
from test_foreign_schemas import _carried_rows, checked, exported, scaffolded

PATIENTS = 300
VISITS = 400
PRESCRIPTIONS = 200


def build_app_clinic(folder: Path) -> sqlite3.Connection:
    """The app's database folder: ``patients.db`` (WAL, checkpoints off: every row still in ``-wal``), the
    ``records.db`` it ATTACHes as ``rec``, and ``files/`` of scans. The app's connection, still open, is returned."""
    folder.mkdir(parents=True, exist_ok=True)
    files = folder / "files"
    (files / "xray" / "2024").mkdir(parents=True, exist_ok=True)
    (files / "consent").mkdir(exist_ok=True)
    (folder / "secret.txt").write_bytes(b"outside the attachments folder")
    conn = sqlite3.connect(folder / "patients.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("ATTACH DATABASE ? AS rec", (str(folder / "records.db"),))
    conn.executescript("""
        PRAGMA rec.journal_mode=WAL;
        CREATE TABLE patients (id INTEGER PRIMARY KEY, chart_no TEXT NOT NULL, name TEXT, sex TEXT,
            birth_date TEXT, created_at TEXT, updated_ms INTEGER, profile TEXT,
            name_upper TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL,
            chart_len INTEGER GENERATED ALWAYS AS (length(chart_no)) STORED) STRICT;
        CREATE TABLE visits (clinic_code TEXT NOT NULL, visit_code TEXT NOT NULL, patient_id INTEGER,
            visited_at TEXT, note TEXT, note_len INTEGER GENERATED ALWAYS AS (length(note)) VIRTUAL,
            PRIMARY KEY (clinic_code, visit_code)) WITHOUT ROWID;
        CREATE TABLE attachments (id INTEGER PRIMARY KEY, patient_id INTEGER, kind TEXT, rel_path TEXT,
            taken_ms INTEGER) STRICT;
        CREATE TABLE rec.prescriptions (id INTEGER PRIMARY KEY, patient_id INTEGER, drug TEXT, dose REAL,
            issued_at TEXT, meta TEXT);
    """)
    patients = []
    for i in range(1, PATIENTS + 1):
        created = f"2024-01-{i % 28 + 1:02d}T0{i % 10}:15:00Z" if i % 2 else f"2024-02-{i % 28 + 1:02d}T10:15:00+09:00"
        profile = {"phone": f"010-0000-{i:04d}", "allergies": ["페니실린"] if i % 7 == 0 else []}
        patients.append((i, f"C{i:06d}", f"환자{i}", "MF"[i % 2], f"19{50 + i % 50:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                         created, 1_700_000_000_000 + i * 1000, json.dumps(profile, ensure_ascii=False)))
    patients[4] = (5, "C000005", "환자5", "X", "1990-02-30", "not a date", -1, "{bad json")  # a few bad values
    conn.executemany("INSERT INTO patients (id, chart_no, name, sex, birth_date, created_at, updated_ms, profile) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", patients)
    conn.executemany("INSERT INTO visits VALUES (?, ?, ?, ?, ?)",
                     [("SEOUL" if i % 3 else "부산", f"V{i:05d}", i % PATIENTS + 1,
                       f"2024-03-{i % 28 + 1:02d}T09:30:00+09:00", f"메모 {i}") for i in range(VISITS)])
    attachments: list[tuple[Any, ...]] = []
    for i in range(1, 41):
        relative = f"consent/{i}.pdf" if i % 2 else f"xray/2024/{i}.jpg"
        (files / relative).write_bytes(b"%PDF-1.4 " + bytes([i]) if i % 2 else b"\xff\xd8\xff" + bytes([i]) * 10)
        attachments.append((i, i, "consent" if i % 2 else "xray", relative, 1_700_000_000_000 + i))
    (files / "xray" / "2024" / "win.jpg").write_bytes(b"\xff\xd8\xffwin")
    (files / "consent" / "동의서.pdf").write_bytes(b"%PDF-1.4 hangul")
    attachments += [(41, 1, "xray", "../secret.txt", 1), (42, 2, "xray", "xray/2024/missing.jpg", 2),
                    (43, 3, "xray", "xray\\2024\\win.jpg", 3), (44, 4, "consent", "consent/동의서.pdf", 4)]
    conn.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?, ?)", attachments)
    conn.executemany("INSERT INTO rec.prescriptions VALUES (?, ?, ?, ?, ?, ?)",
                     [(i, i % PATIENTS + 1, f"약{i}", 0.5 * i, "2024-04-01T00:00:00Z", json.dumps({"route": "PO"}))
                      for i in range(1, PRESCRIPTIONS + 1)])
    return conn


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A folder (the stick as the founder copied to it) and the same folder mounted read-only: as a USB stick
    with its write-protect switch on, or a read-only share; root ignores file permissions, a mount it does not."""
    stick = tmp_path / "stick"
    stick.mkdir()
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(stick), str(mounted)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("a read-only bind mount needs root (CAP_SYS_ADMIN)")
    try:
        yield stick, mounted
    finally:
        if subprocess.run(["umount", str(mounted)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mounted)], check=True)  # a file left open by the code under test


def test_a_wal_clinic_copied_to_a_read_only_stick_goes_through_the_whole_flow(
        tmp_path: Path, read_only_folder: tuple[Path, Path]) -> None:
    # Before: every command stopped with 'patients.db is not a readable SQLite database (unable to open database
    # file).': a WAL-mode file needs its -shm index beside it, which a read-only folder cannot get.
    app = build_app_clinic(tmp_path / "app")
    app.close()  # the app closed: its last checkpoint put every row in patients.db (still in WAL mode)
    stick, mounted = read_only_folder
    shutil.copy(tmp_path / "app" / "patients.db", stick / "patients.db")
    assert (stick / "patients.db").read_bytes()[18:20] == b"\x02\x02"  # WAL mode
    before = _digest(stick)
    flow = scaffolded(type("Db", (), {"path": mounted / "patients.db"})(), tmp_path)
    check = checked(flow)
    # the visits are Encounters at the instants their ISO-8601 text names (before: carried raw, no date the
    # scaffold knew in '2024-03-05T09:30:00+09:00')
    # the scans are a section too (their media type read off each path's extension; before: carried whole, no
    # file read): no attachments folder is on the stick, so each is quarantined file-missing ('../secret.txt'
    # path-outside-root), its row kept whole
    rows = PATIENTS + VISITS
    assert check["reconciliation"]["totals"] == {"exported": rows, "quarantined": 44, "source_rows": rows + 44}
    [attachment] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "attachment"]
    assert attachment["quarantine_reasons"] == {"file-missing": 43, "path-outside-root": 1}
    _dry, _sealed, bag = exported(flow, tmp_path)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    assert {t["name"]: t["rows"] for t in inventory} == {"attachments": 44, "patients": PATIENTS, "visits": VISITS}
    starts = sorted(json.loads(line)["period"]["start"] for p in sorted(bag.glob("data/fhir/Encounter*.ndjson"))
                    for line in p.read_bytes().splitlines())
    assert starts == sorted(f"2024-03-{i % 28 + 1:02d}T09:30:00+09:00" for i in range(VISITS))
    assert _digest(stick) == before and sorted(p.name for p in stick.iterdir()) == ["patients.db"]


def test_a_read_only_copy_whose_recent_rows_are_in_its_wal_file_is_refused_with_what_to_do(
        tmp_path: Path, read_only_folder: tuple[Path, Path]) -> None:
    # Copied while the app was open: the rows are in patients.db-wal, readable only with a -shm file. Opening the
    # file without them would lose every recent row silently; before, the message was 'unable to open database
    # file'.
    app = build_app_clinic(tmp_path / "app")
    stick, mounted = read_only_folder
    for name in ("patients.db", "patients.db-wal"):
        shutil.copy(tmp_path / "app" / name, stick / name)
    app.close()
    with pytest.raises(SourceUnavailable) as caught:
        SqliteFileSource(mounted / "patients.db", snapshot=True)
    assert str(caught.value) == (
        "patients.db is in WAL mode and its recent changes are in patients.db-wal, but reading them needs a "
        "writable patients.db-shm file, which cannot be made in this read-only folder. Copy patients.db and "
        "patients.db-wal together to a folder this account can write to (or open and close the EMR program once "
        "on the clinic's computer, which folds patients.db-wal into patients.db) and export from there.")


def _sidecar(bag: Path, entity: str) -> dict[str, dict[str, Any]]:
    from emr_exporter.pipeline.raw import decode_raw

    lines = [json.loads(line) for path in sorted(bag.glob(f"data/raw/columns/{entity}.*.ndjson"))
             for line in path.read_bytes().splitlines()]
    return {x["key"]: {k: decode_raw(v) for k, v in x["columns"].items()} for x in lines}


def test_the_app_writing_during_the_export_is_not_seen_and_every_cell_comes_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app has patients.db open, every row still in patients.db-wal; while the export reads its first page the
    # app adds patients, deletes one and changes another (during the sealed export, after the dry run). The export reads one snapshot: the rows as they were
    # when it began, counted and exported once each.
    app = build_app_clinic(tmp_path / "app")
    assert (tmp_path / "app" / "patients.db-wal").stat().st_size > 0
    flow = scaffolded(type("Db", (), {"path": tmp_path / "app" / "patients.db"})(), tmp_path)
    checked(flow)
    original = SqliteFileSource.rows
    writes: list[int] = []
    sources: list[SqliteFileSource] = []

    def rows(self: SqliteFileSource, sql: str, params: Any = ()) -> Iterator[dict[str, Any]]:
        yield from original(self, sql, params)
        if self not in sources:
            sources.append(self)
        if len(sources) == 2 and not writes:  # the sealed export's source (after the dry run's), its first query
            app.executemany("INSERT INTO patients (id, chart_no, name) VALUES (?, ?, ?)",
                            [(1000 + i, f"N{i}", "새환자") for i in range(5)])
            app.execute("DELETE FROM patients WHERE id = 300")
            app.execute("UPDATE patients SET name = '바뀜' WHERE id = 299")
            app.execute("DELETE FROM visits WHERE visit_code = 'V00399'")
            writes.append(1)

    monkeypatch.setattr(SqliteFileSource, "rows", rows)
    dry, sealed, bag = exported(flow, tmp_path)
    assert len(writes) == 1
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        # the 44 scans read by the scaffold's attachment section (no folder of them: quarantined file-missing)
        assert outcome["balanced"] and outcome["totals"]["source_rows"] == PATIENTS + VISITS + 44, outcome["totals"]
    patients = [json.loads(line) for p in sorted(bag.glob("data/fhir/Patient*.ndjson"))
                for line in p.read_bytes().splitlines()]
    assert len(patients) == PATIENTS
    names = {r["identifier"][0]["value"]: r["name"][0]["text"] for r in patients}
    assert names["C000299"] == "환자299" and "C000300" in names and not any(k.startswith("N") for k in names)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    assert {t["name"]: t["rows"] for t in inventory} == {"attachments": 44, "patients": PATIENTS, "visits": VISITS}
    assert len(list(bag.glob("data/fhir/Encounter*.ndjson"))) >= 1
    assert sum(len(p.read_bytes().splitlines()) for p in bag.glob("data/fhir/Encounter*.ndjson")) == VISITS
    # the cells no field maps, exactly: JSON text, ISO-8601 with Z and +09:00, Unix ms, the generated columns
    sidecar = _sidecar(bag, "patient")
    assert sidecar["7"]["profile"] == '{"phone": "010-0000-0007", "allergies": ["페니실린"]}'
    assert (sidecar["7"]["created_at"], sidecar["8"]["created_at"]) == ("2024-01-08T07:15:00Z",
                                                                        "2024-02-09T10:15:00+09:00")
    assert (sidecar["7"]["updated_ms"], sidecar["7"]["name_upper"], sidecar["7"]["chart_len"]) == (
        1_700_000_007_000, "환자7", 7)
    assert (sidecar["5"]["profile"], sidecar["5"]["created_at"], sidecar["5"]["updated_ms"]) == (
        "{bad json", "not a date", -1)
    app.close()


def test_the_scaffold_takes_the_column_naming_the_patient_not_the_tables_own_key(tmp_path: Path) -> None:
    # attachments(id 1…44, patient_id): every attachment id is also some patient's id (1…300). Before, the
    # scaffold guessed 'patient_id = { column = "id", … }' (the attachment's own key: each scan filed under
    # the patient whose id equals the scan's number); a column that names the patient and points at one wins.
    app = build_app_clinic(tmp_path / "app")
    flow = scaffolded(type("Db", (), {"path": tmp_path / "app" / "patients.db"})(), tmp_path)
    app.close()
    toml = (flow.connectors / "foreign" / "connector.toml").read_text()
    section = toml[toml.index("[entities.attachment]"):]
    section = section[:section.index("# ---")]
    [guess] = [line for line in section.splitlines() if line.startswith("patient_id =")]
    assert guess == 'patient_id = { column = "patient_id", type = "ref", ref = "patient", required = true }'


# the visits (ISO-8601 with +09:00, keyed on two columns) are read by the scaffold's own [entities.encounter]


@pytest.mark.parametrize("over", ["file", pytest.param("odbc", marks=pytest.mark.db)])
def test_attachment_files_beside_the_database_are_read_over_the_file_and_over_odbc(tmp_path: Path, over: str) -> None:
    # Scans in files/ beside patients.db, named by relative paths: a Windows backslash path and a Hangul file name
    # are read; '../secret.txt' (outside the folder) and a missing file are quarantined with their reasons.
    # Before, over the SQLite ODBC driver every attachment was quarantined 'file-missing' (44 of 44): the
    # connector's [attachments] root was looked up beside a database file only when given as --source.
    app = build_app_clinic(tmp_path / "app")
    database = tmp_path / "app" / "patients.db"
    db = type("Db", (), {"path": database if over == "file" else None,
                         "odbc": f"DRIVER={{SQLite3}};Database={database}"})()
    flow = scaffolded(db, tmp_path)
    toml = flow.connectors / "foreign" / "connector.toml"
    # the scaffold's own attachment section (its media type read off each path's extension; before: commented
    # out for want of a media-type column, and this test wrote the section by hand), its folder named
    scaffold = toml.read_text()
    assert '[entities.attachment]\n' in scaffold
    toml.write_text(scaffold.replace('root = "attachments"', 'root = "files"', 1))
    check = checked(flow)
    [attachment] = [e for e in check["reconciliation"]["entities"] if e["entity"] == "attachment"]
    assert (attachment["source_rows"], attachment["exported"], attachment["quarantine_reasons"]) == (
        44, 42, {"file-missing": 1, "path-outside-root": 1})
    _dry, sealed, bag = exported(flow, tmp_path)
    app.close()
    entities = {e["entity"]: e for e in sealed["reconciliation"]["entities"]}
    assert {k: (e["exported"], e["quarantined"]) for k, e in entities.items()} == {
        "patient": (PATIENTS, 0), "encounter": (VISITS, 0), "attachment": (42, 2)}
    files = tmp_path / "app" / "files"
    expected = sorted(p.read_bytes() for p in files.rglob("*") if p.is_file() and p.name != "missing.jpg")
    assert sorted(p.read_bytes() for p in (bag / "data/attachments").iterdir()) == expected
    assert b"%PDF-1.4 hangul" in expected and b"\xff\xd8\xffwin" in expected and len(expected) == 42
    quarantined = [json.loads(line) for p in sorted(bag.glob("data/raw/attachment.*.ndjson"))
                   for line in p.read_bytes().splitlines()]
    assert sorted((q["row"]["rel_path"], q["reason_code"]) for q in quarantined) == [
        ("../secret.txt", "path-outside-root"), ("xray/2024/missing.jpg", "file-missing")]
    encounters = [json.loads(line) for p in sorted(bag.glob("data/fhir/Encounter.*.ndjson"))
                  for line in p.read_bytes().splitlines()]
    assert len(encounters) == VISITS and {e["period"]["start"] for e in encounters} >= {"2024-03-01T09:30:00+09:00"}


@pytest.mark.db
def test_over_the_sqlite_odbc_driver_the_bag_holds_every_cell_the_file_gives(tmp_path: Path) -> None:
    # The same live clinic through the file and through the SQLite ODBC driver: the same cells, exactly (JSON
    # text, ISO-8601 with Z and +09:00, Unix ms, the generated columns). Before, over ODBC 'connector check' and
    # the export stopped with 'Table visits: the catalogue lists 5 columns but a row read has 6' (sqliteodbc's
    # SQLColumns leaves generated columns out), and the patients' generated columns were missing from the
    # inventory and from check's unmapped columns although their cells were in the bag.
    found = {}
    for over in ("file", "odbc"):
        app = build_app_clinic(tmp_path / over / "app")
        database = tmp_path / over / "app" / "patients.db"
        db = type("Db", (), {"path": database if over == "file" else None,
                             "odbc": f"DRIVER={{SQLite3}};Database={database}"})()
        flow = scaffolded(db, tmp_path / over)
        check = checked(flow)
        _dry, _sealed, bag = exported(flow, tmp_path / over)
        app.close()
        inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
        found[over] = (
            {t["name"]: [c["name"] for c in t["columns"]] for t in inventory},
            [(u["table"], u["column"], u["cells"]) for u in check["unmapped_columns"]],
            _sidecar(bag, "patient"),
            sorted(line for p in bag.glob("data/fhir/Encounter.*.ndjson") for line in p.read_bytes().splitlines()),
            sorted(p.read_bytes() for p in bag.glob("data/fhir/Patient.*.ndjson")),
        )
    columns, unmapped, sidecar, visits, patients = found["odbc"]
    assert len(patients) == 1 and patients[0].count(b"\n") == PATIENTS
    assert columns["visits"] == ["clinic_code", "visit_code", "patient_id", "visited_at", "note", "note_len"]
    assert columns["patients"][-2:] == ["name_upper", "chart_len"]
    assert ("patients", "chart_len", PATIENTS) in unmapped
    assert sidecar["7"]["profile"] == '{"phone": "010-0000-0007", "allergies": ["페니실린"]}'
    assert (sidecar["8"]["created_at"], sidecar["7"]["updated_ms"], sidecar["7"]["chart_len"]) == (
        "2024-02-09T10:15:00+09:00", 1_700_000_007_000, 7)
    assert len(visits) == VISITS and json.loads(visits[0])["period"]["start"].endswith("T09:30:00+09:00")
    assert found["odbc"] == found["file"]


def test_a_second_file_the_app_attaches_is_read_in_the_same_snapshot_when_the_connector_names_it(
        tmp_path: Path) -> None:
    # The app keeps its prescriptions in records.db, which it ATTACHes to patients.db as 'rec'. Before, the tool
    # could read only patients.db: the 200 prescriptions were in no bag and no report named them, and
    # records.db alone cannot be scaffolded (no patient table). Now the connector says `[source] attach = { rec =
    # "records.db" }` and its tables are listed, counted and carried as rec.prescriptions.
    app = build_app_clinic(tmp_path / "app")
    flow = scaffolded(type("Db", (), {"path": tmp_path / "app" / "patients.db"})(), tmp_path)
    # connector check, before: the second file named, with what to write
    assert checked(flow)["hints"] == [
        "records.db beside patients.db is a SQLite database too, which this export does not read. If the EMR keeps "
        'records in it (it ATTACHes it), name it in connector.toml: [source] attach = { records = "records.db" }; '
        "if it is a copy or another program's, leave it."]
    toml = flow.connectors / "foreign" / "connector.toml"
    scaffold = toml.read_text()
    toml.write_text(scaffold.replace('[source]\n', '[source]\nattach = { rec = "records.db" }\n', 1))
    check = checked(flow)
    assert check["hints"] == []
    assert {"table": "rec.prescriptions", "rows": PRESCRIPTIONS} in [
        {k: t[k] for k in ("table", "rows")} for t in check["unmapped_tables"]]
    _dry, sealed, bag = exported(flow, tmp_path)
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    assert {t["name"]: (t["rows"], t["fate"]) for t in inventory}["rec.prescriptions"] == (PRESCRIPTIONS, "carried")
    direct = sqlite3.connect(tmp_path / "app" / "records.db")
    names = [d[1] for d in direct.execute("PRAGMA table_info(prescriptions)")]
    expected = [dict(zip(names, r, strict=True)) for r in direct.execute("SELECT * FROM prescriptions ORDER BY id")]
    assert sorted(_carried_rows(bag, inventory, "rec.prescriptions"), key=lambda r: r["id"]) == expected
    assert expected[6] == {"id": 7, "patient_id": 8, "drug": "약7", "dose": 3.5, "issued_at": "2024-04-01T00:00:00Z",
                           "meta": '{"route": "PO"}'}
    # the carried tables (the visits are Encounters, the scans the attachment section's)
    assert sealed["reconciliation"]["table_totals"]["source_rows"] == PRESCRIPTIONS
    # a file the connector names but the folder lacks: said plainly
    (tmp_path / "app" / "records.db").rename(tmp_path / "records.db")
    app.close()
    with pytest.raises(SourceUnavailable, match=r"^The connector attaches records\.db as rec \(\[source\] attach\), "
                                                r"but there is no such file beside patients\.db\.$"):
        from emr_exporter.connectors.spec import load_spec
        from emr_exporter.sources.address import SourceAddress

        SourceAddress(database=tmp_path / "app" / "patients.db").open_for(
            load_spec(flow.connectors / "foreign", origin="test"), snapshot=True)
    # over the SQLite ODBC driver the attached file would be left out unseen: refused, saying what to give
    with pytest.raises(SourceUnavailable, match=r"give patients\.db as --source\.$"):
        SourceAddress(odbc=f"DRIVER={{SQLite3}};Database={tmp_path / 'app' / 'patients.db'}").open_for(
            load_spec(flow.connectors / "foreign", origin="test"), snapshot=True)
