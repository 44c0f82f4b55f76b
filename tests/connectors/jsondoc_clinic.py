"""A synthetic cloud-style Korean EMR that keeps part of the chart as JSON documents in columns (test data only; the
same rows on PostgreSQL and on MariaDB).

``JS_PATIENT`` (chart number, name, birth date, sex, phone, and ``extra``: the patient's settings as a JSON object,
``{"sms": true, "lang": "ko"}``, ``{}`` or NULL); ``JS_VISIT`` (the visit row: date, department, and ``vitals``, a
JSON object of the measurements taken at the visit, ``{"bp": "120/80", "pulse": 72, "temp": 36.5, "bw": 63.2}`` in
English keys or ``{"혈압": "130/85", "맥박": 80, "체온": 36.8, "체중": 70.1}`` in Korean ones; ``soap``, the note
as ``{"s": …, "o": {…}, "a": …, "p": [...]}``, every fourth in Korean keys ``{"주관적": …, "객관적": …, "평가": …,
"계획": …}``, NULL every ninth); ``JS_VITAL_REC`` (measurements taken at the nurses' station, one JSON
document ``data`` per row, Korean keys); ``JS_RX`` (a prescription: ``items``, a JSON array of
``{"code", "name", "dose", "days"}``).

PostgreSQL: ``jsonb`` (vitals, soap, items, data) and ``json`` (extra, kept as written: spaces, key order). MariaDB:
``JSON`` (a ``LONGTEXT`` with ``CHECK (json_valid(…))``) for vitals, items and extra; the station's ``data`` and the
visit's ``soap`` plain ``LONGTEXT`` holding JSON as an older program wrote it, some rows malformed.

Planted (:attr:`JsonDocClinic.dirty`): a visit with no vitals (NULL), one with ``{}``, one with nested objects
(``{"bp": …, "extra": {"o2": 98}}``), one whose pulse is ``"측정거부"`` (no number), one whose vitals are a JSON
array; on MariaDB two station rows of malformed JSON (``{"혈압": "120/80", "맥박": 7``), and a station row whose
``data`` is ``{}``; notes: one holding only its plan, one whose assessment is a JSON null, one ``{}``, and on
MariaDB one cut off (``{"s": "두통", "o": "``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민", "예준"]
DEPTS = ["내과", "가정의학과", "소아청소년과"]
DRUGS = [("645301200", "타이레놀정500mg"), ("643301010", "노바스크정5mg"), ("641901230", "아모크라정375mg")]
PATIENTS = 40
VISITS = 160
STATION = 120
PRESCRIPTIONS = 100


def ddl(engine: str) -> dict[str, str]:
    """Table → its columns, for ``engine``."""
    pg = engine == "postgresql"
    ts, doc, text_doc = ("TIMESTAMP(0)", "JSONB", "JSON") if pg else ("DATETIME", "JSON", "JSON")
    station = note = "JSONB" if pg else "LONGTEXT"
    return {
        "JS_PATIENT": "PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10) NOT NULL, PT_NAME VARCHAR(40), BIRTH_DATE DATE, "
                      f"SEX CHAR(1), PHONE VARCHAR(20), EXTRA {text_doc}",
        "JS_VISIT": f"VISIT_ID INT PRIMARY KEY, PT_ID INT NOT NULL, VISIT_AT {ts} NOT NULL, DEPT VARCHAR(20), "
                    f"VITALS {doc}, SOAP {note}",
        "JS_VITAL_REC": f"REC_ID INT PRIMARY KEY, PT_ID INT NOT NULL, MEASURED_AT {ts} NOT NULL, DATA {station}",
        "JS_RX": f"RX_ID INT PRIMARY KEY, VISIT_ID INT NOT NULL, PT_ID INT NOT NULL, RX_DATE DATE, ITEMS {doc}",
    }


@dataclass
class JsonDocClinic(ForeignDb):
    """The database as built: rows and cells per table, the JSON written per row, and what was planted."""

    #: VISIT_ID → (PT_ID, VISIT_AT, the vitals as written (None: NULL))
    visits: dict[int, tuple[int, dt.datetime, str | None]] = field(default_factory=dict)
    #: VISIT_ID → the soap note as written (None: NULL)
    notes: dict[int, str | None] = field(default_factory=dict)
    #: REC_ID → (PT_ID, MEASURED_AT, the data as written)
    station: dict[int, tuple[int, dt.datetime, str | None]] = field(default_factory=dict)
    #: RX_ID → the drugs as written (a JSON array)
    prescriptions: dict[int, str] = field(default_factory=dict)
    dirty: dict[str, Any] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _vitals(n: int) -> dict[str, Any]:
    """The measurements of visit ``n``: in English keys, every third visit in Korean ones."""
    sbp, dbp, pulse = 110 + n % 40, 70 + n % 20, 60 + n % 30
    temp, weight = Decimal("36.0") + Decimal(n % 15) / 10, Decimal("50.0") + Decimal(n % 35) + Decimal("0.5")
    if n % 3 == 0:
        return {"혈압": f"{sbp}/{dbp}", "맥박": pulse, "체온": float(temp), "체중": float(weight)}
    out: dict[str, Any] = {"bp": f"{sbp}/{dbp}", "pulse": pulse, "temp": float(temp), "bw": float(weight)}
    if n % 4 == 0:
        out["spo2"] = 95 + n % 5
    return out


def _note(n: int) -> dict[str, Any]:
    """The SOAP note of visit ``n``: the objective part an object, the plan a list; every fourth in Korean keys."""
    s, o, a, p = f"기침 {n % 5}일", {"인후": "발적", "청진": "정상"}, "J00", ["타이레놀", "수분 섭취"]
    if n % 4 == 0:
        return {"주관적": s, "객관적": o, "평가": a, "계획": p}
    return {"s": s, "o": o, "a": a, "p": p}


#: With ``awkward``: documents written by hand (not by json.dumps) in place of those of visits 50–52 (vitals, soap)
#: and station row 13: JSON nulls, missing keys, numbers as ``1e2``, ``36.50`` and ``120``, digits written as
#: ``\u`` escapes, Korean, quotes, backslashes, a tab and a newline, an emoji as a surrogate pair, the text "null"
AWKWARD_VITALS = {
    50: r'{"bp": "120/80", "pulse": 1e2, "temp": 36.5, "bw": null, "메모": "\"재측정\" C:\\EMR"}',
    51: r'{"맥박": 120, "체온": 36.50, "혈압": null}',
    52: r'{"pulse": "\u0039\u0030", "temp": "36.5", "bp": "1\u0032\u0030/80", "bw": 6.25e1}',
}
AWKWARD_NOTES = {
    50: r'{"s": "\"두통\" 3일, 경로 C:\\EMR\\note", "o": {"인후": "발\"적", "메모": "a\\b"}, "a": null, '
        r'"p": ["탭\t", "\uD55C\uAE00"]}',
    51: r'{"s": "null", "o": "", "a": "\u0041\u00e9\n둘째 줄", "p": 1e2}',
    52: r'{"주관적": "\ud83d\ude00 웃음 \/ 슬래시", "평가": null}',
}
AWKWARD_STATION = {13: r'{"혈압": "120/80", "맥박": 1e2, "체온": 36.5, "산소포화도": null, "측정자": "\"간호사\" \\ 김"}'}


def create_jsondoc_clinic(conn_str: str, engine: str, database: str = "emr_jsondoc",
                          awkward: bool = False) -> JsonDocClinic:
    """Build the clinic on the ``engine`` ("mariadb" or "postgresql") server of ``conn_str`` (a fresh database);
    with ``awkward``, the documents of :data:`AWKWARD_VITALS`, :data:`AWKWARD_NOTES` and :data:`AWKWARD_STATION`."""
    import pyodbc

    target = _fresh_database(conn_str, database, engine)
    db = JsonDocClinic(engine, odbc=target, patients="js_patient")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    for name, columns in ddl(engine).items():
        suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mariadb" else ""
        c.execute(f"CREATE TABLE {name} ({columns}){suffix}")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        db.table(table.lower(), len(rows[0]), len(rows))

    patients = []
    for i in range(1, PATIENTS + 1):
        extra = (None if i % 7 == 0 else "{}" if i % 5 == 0
                 else json.dumps({"sms": i % 2 == 0, "lang": "ko", "메모": f"보호자 연락 {i}"}, ensure_ascii=False))
        patients.append((i, f"C{i:06d}", SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)],
                         dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), "MF"[i % 2], f"010-{1000 + i}-{2000 + i}",
                         extra))
    put("JS_PATIENT", patients)
    visits = []
    start = dt.datetime(2024, 1, 2, 9, 0)
    for n in range(1, VISITS + 1):
        pt = 1 + n % PATIENTS
        at = start + dt.timedelta(days=n, minutes=17 * n % 480)
        vitals: str | None = json.dumps(_vitals(n), ensure_ascii=False)
        if n == 5:
            vitals, db.dirty["null_vitals"] = None, n
        elif n == 10:
            vitals, db.dirty["empty_vitals"] = "{}", n
        elif n == 20:
            vitals = json.dumps({"bp": "128/84", "pulse": 77, "extra": {"o2": 98, "자세": "좌위"}}, ensure_ascii=False)
            db.dirty["nested_vitals"] = n
        elif n == 25:
            vitals = json.dumps({"bp": "118/76", "pulse": "측정거부", "temp": 36.6}, ensure_ascii=False)
            db.dirty["refused_pulse"] = n
        elif n == 30:
            vitals, db.dirty["array_vitals"] = json.dumps([120, 80]), n
        soap = None if n % 9 == 0 else json.dumps(_note(n), ensure_ascii=False)
        if n == 40:
            soap, db.dirty["plan_only_note"] = json.dumps({"p": "경과 관찰"}, ensure_ascii=False), n
        elif n == 41:
            soap = json.dumps({"s": "두통", "o": "특이소견 없음", "a": None, "p": "재진"}, ensure_ascii=False)
            db.dirty["null_assessment_note"] = n
        elif n == 43:
            soap, db.dirty["empty_note"] = "{}", n
        elif n == 44 and engine == "mariadb":
            soap, db.dirty["malformed_note"] = '{"s": "두통", "o": "', n  # cut off: LONGTEXT, no check
        if awkward and n in AWKWARD_VITALS:
            vitals, soap = AWKWARD_VITALS[n], AWKWARD_NOTES[n]
        visits.append((n, pt, at, DEPTS[n % 3], vitals, soap))
        db.visits[n] = (pt, at, vitals)
        db.notes[n] = soap
    put("JS_VISIT", visits)
    station = []
    for n in range(1, STATION + 1):
        pt = 1 + (n * 7) % PATIENTS
        at = dt.datetime(2024, 3, 1, 8, 0) + dt.timedelta(hours=5 * n)
        data: str | None = json.dumps({"혈압": f"{120 + n % 25}/{75 + n % 15}", "맥박": 65 + n % 20,
                                       "체온": 36.1 + (n % 10) / 10, "산소포화도": 96 + n % 4, "측정자": "간호사"},
                                      ensure_ascii=False)
        if n == 7:
            data, db.dirty["empty_station"] = "{}", n
        elif n in (11, 12) and engine == "mariadb":
            data = '{"혈압": "120/80", "맥박": 7'  # cut off: an older program's malformed JSON
            db.dirty.setdefault("malformed_station", []).append(n)
        data = AWKWARD_STATION.get(n, data) if awkward else data
        station.append((n, pt, at, data))
        db.station[n] = (pt, at, data)
    put("JS_VITAL_REC", station)
    rx = []
    for n in range(1, PRESCRIPTIONS + 1):
        visit = 1 + (n * 3) % VISITS
        items = [{"code": DRUGS[(n + k) % 3][0], "name": DRUGS[(n + k) % 3][1], "dose": 1 + k, "days": 3 + n % 5}
                 for k in range(1 + n % 3)]
        db.prescriptions[n] = "[]" if n == 50 else json.dumps(items, ensure_ascii=False)
        rx.append((n, visit, db.visits[visit][0], db.visits[visit][1].date(), db.prescriptions[n]))
    put("JS_RX", rx)
    conn.close()
    return db
