"""What the scaffold's JSON lift (authoring/json_columns.lift_sql) reads out of a document on each engine, run on
the real servers over their ODBC drivers and on SQLite: the same text for the same document everywhere, so a
connector moved between engines maps the same measurements (``db``: fails, never skips, when a server is down).

A JSON ``true``/``false`` is no measurement: PostgreSQL's ``->>`` gives ``'true'``, which the measurement's transform
refuses (``invalid-number``, the set kept, the document carried raw). Before, MariaDB's ``JSON_VALUE`` and SQLite's
``json_extract`` gave ``1``/``0``: ``{"pulse": true}`` became a heart rate of 1/min in the chart (an Observation the
clinic never recorded), ``false`` a 0 dropped as "not measured".
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest

from emr_exporter.authoring.json_columns import lift_sql
from emr_exporter.connectors.spec import ConnectorSpec, FieldSpec
from emr_exporter.connectors.transforms import RowRejected, TransformContext, to_measurement

pytestmark = pytest.mark.db

#: document → the text the lift of ("pulse", "맥박") reads out of it (None: no value)
DOCUMENTS: dict[str, str | None] = {
    '{"pulse": 72}': "72",
    '{"맥박": 80, "memo": "안정"}': "80",
    '{"pulse": "88"}': "88",
    '{"pulse": true}': "true",
    '{"pulse": false}': "false",
    '{"pulse": true, "맥박": 64}': "true",
    '{"pulse": null}': None,
    '{"pulse": {"v": 70}}': None,
    '{"pulse": [70]}': None,
    '{"pulse": 7': None,
    "{}": None,
}


def _lifted(engine: str, conn_str: str | None) -> dict[str, str | None]:
    lift = lift_sql(engine, "doc", ["pulse", "맥박"])
    column = {"postgresql": "jsonb", "mariadb": "LONGTEXT", "sqlite": "TEXT"}[engine]
    rows = [(n, d) for n, d in enumerate(DOCUMENTS) if engine != "postgresql" or d != '{"pulse": 7']
    if conn_str is None:
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE TABLE lift_probe (n INTEGER PRIMARY KEY, doc {column})")
        conn.executemany("INSERT INTO lift_probe VALUES (?, ?)", rows)
        found = conn.execute(f"SELECT n, {lift} FROM lift_probe ORDER BY n").fetchall()
        conn.close()
    else:
        odbc = pyodbc.connect(conn_str, autocommit=True)
        cursor = odbc.cursor()
        cursor.execute("DROP TABLE IF EXISTS lift_probe")
        cursor.execute(f"CREATE TABLE lift_probe (n INTEGER PRIMARY KEY, doc {column})")
        cast = "CAST(? AS jsonb)" if engine == "postgresql" else "?"
        cursor.executemany(f"INSERT INTO lift_probe VALUES (?, {cast})", rows)
        found = [tuple(r) for r in cursor.execute(f"SELECT n, {lift} FROM lift_probe ORDER BY n").fetchall()]
        cursor.execute("DROP TABLE lift_probe")
        odbc.close()
    documents = list(DOCUMENTS)
    return {documents[n]: None if v is None else str(v) for n, v in found}


@pytest.mark.parametrize("engine", ["sqlite", "mariadb", "postgresql"])
def test_a_json_boolean_is_no_measurement_on_any_engine(engine: str, request: pytest.FixtureRequest) -> None:
    conn_str = None if engine == "sqlite" else request.getfixturevalue(
        "mariadb_conn_str" if engine == "mariadb" else "postgres_conn_str")
    lifted = _lifted(engine, conn_str)
    # (PostgreSQL's jsonb holds no malformed document: that row is not written there)
    assert lifted == {d: v for d, v in DOCUMENTS.items() if engine != "postgresql" or d != '{"pulse": 7'}
    # what the pulse field makes of each: the numbers read, a boolean refused as no number (never 1/min, never 0)
    field = FieldSpec(name="pulse", type="decimal", expr={engine: "x"})
    ctx = TransformContext(spec=ConnectorSpec(name="t", version="1", path=Path(".")), attachments_root=None)
    read: dict[str, object] = {}
    for document, value in lifted.items():
        if value is None:
            continue
        try:
            read[document] = to_measurement(value, field, ctx)
        except RowRejected as exc:
            read[document] = exc.reason_code
    assert read == {'{"pulse": 72}': Decimal(72), '{"맥박": 80, "memo": "안정"}': Decimal(80),
                    '{"pulse": "88"}': Decimal(88), '{"pulse": true}': "invalid-number",
                    '{"pulse": false}': "invalid-number", '{"pulse": true, "맥박": 64}': "invalid-number"}


#: documents whose values JSON_VALUE and the lift without it (MySQL 5.7.8–8.0.20) must read alike: JSON nulls, missing
#: keys, numbers as written (36.5, 36.50, 120, 1e2, -0, a long one), Korean, quotes, backslashes, \u escapes (a
#: surrogate pair too), a tab, a newline, the text "null", "" , true/false, an object, a list, a malformed document
AWKWARD = [
    '{"pulse": null}', '{"맥박": null, "pulse": 36.5}', '{"pulse": 36.50}', '{"pulse": 120}', '{"pulse": 1e2}',
    '{"pulse": 1.0E-3}', '{"pulse": -0}', '{"pulse": 12345678901234567890123}', '{"pulse": "null"}', '{"pulse": ""}',
    '{"pulse": "한국어 \\"인용\\" C:\\\\EMR\\\\note"}', '{"pulse": "\\u0039\\u0030"}', '{"pulse": "\\uD55C\\uAE00"}',
    '{"pulse": "\\ud83d\\ude00 \\/ \\t탭\\n줄"}', '{"맥박": "측정거부"}', '{"pulse": true}', '{"pulse": false}',
    '{"pulse": {"v": "\\"70\\""}}', '{"pulse": [70, "칠십"]}', '{"pulse": 7', '{}', '[{"pulse": 1}]', '"pulse"',
    '{"pulse": 1, "pulse": 2}', '{"other": 1}', ' {"pulse":\t"  88 "} ',
]


@pytest.mark.parametrize("nested", [False, True])
def test_the_lift_without_json_value_reads_what_json_value_reads(nested: bool, mariadb_conn_str: str) -> None:
    """MySQL has no JSON_VALUE before 8.0.21: the lift written for such a server (``reading="extract"``,
    JSON_UNQUOTE(JSON_EXTRACT(…)) behind a JSON_TYPE test) reads on this machine's MariaDB the very same text as the
    JSON_VALUE one, NULL for NULL (a JSON null none, never the text 'null' JSON_UNQUOTE alone gives)."""
    lifts = {reading: lift_sql("mariadb", "doc", ["pulse", "맥박"], nested=nested, reading=reading)
             for reading in ("json_value", "extract")}
    assert ("JSON_VALUE(" in lifts["json_value"], "JSON_VALUE(" in lifts["extract"]) == (True, False)
    odbc = pyodbc.connect(mariadb_conn_str, autocommit=True)
    odbc.setencoding(encoding="utf-8")
    cursor = odbc.cursor()
    cursor.execute("DROP TABLE IF EXISTS lift_probe")
    cursor.execute("CREATE TABLE lift_probe (n INTEGER PRIMARY KEY, doc LONGTEXT) DEFAULT CHARSET=utf8mb4")
    cursor.executemany("INSERT INTO lift_probe VALUES (?, ?)", list(enumerate(AWKWARD)))
    read = {reading: [tuple(r) for r in cursor.execute(
        f"SELECT n, HEX({lift}), {lift} FROM lift_probe ORDER BY n").fetchall()] for reading, lift in lifts.items()}
    cursor.execute("DROP TABLE lift_probe")
    odbc.close()
    assert read["extract"] == read["json_value"]
    values = {AWKWARD[n]: v for n, _, v in read["json_value"]}
    assert sum(v is not None for v in values.values()) == (20 if nested else 18)
    assert (values['{"pulse": null}'], values['{"pulse": "null"}'], values['{"pulse": 1e2}']) == (None, "null", "1e2")
    assert (values['{"맥박": null, "pulse": 36.5}'], values['{"pulse": 36.50}']) == ("36.5", "36.50")
    assert values['{"pulse": "한국어 \\"인용\\" C:\\\\EMR\\\\note"}'] == '한국어 "인용" C:\\EMR\\note'
    assert (values['{"pulse": "\\u0039\\u0030"}'], values['{"pulse": "\\ud83d\\ude00 \\/ \\t탭\\n줄"}']) == (
        "90", "\U0001f600 / \t탭\n줄")
    assert values['{"pulse": [70, "칠십"]}'] == ('[70, "칠십"]' if nested else None)
    assert (values['{"pulse": 7'], values['{"pulse": 1, "pulse": 2}'], values['{"other": 1}']) == (None, "1", None)
