"""A Korean clinic on MariaDB whose scanned documents reach the patient only through a chain: ``MUNSEO_PAGE`` (the
pages: ``IMG_DATA`` LONGBLOB beside ``FILE_NAME``, its own ``UPDATED_AT`` stamp and no other date) → ``MUNSEO_NO``
→ ``MUNSEO`` (the document: its name, its day ``JAKSEONG_YMD``, its visit ``RCV_NO``, no patient column) →
``JIN_RCV`` (the visit, ``PT_NO``) → ``PT_INFO``: three hops, no name of any table saying ATTACH, FILE or SCAN.
Planted: a page whose document was deleted (``MUNSEO_NO`` 999, a dead chain). With ``batches``, a second chain as
long as the first: each page also names the scan batch it came in (``SCAN_BATCH_NO`` → ``SCAN_BATCH``, whose
``RCV_NO`` is another visit than the document's), so the two chains give a page different patients. Synthetic
patients only (tests/test_docchain_clinic.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dental_hanbang_clinic import PATIENTS, SpecialtyClinic, _created, _put, birth_of, name_of, rrn_of

VISITS = 90
DOCUMENTS = 40
DEAD_PAGE = 81  # its MUNSEO_NO 999: no such document
KINDS = ("진료의뢰서", "검사결과지", "동의서", "타원 소견서")

DDL: dict[str, str] = {
    "PT_INFO": "PT_NO INT PRIMARY KEY, CHART_NO VARCHAR(10) NOT NULL, PT_NM VARCHAR(50) NOT NULL, "
               "JUMIN_NO VARCHAR(14), BIRTH_YMD CHAR(8), SEX_CD CHAR(1)",
    "JIN_RCV": "RCV_NO INT PRIMARY KEY, PT_NO INT NOT NULL, RCV_YMD CHAR(8) NOT NULL, CC_TXT VARCHAR(200)",
    "MUNSEO": "MUNSEO_NO INT PRIMARY KEY, RCV_NO INT NOT NULL, MUNSEO_NM VARCHAR(50) NOT NULL, "
              "JAKSEONG_YMD CHAR(8) NOT NULL",
    "MUNSEO_PAGE": "PAGE_NO INT PRIMARY KEY, MUNSEO_NO INT NOT NULL, PAGE_SEQ INT NOT NULL, FILE_NAME VARCHAR(100), "
                   "IMG_DATA LONGBLOB NOT NULL, UPDATED_AT DATETIME NOT NULL",
}
BATCH_DDL = {"SCAN_BATCH": "SCAN_BATCH_NO INT PRIMARY KEY, RCV_NO INT NOT NULL, BATCH_MEMO VARCHAR(50)"}


@dataclass
class DocChainClinic(SpecialtyClinic):
    """The database as built: each page's patient, visit, day, media type and bytes as the chain gives them."""

    #: page key → (patient key, visit key, the document's day YYYY-MM-DD, media type, bytes)
    pages: dict[int, tuple[int, int, str, str, bytes]] = field(default_factory=dict)


def create_docchain_clinic(conn_str: str, database: str = "emr_docchain", *,
                           batches: bool = False) -> DocChainClinic:
    """The clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    ddl = dict(DDL)
    if batches:
        ddl["MUNSEO_PAGE"] = ddl["MUNSEO_PAGE"].replace("PAGE_SEQ INT", "SCAN_BATCH_NO INT NOT NULL, PAGE_SEQ INT")
        ddl.update(BATCH_DDL)
    base, conn = _created(conn_str, "mariadb", database, ddl, "pt_info", Path())
    db = DocChainClinic(base.engine, odbc=base.odbc, patients=base.patients)
    c = conn.cursor()
    people = []
    for i in range(1, PATIENTS + 1):
        rrn = rrn_of(i)
        people.append((i, f"C{i:05d}", name_of(i + 3), rrn, birth_of(rrn), "1" if rrn[6] in "13" else "2"))
    _put(c, db, "PT_INFO", people)
    visits, patient_of = [], {}
    for v in range(1, VISITS + 1):
        patient_of[v] = 1 + (v * 7) % PATIENTS
        day = dt.date(2024, 5, 1) + dt.timedelta(days=v)
        visits.append((v, patient_of[v], f"{day:%Y%m%d}", ("두통", "복통", None)[v % 3]))
    _put(c, db, "JIN_RCV", visits)
    documents, visit_of, day_of = [], {}, {}
    for d in range(1, DOCUMENTS + 1):
        visit_of[d] = 2 * d
        day = dt.date(2024, 5, 1) + dt.timedelta(days=2 * d, hours=0)
        day_of[d] = day.isoformat()
        documents.append((d, visit_of[d], KINDS[d % len(KINDS)], f"{day:%Y%m%d}"))
    _put(c, db, "MUNSEO", documents)
    if batches:  # a batch a visit: batch b came in at visit b + 1, never the visit of its pages' documents
        _put(c, db, "SCAN_BATCH", [(b, b + 1, f"스캔 {b}차") for b in range(1, DOCUMENTS + 1)])
    pages = []
    for p in range(1, DEAD_PAGE + 1):
        d = (p - 1) // 2 + 1 if p < DEAD_PAGE else 999
        pdf = p % 3 != 0
        data = (b"%PDF-1.4\n" if pdf else b"\xff\xd8\xff\xe0JFIF") + bytes((p * k) % 256 for k in range(200))
        name = f"scan_{p:03d}.{'pdf' if pdf else 'JPG'}"
        stamp = dt.datetime(2025, 1, 2, 3, 4, 5) + dt.timedelta(minutes=p)
        pages.append((p, d, *((d if d != 999 else 1,) if batches else ()), 1 + (p - 1) % 2, name, data, stamp))
        if d != 999:
            db.pages[p] = (patient_of[visit_of[d]], visit_of[d], day_of[d],
                           "application/pdf" if pdf else "image/jpeg", data)
    _put(c, db, "MUNSEO_PAGE", pages)
    conn.close()
    return db
