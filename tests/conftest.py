"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt tests run offscreen everywhere (CI has no display).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Every row the fast NDJSON writer takes (pipeline/fastlines.py: vital signs) is also mapped the slow way and
# must give the very same lines, cells and counts: every export test is a differential test of the writer
# (worker processes inherit it).
os.environ.setdefault("EMR_EXPORTER_FAST_CHECK", "1")


@pytest.fixture(scope="session")
def demo_clinic(tmp_path_factory: pytest.TempPathFactory):
    """The default synthetic demo clinic, built once per test session (read-only for tests)."""
    from emr_exporter.demo.clinic import create_demo_clinic

    folder: Path = tmp_path_factory.mktemp("demo-clinic")
    return create_demo_clinic(folder / "demo-clinic.sqlite", attachments_dir=folder / "demo-attachments")

# --- real database servers over ODBC (started by `.ci/dbservers.sh start`; .ci/run does it) ----------
# The `db` tests never skip: a server that does not answer is a failure with the command that fixes it.
_DEFAULT_TEST_DSN = {
    "EMR_TEST_MARIADB": (
        "DRIVER={MariaDB Unicode};SERVER=127.0.0.1;PORT=33306;DATABASE=emr_test;UID=emr;PWD=emr_test_pw"
    ),
    "EMR_TEST_POSTGRES": (
        "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=55432;DATABASE=emr_test;UID=emr;PWD=emr_test_pw"
    ),
}


def _reachable_odbc(env_var: str) -> str:
    import os

    import pyodbc

    conn_str = os.environ.get(env_var, _DEFAULT_TEST_DSN[env_var])
    try:
        pyodbc.connect(conn_str, timeout=5).close()
    except pyodbc.Error as exc:
        pytest.fail(
            f"{env_var}: the test database server is not reachable ({exc.args[0]}: {exc.args[-1][:200]}). "
            "Start it with `bash .ci/dbservers.sh start`, or point the variable at a running server.",
            pytrace=False,
        )
    return conn_str


@pytest.fixture(scope="session")
def mariadb_conn_str() -> str:
    """ODBC connection string of the test MariaDB (a user that may create databases)."""
    return _reachable_odbc("EMR_TEST_MARIADB")


@pytest.fixture(scope="session")
def postgres_conn_str() -> str:
    """ODBC connection string of the test PostgreSQL (a role with CREATEDB)."""
    return _reachable_odbc("EMR_TEST_POSTGRES")


# --- the founder's desktop locale -------------------------------------------------------------------
KOREAN_LOCALE = "ko_KR.UTF-8"


@pytest.fixture
def korean_locale() -> object:
    """The process runs under ko_KR.UTF-8, as the wizard does on a Korean desktop (QApplication calls
    setlocale(LC_ALL, "") from the environment). Restored afterwards. Fails, never skips, without the locale."""
    import locale

    saved = locale.setlocale(locale.LC_ALL)
    try:
        locale.setlocale(locale.LC_ALL, KOREAN_LOCALE)
    except locale.Error:
        pytest.fail(f"The {KOREAN_LOCALE} locale is not installed: run `bash .ci/install-system.sh` "
                    "(Debian: apt-get install locales; locale-gen ko_KR.UTF-8).", pytrace=False)
    try:
        yield KOREAN_LOCALE
    finally:
        locale.setlocale(locale.LC_ALL, saved)
