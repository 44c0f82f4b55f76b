"""A small synthetic Korean clinic that keeps a problem list besides its visits' diagnoses (test data only;
made-up Korean patients), on MariaDB with Korean table and column names:

* ``환자`` (환자번호, 성명, 생년월일 'YYYYMMDD', 성별);
* ``내원`` (내원번호, 환자번호, 내원일자) and ``상병`` (a visit's diagnoses: 내원번호, 상병코드 KCD, 상병명, 주상병여부);
* ``문제목록`` (the patient's problem list, no visit link: 환자번호, 상병코드 — empty for a problem written only as
  its name —, 상병명, 발병일, 해결일, 상태 활동/해결/비활동, 확진여부 확진/의증).

Planted: problems with no code (their name alone), resolved ones with their 해결일, one resolved by its 해결일 whose
상태 is left empty, inactive ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dental_hanbang_clinic import SpecialtyClinic, _created, _put, birth_of, name_of, rrn_of

PATIENTS = 30
VISITS = 60
PROBLEMS = 45
DIAGNOSES = {"J00": "급성 비인두염", "I10": "본태성 고혈압", "E11.9": "합병증을 동반하지 않은 2형 당뇨병",
             "M54.5": "요통", "K21.9": "식도염을 동반하지 않은 위-식도역류병"}
#: the problem list's words (상태) and what each says (FHIR Condition.clinicalStatus)
PROBLEM_STATES = {"활동": "active", "해결": "resolved", "비활동": "inactive"}

PROBLEM_DDL: dict[str, str] = {
    "환자": "환자번호 varchar(10) PRIMARY KEY, 성명 varchar(50) NOT NULL, 생년월일 char(8), 성별 char(1)",
    "내원": "내원번호 integer PRIMARY KEY, 환자번호 varchar(10) NOT NULL, 내원일자 date NOT NULL",
    "상병": "상병번호 integer PRIMARY KEY, 내원번호 integer NOT NULL, 환자번호 varchar(10) NOT NULL, "
          "상병코드 varchar(10) NOT NULL, 상병명 varchar(100), 주상병여부 char(1) NOT NULL",
    "문제목록": "문제번호 integer PRIMARY KEY, 환자번호 varchar(10) NOT NULL, 상병코드 varchar(10), "
              "상병명 varchar(100) NOT NULL, 발병일 date, 해결일 date, 상태 varchar(10), 확진여부 varchar(10)",
}


@dataclass
class ProblemListClinic(SpecialtyClinic):
    #: problem key → (patient, code or None, name, onset, resolved, 상태, 확진여부) as stored
    problems: dict[int, tuple[str, str | None, str, dt.date | None, dt.date | None, str | None, str | None]] = field(
        default_factory=dict)
    #: visit diagnosis key → (visit, code)
    diagnoses: dict[int, tuple[int, str]] = field(default_factory=dict)


def create_problem_list_clinic(conn_str: str, database: str = "emr_problems") -> ProblemListClinic:
    """The clinic on the MariaDB server of ``conn_str`` (a fresh database)."""
    built, conn = _created(conn_str, "mariadb", database, PROBLEM_DDL, "환자", Path())
    db = ProblemListClinic(**{f: getattr(built, f) for f in ("engine", "odbc", "patients", "rows", "columns")})
    try:
        c = conn.cursor()
        patients = []
        for i in range(1, PATIENTS + 1):
            rrn = rrn_of(i)
            patients.append((f"P{i:04d}", name_of(i + 3), birth_of(rrn), "M" if rrn[6] in "13" else "F"))
        _put(c, db, "환자", patients)
        visits, patient_of = [], {}
        for v in range(1, VISITS + 1):
            patient_of[v] = f"P{1 + (v * 7) % PATIENTS:04d}"
            visits.append((v, patient_of[v], dt.date(2025, 1, 2) + dt.timedelta(days=v * 3)))
        _put(c, db, "내원", visits)
        codes = list(DIAGNOSES)
        diagnoses = []
        for v in range(1, VISITS + 1):
            for k in range(1 + v % 2):
                no = len(diagnoses) + 1
                code = codes[(v + k) % len(codes)]
                diagnoses.append((no, v, patient_of[v], code, DIAGNOSES[code], "Y" if k == 0 else "N"))
                db.diagnoses[no] = (v, code)
        _put(c, db, "상병", diagnoses)
        problems = []
        states = list(PROBLEM_STATES)
        for p in range(1, PROBLEMS + 1):
            code = codes[p % len(codes)]
            state: str | None = states[p % 3]
            onset = dt.date(2015, 1, 1) + dt.timedelta(days=p * 37) if p % 4 else None
            resolved = dt.date(2024, 6, 1) + dt.timedelta(days=p) if state == "해결" else None
            if p == 7:  # resolved, its 상태 left empty: the 해결일 says it
                state, resolved = None, dt.date(2024, 5, 5)
            written: str | None = None if p % 5 == 0 else code  # a problem written only as its name
            certainty = None if p % 6 == 0 else "의증" if p % 4 == 1 else "확진"
            row = (p, f"P{1 + (p * 11) % PATIENTS:04d}", written, DIAGNOSES[code], onset, resolved, state, certainty)
            problems.append(row)
            db.problems[p] = row[1:]
        db.dirty.update(resolved_by_date=7)
        _put(c, db, "문제목록", problems)
    finally:
        conn.close()
    return db
