"""Stored attachment paths a real EMR can hold that the file system refuses: the row is quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from emr_exporter.connectors import load_connector
from emr_exporter.connectors.spec import FieldSpec
from emr_exporter.connectors.transforms import TRANSFORMS, RowRejected, TransformContext


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ("2024/a\x00.pdf", "file-missing"),  # NUL: os calls raise ValueError
        ("2024/" + "가" * 200 + ".pdf", "file-unreadable"),  # a name longer than the file system allows
        ("2024/" + "a/" * 3000 + "b.pdf", "file-unreadable"),  # a path longer than PATH_MAX
        ("\\\\server\\share\\a.pdf", "path-outside-root"),  # Windows UNC path
    ],
)
def test_unusable_stored_paths_quarantine_the_row(tmp_path: Path, stored: str, code: str) -> None:
    root = tmp_path / "att"
    (root / "2024").mkdir(parents=True)
    ctx = TransformContext(spec=load_connector("demo"), attachments_root=root)
    with pytest.raises(RowRejected) as caught:
        TRANSFORMS["file"](stored, FieldSpec(name="content_path", type="file"), ctx)
    assert caught.value.reason_code == code
    assert "가" not in caught.value.reason and "a.pdf" not in caught.value.reason
