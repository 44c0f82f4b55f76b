"""Per-driver capabilities: generated SQL parsed by sqlglot in each engine's dialect, connection
strings, redaction, engine detection. (Live ODBC behaviour is in tests/test_odbc_*.py.)"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from emr_exporter.errors import ConfigError
from emr_exporter.sources import drivers
from emr_exporter.sources.drivers import (
    caps_for,
    connection_string_for_streaming,
    detect_engine,
    keyset_page_query,
    keyset_page_sql,
    limit_sql,
    parse_connection_string,
    redact_connection_string,
    with_paging,
    with_password,
)

SQLGLOT_DIALECT = {
    "sqlite": "sqlite",
    "sqlite-odbc": "sqlite",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "mssql": "tsql",
}


@pytest.mark.parametrize("engine", sorted(SQLGLOT_DIALECT))
def test_keyset_pages_parse_in_the_engine_dialect(engine: str) -> None:
    caps = caps_for(engine)
    inner = f"SELECT {caps.quote('chart_no')}, {caps.quote('name')} FROM {caps.quote('patients')}"
    first = keyset_page_sql(caps, inner, "chart_no", page_size=500, first=True)
    later = keyset_page_sql(caps, inner, "chart_no", page_size=500, first=False)
    for sql in (first, later):
        tree = sqlglot.parse_one(sql, read=SQLGLOT_DIALECT[engine])
        assert isinstance(tree, exp.Select)
        assert tree.args["from_"].this.__class__ is exp.Subquery
        assert [o.this.name for o in tree.args["order"].expressions] == ["chart_no"]
        assert tree.args["limit"].expression.name == "500"
    assert "WHERE" not in first
    assert later.count("?") == 1


def test_tsql_top_brackets_and_nvarchar_casts_parse_as_tsql() -> None:
    caps = caps_for("mssql")
    inner = (
        f"SELECT {caps.quote('PT_NO')}, {caps.unicode_text(caps.quote('PT_NAME'))} AS {caps.quote('name')} "
        f"FROM {caps.quote_qualified('dbo.PATIENT')}"
    )
    sql = keyset_page_sql(caps, inner, "PT_NO", page_size=1000, first=False)
    assert sql == (
        "SELECT TOP 1000 * FROM (SELECT [PT_NO], CAST([PT_NAME] AS NVARCHAR(MAX)) AS [name] "
        "FROM [dbo].[PATIENT]) AS page_src WHERE [PT_NO] > ? ORDER BY [PT_NO]"
    )
    tree = sqlglot.parse_one(sql, read="tsql")
    assert tree.args["limit"].expression.name == "1000"  # sqlglot models TOP as a limit
    cast = tree.find(exp.Cast)
    assert cast is not None and cast.to.this == exp.DataType.Type.NVARCHAR
    assert {t.name for t in tree.find_all(exp.Table)} == {"PATIENT"}
    # The same query round-trips to T-SQL text with TOP and brackets intact.
    out = tree.sql(dialect="tsql", identify=True)
    assert out.startswith("SELECT TOP 1000 *") and "[dbo].[PATIENT]" in out and "NVARCHAR(MAX)" in out


def test_tsql_offset_fetch_variant() -> None:
    caps = with_paging(caps_for("mssql"), "offset-fetch")
    sql = keyset_page_sql(caps, "SELECT [id] FROM [t]", "id", page_size=50, first=True)
    assert sql.endswith("ORDER BY [id] OFFSET 0 ROWS FETCH NEXT 50 ROWS ONLY")
    tree = sqlglot.parse_one(sql, read="tsql")
    fetch = tree.args["limit"]
    assert isinstance(fetch, exp.Fetch) and fetch.args["count"].name == "50"
    assert tree.args["offset"].expression.name == "0"


def test_firebird_first_syntax() -> None:
    caps = caps_for("firebird")
    assert limit_sql(caps, "PATIENT", ["ID", "NAME"], ["ID"], 10) == (
        'SELECT FIRST 10 "ID", "NAME" FROM "PATIENT" ORDER BY "ID"'
    )


def test_identifier_quoting_escapes_the_quote_character() -> None:
    assert caps_for("mariadb").quote("a`b") == "`a``b`"
    assert caps_for("mssql").quote("a]b") == "[a]]b]"
    assert caps_for("postgresql").quote('a"b') == '"a""b"'
    with pytest.raises(ConfigError):
        caps_for("postgresql").quote("")


def test_composite_keyset_is_portable_and_params_follow_marker_order() -> None:
    caps = caps_for("mssql")
    sql, params = keyset_page_query(caps, "SELECT * FROM [rx]", ["visit_id", "line_no"], (7, 3), page_size=10)
    assert "([visit_id] > ?) OR ([visit_id] = ? AND [line_no] > ?)" in sql
    assert params == [7, 7, 3]
    sqlglot.parse_one(sql, read="tsql")


def test_mariadb_inlines_integer_keys_but_never_strings() -> None:
    caps = caps_for("mariadb")
    sql, params = keyset_page_query(caps, "SELECT * FROM `p`", "id", (41,), page_size=100)
    assert sql.endswith("WHERE `id` > 41 ORDER BY `id` LIMIT 100") and params == []
    sql, params = keyset_page_query(caps, "SELECT * FROM `p`", "chart", ("1' OR 1=1",), page_size=100)
    assert "`chart` > ?" in sql and params == ["1' OR 1=1"]
    sql, params = keyset_page_query(caps_for("postgresql"), "SELECT * FROM p", "id", (41,), page_size=100)
    assert '"id" > ?' in sql and params == [41]


def test_bad_page_size_and_unknown_engine() -> None:
    with pytest.raises(ConfigError):
        keyset_page_sql(caps_for("sqlite"), "SELECT 1", "id", page_size=0, first=True)
    with pytest.raises(ConfigError, match="Unknown database engine 'oracle'"):
        caps_for("oracle")


@pytest.mark.parametrize(
    ("dbms_name", "driver_name", "engine"),
    [
        ("SQLite", "sqlite3odbc.so", "sqlite-odbc"),
        ("MariaDB", "libmaodbc.so", "mariadb"),
        ("MySQL", "myodbc8w.so", "mariadb"),
        ("PostgreSQL", "psqlodbcw.so", "postgresql"),
        ("Microsoft SQL Server", "libtdsodbc.so", "mssql"),
        ("", "msodbcsql18.dll", "mssql"),
        ("Firebird 3.0", "libOdbcFb.so", "firebird"),
    ],
)
def test_detect_engine(dbms_name: str, driver_name: str, engine: str) -> None:
    assert detect_engine(dbms_name, driver_name) == engine


def test_detect_engine_unknown_is_a_readable_error() -> None:
    with pytest.raises(ConfigError, match="not one emr-exporter knows"):
        detect_engine("Oracle", "libsqora.so")


def test_engine_from_connection_string() -> None:
    assert drivers.engine_from_connection_string("DRIVER={MariaDB Unicode};SERVER=x") == "mariadb"
    assert drivers.engine_from_connection_string("DSN=clinic") is None


def test_connection_string_round_trip_with_braces() -> None:
    cs = "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PWD={a;b}}c};DATABASE=emr"
    assert parse_connection_string(cs) == [
        ("DRIVER", "PostgreSQL Unicode"),
        ("SERVER", "127.0.0.1"),
        ("PWD", "a;b}c"),
        ("DATABASE", "emr"),
    ]
    assert parse_connection_string(drivers.build_connection_string(parse_connection_string(cs))) == (
        parse_connection_string(cs)
    )


def test_streaming_options_for_postgresql_only() -> None:
    cs = "DRIVER={PostgreSQL Unicode};SERVER=h"
    assert connection_string_for_streaming("postgresql", cs, 5000) == (
        "DRIVER={PostgreSQL Unicode};SERVER=h;UseDeclareFetch=1;Fetch=5000"
    )
    # The user's own setting wins.
    assert connection_string_for_streaming("postgresql", cs + ";fetch=100", 5000) == (
        "DRIVER={PostgreSQL Unicode};SERVER=h;fetch=100;UseDeclareFetch=1"
    )
    assert connection_string_for_streaming("mariadb", "DRIVER={MariaDB Unicode}") == "DRIVER={MariaDB Unicode}"


def test_with_password_replaces_any_existing_password() -> None:
    cs = with_password("DRIVER={MariaDB Unicode};Password=old;UID=emr", "n;ew}")
    assert parse_connection_string(cs) == [("DRIVER", "MariaDB Unicode"), ("UID", "emr"), ("PWD", "n;ew}")]


@pytest.mark.parametrize(
    "text",
    [
        "DRIVER={MariaDB Unicode};UID=emr;PWD=s3cret!;DATABASE=x",
        "driver={x};pwd={s3cret!;with}}brace};uid=emr",
        "Login failed: Password = s3cret! for user emr",
        "('28000', \"[28000] ... PASSWORD=s3cret! (SQLDriverConnect)\")",
    ],
)
def test_redact_connection_string_removes_passwords(text: str) -> None:
    redacted = redact_connection_string(text, "s3cret!")
    assert "s3cret" not in redacted
    assert "***" in redacted


def test_redact_keeps_everything_else() -> None:
    assert redact_connection_string("DRIVER={MariaDB Unicode};UID=emr;PWD=x;DATABASE=db") == (
        "DRIVER={MariaDB Unicode};UID=emr;PWD=***;DATABASE=db"
    )
    # A password that appears on its own (e.g. echoed by a driver) is removed when it is known.
    assert redact_connection_string("user emr with hunter2 refused", "hunter2") == "user emr with *** refused"


@pytest.mark.parametrize(("engine", "dialect"), [("mariadb", "mysql"), ("postgresql", "postgres"), ("mssql", "tsql")])
def test_demo_load_ddl_parses_and_stores_cp949_as_binary(engine: str, dialect: str) -> None:
    from emr_exporter.demo.load import _Column, create_table_sql

    columns = [_Column("PT_NO", "INTEGER", True), _Column("CHART_NO", "TEXT", False), _Column("PT_NM", "BLOB", False)]
    sql = create_table_sql(engine, "PT_MASTER", columns)
    tree = sqlglot.parse_one(sql, read=dialect)
    types = {c.name: c.args["kind"].this for c in tree.find_all(exp.ColumnDef)}
    binary = {"mariadb": exp.DataType.Type.LONGBLOB, "postgresql": exp.DataType.Type.VARBINARY,
              "mssql": exp.DataType.Type.VARBINARY}[engine]
    assert types["PT_NM"] == binary
    assert types["PT_NO"] == exp.DataType.Type.BIGINT


@pytest.mark.parametrize(("version", "reading"), [
    ("10.11.19-MariaDB-0+deb12u1", "json_table"), ("10.6.0-MariaDB", "json_table"), ("11.4.2-MariaDB", "json_table"),
    ("10.5.27-MariaDB-log", "positions"), ("10.2.3-MariaDB", "positions"), ("10.2.2-MariaDB", None),
    ("5.5.5-10.1.48-MariaDB", None), ("10.1.48-MariaDB", None),  # no JSON function before MariaDB 10.2.3
    ("8.0.36-0ubuntu0.22.04.1", "json_table"), ("8.0.21", "json_table"), ("8.0.20", "positions"),  # JSON_VALUE
    ("5.7.44-log", "positions"), ("5.7.8", "positions"), ("5.7.7", None), ("5.6.51", None),
    (None, "json_table"), ("a server that does not say", "json_table"),
])
def test_a_mariadb_or_mysql_version_says_how_a_json_array_is_read(version: str | None, reading: str | None) -> None:
    from emr_exporter.sources.drivers import json_array_reading

    assert json_array_reading(version) == reading


@pytest.mark.parametrize(("version", "reading"), [
    ("10.11.19-MariaDB-0+deb12u1", "json_value"), ("10.5.27-MariaDB-log", "json_value"),
    ("10.2.3-MariaDB", "json_value"), ("10.2.2-MariaDB", None), ("5.5.5-10.1.48-MariaDB", None),
    ("8.0.36-0ubuntu0.22.04.1", "json_value"), ("8.0.21", "json_value"), ("8.0.20", "extract"),
    ("5.7.44-log", "extract"), ("5.7.8", "extract"), ("5.7.7", None), (None, "json_value"), ("unsaid", "json_value"),
])
def test_a_mariadb_or_mysql_version_says_how_a_json_value_is_read(version: str | None, reading: str | None) -> None:
    from emr_exporter.sources.drivers import json_value_reading

    assert json_value_reading(version) == reading


def test_the_json_functions_a_server_lacks_are_named_with_the_versions_that_have_them() -> None:
    from emr_exporter.sources.drivers import json_functions_lacking

    sql = ("SELECT JSON_VALUE(doc, '$.a'), json_arrayagg (x), JSON_EXTRACT(doc, '$.b'), MY_JSON_VALUE(doc) FROM t "
           "WHERE JSON_OVERLAPS(doc, '[1]') AND JSON_EQUALS(doc, '{}')")
    assert json_functions_lacking("5.7.44-log", sql) == [
        ("JSON_VALUE", "MariaDB 10.2.3 and MySQL 8.0.21"), ("JSON_OVERLAPS", "MariaDB 10.9.0 and MySQL 8.0.17"),
        ("JSON_EQUALS", "MariaDB 10.7.0")]
    assert json_functions_lacking("5.7.21", "SELECT JSON_ARRAYAGG(x)") == [
        ("JSON_ARRAYAGG", "MariaDB 10.5.0 and MySQL 5.7.22")]
    assert json_functions_lacking("8.0.36", sql) == [("JSON_EQUALS", "MariaDB 10.7.0")]
    assert json_functions_lacking("10.4.32-MariaDB", sql) == [
        ("JSON_ARRAYAGG", "MariaDB 10.5.0 and MySQL 5.7.22"), ("JSON_OVERLAPS", "MariaDB 10.9.0 and MySQL 8.0.17"),
        ("JSON_EQUALS", "MariaDB 10.7.0")]
    assert json_functions_lacking("11.4.2-MariaDB", sql) == json_functions_lacking(None, sql) == []
