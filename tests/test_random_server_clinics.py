"""Clinics drawn at random on real MariaDB and PostgreSQL servers (tests/connectors/random_server_clinic.py: each
server's own column types, keyless tables, composite keys, Hangul text keys, NULL and duplicate ids) through the
contractor's whole flow over the server's ODBC driver: ``scaffold`` → ``connector check`` → dry run → sealed
``export`` → ``verify`` → ``open``; then every row of every table is rebuilt from the opened bag and compared with
the server's cell by cell (tests/lossless_kit.py). ``db``: fails, never skips, when a server is down.

Fixed seeds, so a failure is the same on every run; ``scripts/random_server_seeds.py`` runs many more locally.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "connectors"))
sys.path.insert(0, str(Path(__file__).parent))
from foreign_schemas import _fresh_database, _patients
from random_server_clinic import ServerClinic, create_random_server_clinic

from emr_exporter.connectors.spec import load_spec, session_time_zone
from emr_exporter.sources.base import Source, SqliteFileSource
from emr_exporter.sources.catalog import list_tables
from emr_exporter.sources.drivers import caps_for, get_option, limit_sql
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import checked, exported, scaffolded
from test_random_clinics import balanced_reconciliation

pytestmark = pytest.mark.db

#: (server, seed) → its naming style and patient key type (a change to the generator that moves them shows here).
#: Chosen among the seeds scripts/random_server_seeds.py ran to cover the five styles, every table shape (integer,
#: Hangul, composite key; keyless; an undeclared id with NULLs and duplicates), latin1, euckr, JSON, BIT, zero-date,
#: money, interval, array, enum, uuid and ±infinity columns, and (drawn apart) patient keys of these types (text
#: differing only by case, blank or NFC/NFD among them), names as CP949 bytes in latin1 (mariadb 1), keyless
#: visits with NULL and duplicate numbers (mariadb 1, 15; postgresql 1, 4), pages of 1-7 rows, names to quote.
SEEDS: dict[tuple[str, int], tuple[str, str]] = {
    ("mariadb", 1): ("camel", "BIGINT UNSIGNED"), ("mariadb", 2): ("abbreviated", "VARCHAR(40) COLLATE utf8mb4_bin"),
    ("mariadb", 7): ("hangul", "int"), ("mariadb", 9): ("romanised", "BIGINT"), ("mariadb", 10): ("short", "DATE"),
    ("mariadb", 15): ("camel", "VARCHAR(40) COLLATE utf8mb4_nopad_bin"),
    ("postgresql", 1): ("camel", "uuid"), ("postgresql", 4): ("camel", "varchar(40)"),
    ("postgresql", 5): ("short", 'text COLLATE "C"'), ("postgresql", 13): ("hangul", 'text COLLATE "C"'),
    ("postgresql", 14): ("abbreviated", "char(12)"), ("postgresql", 20): ("camel", "numeric(20,0)"),
    ("postgresql", 25): ("romanised", "bytea"),
}


def _stored_bytes(bag: Path) -> dict[str, list[str]]:
    """Table → the columns the inventory says were carried as the bytes the server stores (MariaDB latin1)."""
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    found = {t["name"]: [c["name"] for c in t.get("columns", []) if "stored_bytes" in c] for t in inventory}
    return {name: columns for name, columns in found.items() if columns}


def through_the_flow(clinic: ServerClinic, tmp_path: Path, joined: int = 0, attachments: Path | None = None,
                     edit: Callable[[str], str] | None = None) -> int:
    """The whole flow on ``clinic``; every cell rebuilt from the opened bag. The source's cell count (less the
    ``joined`` cells the scaffold's queries join in from other tables, which the reconciliation counts as read).
    ``attachments``: the folder the connector's file paths start from (``--attachments-root`` of check and export).
    ``edit``: what the contractor changes in the scaffold's connector.toml (its text to the new text) first."""
    flow = scaffolded(clinic, tmp_path)
    if edit is not None:
        toml = flow.connectors / "foreign" / "connector.toml"
        toml.write_text(edit(toml.read_text(encoding="utf-8")), encoding="utf-8")
    if attachments is not None:
        flow.source.extend(["--attachments-root", str(attachments)])
    if clinic.page_size is not None:  # the contractor's small pages: every section read in keyset pages of a few rows
        toml = flow.connectors / "foreign" / "connector.toml"
        text = re.sub(r"(?m)^(\[entities\.[^].\n]+\])$", rf"\1\npage_size = {clinic.page_size}",
                      toml.read_text(encoding="utf-8"))
        assert "page_size" in text
        toml.write_text(text, encoding="utf-8")
    check = checked(flow)
    dry, sealed, bag = exported(flow, tmp_path)
    reconciliation = balanced_reconciliation(check, dry, sealed, bag)
    spec = load_spec(flow.connectors / "foreign")
    # as the export reads: a PostgreSQL session in the connector's [source] timezone (a clinic without a server:
    # its SQLite file)
    source: Source = (SqliteFileSource(clinic.path) if clinic.odbc is None else
                      OdbcSource(clinic.odbc, get_option(clinic.odbc, "PWD"), time_zone=session_time_zone(spec)))
    try:
        # PostgreSQL SQL_ASCII: every text column read as the bytes it stores, as the export reads it
        stored = {t.name.lower(): [c.name for c in t.columns if c.byte_charset] for t in list_tables(source)}
        stored = {**{t: c for t, c in stored.items() if c}, **_stored_bytes(bag), **clinic.stored_bytes}
        rebuilt = check_bag_against_source(bag, spec, source, stored)
    finally:
        source.close()
    rebuilt_cells = rebuilt.mapped_cells + rebuilt.carried_cells + rebuilt.quarantined_cells
    assert rebuilt_cells + joined == reconciliation["cells"]["source"], (rebuilt_cells, reconciliation["cells"])
    return rebuilt_cells


@pytest.mark.parametrize(("server", "seed"), sorted(SEEDS))
def test_a_random_server_clinic_comes_back_cell_for_cell_from_the_opened_bag(
    server: str, seed: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    conn_str = request.getfixturevalue("mariadb_conn_str" if server == "mariadb" else "postgres_conn_str")
    clinic = create_random_server_clinic(conn_str, server, seed)
    style, key = SEEDS[(server, seed)]
    assert (clinic.style, f"patient-key:{key}") == (style, clinic.shapes[0])
    assert through_the_flow(clinic, tmp_path) > 0


#: A keyless table whose only column is json: PostgreSQL has no ordering operator for json.
JSON_ROWS = ('{"a": 1, "a": 2}', "[]", '"한글"', "null", '{"a": 1, "a": 2}', "  {\"b\" : 1.50}  ")


def test_a_postgresql_keyless_table_of_json_alone_is_scaffolded_and_carried(
    tmp_path: Path, postgres_conn_str: str
) -> None:
    """postgresql seed 20: the scaffold's sample ordered such a table by its json column (no other was sortable)
    and stopped with 'could not identify an ordering operator for type json' (exit 1). It samples it in no
    order now, as the export reads it, and the table is carried whole."""
    import pyodbc

    target = _fresh_database(postgres_conn_str, "emr_rand_json", "postgresql")
    conn = pyodbc.connect(target, autocommit=True)
    try:
        conn.execute("CREATE TABLE pt_master (pt_no integer PRIMARY KEY, chart_no text, pt_nm text, birth_ymd text, "
                     "sex text)")
        conn.cursor().executemany("INSERT INTO pt_master VALUES (?, ?, ?, ?, ?)", _patients())
        conn.execute('CREATE TABLE "설정" ("값" json)')
        for value in JSON_ROWS:
            conn.execute('INSERT INTO "설정" VALUES (CAST(? AS json))', value)
    finally:
        conn.close()
    clinic = ServerClinic("postgresql", target, "abbreviated")
    assert through_the_flow(clinic, tmp_path) == 5 * len(_patients()) + len(JSON_ROWS)
    bag = next(p.parent for p in (tmp_path / "opened").rglob("bag-info.txt"))
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    [entry] = [t for t in inventory if t["name"] == "설정"]
    assert (entry["fate"], entry["rows"]) == ("carried", len(JSON_ROWS))
    assert limit_sql(caps_for("postgresql"), ("설정",), None, [], 5) == 'SELECT * FROM "설정" LIMIT 5'
