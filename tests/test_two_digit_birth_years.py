"""A SQLite clinic that writes birth dates with two-digit years (``240105``): a patient born in 1924 comes out
born in 1924, by the century digit of the RRN or, without one, because nobody is born after their first visit;
the stored text comes back byte for byte from the bag."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from emr_exporter.connectors.spec import load_spec
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import SqliteFileSource
from lossless_kit import check_bag_against_source
from test_foreign_schemas import _column_sidecar, exported, scaffolded

CONNECTOR = """
[connector]
name = "foreign"
version = "1.0.0"
engines = ["sqlite"]

[detect]
tables = ["HWANJA"]

[source]
date_formats = ["%Y%m%d"]

[entities.patient]
table = "HWANJA"
key = "CHART_NO"

[entities.patient.fields]
chart_number = { column = "CHART_NO", required = true }
name = { column = "NAME", required = true }
birth_date = { column = "BIRTH", type = "date", format = "%y%m%d" }
rrn = { column = "JUMIN", type = "rrn" }
first_visit = { column = "REG_YMD", type = "date" }
"""


def _resources(bag: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(bag.glob(f"data/fhir/{kind}.*.ndjson"))
            for line in path.read_bytes().splitlines()]


def test_a_patient_born_in_1924_written_240105_is_born_in_1924(tmp_path: Path) -> None:
    # Before: every '240105' was birthDate 2024-01-05 (the pivot: this year's two digits), the RRN 240105-1…
    # of a man born in 1924 beside it, and a patient registered in 2015 born nine years later.
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    rows = [  # chart, name, birth, RRN, first visit → FHIR birthDate
        ("000001", "가상일", "240105", "2401051234567", "20150302", "1924-01-05"),  # RRN: 1900s
        ("000002", "가상이", "240105", None, "20150302", "1924-01-05"),  # registered in 2015
        ("000003", "가상삼", "240105", "2401053234567", "20240301", "2024-01-05"),  # RRN: 2000s
        ("000004", "가상사", "240105", "2401052234567", None, "1924-01-05"),  # RRN alone
        ("000005", "가상오", "240105", None, None, "2024-01-05"),  # nothing tells: the pivot's reading
        ("000006", "가상육", f"{tomorrow:%y%m%d}", None, None, f"{1900 + tomorrow.year % 100}-{tomorrow:%m-%d}"),
        ("000007", "가상칠", "991231", "9912311234567", "20100104", "1999-12-31"),
        ("000008", "가상팔", "20240105", "2401051234567", "20150302", "2024-01-05"),  # four digits: as written
    ]
    conn = sqlite3.connect(tmp_path / "clinic.sqlite")
    conn.execute("CREATE TABLE HWANJA (CHART_NO TEXT PRIMARY KEY, NAME TEXT, BIRTH TEXT, JUMIN TEXT, REG_YMD TEXT)")
    conn.executemany("INSERT INTO HWANJA VALUES (?, ?, ?, ?, ?)", [row[:5] for row in rows])
    conn.commit()
    conn.close()
    flow = scaffolded(SimpleNamespace(path=tmp_path / "clinic.sqlite", odbc=None), tmp_path)
    (flow.connectors / "foreign/connector.toml").write_text(CONNECTOR, encoding="utf-8")
    dry, sealed, bag = exported(flow, tmp_path)
    for outcome in (dry["reconciliation"], sealed["reconciliation"]):
        assert outcome["balanced"] and outcome["cells"]["quarantined"] == 0
        assert [(e["entity"], e["exported"], e["quarantined"]) for e in outcome["entities"]] == [("patient", 8, 0)]
    born = {p["identifier"][0]["value"]: p.get("birthDate") for p in _resources(bag, "Patient")}
    assert born == {row[0]: row[5] for row in rows}
    # the stored text, byte for byte: every cell of every row rebuilt from the opened bag ('240105' from
    # 1924-01-05 written back %y%m%d; the same six characters whatever the century)
    source = SqliteFileSource(tmp_path / "clinic.sqlite")
    try:
        rebuilt = check_bag_against_source(bag, load_spec(flow.connectors / "foreign"), source)
    finally:
        source.close()
    assert dict(rebuilt.rows) == {"hwanja": 8}
    # what is carried raw: the RRNs, written without their hyphen (FHIR has 240105-1234567), and the one birth
    # date not in the field's first format; no two-digit year (FHIR's date gives its six characters back)
    carried = {line["key"]: line["transformed"] for line in _column_sidecar(bag, "patient")}
    assert carried == {"000001": ["jumin"], "000003": ["jumin"], "000004": ["jumin"], "000007": ["jumin"],
                       "000008": ["birth", "jumin"]}
    assert decode_raw(next(line for line in _column_sidecar(bag, "patient") if line["key"] == "000008")[
        "columns"]["birth"]) == "20240105"
    assert rebuilt.transformed_cells == 6
