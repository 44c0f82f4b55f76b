"""Nothing left behind on real servers: the demo clinic loaded into MariaDB and PostgreSQL with
`emr-export demo --load-into`, exported and sealed from the server over ODBC, opened with every check
`open` runs, and every row of every table of the server rebuilt from the opened bag (tests/lossless_kit.py).
Real servers started by `.ci/dbservers.sh` (these tests fail, never skip, when one is down)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from emr_exporter.cli import main
from emr_exporter.connectors import load_connector
from emr_exporter.demo import DEMO_DB_NAME, DEMO_P12_PASSWORD, INSTITUTION_P12, STORE_CERT, STORE_KEY
from emr_exporter.sources.connect import PASSWORD_ENV
from emr_exporter.sources.drivers import get_option, parse_connection_string
from emr_exporter.sources.odbc import OdbcSource
from lossless_kit import check_bag_against_source

pytestmark = pytest.mark.db

PATIENTS = 15
CERT_PASSWORD_ENV = "EMR_EXPORTER_CERT_PASSWORD"


def _without_password(conn_str: str) -> str:
    return ";".join(f"{k}={{{v}}}" if k.upper() == "DRIVER" else f"{k}={v}"
                    for k, v in parse_connection_string(conn_str) if k.upper() != "PWD")


@pytest.mark.parametrize("server", ["mariadb", "postgresql"])
def test_every_row_on_the_server_is_rebuilt_from_the_opened_bag(
    server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    conn_str = request.getfixturevalue("mariadb_conn_str" if server == "mariadb" else "postgres_conn_str")
    odbc, password = _without_password(conn_str), get_option(conn_str, "PWD")
    runner = CliRunner()
    # The demo clinic (and its throwaway keys) on disk, then the same clinic copied into the server.
    made = runner.invoke(main, ["demo", "--out", str(tmp_path), "--patients", str(PATIENTS), "--json"])
    assert made.exit_code == 0, made.output
    loaded = runner.invoke(main, ["demo", "--out", str(tmp_path), "--patients", str(PATIENTS), "--load-into", odbc,
                                  "--replace", "--json"], env={PASSWORD_ENV: password})
    assert loaded.exit_code == 0, loaded.output
    keys = tmp_path / "demo-keys"
    exported = runner.invoke(main, [
        "export", "--connector", "demo", "--odbc", odbc, "--attachments-root", str(tmp_path / "attachments"),
        "--out", str(tmp_path / "server-bundle"), "--cert", str(keys / INSTITUTION_P12),
        "--store-cert", str(keys / STORE_CERT), "--json"],
        env={PASSWORD_ENV: password, CERT_PASSWORD_ENV: DEMO_P12_PASSWORD})
    assert exported.exit_code == 0, exported.output
    outcome = json.loads(exported.output)
    # The server's bag reconciles exactly like the file's (same inventory, same cells, same carried tables).
    assert outcome["reconciliation"] == json.loads(made.output)["reconciliation"]
    opened = runner.invoke(main, ["open", outcome["bundle"]["path"], "--key", str(keys / STORE_KEY),
                                  "--out", str(tmp_path / "opened"), "--json", "--require-fhir-validation"])
    assert opened.exit_code == 0, opened.output
    [bag] = [p.parent for p in (tmp_path / "opened").rglob("bag-info.txt")]
    source = OdbcSource(odbc, password=password)
    try:
        rebuilt = check_bag_against_source(bag, load_connector("demo"), source)
    finally:
        source.close()
    assert rebuilt.rows["sms_log"] > 0 and rebuilt.rows["audit_log"] > 0 and rebuilt.rows["pt_master"] > 0
    assert (tmp_path / DEMO_DB_NAME).is_file()
