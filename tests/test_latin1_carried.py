"""CP949 bytes in MariaDB ``latin1`` columns of a table no section reads (carried raw), through the CLI over
MariaDB Connector/ODBC: ``scaffold`` → ``connector check`` → ``export --dry-run`` → a sealed ``export`` →
``verify`` → ``open``.

Legacy Korean MySQL installations declared their tables latin1 and stored CP949 bytes in them; the server
converts them "from latin1" on the way out ('±èÈ¯ÀÚ' for '김환자'). A carried table's such columns must reach
the bag as the bytes the clinic stored (the lead bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are the five bytes
cp1252 leaves undefined), a latin1 key included (paged on its bytes), and the scaffold's section on another
latin1 table keeps reading its column as bytes (``db``: fails, never skips, when the server is down).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emr_exporter.pipeline.raw import decode_raw

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))

from foreign_sections import SectionsDb, create_mariadb_latin1_cp949

from lossless_kit import lines
from test_foreign_schemas import checked, exported, scaffolded

#: Hangul whose CP949 lead byte is one of cp1252's five undefined bytes (갂 = 0x81 0x41, 뛃, 뢅, 륚, 쒪).
LEADS = (0x81, 0x8D, 0x8F, 0x90, 0x9D)
ROWS = 40  # a BLOB column pages the carried table 16 rows at a time: three keyset pages


def _msg_rows() -> list[tuple[bytes, bytes | None, bytes | None, bytes | None]]:
    """(MSG_ID, SENDER, BODY, MEMO): latin1 key and text holding CP949 bytes, ASCII, NULLs; a BLOB."""
    rows = []
    for i in range(ROWS):
        lead = LEADS[i % len(LEADS)]
        hangul = bytes([lead, 0x41]) + "환자".encode("cp949")
        # keys whose collation order (latin1_swedish_ci: a < B) differs from their bytes' (B < a)
        key = (hangul if i % 3 == 0 else b"a" if i % 3 == 1 else b"B") + f"{i:03d}".encode()
        sender = None if i % 4 == 0 else b"plain ascii" if i % 4 == 1 else hangul
        body = (f"{i}: ".encode() + "김환자 진료비 안내".encode("cp949") + bytes([0x9D, 0x61]) if i % 2 == 0
                else None if i % 5 == 1 else b"\xff\xfe not cp949")
        memo = None if i % 3 else bytes(range(256))
        rows.append((key, sender, body, memo))
    return rows


#: a latin1 table without a key: one ordered pass (identical rows, NULLs)
NOTES = [(b"\x81A\x8dA",), (None,), (b"\x81A\x8dA",), (b"ascii note",)]


def _create(conn_str: str) -> SectionsDb:
    import pyodbc

    db = create_mariadb_latin1_cp949(conn_str, database="emr_latin1_carried")
    assert db.odbc is not None
    conn = pyodbc.connect(db.odbc, autocommit=True)
    c = conn.cursor()
    c.execute("CREATE TABLE MUNJA_BOX (MSG_ID VARCHAR(20) PRIMARY KEY, SENDER VARCHAR(40), BODY TEXT, MEMO BLOB) "
              "CHARACTER SET latin1")
    for row in _msg_rows():  # bytes through UNHEX: the server stores them as they are
        c.execute("INSERT INTO MUNJA_BOX VALUES (" + ", ".join(
            "NULL" if v is None else f"UNHEX('{v.hex()}')" for v in row) + ")")
    c.execute("CREATE TABLE NOTE_BOOK (NOTE VARCHAR(40)) CHARACTER SET latin1")
    for (note,) in NOTES:
        c.execute("INSERT INTO NOTE_BOOK VALUES (" + ("NULL" if note is None else f"UNHEX('{note.hex()}')") + ")")
    conn.close()
    db.table("munja_box", 4, ROWS)
    db.table("note_book", 1, len(NOTES))
    return db


def _carried(bag: Path, inventory: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    [entry] = [t for t in inventory if t["name"] == table]
    assert entry["fate"] == "carried", entry
    member = entry["files"].removeprefix("data/").removesuffix(".*.ndjson")
    return [{k: decode_raw(v) for k, v in line["row"].items()} for line in lines(bag, member)]


@pytest.mark.db
def test_cp949_bytes_in_latin1_columns_of_a_carried_table_come_back_exactly(
        tmp_path: Path, mariadb_conn_str: str) -> None:
    # Before: the carried columns held the server's latin1 reading ('\x81A' for 갂, '±èÈ¯ÀÚ' for 김환자) as
    # text; `open` gave back that text, not the clinic's bytes.
    db = _create(mariadb_conn_str)
    flow = scaffolded(db, tmp_path)
    toml = (flow.connectors / "foreign" / "connector.toml").read_text(encoding="utf-8")
    # the carried table's columns are not said to be exported as mojibake: they are carried as bytes
    assert "WARNING" not in toml, toml[:2000]
    assert ("# carries them as the bytes stored (exactly): MUNJA_BOX.MSG_ID, MUNJA_BOX.SENDER, MUNJA_BOX.BODY, "
            "NOTE_BOOK.NOTE.") in toml, toml[:2000]
    check = checked(flow)
    assert sorted((t["table"], t["rows"]) for t in check["unmapped_tables"]) == [
        ("MUNJA_BOX", ROWS), ("NOTE_BOOK", len(NOTES))]
    dry, sealed, bag = exported(flow, tmp_path)

    reconciliation = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
    for outcome in (dry["reconciliation"], sealed["reconciliation"], reconciliation):
        assert outcome["balanced"]
        assert outcome["cells"]["source"] == db.cells
        assert outcome["cells"]["source"] == (outcome["cells"]["mapped"] + outcome["cells"]["carried_raw"]
                                              + outcome["cells"]["quarantined"])
    carried = {t["table"]: (t["source_rows"], t["carried"]) for t in reconciliation["tables"]}
    assert carried == {"munja_box": (ROWS, ROWS), "note_book": (len(NOTES), len(NOTES))}

    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    [munja_box] = [t for t in inventory if t["name"] == "munja_box"]
    assert munja_box["read"] == "keyset on msg_id"
    assert munja_box["columns"] == [
        {"name": "msg_id", "type": "text", "stored_bytes": "latin1"},
        {"name": "sender", "type": "text", "stored_bytes": "latin1"},
        {"name": "body", "type": "text", "stored_bytes": "latin1"},
        {"name": "memo", "type": "binary"},
    ]
    # every row once, in the order of its key's bytes, every value the very bytes inserted
    rows = _carried(bag, inventory, "munja_box")
    got = [(r["msg_id"], r["sender"], r["body"], r["memo"]) for r in rows]
    assert got == sorted(_msg_rows()), [repr(g[0]) for g in got]
    assert all(type(v) is bytes for row in got for v in row if v is not None)
    notes = _carried(bag, inventory, "note_book")
    assert Counter(r["note"] for r in notes) == Counter(n for (n,) in NOTES)

    # the scaffold's section on the other latin1 table still reads its column as bytes (CP949 names in FHIR)
    names = sorted(json.loads(line)["name"][0]["text"] for path in bag.glob("data/fhir/Patient*.ndjson")
                   for line in path.read_bytes().splitlines())
    assert names == sorted(f"김환자{i}" for i in range(1, db.rows["patient"] + 1))
