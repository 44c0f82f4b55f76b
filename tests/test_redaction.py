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
