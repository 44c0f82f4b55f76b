"""A synthetic clinic shaped like Open Hospital (Informatici Senza Frontiere, openhospital-core's MySQL scripts under
``sql/``) on MariaDB (test data only).

Open Hospital's habits, as its scripts and JPA models declare them: UPPER-CASE table names without underscores
(``PATIENTEXAMINATION``, ``MEDICALDSRSTOCKMOV``) and columns named with a 3-4 letter prefix of their table
(``PAT_ID``, ``OPD_PAT_ID``, ``LABR_LAB_ID``); the codes of the look-up tables kept as short strings keyed
``…_ID_A`` (``DIS_ID_A VARCHAR(10)``, ``WRD_ID_A VARCHAR(3)``, ``VAC_ID_A VARCHAR(10)``) and the rows that use them
naming them the same way (``OPD_DIS_ID_A``, ``OPD_DIS_ID_A_2``, ``ADM_IN_DIS_ID_A``); soft deletes as ``CHAR(1)``
'Y'/'N' (``PAT_DELETED``, ``ADM_DELETED``); optimistic-lock versions (``…_LOCK INT``); and on most tables the audit
columns JPA's ``Auditable`` adds (``…_CREATED_BY``, ``…_CREATED_DATE``, ``…_LAST_MODIFIED_BY``,
``…_LAST_MODIFIED_DATE``, ``…_ACTIVE TINYINT(1)``). ``PATIENT`` (first name ``PAT_FNAME``, family name
``PAT_SNAME``, the two joined in ``PAT_NAME``, ``PAT_BDATE``, ``PAT_SEX`` 'M'/'F', allergies and anamnesis as
text); ``OPD`` (an out-patient visit with up to three diagnoses as disease codes); ``ADMISSION`` (in-patient
stays, ``ADM_IN`` 1 while admitted); ``LABORATORY`` (an exam's result in ``LAB_RES``) and ``LABORATORYROW`` (a
multi-row exam's lines); ``PATIENTEXAMINATION`` (the vitals as columns: ``PEX_HEIGHT``, ``PEX_WEIGHT``,
``PEX_AP_MIN``/``PEX_AP_MAX`` the blood pressure, ``PEX_HR``, ``PEX_TEMP``, ``PEX_SAT``, ``PEX_RR``);
``THERAPIES`` (a prescription of a ``MEDICALDSR`` medical); ``PATIENTVACCINE`` (a ``VACCINE`` given);
``BILLS``/``BILLITEMS``/``BILLPAYMENTS``; ``MALNUTRITIONCONTROL`` (an admission's height and weight);
``USERS`` with bcrypt-shaped password hashes; ``LOG``.

Names are Korean and made up; no real data. Planted: a patient soft-deleted (``PAT_DELETED`` 'Y'), an OPD visit of a
patient nobody has (orphan), a deleted admission, a bill deleted (``BLL_STATUS`` 'D').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database, mariadb_tables

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40


def _audit(prefix: str) -> str:
    return (f"{prefix}_CREATED_BY VARCHAR(50) NULL DEFAULT NULL, {prefix}_CREATED_DATE DATETIME NULL DEFAULT NULL, "
            f"{prefix}_LAST_MODIFIED_BY VARCHAR(50) NULL DEFAULT NULL, {prefix}_LAST_MODIFIED_DATE DATETIME NULL "
            f"DEFAULT NULL, {prefix}_ACTIVE TINYINT(1) NOT NULL DEFAULT 1")


DDL: dict[str, str] = {
    "USERGROUP": "UG_ID_A VARCHAR(50) NOT NULL DEFAULT '', UG_DESC VARCHAR(128), " + _audit("UG")
                 + ", PRIMARY KEY (UG_ID_A)",
    "USERS": "US_ID_A VARCHAR(50) NOT NULL DEFAULT '', US_UG_ID_A VARCHAR(50) NOT NULL DEFAULT '', US_PASSWD "
             "VARCHAR(60) NOT NULL DEFAULT '', US_DESC VARCHAR(128), US_FAILED_ATTEMPTS INT NOT NULL DEFAULT 0, "
             "US_IS_LOCKED TINYINT(1) NOT NULL DEFAULT 0, US_LOCK_TIMESTAMP DATETIME NULL, " + _audit("US")
             + ", PRIMARY KEY (US_ID_A)",
    "WARD": "WRD_ID_A VARCHAR(3) NOT NULL, WRD_NAME VARCHAR(50) NOT NULL, WRD_TELE VARCHAR(50) NULL, WRD_FAX "
            "VARCHAR(50) NULL, WRD_EMAIL VARCHAR(50) NULL, WRD_NBEDS INT NOT NULL, WRD_NQUA_NURS INT NOT NULL, "
            "WRD_NDOC INT NOT NULL, WRD_IS_PHARMACY TINYINT(1) NOT NULL DEFAULT 0, WRD_IS_MALE TINYINT(1) NOT NULL "
            "DEFAULT 0, WRD_IS_FEMALE TINYINT(1) NOT NULL DEFAULT 0, WRD_LOCK INT NOT NULL DEFAULT 0, "
            + _audit("WRD") + ", PRIMARY KEY (WRD_ID_A)",
    "DISEASETYPE": "DCL_ID_A CHAR(2) NOT NULL, DCL_DESC VARCHAR(128) NOT NULL, " + _audit("DCL")
                   + ", PRIMARY KEY (DCL_ID_A)",
    "DISEASE": "DIS_ID_A VARCHAR(10) NOT NULL, DIS_DESC VARCHAR(160) NOT NULL, DIS_DCL_ID_A CHAR(2) NOT NULL, "
               "DIS_LOCK INT NOT NULL DEFAULT 0, DIS_OPD_INCLUDE INT(11) NOT NULL DEFAULT 0, DIS_IPD_IN_INCLUDE "
               "INT(11) NOT NULL DEFAULT 0, DIS_IPD_OUT_INCLUDE INT(11) NOT NULL DEFAULT 0, " + _audit("DIS")
               + ", PRIMARY KEY (DIS_ID_A)",
    "PATIENT": "PAT_ID INT NOT NULL AUTO_INCREMENT, PAT_FNAME VARCHAR(50) NOT NULL, PAT_SNAME VARCHAR(50) NOT NULL, "
               "PAT_NAME VARCHAR(100) NULL, PAT_BDATE DATE NULL, PAT_AGE INT NOT NULL, PAT_AGETYPE VARCHAR(50) NOT "
               "NULL DEFAULT '', PAT_SEX CHAR(1) NOT NULL, PAT_ADDR VARCHAR(50) NULL, PAT_CITY VARCHAR(50) NOT "
               "NULL, PAT_NEXT_KIN VARCHAR(50) NULL, PAT_TELE VARCHAR(50) NULL, PAT_MOTH_NAME VARCHAR(50) NOT NULL "
               "DEFAULT '', PAT_MOTH CHAR(1) NULL, PAT_FATH_NAME VARCHAR(50) NOT NULL DEFAULT '', PAT_FATH CHAR(1) "
               "NULL, PAT_LEDU CHAR(1) NULL, PAT_ESTA CHAR(1) NULL, PAT_PTOGE CHAR(1) NULL, PAT_NOTE TEXT NULL, "
               "PAT_DELETED CHAR(1) NOT NULL DEFAULT 'N', PAT_LOCK INT NOT NULL DEFAULT 0, PAT_BTYPE VARCHAR(15) "
               "NOT NULL DEFAULT 'Unknown', PAT_TAXCODE VARCHAR(30) NULL, PAT_TIMESTAMP TIMESTAMP NOT NULL DEFAULT "
               "CURRENT_TIMESTAMP, " + _audit("PAT") + ", PAT_PROFESSION VARCHAR(50) NULL, PAT_MAR_STAT "
               "VARCHAR(50) NULL, PAT_ALLERGIES VARCHAR(255) NULL, PAT_ANAMNESIS VARCHAR(255) NULL, "
               "PRIMARY KEY (PAT_ID)",
    "OPD": "OPD_ID INT(11) NOT NULL AUTO_INCREMENT, OPD_DATE DATETIME NOT NULL, OPD_NEW_PAT CHAR(1) NOT NULL "
           "DEFAULT 'N', OPD_PROG_YEAR INT(11) NOT NULL, OPD_SEX CHAR(1) NOT NULL, OPD_AGE INT(11) NOT NULL DEFAULT "
           "0, OPD_DIS_ID_A VARCHAR(10) NULL, OPD_DIS_ID_A_2 VARCHAR(10) NULL, OPD_DIS_ID_A_3 VARCHAR(10) NULL, "
           "OPD_LOCK INT(11) NOT NULL DEFAULT 0, OPD_REFERRAL_FROM VARCHAR(1) NULL, OPD_REFERRAL_TO VARCHAR(1) NULL, "
           "OPD_PAT_ID INT(11) NULL, OPD_NOTE TEXT NULL, OPD_USR_ID_A VARCHAR(50) NOT NULL DEFAULT 'admin', "
           "OPD_WRD_ID_A VARCHAR(3) NOT NULL DEFAULT 'OPD', " + _audit("OPD") + ", PRIMARY KEY (OPD_ID)",
    "ADMISSION": "ADM_ID INT NOT NULL AUTO_INCREMENT, ADM_IN INT NOT NULL DEFAULT 0, ADM_TYPE CHAR(1) NOT NULL "
                 "DEFAULT 'N', ADM_WRD_ID_A VARCHAR(3) NOT NULL DEFAULT '', ADM_YPROG INT NOT NULL DEFAULT 0, "
                 "ADM_PAT_ID INT NOT NULL DEFAULT 0, ADM_DATE_ADM DATETIME NOT NULL, ADM_ADMT_ID_A_ADM VARCHAR(10) "
                 "NOT NULL DEFAULT '', ADM_FHU VARCHAR(50) NULL, ADM_IN_DIS_ID_A VARCHAR(10) NULL, "
                 "ADM_OUT_DIS_ID_A VARCHAR(10) NULL, ADM_DATE_DIS DATETIME NULL, ADM_DIST_ID_A VARCHAR(10) NULL, "
                 "ADM_NOTE TEXT NULL, ADM_TRANS FLOAT NULL DEFAULT 0, ADM_PRG_WEIGHT FLOAT NULL, ADM_LOCK INT NOT "
                 "NULL DEFAULT 0, ADM_DELETED CHAR(1) NOT NULL DEFAULT 'N', " + _audit("ADM")
                 + ", PRIMARY KEY (ADM_ID)",
    "EXAMTYPE": "EXC_ID_A CHAR(2) NOT NULL, EXC_DESC VARCHAR(50) NOT NULL, " + _audit("EXC")
                + ", PRIMARY KEY (EXC_ID_A)",
    "EXAM": "EXA_ID_A VARCHAR(10) NOT NULL, EXA_DESC VARCHAR(100) NOT NULL, EXA_EXC_ID_A CHAR(2) NOT NULL, EXA_PROC "
            "INT NOT NULL, EXA_DEFAULT VARCHAR(50), EXA_LOCK INT NOT NULL DEFAULT 0, " + _audit("EXA")
            + ", PRIMARY KEY (EXA_ID_A)",
    "EXAMROW": "EXR_ID INT NOT NULL AUTO_INCREMENT, EXR_EXA_ID_A VARCHAR(10) NOT NULL, EXR_DESC VARCHAR(50) NOT "
               "NULL, " + _audit("EXR") + ", PRIMARY KEY (EXR_ID)",
    "LABORATORY": "LAB_ID INT NOT NULL AUTO_INCREMENT, LAB_EXA_ID_A VARCHAR(10) NOT NULL, LAB_DATE DATETIME NOT "
                  "NULL, LAB_RES VARCHAR(50) NOT NULL, LAB_NOTE VARCHAR(255) NULL, LAB_PAT_ID INT NULL, "
                  "LAB_PAT_NAME VARCHAR(100) NULL, LAB_LOCK INT NOT NULL DEFAULT 0, LAB_AGE INT(11) NULL, LAB_SEX "
                  "CHAR(1) NULL, LAB_MATERIAL VARCHAR(25) NULL, LAB_EXAM_DATE DATE NULL, LAB_PAT_INOUT CHAR(1) "
                  "NULL, LAB_STATUS VARCHAR(15) NULL, " + _audit("LAB") + ", PRIMARY KEY (LAB_ID)",
    "LABORATORYROW": "LABR_ID INT NOT NULL AUTO_INCREMENT, LABR_LAB_ID INT NOT NULL, LABR_DESC VARCHAR(50) NOT "
                     "NULL, " + _audit("LABR") + ", PRIMARY KEY (LABR_ID)",
    "PATIENTEXAMINATION": "PEX_ID INT NOT NULL AUTO_INCREMENT, PEX_DATE DATETIME NOT NULL, PEX_PAT_ID INT NOT NULL, "
                          "PEX_HEIGHT INT NULL, PEX_WEIGHT DOUBLE NULL, PEX_AP_MIN INT NULL, PEX_AP_MAX INT NULL, "
                          "PEX_HR INT NULL, PEX_TEMP DOUBLE NULL, PEX_SAT DOUBLE NULL, PEX_HGT INT NULL, "
                          "PEX_DIURESIS INT NULL, PEX_DIURESIS_DESC VARCHAR(40) NULL, PEX_BOWEL_DESC VARCHAR(30) "
                          "NULL, PEX_RR INT NULL, PEX_AUSC VARCHAR(30) NULL, PEX_NOTE VARCHAR(2000) NULL, "
                          + _audit("PEX") + ", PRIMARY KEY (PEX_ID), INDEX (PEX_PAT_ID)",
    "MEDICALDSRTYPE": "MDSRT_ID_A CHAR(1) NOT NULL, MDSRT_DESC VARCHAR(30), " + _audit("MDSRT")
                      + ", PRIMARY KEY (MDSRT_ID_A)",
    "MEDICALDSR": "MDSR_ID INT NOT NULL AUTO_INCREMENT, MDSR_MDSRT_ID_A CHAR(1) NOT NULL, MDSR_CODE VARCHAR(5) NULL, "
                  "MDSR_DESC VARCHAR(100) NOT NULL, MDSR_MIN_STOCK_QTI FLOAT NOT NULL DEFAULT 0, "
                  "MDSR_INI_STOCK_QTI FLOAT NOT NULL DEFAULT 0, MDSR_PCS_X_PCK INT NULL, MDSR_IN_QTI FLOAT NOT "
                  "NULL DEFAULT 0, MDSR_OUT_QTI FLOAT NOT NULL DEFAULT 0, MDSR_LOCK INT NOT NULL DEFAULT 0, "
                  + _audit("MDSR") + ", UNIQUE INDEX (MDSR_MDSRT_ID_A, MDSR_DESC), PRIMARY KEY (MDSR_ID)",
    "MEDICALDSRSTOCKMOV": "MMV_ID INT NOT NULL AUTO_INCREMENT, MMV_MDSR_ID INT NOT NULL, MMV_WRD_ID_A VARCHAR(3) "
                          "NULL, MMV_MMVT_ID_A VARCHAR(10) NOT NULL, MMV_LT_ID_A VARCHAR(50) NULL, MMV_DATE "
                          "DATETIME NOT NULL, MMV_QTY FLOAT NOT NULL DEFAULT 0, MMV_FROM INT NULL, MMV_LOCK INT NOT "
                          "NULL DEFAULT 0, MMV_REFNO VARCHAR(50) NOT NULL DEFAULT '', " + _audit("MMV")
                          + ", PRIMARY KEY (MMV_ID)",
    "THERAPIES": "THR_ID INT(11) NOT NULL AUTO_INCREMENT, THR_PAT_ID INT(11) NOT NULL, THR_STARTDATE DATETIME NOT "
                 "NULL, THR_ENDDATE DATETIME NOT NULL, THR_MDSR_ID INT(11) NOT NULL, THR_QTY DOUBLE NOT NULL, "
                 "THR_UNT_ID INT(11) NOT NULL, THR_FREQINDAY INT(11) NOT NULL, THR_FREQINPRD INT(11) NOT NULL, "
                 "THR_NOTE TEXT, THR_NOTIFY TINYINT(1) NOT NULL DEFAULT 0, THR_SMS TINYINT(1) NOT NULL DEFAULT 0, "
                 + _audit("THR") + ", PRIMARY KEY (THR_ID)",
    "VACCINETYPE": "VACT_ID_A CHAR(1) NOT NULL, VACT_DESC VARCHAR(50) NOT NULL, " + _audit("VACT")
                   + ", PRIMARY KEY (VACT_ID_A)",
    "VACCINE": "VAC_ID_A VARCHAR(10) NOT NULL, VAC_DESC VARCHAR(50) NOT NULL, VAC_VACT_ID_A CHAR(1) NOT NULL, "
               "VAC_LOCK INT NOT NULL DEFAULT 0, " + _audit("VAC") + ", PRIMARY KEY (VAC_ID_A)",
    "PATIENTVACCINE": "PAV_ID INT NOT NULL AUTO_INCREMENT, PAV_YPROG INT NOT NULL, PAV_DATE DATETIME NOT NULL, "
                      "PAV_PAT_ID INT NOT NULL, PAV_VAC_ID_A VARCHAR(10) NOT NULL, PAV_LOCK INT NOT NULL DEFAULT 0, "
                      + _audit("PAV") + ", PRIMARY KEY (PAV_ID)",
    "BILLS": "BLL_ID INT NOT NULL AUTO_INCREMENT, BLL_DATE DATETIME NOT NULL, BLL_UPDATE DATETIME NOT NULL, "
             "BLL_IS_LST TINYINT(1) NOT NULL DEFAULT 0, BLL_ID_LST INT NULL, BLL_LST_NAME VARCHAR(50) NULL, "
             "BLL_IS_PAT TINYINT(1) NOT NULL DEFAULT 0, BLL_ID_PAT INT NULL, BLL_PAT_NAME VARCHAR(100) NULL, "
             "BLL_STATUS VARCHAR(1) NULL, BLL_AMOUNT DOUBLE NULL, BLL_BALANCE DOUBLE NULL, BLL_USR_ID_A "
             "VARCHAR(50) NOT NULL DEFAULT 'admin', " + _audit("BLL") + ", PRIMARY KEY (BLL_ID)",
    "BILLITEMS": "BLI_ID INT NOT NULL AUTO_INCREMENT, BLI_ID_BILL INT NULL, BLI_IS_PRICE TINYINT(1) NOT NULL, "
                 "BLI_ID_PRICE VARCHAR(10) NULL, BLI_ITEM_DESC VARCHAR(100) NULL, BLI_ITEM_AMOUNT DOUBLE NOT NULL, "
                 "BLI_QTY INT NOT NULL, " + _audit("BLI") + ", PRIMARY KEY (BLI_ID)",
    "BILLPAYMENTS": "BLP_ID INT NOT NULL AUTO_INCREMENT, BLP_ID_BILL INT NULL, BLP_DATE DATETIME NOT NULL, "
                    "BLP_AMOUNT DOUBLE NOT NULL, BLP_USR_ID_A VARCHAR(50) NOT NULL DEFAULT 'admin', "
                    + _audit("BLP") + ", PRIMARY KEY (BLP_ID)",
    "MALNUTRITIONCONTROL": "MLN_ID INT NOT NULL AUTO_INCREMENT, MLN_DATE_SUPP DATETIME NOT NULL, MLN_DATE_CONF "
                           "DATETIME NULL, MLN_ADM_ID INT NOT NULL, MLN_HEIGHT FLOAT NOT NULL, MLN_WEIGHT FLOAT NOT "
                           "NULL, MLN_LOCK INT NOT NULL DEFAULT 0, " + _audit("MLN") + ", PRIMARY KEY (MLN_ID)",
    "PREGNANTTREATMENTTYPE": "PTT_ID_A VARCHAR(10) NOT NULL, PTT_DESC VARCHAR(50) NOT NULL, " + _audit("PTT")
                             + ", PRIMARY KEY (PTT_ID_A)",
    "LOG": "LOG_ID INT NOT NULL AUTO_INCREMENT, LOG_TYPE INT NOT NULL, LOG_CLASS VARCHAR(100) NULL, LOG_TIME "
           "DATETIME NOT NULL, LOG_MESS VARCHAR(255) NULL, PRIMARY KEY (LOG_ID)",
}

#: DIS_ID_A → (name, DCL_ID_A)
DISEASES = {"J00": ("급성 비인두염", "RE"), "I10": ("본태성 고혈압", "CV"), "K29.7": ("상세불명의 위염", "DI"),
            "E11.9": ("2형 당뇨병", "EN"), "A09": ("감염성 설사", "DI")}
#: EXA_ID_A → (name, EXC_ID_A, EXA_PROC: 1 a single result, 2 several rows)
EXAMS = {"HB": ("혈색소", "HE", 1), "GLU": ("혈당", "CH", 1), "MAL": ("말라리아 도말", "PA", 2),
         "URI": ("소변 검사", "UR", 2)}
#: MDSR_ID → (MDSR_CODE, MDSR_DESC)
MEDICALS = {1: ("TYL", "타이레놀정500mg"), 2: ("NVS", "노바스크정5mg"), 3: ("AMX", "아목시실린캡슐250mg"),
            4: ("ORS", "경구수액염")}
VACCINES = {"BCG": ("BCG 백신", "C"), "DTP1": ("DTaP 1차", "C"), "HBV": ("B형간염 백신", "C"),
            "TT": ("파상풍 톡소이드", "P")}


@dataclass
class OpenHospitalClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    dirty: dict[str, int] = field(default_factory=dict)
    #: PAT_ID → (PAT_SNAME + ' ' + PAT_FNAME, PAT_SEX, PAT_BDATE text or None)
    people: dict[int, tuple[str, str, str | None]] = field(default_factory=dict)
    #: OPD_ID → OPD_PAT_ID
    visits: dict[int, int] = field(default_factory=dict)
    #: OPD_ID → (OPD_DIS_ID_A, OPD_DIS_ID_A_2, OPD_DIS_ID_A_3)
    diagnoses: dict[int, tuple[str | None, ...]] = field(default_factory=dict)
    #: PEX_ID → (PEX_PAT_ID, height, weight, ap_min, ap_max, hr, temp, sat)
    vitals: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    #: BLL_ID → (BLL_ID_PAT, BLL_AMOUNT, the amount its one BILLPAYMENTS row paid)
    bills: dict[int, tuple[int, float, float]] = field(default_factory=dict)
    #: ADM_ID → (ADM_PAT_ID, ADM_DATE_ADM, ADM_DATE_DIS or None while admitted)
    admissions: dict[int, tuple[int, dt.datetime, dt.datetime | None]] = field(default_factory=dict)
    #: ADM_ID → (ADM_IN_DIS_ID_A, ADM_OUT_DIS_ID_A or None while admitted)
    stay_diagnoses: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    #: THR_ID → (THR_PAT_ID, THR_MDSR_ID)
    therapies: dict[int, tuple[int, int]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_openhospital_clinic(conn_str: str, database: str = "emr_openhospital_shaped") -> OpenHospitalClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    target = _fresh_database(conn_str, database, "mariadb")
    db = OpenHospitalClinic("mariadb", odbc=target, patients="patient")
    conn, put = mariadb_tables(db, target, DDL, time_zone="+09:00")

    stamp = dt.datetime(2023, 5, 2, 8, 30)

    def audit(at: dt.datetime = stamp, who: str = "admin", active: int = 1) -> tuple[Any, ...]:
        return (who, at, who, at + dt.timedelta(hours=1), active)

    put("USERGROUP", [("admin", "관리자", *audit()), ("doctor", "의사", *audit())])
    put("USERS", [("admin", "admin", "$2a$10$" + "a" * 53, "관리자", 0, 0, None, *audit()),
                  ("drkim", "doctor", "$2a$10$" + "b" * 53, "김의사", 1, 0, None, *audit())])
    put("WARD", [("OPD", "외래", None, None, None, 0, 2, 3, 0, 1, 1, 0, *audit()),
                 ("M", "내과 병동", "02-000-0001", None, "ward@example.invalid", 20, 4, 2, 0, 1, 1, 0, *audit()),
                 ("PH", "약제부", None, None, None, 0, 1, 0, 1, 0, 0, 0, *audit())])
    put("DISEASETYPE", [(t, d, *audit()) for t, d in (("RE", "호흡기"), ("CV", "순환기"), ("DI", "소화기"),
                                                      ("EN", "내분비"))])
    put("DISEASE", [(k, n, t, 0, 1, 1, 1, *audit()) for k, (n, t) in DISEASES.items()])
    people: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        sex = "MF"[p % 2]
        birth = None if p == 7 else dt.date(1940 + p % 60, 1 + p % 12, 1 + p % 28)
        deleted = "Y" if p == 9 else "N"
        people.append((p, given, family, f"{family} {given}", birth, 2024 - (birth.year if birth else 1980),
                       "", sex, f"가상로 {p}길", "서울", None, f"010-0000-{p:04d}", "", "A", "", "A", "U", "U", "U",
                       "고혈압 가족력" if p % 5 == 0 else None, deleted, p % 3, "A+" if p % 2 else "Unknown", None,
                       stamp + dt.timedelta(days=p), *audit(stamp + dt.timedelta(days=p)), None,
                       "married" if p % 2 else "single", "페니실린" if p % 8 == 0 else None, None))
        db.people[p] = (f"{family} {given}", sex, birth.isoformat() if birth else None)
    db.dirty["deleted_patient"], db.dirty["no_birth"] = 9, 7
    put("PATIENT", people)
    visits: list[tuple[Any, ...]] = []
    base = dt.datetime(2024, 3, 4, 9, 0)
    codes = list(DISEASES)
    for o in range(1, 81):
        pid = 1 + (o * 7) % PATIENTS
        at = base + dt.timedelta(days=o, hours=o % 6)
        visits.append((o, at, "NR"[o % 2], o, db.people[pid][1], 40, codes[o % 5],
                       codes[(o + 1) % 5] if o % 3 == 0 else None, codes[(o + 2) % 5] if o % 9 == 0 else None,
                       0, "R" if o % 10 == 0 else None, None, pid, "두통 호소" if o % 4 == 0 else None, "admin",
                       "OPD", *audit(at)))
        db.visits[o] = pid
        db.diagnoses[o] = visits[-1][6:9]
    visits.append((81, base, "N", 81, "M", 50, "J00", None, None, 0, None, None, 999, None, "admin", "OPD",
                   *audit(base)))
    db.dirty["orphan_visit"] = 81
    db.diagnoses[81] = visits[-1][6:9]
    put("OPD", visits)
    admissions: list[tuple[Any, ...]] = []
    for a in range(1, 21):
        pid = 1 + (a * 3) % PATIENTS
        at = base + dt.timedelta(days=2 * a, hours=14)
        out = at + dt.timedelta(days=3) if a % 4 else None
        admissions.append((a, 0 if out else 1, "N", "M", a, pid, at, "ER", None, codes[a % 5],
                           codes[(a + 1) % 5] if out else None, out, "HOME" if out else None, "경과 관찰", 0.0, None, 0,
                           "Y" if a == 5 else "N", *audit(at)))
        db.admissions[a] = (pid, at, out)
        db.stay_diagnoses[a] = admissions[-1][9:11]
    db.dirty["deleted_admission"] = 5
    put("ADMISSION", admissions)
    put("EXAMTYPE", [(t, d, *audit()) for t, d in (("HE", "혈액학"), ("CH", "생화학"), ("PA", "기생충"),
                                                   ("UR", "요검사"))])
    put("EXAM", [(k, n, t, proc, "음성" if proc == 2 else None, 0, *audit()) for k, (n, t, proc) in EXAMS.items()])
    put("EXAMROW", [(1, "MAL", "음성", *audit()), (2, "MAL", "P. falciparum", *audit()), (3, "URI", "단백", *audit()),
                    (4, "URI", "당", *audit())])
    labs: list[tuple[Any, ...]] = []
    lab_rows: list[tuple[Any, ...]] = []
    exams = list(EXAMS)
    for n in range(1, 61):
        pid = 1 + (n * 11) % PATIENTS
        exam = exams[n % 4]
        at = base + dt.timedelta(days=n, hours=2)
        result = {"HB": f"{11 + n % 5}.{n % 10}", "GLU": f"{85 + n * 2}", "MAL": "음성" if n % 3 else "양성",
                  "URI": "이상 소견"}[exam]
        labs.append((n, exam, at, result, None, pid, db.people[pid][0], 0, 40, db.people[pid][1], "blood",
                     at.date(), "O", "DONE", *audit(at)))
        if exam == "URI":
            lab_rows.append((len(lab_rows) + 1, n, "단백", *audit(at)))
            lab_rows.append((len(lab_rows) + 1, n, "당", *audit(at)))
    put("LABORATORY", labs)
    put("LABORATORYROW", lab_rows)
    exams_rows: list[tuple[Any, ...]] = []
    for x in range(1, 61):
        pid = 1 + (x * 13) % PATIENTS
        at = base + dt.timedelta(days=x, hours=1)
        vit = (pid, 150 + x % 35, float(f"{50 + x % 30}.{x % 10}"), 70 + x % 20, 110 + x % 40, 60 + x % 30,
               float(f"36.{x % 10}"), float(95 + x % 5))
        exams_rows.append((x, at, *vit, None, None, None, None, 12 + x % 8, None, "혈압 재측정" if x % 7 == 0 else None,
                           *audit(at)))
        db.vitals[x] = vit
    put("PATIENTEXAMINATION", exams_rows)
    put("MEDICALDSRTYPE", [("D", "의약품", *audit()), ("S", "소모품", *audit())])
    put("MEDICALDSR", [(m, "D", code, desc, 10.0, 100.0, 10, 50.0, 20.0, 0, *audit())
                       for m, (code, desc) in MEDICALS.items()])
    moves: list[tuple[Any, ...]] = []
    for v in range(1, 31):
        moves.append((v, 1 + v % 4, "M" if v % 2 else None, "charge" if v % 3 else "discharge", f"LOT{v % 5}",
                      base + dt.timedelta(days=v), float(5 + v % 7), None, 0, f"REF{v:04d}", *audit()))
    put("MEDICALDSRSTOCKMOV", moves)
    therapies: list[tuple[Any, ...]] = []
    for t in range(1, 41):
        pid = 1 + (t * 5) % PATIENTS
        start = base + dt.timedelta(days=t)
        therapies.append((t, pid, start, start + dt.timedelta(days=5), 1 + t % 4, 1.0 + t % 2, 1, 1 + t % 3, 1,
                          "식후 30분" if t % 2 else None, 0, 0, *audit(start)))
        db.therapies[t] = (pid, 1 + t % 4)
    put("THERAPIES", therapies)
    put("VACCINETYPE", [("C", "소아 예방접종", *audit()), ("P", "임신부 예방접종", *audit())])
    put("VACCINE", [(k, d, t, 0, *audit()) for k, (d, t) in VACCINES.items()])
    shots: list[tuple[Any, ...]] = []
    vaccines = list(VACCINES)
    for s in range(1, 41):
        pid = 1 + (s * 9) % PATIENTS
        at = base + dt.timedelta(days=s * 2)
        shots.append((s, s, at, pid, vaccines[s % 4], 0, *audit(at)))
    put("PATIENTVACCINE", shots)
    bills: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    payments: list[tuple[Any, ...]] = []
    for b in range(1, 31):
        pid = 1 + (b * 3) % PATIENTS
        at = base + dt.timedelta(days=b, hours=3)
        amount = 15000.0 + 1000 * (b % 5)
        status = "D" if b == 6 else ("C" if b % 3 else "O")
        paid = amount if status == "C" else 5000.0
        bills.append((b, at, at, 1, 1, "일반", 1, pid, db.people[pid][0], status, amount, amount - paid, "admin",
                      *audit(at)))
        items.append((len(items) + 1, b, 1, "EXA.HB", "진찰료", 10000.0, 1, *audit(at)))
        items.append((len(items) + 1, b, 0, None, "약제비", amount - 10000.0, 1, *audit(at)))
        payments.append((len(payments) + 1, b, at + dt.timedelta(minutes=20), paid, "admin", *audit(at)))
        db.bills[b] = (pid, amount, paid)
    db.dirty["deleted_bill"] = 6
    put("BILLS", bills)
    put("BILLITEMS", items)
    put("BILLPAYMENTS", payments)
    put("MALNUTRITIONCONTROL", [(m, base + dt.timedelta(days=2 * m + 1), None, m, 150.0 + m, 45.5 + m, 0, *audit())
                                for m in range(1, 11)])
    put("PREGNANTTREATMENTTYPE", [("ANC1", "산전 진찰 1회", *audit()), ("IPT1", "말라리아 예방 치료", *audit())])
    put("LOG", [(n, 1, "org.isf.menu.gui.Login", stamp + dt.timedelta(minutes=n), "사용자 로그인") for n in range(1, 11)])
    conn.close()
    return db
