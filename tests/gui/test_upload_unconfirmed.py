"""The wizard never says "accepted" for a store that gave no receipt ("stored, unconfirmed", docs/upload.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emr_exporter.upload.uploader import UploadResult


def test_stored_unconfirmed_reads_as_such_in_korean(qtbot: Any, korean_ui: Any, make_wizard: Any,
                                                     app_home: Path) -> None:
    wizard = make_wizard()
    page = wizard.upload_page
    unconfirmed = UploadResult(bundle_id="B-1", size=1_000_000, sha256="0" * 64, upload_url=None,
                               state="stored-unconfirmed", confirmed_offset=1_000_000)
    page._on_uploaded(unconfirmed)
    assert page.state_label.text() == (
        "보관시스템이 파일 전체를 받았지만 접수증을 주지 않습니다. 보관시스템이 받았다고 서면으로 확인해 줄 "
        "때까지 이관 파일을 지우지 말고 보관하세요.")
    assert "접수했습니다" not in page.state_label.text()

    accepted = UploadResult(bundle_id="B-2", size=1_000_000, sha256="0" * 64, upload_url=None,
                            receipt_number="R-2026-000001")
    page._on_uploaded(accepted)
    assert page.state_label.text() == "보관시스템이 접수했습니다. 접수번호: R-2026-000001"


def test_a_store_still_checking_reads_as_such_in_korean(qtbot: Any, korean_ui: Any, make_wizard: Any,
                                                        app_home: Path) -> None:
    """Every byte is in and the store's check outlasted the wait: not "send it again or carry it", but "press
    Resume later for the receipt" (the button says Resume)."""
    from emr_exporter.errors import StoreStillChecking

    wizard = make_wizard()
    page = wizard.upload_page
    page.show_failure(StoreStillChecking("detail for the contractor"))
    assert page.error_label.text() == (
        "보관시스템이 파일을 모두 받았고 아직 확인하고 있습니다. 다시 보낼 것은 없습니다. 잠시 뒤 [이어서 보내기]를 "
        "누르면 접수번호를 받습니다.\ndetail for the contractor")
    assert page.upload_button.text() == "이어서 보내기(&R)"
