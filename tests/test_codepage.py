"""CP949/EUC-KR with EUC-KR's user-defined rows (emr_exporter.codepage): what a text field of a cp949 connector,
the cell check's rebuild and a euckr column's decoding share."""

from __future__ import annotations

import pytest

from emr_exporter import codepage


@pytest.mark.parametrize("encoding", ["cp949", "CP949", "euc-kr", "euc_kr", "uhc"])
def test_user_defined_characters_are_their_private_use_code_points_and_back(encoding: str) -> None:
    for raw, text in ((b"\xc0\xcc\xc9\xa1\xbc\xf8", "이\ue000순"), (b"\xc9\xfe\xfe\xa1\xfe\xfeA", "\ue05d\ue05e\ue0bbA"),
                      ("김환자".encode("cp949"), "김환자")):
        assert codepage.decode(raw, encoding) == text
        assert codepage.encode(text, encoding) == raw


def test_bytes_without_a_reading_and_text_without_bytes_are_refused() -> None:
    # an unassigned pair, a lone lead byte, a user-defined lead with a trail outside A1–FE, bytes no EUC-KR has
    for raw in (b"\xa2\xe8", b"\xb1\xe8\xc9", b"\xc9\x41", b"\xff\xfe"):
        with pytest.raises(UnicodeDecodeError):
            codepage.decode(raw, "cp949")
    assert codepage.decode("똠\ue000".encode("cp949", "ignore") + b"\xc9\xa1", "cp949") == "똠\ue000"
    with pytest.raises(UnicodeDecodeError):  # CP949's extension is no EUC-KR
        codepage.decode(b"\x8cc\xc9\xa1", "euc-kr")
    for text in ("\ue0bc", "\ue000\U0001f600"):  # past the two rows; no Korean code page has it
        with pytest.raises(UnicodeEncodeError):
            codepage.encode(text, "cp949")
    # other encodings are Python's own
    with pytest.raises(UnicodeDecodeError):
        codepage.decode(b"\xc9\xa1\xff", "utf-8")
    with pytest.raises(UnicodeEncodeError):
        codepage.encode("\ue000", "shift_jis")
