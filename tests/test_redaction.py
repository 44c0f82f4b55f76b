"""Redaction without knowing the password (e.g. the wizard's saved state): an unbraced ODBC value
with spaces is hidden whole."""

from __future__ import annotations

import pytest

from emr_exporter.sources.drivers import redact_connection_string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DRIVER={x};SERVER=s;UID=sa;PWD=correct horse;DATABASE=d", "DRIVER={x};SERVER=s;UID=sa;PWD=***;DATABASE=d"),
        ("DRIVER={x};UID=sa;Password=two words", "DRIVER={x};UID=sa;Password=***"),
        ("DRIVER={x};PWD={a b};UID=u", "DRIVER={x};PWD=***;UID=u"),
    ],
)
def test_password_with_spaces_is_redacted_whole(text: str, expected: str) -> None:
    assert redact_connection_string(text) == expected


@pytest.mark.parametrize("password", ["p;w}d={x} 비밀 번호 ;}}", "}", ";", "a=b", " lead and trail "])
def test_the_server_forms_connection_with_its_password_is_redacted_whole(password: str) -> None:
    """The founder's form builds the connection (sources/servers.py), the password is merged in memory: a message
    that repeats that string shows no part of the password, even unknown to the redaction."""
    from emr_exporter.sources.drivers import with_password
    from emr_exporter.sources.servers import ServerKind, server_connection_string

    kind = ServerKind("mariadb", "MariaDB/MySQL", "MariaDB Unicode", 3306)
    built = server_connection_string(kind, server="emr-server", port=3306, database="emr", user="원장")
    redacted = redact_connection_string(f"failed: {with_password(built, password)} (1045)")
    assert redacted == "failed: DRIVER={MariaDB Unicode};SERVER=emr-server;PORT=3306;DATABASE=emr;UID=원장;PWD=*** (1045)"
