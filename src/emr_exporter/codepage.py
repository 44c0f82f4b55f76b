"""Korean legacy text: CP949/EUC-KR bytes with EUC-KR's user-defined rows, read as Windows' code page 949 reads
them (shared by the connector's text fields, the cell check's rebuild and the sources' euckr columns).

EUC-KR's rows 0xC9 and 0xFE (KS X 1001) are left to each installation; clinics drew the rare characters of
patients' names there (외자). Python's ``cp949`` and ``euc_kr`` codecs have no mapping for them; Windows' and IBM's
code page 949 give them Unicode's private use area (and an EUDC font on the clinic's PCs drew them):
0xC9A1–0xC9FE → U+E000–U+E05D, 0xFEA1–0xFEFE → U+E05E–U+E0BB. A pair no table assigns has no reading at all.
"""

from __future__ import annotations

import codecs
import functools

#: EUC-KR's user-defined rows (lead byte) → the private-use code point of their first character (trail 0xA1).
USER_DEFINED_ROWS: dict[int, int] = {0xC9: 0xE000, 0xFE: 0xE05E}

#: Python codecs (by :func:`codecs.lookup` name) whose bytes may hold EUC-KR's user-defined rows.
_KOREAN_CODECS = frozenset({"cp949", "euc_kr"})


@functools.cache
def _korean_codec(encoding: str) -> str | None:
    """``encoding``'s codec name where it is CP949 or EUC-KR (any alias: ``euc-kr``, ``uhc``…), else None."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    return name if name in _KOREAN_CODECS else None


def _decode_user_defined(raw: bytes, codec: str) -> str | None:
    """``raw`` read pair by pair in ``codec``, each user-defined character as its private-use code point; None
    where some other pair (or a lone byte) has no reading."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        lead = raw[i]
        if lead < 0x80:
            out.append(chr(lead))
            i += 1
            continue
        pair = raw[i:i + 2]
        if len(pair) == 2 and lead in USER_DEFINED_ROWS and 0xA1 <= pair[1] <= 0xFE:
            out.append(chr(USER_DEFINED_ROWS[lead] + pair[1] - 0xA1))
        else:
            try:
                out.append(pair.decode(codec))
            except UnicodeDecodeError:
                return None
        i += 2
    return "".join(out)


def _encode_user_defined(text: str, codec: str) -> bytes:
    """The inverse of :func:`_decode_user_defined` (UnicodeEncodeError where a character has no bytes)."""
    out = bytearray()
    for char in text:
        code = ord(char)
        for lead, first in USER_DEFINED_ROWS.items():
            if first <= code < first + 94:
                out += bytes((lead, 0xA1 + code - first))
                break
        else:
            out += char.encode(codec)
    return bytes(out)


def decode(raw: bytes, encoding: str) -> str:
    """``raw`` as text in ``encoding``; in CP949/EUC-KR a user-defined character as its private-use code point
    (:data:`USER_DEFINED_ROWS`), where the text gives back these very bytes. UnicodeDecodeError where the bytes
    have no such reading (a pair nothing assigns: 0xA2E8)."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        codec = _korean_codec(encoding)
        if codec is None:
            raise
        found = _decode_user_defined(raw, codec)
        if found is None or _encode_user_defined(found, codec) != raw:
            raise
        return found


def encode(text: str, encoding: str) -> bytes:
    """The inverse of :func:`decode`: ``text`` as bytes in ``encoding``, in CP949/EUC-KR a private-use code point
    of :data:`USER_DEFINED_ROWS` as its user-defined character's pair. UnicodeEncodeError where none."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        codec = _korean_codec(encoding)
        if codec is None:
            raise
        return _encode_user_defined(text, codec)
