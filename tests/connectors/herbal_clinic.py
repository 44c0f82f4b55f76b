"""A 한의원 on MariaDB with romanised vendor names whose herbal prescriptions (한약 처방) are a header and its herb
rows: ``HANYAK_RX`` (RX_NO, the patient, the visit, RX_YMD, RX_NM the formula's name 보중익기탕, CHUP_CNT 첩수,
DAYS_CNT 복용일수, YONGBEOP 용법, DEL_YN) and ``HANYAK_RX_ITEM`` (RX_NO, SEQ, HERB_NM 약재명, DOSE_G 용량 g per
첩, ORIGIN_NM 원산지), beside its patients and visits. Synthetic patients only (tests/test_herbal_clinic.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from dental_hanbang_clinic import FORMULAS, PATIENTS, SpecialtyClinic, _created, _put, birth_of, name_of, rrn_of

VISITS = 90
ORIGINS = ("국산", "중국산", None)

HERBAL_DDL: dict[str, str] = {
    "PT_INFO": "PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(10) NOT NULL, PT_NM VARCHAR(50) NOT NULL, "
               "JUMIN_NO VARCHAR(14), BIRTH_YMD CHAR(8), SEX_CD CHAR(1), HP_NO VARCHAR(20)",
    "JIN_RCV": "RCV_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCV_YMD CHAR(8) NOT NULL, CC_TXT VARCHAR(200)",
    "HANYAK_RX": "RX_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCV_NO INT NOT NULL, RX_YMD CHAR(8) NOT NULL, "
                 "RX_NM VARCHAR(50) NOT NULL, CHUP_CNT INT, DAYS_CNT INT, YONGBEOP VARCHAR(100), "
                 "DEL_YN CHAR(1) NOT NULL DEFAULT 'N'",
    "HANYAK_RX_ITEM": "RX_NO INT NOT NULL, SEQ INT NOT NULL, HERB_NM VARCHAR(30) NOT NULL, DOSE_G DECIMAL(6, 2) "
                      "NOT NULL, ORIGIN_NM VARCHAR(20), PRIMARY KEY (RX_NO, SEQ)",
}


#: prescription key → (formula name, 첩수, 일수, deleted, [(herb, grams, origin)])
Formulas = dict[int, tuple[str, int, int, bool, list[tuple[str, Decimal, str | None]]]]


def create_herbal_clinic(conn_str: str, database: str = "emr_herbal") -> tuple[SpecialtyClinic, Formulas]:
    """The clinic on the MariaDB server of ``conn_str`` (a fresh database), and its prescriptions as written."""
    db, conn = _created(conn_str, "mariadb", database, HERBAL_DDL, "pt_info", Path())
    formulas: Formulas = {}
    c = conn.cursor()
    patients = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        patients.append((i, f"C{i:05d}", name_of(i + 7), rrn, birth_of(rrn), "1" if rrn[6] in "13" else "2",
                         f"010-{7000 + i:04d}-{1000 + i:04d}"))
    _put(c, db, "PT_INFO", patients)
    visits, day_of, patient_of = [], {}, {}
    for v in range(1, VISITS + 1):
        pt = 1 + (v * 5) % PATIENTS
        day = (dt.date(2024, 3, 4) + dt.timedelta(days=v * 2)).strftime("%Y%m%d")
        day_of[v], patient_of[v] = day, pt
        visits.append((v, pt, day, ("만성 피로", "식욕부진", "요통", None)[v % 4]))
    _put(c, db, "JIN_RCV", visits)
    headers, items = [], []
    names = list(FORMULAS)
    for n, v in enumerate(range(2, VISITS + 1, 3), 1):
        formula, chups, days = names[n % len(names)], (20, 10, 15)[n % 3], (10, 5, 15)[n % 3]
        headers.append((n, patient_of[v], v, day_of[v], formula, chups, days,
                        "1일 2회 식후 30분" if n % 2 else None, "Y" if n == 7 else "N"))
        herbs = [(herb, grams, ORIGINS[(n + seq) % 3]) for seq, (herb, grams) in enumerate(FORMULAS[formula])]
        formulas[n] = (formula, chups, days, n == 7, herbs)
        items += [(n, seq, herb, grams, origin) for seq, (herb, grams, origin) in enumerate(herbs, 1)]
    _put(c, db, "HANYAK_RX", headers)
    _put(c, db, "HANYAK_RX_ITEM", items)
    conn.close()
    return db, formulas
