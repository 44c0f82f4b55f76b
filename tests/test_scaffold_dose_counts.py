"""The scaffold's rule for a prescription line's dose, times a day and days (authoring/scaffold.py FIELD_HINTS
``order_line`` and ``_Guesser._dose_counts``), on names no test clinic uses: named for what they are (RX_QTY, DOSE_CNT,
TOTAL_DAYS, 회당투여량, 투약횟수, 총투약일수) they map by name; a bare count (CNT, DAY_CNT, ORDER_CNT) is decided by
its sampled values — some above 6 (up to 365) are days — or by its neighbour (all 1-6 beside the days: times a day;
beside the times a day: days), and where neither says, it is carried raw with a ``# CHECK`` line naming it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from emr_exporter.authoring.scaffold import write_scaffold
from emr_exporter.connectors import load_spec
from emr_exporter.sources.address import SourceAddress


def _scaffold(tmp_path: Path, columns: dict[str, str], values: dict[str, list[object]]) -> tuple[dict[str, str], str]:
    """An order table RX_LINE with ``columns`` (name → SQL type) holding ``values`` row by row (20 rows); the
    scaffold's order_line fields (field → column) and its connector.toml."""
    path = tmp_path / "rx.sqlite"
    conn = sqlite3.connect(path)
    declared = ", ".join(f'"{n}" {t}' for n, t in columns.items())
    conn.executescript(f"""
        CREATE TABLE PT_MST (PT_NO INTEGER PRIMARY KEY, PT_NM TEXT, BIRTH_YMD CHAR(8));
        CREATE TABLE RX_LINE (LINE_SEQ INTEGER PRIMARY KEY, PT_NO INTEGER, RX_YMD CHAR(8), DRUG_CD TEXT,
                              DRUG_NM TEXT, {declared});
    """)
    for i in range(1, 21):
        conn.execute("INSERT INTO PT_MST VALUES (?, ?, ?)", (i, f"환자{i}", f"198001{i:02d}"))
        conn.execute(f"INSERT INTO RX_LINE VALUES (?, ?, ?, '643301230', '타이레놀정500mg', "
                     f"{', '.join('?' * len(columns))})",
                     (i, i, f"202401{i:02d}", *(values[n][i % len(values[n])] for n in columns)))
    conn.commit()
    conn.close()
    folder = write_scaffold("rx", tmp_path / "out", SourceAddress(database=path)).folder
    spec = load_spec(folder)
    fields = {n: f.column or "" for n, f in spec.entities["order_line"].fields.items()
              if n in ("dose", "frequency", "days")}
    return fields, (folder / "connector.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("columns", "expected"), [
    ({"RX_QTY": "DECIMAL(6,2)", "DOSE_CNT": "INTEGER", "TOTAL_DAYS": "INTEGER"},
     {"dose": "RX_QTY", "frequency": "DOSE_CNT", "days": "TOTAL_DAYS"}),
    ({"MED_QTY": "DECIMAL(6,2)", "ONCE_CNT": "INTEGER", "DISP_DAYS": "INTEGER"},
     {"dose": "MED_QTY", "frequency": "ONCE_CNT", "days": "DISP_DAYS"}),
    # (a name beginning with a digit, 1회투여량, is no plain SQL identifier: carried raw, said so, whatever it says)
    ({"회당투여량": "DECIMAL(6,2)", "투약횟수": "INTEGER", "총투약일수": "INTEGER"},
     {"dose": "회당투여량", "frequency": "투약횟수", "days": "총투약일수"}),
])
def test_a_dose_times_a_day_and_days_named_for_what_they_are(tmp_path: Path, columns: dict[str, str],
                                                             expected: dict[str, str]) -> None:
    dose, times, days = list(columns)
    fields, _ = _scaffold(tmp_path, columns, {dose: [1, 0.5, 2], times: [1, 2, 3], days: [3, 5, 7, 30]})
    assert fields == expected


def test_a_bare_count_with_values_above_six_is_the_days(tmp_path: Path) -> None:
    # DAY_CNT 3-30 beside TIMES: days (was: times a day, by its name, every 14-day course a 14-times-a-day dose)
    fields, toml = _scaffold(tmp_path, {"TIMES": "INTEGER", "DAY_CNT": "INTEGER"},
                             {"TIMES": [1, 2, 3], "DAY_CNT": [3, 7, 14, 30]})
    assert fields == {"frequency": "TIMES", "days": "DAY_CNT"}
    assert "whole numbers, some above 6 and none above 365: days, no times a day" in toml


def test_a_bare_count_of_one_to_six_beside_the_days_is_the_times_a_day(tmp_path: Path) -> None:
    fields, _ = _scaffold(tmp_path, {"ORDER_CNT": "INTEGER", "RX_DAYS": "INTEGER"},
                          {"ORDER_CNT": [1, 2, 3], "RX_DAYS": [3, 5, 7]})
    assert fields == {"frequency": "ORDER_CNT", "days": "RX_DAYS"}


def test_a_bare_count_of_one_to_six_beside_the_times_a_day_is_the_days(tmp_path: Path) -> None:
    fields, _ = _scaffold(tmp_path, {"FREQ": "INTEGER", "CNT": "INTEGER"}, {"FREQ": [1, 2, 3], "CNT": [1, 3, 5]})
    assert fields == {"frequency": "FREQ", "days": "CNT"}


@pytest.mark.parametrize("values", [[1, 2, 3], [0, 1, 2], [400, 500], ["1.5", "2"]])
def test_an_undecidable_count_is_carried_raw_with_a_check_line(tmp_path: Path, values: list[object]) -> None:
    # every value 1-6 and no neighbour: either; 0, above 365 or a fraction: neither
    fields, toml = _scaffold(tmp_path, {"PKG_CNT": "TEXT"}, {"PKG_CNT": values})
    assert fields == {}
    assert ("# CHECK (PKG_CNT: named as a count, times a day or days; the sampled values do not say which (both "
            "fit, or neither): carried raw. Map it as frequency or days if it is one)") in toml.splitlines()
