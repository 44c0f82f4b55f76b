"""The founder's server form in the core: the kinds of server this PC's drivers reach, the connection string built from
plain fields (its quoting: ``;``, ``}``, ``=``, spaces, Korean), read back into the fields, and a real login over the
real MariaDB and PostgreSQL drivers with an account whose password holds every one of those characters."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest

from emr_exporter.sources.drivers import get_option, parse_connection_string
from emr_exporter.sources.servers import (
    THIS_PC,
    ServerFields,
    ServerKind,
    server_connection_string,
    server_fields,
    server_kinds,
)

HARD = "p;w}d={x} 비밀 번호 ;}}"
MARIADB = ServerKind("mariadb", "MariaDB/MySQL", "MariaDB Unicode", 3306)
POSTGRES = ServerKind("postgresql", "PostgreSQL", "PostgreSQL Unicode", 5432)


def test_each_kind_is_named_by_what_it_is_with_its_best_driver_and_usual_port() -> None:
    installed = ["SQLite3", "PostgreSQL ANSI", "PostgreSQL Unicode", "MySQL ODBC 8.0 ANSI Driver",
                 "MySQL ODBC 8.0 Unicode Driver", "SQL Server", "ODBC Driver 17 for SQL Server",
                 "ODBC Driver 18 for SQL Server", "Firebird/InterBase(r) driver"]
    assert server_kinds(installed) == [
        ServerKind("mssql", "SQL Server", "ODBC Driver 18 for SQL Server", 1433),
        ServerKind("mariadb", "MariaDB/MySQL", "MySQL ODBC 8.0 Unicode Driver", 3306),
        ServerKind("postgresql", "PostgreSQL", "PostgreSQL Unicode", 5432),
    ]
    assert server_kinds(["SQLite3", "MariaDB Unicode"]) == [MARIADB]
    assert server_kinds([]) == []


def test_this_pcs_drivers_give_the_three_kinds() -> None:
    from emr_exporter.jobs.sources import list_server_kinds

    assert [(k.name, k.driver, k.port) for k in list_server_kinds()] == [
        ("SQL Server", "FreeTDS", 1433), ("MariaDB/MySQL", "MariaDB Unicode", 3306),
        ("PostgreSQL", "PostgreSQL Unicode", 5432)]


@pytest.mark.parametrize("value", ["a;b", "x}y", "k=v", " spaced out ", "진료 기록;}", "{braced}", "}}", "plain"])
def test_every_field_survives_the_quoting(value: str) -> None:
    built = server_connection_string(POSTGRES, server=f"srv{value}", port=6543, database=value, user=value)
    assert parse_connection_string(built) == [
        ("DRIVER", "PostgreSQL Unicode"), ("SERVER", f"srv{value}".strip()), ("PORT", "6543"),
        ("DATABASE", value.strip()), ("UID", value.strip())]


def test_the_exact_text_of_a_built_connection_string() -> None:
    assert server_connection_string(MARIADB, server="", port=None, database="emr", user="원장") == (
        f"DRIVER={{MariaDB Unicode}};SERVER={THIS_PC};PORT=3306;DATABASE=emr;UID=원장")
    assert server_connection_string(POSTGRES, server="192.168.0.10", port=5433, database="a;b}c", user="x=y") == (
        "DRIVER={PostgreSQL Unicode};SERVER=192.168.0.10;PORT=5433;DATABASE={a;b}}c};UID={x=y}")
    assert server_connection_string(MARIADB, server=" emr-server ", port=3307, database=" ", user="") == (
        "DRIVER={MariaDB Unicode};SERVER=emr-server;PORT=3307")


def test_sql_server_takes_its_port_after_a_comma_and_trusts_a_clinics_own_certificate() -> None:
    driver18 = ServerKind("mssql", "SQL Server", "ODBC Driver 18 for SQL Server", 1433)
    assert server_connection_string(driver18, server="EMRSERVER", port=None, database="EMR", user="sa") == (
        "DRIVER={ODBC Driver 18 for SQL Server};SERVER=EMRSERVER,1433;TrustServerCertificate=yes;DATABASE=EMR;UID=sa")
    freetds = ServerKind("mssql", "SQL Server", "FreeTDS", 1433)
    assert server_connection_string(freetds, server="10.0.0.2", port=1444, database="EMR", user="sa") == (
        "DRIVER={FreeTDS};SERVER=10.0.0.2;PORT=1444;DATABASE=EMR;UID=sa")


def test_the_fields_read_back_from_what_the_form_built_and_nothing_else() -> None:
    driver18 = ServerKind("mssql", "SQL Server", "ODBC Driver 18 for SQL Server", 1433)
    for kind, server, port in ((MARIADB, "10.1.1.1", 3307), (POSTGRES, "", 5432), (driver18, "EMRSERVER", 1500)):
        built = server_connection_string(kind, server=server, port=port, database="진료;db", user="u}1")
        assert server_fields(built) == ServerFields(kind.engine, server or THIS_PC, port, "진료;db", "u}1")
    assert server_fields("DRIVER={PostgreSQL Unicode};SERVER=h;SSLMODE=require") is None  # a contractor's option
    assert server_fields("DRIVER={SQLite3};Database=C:\\emr.db") is None
    assert server_fields("DSN=clinic") is None
    assert server_fields("DRIVER={MariaDB Unicode};SERVER=h;PORT=x") is None
    assert server_fields("not a connection string") is None


@contextlib.contextmanager
def account_with_a_hard_password(engine: str, conn_str: str) -> Iterator[str]:
    """A login on the real server whose password is :data:`HARD`; its user name (on MariaDB without a database:
    the test's account may create users but not grant them one)."""
    import pyodbc

    user = f"emr_q{uuid.uuid4().hex[:8]}"
    quoted = HARD.replace("'", "''")
    with pyodbc.connect(conn_str, autocommit=True) as admin:
        if engine == "mariadb":
            admin.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{quoted}'")
        else:
            admin.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{quoted}'")
        try:
            yield user
        finally:
            admin.execute(f"DROP USER '{user}'@'127.0.0.1'" if engine == "mariadb" else f"DROP ROLE {user}")


@pytest.mark.db
@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_a_password_with_semicolons_braces_and_korean_logs_in_and_a_wrong_one_is_never_said(
    engine: str, mariadb_conn_str: str, postgres_conn_str: str
) -> None:
    from emr_exporter.errors import SourceUnavailable
    from emr_exporter.sources.address import SourceAddress

    admin = mariadb_conn_str if engine == "mariadb" else postgres_conn_str
    kind = MARIADB if engine == "mariadb" else POSTGRES
    with account_with_a_hard_password(engine, admin) as user:
        built = server_connection_string(kind, server="", port=int(get_option(admin, "PORT") or 0),
                                         database="" if engine == "mariadb" else "emr_test", user=user)
        source = SourceAddress(odbc=built, password=HARD).open()
        try:
            assert source.engine == engine
            assert source.scalar("SELECT CURRENT_USER()" if engine == "mariadb" else "SELECT current_user") in (
                user, f"{user}@127.0.0.1")
        finally:
            source.close()
        wrong = HARD[:-1]
        with pytest.raises(SourceUnavailable) as failed:
            SourceAddress(odbc=built, password=wrong).open()
    assert failed.value.reason == "login-failed"
    message = str(failed.value)
    assert message.startswith(f"The database refused the login for user '{user}'.")
    assert wrong not in message and HARD not in message and "비밀 번호" not in message
