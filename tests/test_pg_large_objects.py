"""A PostgreSQL clinic that keeps its scanned documents as *large objects* (a Java EMR: Hibernate maps ``@Lob byte[]``
to them): a column of type ``oid`` (or the contrib ``lo`` domain) holds a number, and the bytes live in
``pg_largeobject``, a system catalogue no table lists. Through the contractor's flow (``scaffold`` → ``connector
check`` → ``export --dry-run`` → sealed ``export`` → ``verify`` → ``open``) on the real server over psqlODBC.

Before, the bag held the numbers only (``scan_doc.image`` as 34427, 34428) and no byte of any document, and the
reconciliation said nothing was lost; an ``lo`` column (which psqlODBC reads as the object's bytes) was carried as
bytes with no number, and an object no column refers to was nowhere. Now every large object is carried once, as
the inventory's ``pg_largeobject`` entry (``{oid, data}`` rows), and every column holding their numbers is carried
or mapped as the numbers, marked ``large_object`` in the inventory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import random
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emr_exporter import model
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.drivers import LARGE_OBJECT_PIECE, get_option
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import INSTITUTION, _carried_rows, _column_sidecar, _run, checked, exported, scaffolded
from test_report import pdf_text

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
from foreign_schemas import PATIENTS, ForeignDb, _fresh_database, _patients

pytestmark = pytest.mark.db

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n" + "진료의뢰서".encode() + b"\x00\xff" * 100
BIG = random.Random(5).randbytes(5 * 1024 * 1024)  # a 5 MB scan
PHOTOS = (b"\xff\xd8\xff\xe0photo-1", b"\xff\xd8\xff\xe0photo-2")
MEMO = b"memo in an lo column"
REFERENCES = ["attach_file.file_data", "pt_master.photo", "scan_doc.image", "scan_note.memo"]
ATTACHED = (b"\x89PNG\r\n\x1a\nattached-1", b"%PDF-1.7 attached-2")
ORPHAN = b"a scan no row refers to any more"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create_postgres_large_object_clinic(conn_str: str, database: str = "emr_large_objects_pg") -> tuple[
        ForeignDb, dict[str, int], dict[int, bytes]]:
    """Patients with a photo (``oid``, a mapped section's table), scanned documents (``oid``, a carried table,
    one of them 5 MB), a note with an ``lo``-domain column (the contrib extension: trusted, so the database's
    owner may create it), attached files in an ``lo`` column (the scaffold's attachment section) and an orphan
    large object. The oids by name, and every large object's bytes."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = ForeignDb("postgresql", odbc=target)
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()

    def large_object(data: bytes) -> int:
        return int(c.execute("SELECT CAST(lo_from_bytea(0, ?) AS bigint)", data).fetchone()[0])

    c.execute("CREATE EXTENSION lo")
    c.execute("CREATE TABLE pt_master (pt_no integer PRIMARY KEY, chart_no varchar(10), pt_nm varchar(40), "
              "birth_dt char(8), sex_cd char(1), photo oid)")
    c.execute("CREATE TABLE scan_doc (doc_id integer PRIMARY KEY, chart_no varchar(10), image oid)")
    c.execute("CREATE TABLE scan_note (note_id integer PRIMARY KEY, memo lo)")
    c.execute("CREATE TABLE attach_file (file_no integer PRIMARY KEY, chart_no varchar(10), reg_dt char(8), "
              "mime_type varchar(40), file_data lo)")  # the lo domain in a mapped section's table
    oids = {"photo1": large_object(PHOTOS[0]), "photo2": large_object(PHOTOS[1]), "png": large_object(PNG),
            "pdf": large_object(PDF), "big": large_object(BIG), "memo": large_object(MEMO),
            "orphan": large_object(ORPHAN), "att1": large_object(ATTACHED[0]), "att2": large_object(ATTACHED[1])}
    photos = {1: oids["photo1"], 2: oids["photo2"]}
    c.executemany("INSERT INTO pt_master VALUES (?, ?, ?, ?, ?, ?)",
                  [(*p, photos.get(p[0])) for p in _patients()])
    c.executemany("INSERT INTO scan_doc VALUES (?, ?, ?)",
                  [(1, "00000001", oids["png"]), (2, "00000002", oids["pdf"]), (3, "00000001", oids["big"]),
                   (4, "00000003", None)])
    c.execute("INSERT INTO scan_note VALUES (1, CAST(? AS bigint))", oids["memo"])
    c.executemany("INSERT INTO attach_file VALUES (?, ?, ?, ?, ?)",
                  [(1, "00000001", "20240102", "image/png", oids["att1"]),
                   (2, "00000002", "20240103", "application/pdf", oids["att2"])])
    conn.close()
    db.table("pt_master", 6, PATIENTS)
    db.table("scan_doc", 3, 4)
    db.table("scan_note", 2, 1)
    db.table("attach_file", 5, 2)
    contents = {oids["photo1"]: PHOTOS[0], oids["photo2"]: PHOTOS[1], oids["png"]: PNG, oids["pdf"]: PDF,
                oids["big"]: BIG, oids["memo"]: MEMO, oids["orphan"]: ORPHAN, oids["att1"]: ATTACHED[0],
                oids["att2"]: ATTACHED[1]}
    return db, oids, contents


def _inventory(reconciliation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in reconciliation["inventory"]}


def test_large_objects_reach_the_bag_once_with_the_cells_that_refer_to_them(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    db, oids, contents = create_postgres_large_object_clinic(postgres_conn_str)
    flow = scaffolded(db, tmp_path)
    folder = flow.connectors / "foreign"
    profile = (folder / "PROFILE.md").read_text(encoding="utf-8")
    assert ("Large objects (files PostgreSQL keeps apart from the tables, in pg_largeobject): 9, carried verbatim "
            "by the export. Columns holding their numbers: attach_file.file_data, pt_master.photo, scan_doc.image, "
            "scan_note.memo.") in profile

    toml = (folder / "connector.toml").read_text(encoding="utf-8")
    assert 'content_blob = { expr = { postgresql = "lo_get(file_data)" }, type = "blob" }' in toml.splitlines()
    db.check = checked(flow)
    assert db.check["large_objects"] == {
        "rows": 9, "referenced_by": REFERENCES, "unreferenced": 1,
        "files": "data/raw/tables/pg_largeobject.*.ndjson"}
    assert db.check["unmapped_tables"] == [{"table": "scan_doc", "rows": 4}, {"table": "scan_note", "rows": 1}]
    text = _run(["connector", "check", str(folder), *flow.source], flow.env, 4).output
    assert ("Large objects (files the database keeps apart from its tables): 9, carried verbatim "
            "(data/raw/tables/pg_largeobject.*.ndjson); referenced by attach_file.file_data, pt_master.photo, "
            "scan_doc.image, scan_note.memo; 1 referenced by none") in text

    dry, sealed, bag = exported(flow, tmp_path)
    scan = ["scan", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source, "--json"]
    scanned = json.loads(_run(scan, flow.env, 0).output)
    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    assert scanned["inventory"] == reconciliation["inventory"] and scanned["tables"] == reconciliation["tables"]
    assert ("Large objects (pg_largeobject: files the database keeps apart from its tables): 9 will be carried raw."
            in _run(scan[:-1], flow.env, 0).output.splitlines())
    cells = db.cells + 9 * 2  # each large object: its number and its bytes
    for outcome in (db.check["reconciliation"], dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == cells == PATIENTS * 6 + 12 + 2 + 10 + 18, outcome["cells"]
        assert outcome["cells"]["source"] == outcome["cells"]["mapped"] + outcome["cells"]["carried_raw"]
        assert {t["table"]: (t["source_rows"], t["carried"], t["read"]) for t in outcome["tables"]} == {
            "scan_doc": (4, 4, "keyset on doc_id"), "scan_note": (1, 1, "keyset on note_id"),
            "pg_largeobject": (9, 9, "keyset on oid")}

    inventory = _inventory(reconciliation)
    assert inventory["pg_largeobject"] == {
        "name": "pg_largeobject", "kind": "large-objects", "fate": "carried", "rows": 9, "empty": False,
        "columns": [{"name": "oid", "type": "integer"}, {"name": "data", "type": "binary"}],
        "referenced_by": REFERENCES, "unreferenced": 1, "read": "keyset on oid",
        "files": "data/raw/tables/pg_largeobject.*.ndjson"}
    assert [c for c in inventory["scan_doc"]["columns"] if c.get("large_object")] == [
        {"name": "image", "type": "oid", "large_object": True}]
    assert [c for c in inventory["scan_note"]["columns"] if c.get("large_object")] == [
        {"name": "memo", "type": "lo", "large_object": True}]
    assert [c for c in inventory["attach_file"]["columns"] if c.get("large_object")] == [
        {"name": "file_data", "type": "lo", "large_object": True}]
    assert [c for c in inventory["pt_master"]["columns"] if c.get("large_object")] == [
        {"name": "photo", "type": "oid", "large_object": True}]

    # Every large object's exact bytes, once; each cell that refers to one holds its number.
    carried = list(_carried_rows(bag, reconciliation["inventory"], "pg_largeobject"))
    assert sorted(r["oid"] for r in carried) == sorted(contents)
    assert {r["oid"]: _sha(r["data"]) for r in carried} == {oid: _sha(data) for oid, data in contents.items()}
    assert len(contents[oids["big"]]) == 5 * 1024 * 1024 > LARGE_OBJECT_PIECE  # read in pieces, carried whole
    # each line as every other line of the bag is written (the big one is put together from its pieces' base64)
    for path in sorted(bag.glob("data/raw/tables/pg_largeobject.*.ndjson")):
        for line in path.read_bytes().splitlines(keepends=True):
            assert canonical_json_line(json.loads(line)) == line
    assert sorted((r["doc_id"], r["image"]) for r in _carried_rows(bag, reconciliation["inventory"], "scan_doc")) == [
        (1, oids["png"]), (2, oids["pdf"]), (3, oids["big"]), (4, None)]
    # psqlODBC reads an lo column as the object's bytes: carried as its number (the bytes are carried once)
    assert list(_carried_rows(bag, reconciliation["inventory"], "scan_note")) == [{"note_id": 1, "memo": oids["memo"]}]
    photos = {line["key"]: line["columns"]["photo"] for line in _column_sidecar(bag, "patient")
              if line["columns"].get("photo") is not None}
    assert photos == {"1": oids["photo1"], "2": oids["photo2"]}
    # The scaffold's attachment section reads each file's bytes (lo_get) into the FHIR attachment, and carries the
    # number it holds; the object itself is in pg_largeobject as well.
    assert {line["key"]: line["columns"]["file_data"] for line in _column_sidecar(bag, "attachment")} == {
        "1": oids["att1"], "2": oids["att2"]}
    attached = sorted(_sha(p.read_bytes()) for p in bag.glob("data/attachments/*"))
    assert attached == sorted(_sha(a) for a in ATTACHED)

    # The founder's transfer report names them in plain words.
    report = tmp_path / "transfer.pdf"
    _run(["report", str(sealed["bundle"]["path"]), "--out", str(report)], flow.env, 0)
    words = " ".join(pdf_text(report).split())  # the name's cell wraps
    assert "scan_note 1 원본 그대로 이관 (data/raw/tables) pg_largeobject (스캔 문서 등 파일) 9 원본 그대로 이관 " in words

    # Every cell of every table, and every large object, rebuilt from the opened bag.
    source = OdbcSource(db.odbc or "", password=get_option(db.odbc or "", "PWD"))
    try:
        rebuilt = check_bag_against_source(bag, load_spec(folder), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {"pt_master": PATIENTS, "attach_file": 2, "scan_doc": 4, "scan_note": 1,
                                  "pg_largeobject": 9}


def test_a_large_object_the_account_may_not_read_stops_the_export_saying_what_to_grant(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    import pyodbc

    db, oids, _ = create_postgres_large_object_clinic(postgres_conn_str, "emr_large_objects_denied")
    flow = scaffolded(db, tmp_path)
    with pyodbc.connect(db.odbc or "", autocommit=True) as conn:
        # as an EMR's read-only account has it: the objects belong to the application's account
        conn.execute(f"REVOKE SELECT ON LARGE OBJECT {oids['pdf']} FROM CURRENT_USER")
    export = ["export", "--connector", "foreign", "--connectors-dir", str(flow.connectors), *flow.source,
              "--institution-code", INSTITUTION[0], "--institution-name", INSTITUTION[1], "--dry-run", "--json"]
    failed = json.loads(_run(export, flow.env, 1).output)["error"]
    assert failed == {"code": "source-permission", "message": (
        "The database account emr may not read 1 of the clinic database's 9 large objects (scanned documents and "
        "other files PostgreSQL keeps apart from the tables, in pg_largeobject): without them the export would "
        "lose them. Ask the database administrator to let it read them: as a superuser, run GRANT SELECT ON "
        "LARGE OBJECT <number> TO emr; for each one (SELECT oid FROM pg_largeobject_metadata lists them), or set "
        "lo_compat_privileges = on for the export. Then run the export again.")}
    # what the message says to do works
    with pyodbc.connect(db.odbc or "", autocommit=True) as conn:
        conn.execute(f"GRANT SELECT ON LARGE OBJECT {oids['pdf']} TO CURRENT_USER")
    done = json.loads(_run(export, flow.env, 0).output)["reconciliation"]
    assert done["balanced"] and _inventory(done)["pg_largeobject"]["rows"] == 9


def _bag_members(stream: Iterator[bytes], prefix: str) -> list[bytes]:
    """The contents of the bag members under ``data/<prefix>`` of an export's tar stream, in order."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream)), mode="r:") as tar:
        return [tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                if m.isfile() and f"/data/{prefix}" in m.name]


@pytest.mark.parametrize("snapshot", [True, False])
def test_large_objects_are_read_in_the_exports_snapshot(tmp_path: Path, postgres_conn_str: str, snapshot: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # While the export carries scan_doc (its large objects come after the tables), another connection rewrites a
    # document's bytes and unlinks the orphan: the export reads them as they were when it counted them. Without
    # the snapshot (the engine's snapshot statements switched off) the same writes are caught as a loss.
    import pyodbc

    from emr_exporter.errors import ReconciliationError
    from emr_exporter.pipeline.export import ExportRun, ProgressEvent
    from emr_exporter.sources import drivers

    db, oids, contents = create_postgres_large_object_clinic(postgres_conn_str, "emr_large_objects_snapshot")
    flow = scaffolded(db, tmp_path)
    if not snapshot:
        monkeypatch.setitem(drivers._CAPS, "postgresql",
                            dataclasses.replace(drivers._CAPS["postgresql"], snapshot_statements=()))
    writer = pyodbc.connect(db.odbc or "", autocommit=True)
    written: list[str] = []

    def meanwhile(event: ProgressEvent) -> None:
        if event.stage == "carry" and event.entity == "scan_doc" and not written:
            writer.execute(f"SELECT lo_put({oids['pdf']}, 0, ?)", b"CHANGED!")
            writer.execute(f"SELECT lo_unlink({oids['orphan']})")
            written.append("done")

    source = OdbcSource(db.odbc or "", password=get_option(db.odbc or "", "PWD"), snapshot=True)
    run = ExportRun(load_spec(flow.connectors / "foreign"), source, institution=model.Institution(code=INSTITUTION[0], name=INSTITUTION[1]),
                    created=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), progress=meanwhile)
    try:
        if not snapshot:
            with pytest.raises(ReconciliationError, match=r"^The database's large objects: 9 counted but 8 carr"):
                b"".join(run.stream())
            return
        members = _bag_members(run.stream(), "raw/tables/pg_largeobject.")
    finally:
        source.close()
        writer.close()
    assert written and source.consistent
    rows = [json.loads(line)["row"] for member in members for line in member.splitlines()]
    assert {r["oid"]: _sha(decode_raw(r["data"])) for r in rows} == {o: _sha(d) for o, d in contents.items()}
    assert [r["oid"] for r in rows] == sorted(contents)  # in oid order
