"""A small synthetic Korean clinic whose records keep their status (test data only; made-up Korean patients), on
PostgreSQL with Korean table and column names:

* ``환자`` (환자번호, 성명, 생년월일 'YYYYMMDD', 성별);
* ``내원`` with ``진행상태`` in the words Korean EMRs write (예약, 접수, 진료중, 완료, 취소) and one they do not
  (보류, on hold: kept as recorded, the Encounter's status unknown) beside a ``삭제여부`` soft delete;
* ``처치`` (행위코드, 행위명, 처치일자) with a ``취소여부`` Y/N cancellation flag.

Planted: a visit 예약 (planned), one 취소 (cancelled), one 보류, one deleted (삭제여부 'Y', its status 완료), a treatment
cancelled (취소여부 'Y').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dental_hanbang_clinic import SpecialtyClinic, _created, _put, birth_of, name_of, rrn_of

PATIENTS = 30
VISITS = 80
#: what each 진행상태 says, as the scaffold reads it (보류 it does not read)
VISIT_STATES = ("완료", "완료", "완료", "진료중", "접수", "예약", "취소")
FEES = {"AA154": "초진진찰료", "AA254": "재진진찰료", "MM042": "열전기치료", "MM301": "표층열치료", "KK051": "근육내자극치료"}

STATUS_DDL: dict[str, str] = {
    "환자": '"환자번호" varchar(10) PRIMARY KEY, "성명" varchar(50) NOT NULL, "생년월일" char(8), "성별" char(1)',
    "내원": '"내원번호" integer PRIMARY KEY, "환자번호" varchar(10) NOT NULL, "내원일자" char(8) NOT NULL, '
          '"진행상태" varchar(10), "삭제여부" char(1) NOT NULL DEFAULT \'N\'',
    "처치": '"처치번호" integer PRIMARY KEY, "내원번호" integer NOT NULL, "환자번호" varchar(10) NOT NULL, '
          '"처치일자" char(8) NOT NULL, "행위코드" varchar(10) NOT NULL, "행위명" varchar(50), "취소여부" char(1) NOT NULL',
}


@dataclass
class StatusClinic(SpecialtyClinic):
    #: visit key → (진행상태, 삭제여부) as stored; treatment key → 취소여부
    visits: dict[int, tuple[str, str]] = field(default_factory=dict)
    cancelled: dict[int, str] = field(default_factory=dict)


def create_status_clinic(conn_str: str, database: str = "emr_statuses") -> StatusClinic:
    """The clinic on the PostgreSQL server of ``conn_str`` (a fresh database)."""
    built, conn = _created(conn_str, "postgresql", database, STATUS_DDL, "환자", Path())
    db = StatusClinic(**{f: getattr(built, f) for f in ("engine", "odbc", "patients", "rows", "columns")})
    try:
        c = conn.cursor()
        patients = []
        for i in range(1, PATIENTS + 1):
            rrn = rrn_of(i)
            patients.append((f"S{i:04d}", name_of(i + 5), birth_of(rrn), "M" if rrn[6] in "13" else "F"))
        _put(c, db, "환자", patients)
        visits, patient_of, day_of = [], {}, {}
        for v in range(1, VISITS + 1):
            patient_of[v] = f"S{1 + (v * 7) % PATIENTS:04d}"
            day_of[v] = (dt.date(2025, 3, 1) + dt.timedelta(days=v * 2)).strftime("%Y%m%d")
            state = "보류" if v == 40 else VISIT_STATES[v % len(VISIT_STATES)]
            deleted = "Y" if v == 50 else "N"
            visits.append((v, patient_of[v], day_of[v], state, deleted))
            db.visits[v] = (state, deleted)
        db.dirty.update(on_hold=40, deleted=50)
        assert db.visits[50][0] == "완료"
        _put(c, db, "내원", visits)
        treatments = []
        fees = list(FEES)
        for v in range(1, VISITS + 1):
            for k in range(1 + v % 2):
                no = len(treatments) + 1
                fee = fees[(v + k) % len(fees)]
                flag = "Y" if no % 13 == 0 else "N"
                treatments.append((no, v, patient_of[v], day_of[v], fee, FEES[fee], flag))
                db.cancelled[no] = flag
        _put(c, db, "처치", treatments)
    finally:
        conn.close()
    return db
