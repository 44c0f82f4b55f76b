"""Carried values (pipeline/raw.py): long bytes' base64 written into their line a piece at a time."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from emr_exporter.pipeline import raw
from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.raw import SPLICED_BYTES, encode_raw, encode_raw_later, spliced_line


def _scan(size: int, seed: int) -> bytes:
    return bytes((seed + i * 131) % 256 for i in range(size))


@pytest.mark.parametrize("piece", [3 * 256 * 1024, 3 * 7])  # the real piece, and one that splits every scan
def test_a_scan_spliced_into_its_line_is_the_line_of_encode_raw(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    # Before: a 40 MB scan was carried as its base64 in bytes, then as text, then in orjson's line, with the row's
    # bytes alive too (peak ~180 MB above the process's own; docs/performance.md, "Huge BLOBs"). Now its base64 is
    # written into the line's buffer a piece at a time: the same bytes.
    monkeypatch.setattr(raw, "_PIECE", piece)
    row: dict[str, Any] = {
        "A_SCAN": _scan(SPLICED_BYTES + 1, 1),  # lengths of every remainder by 3: padding only at the end
        "B_NOTE": "진료 기록 \"quoted\" \\ /",
        "C_SCAN": _scan(SPLICED_BYTES + 2, 2),
        "D_SMALL": _scan(100, 3),  # short: encode_raw's own
        "E_TEXT_IN_BLOB": ("가나다" * 30_000).encode("cp949"),  # long but text: encode_raw's {"text": …}
        "F_SCAN": _scan(3 * SPLICED_BYTES, 4),
        "G": None, "H": 1.5, "I": 0,
    }
    expected = canonical_json_line({"row": {k: encode_raw(v, "cp949") for k, v in row.items()}})
    later: dict[str, bytes] = {}
    line = spliced_line(canonical_json_line({"row": {k: encode_raw_later(v, "cp949", later) for k, v in row.items()}}),
                        later)
    assert sorted(later.values()) == sorted([row["A_SCAN"], row["C_SCAN"], row["F_SCAN"]])
    assert type(line) is bytearray and line == expected
    assert base64.b64decode(json.loads(line)["row"]["F_SCAN"]["base64"]) == row["F_SCAN"]
    # without a long scan: the line itself
    plain = canonical_json_line({"row": {"D_SMALL": encode_raw_later(row["D_SMALL"], "cp949", later := {})}})
    assert spliced_line(plain, later) is plain and later == {}
