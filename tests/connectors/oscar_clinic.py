"""A synthetic clinic shaped like OSCAR EMR on MariaDB (its published ``oscarinit.sql``; test data only).

OSCAR's tables as it declares them (a subset of each table's columns, with OSCAR's names and types): MyISAM,
no foreign keys, zero dates (``sql_mode = ''``). ``demographic`` keeps the birth date in three text columns
(``year_of_birth`` VARCHAR(4), ``month_of_birth`` CHAR(2), ``date_of_birth`` CHAR(2)), the health number in
``hin``, the state in ``patient_status`` (AC active, IN inactive, DE deceased) and ``roster_status``; ``provider``
is keyed by a VARCHAR(6) ``provider_no``; ``appointment`` (``demographic_no`` 0: a slot booked for nobody);
``casemgmt_note`` (the encounter notes; its ``demographic_no`` is a VARCHAR(20)) with ``issue`` and
``casemgmt_issue`` linked to the notes by ``casemgmt_issue_notes`` (a composite key); ``drugs`` (a
prescription: ``BN`` brand name, ``GN`` generic name, ``takemin``/``takemax`` FLOAT, ``freqcode``,
``durunit``, ``repeat`` a reserved word, ``archived``); ``allergies`` (``DESCRIPTION``, ``TYPECODE``,
``archived`` CHAR(1)); ``preventions`` with its EAV ``preventionsExt`` (``keyval``/``val``: lot, dose,
route); ``measurements`` (EAV vitals: ``type`` BP/HT/WT/TEMP/HR/A1C, ``dataField`` the value as text, BP as
'120/80', ``dateObserved``) with ``measurementType``; ``billing`` (``total`` VARCHAR, ``dob`` yyyymmdd text) and
``billingmaster`` (``service_date`` yyyymmdd text, ``bill_amount`` VARCHAR).

Names are Korean and made up; no real data. Planted: a birth year with month and day '00' (only the year
known), a patient whose birth columns are all empty, one born on 30 February, a zero ``roster_date`` and ``end_date``, a deceased and
an inactive patient, a note of a patient nobody has (orphan), an archived allergy, an archived drug, a deleted
prevention (``deleted`` '1'), a measurement of no patient (``demographicNo`` 0).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40

DDL: dict[str, str] = {
    "provider": "provider_no VARCHAR(6) NOT NULL DEFAULT '' PRIMARY KEY, last_name VARCHAR(30) NOT NULL, "
                "first_name VARCHAR(30) NOT NULL, provider_type VARCHAR(15) NOT NULL, specialty VARCHAR(40), "
                "sex CHAR(1) NOT NULL DEFAULT '', dob DATE, ohip_no VARCHAR(20), status CHAR(1), "
                "lastUpdateDate DATETIME NOT NULL",
    "demographic": "demographic_no INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, title VARCHAR(10), "
                   "last_name VARCHAR(30) NOT NULL DEFAULT '', first_name VARCHAR(30) NOT NULL DEFAULT '', "
                   "address VARCHAR(60), city VARCHAR(50), province VARCHAR(20), postal VARCHAR(9), "
                   "phone VARCHAR(20), phone2 VARCHAR(20), email VARCHAR(100), year_of_birth VARCHAR(4), "
                   "month_of_birth CHAR(2), date_of_birth CHAR(2), hin VARCHAR(20), ver CHAR(3), "
                   "roster_status VARCHAR(20), roster_date DATE, patient_status VARCHAR(20), "
                   "patient_status_date DATE, date_joined DATE, chart_no VARCHAR(10), official_lang VARCHAR(60), "
                   "spoken_lang VARCHAR(60), provider_no VARCHAR(250), sex CHAR(1) NOT NULL DEFAULT '', "
                   "end_date DATE, eff_date DATE, hc_type VARCHAR(20), family_doctor TEXT, "
                   "lastUpdateUser VARCHAR(6), lastUpdateDate DATETIME NOT NULL",
    "appointment": "appointment_no INT(12) NOT NULL AUTO_INCREMENT PRIMARY KEY, provider_no VARCHAR(6) NOT NULL, "
                   "appointment_date DATE NOT NULL, start_time TIME NOT NULL, end_time TIME NOT NULL, "
                   "name VARCHAR(50), demographic_no INT(10), notes VARCHAR(255), reason VARCHAR(80), "
                   "location VARCHAR(30), type VARCHAR(50), status CHAR(2), createdatetime DATETIME, "
                   "updatedatetime DATETIME, creator VARCHAR(50)",
    "casemgmt_note": "note_id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, update_date DATETIME NOT NULL, "
                     "observation_date DATETIME NOT NULL, demographic_no VARCHAR(20) NOT NULL, "
                     "provider_no VARCHAR(20) NOT NULL, note TEXT, signed TINYINT(1) NOT NULL DEFAULT 0, "
                     "encounter_type VARCHAR(100), billing_code VARCHAR(100), history TEXT, "
                     "locked TINYINT(1) NOT NULL DEFAULT 0, archived TINYINT(1) NOT NULL DEFAULT 0, "
                     "uuid VARCHAR(36), appointmentNo INT(10)",
    "issue": "issue_id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) NOT NULL, "
             "description VARCHAR(255) NOT NULL, role VARCHAR(100) NOT NULL, update_date DATETIME NOT NULL, "
             "type VARCHAR(32)",
    "casemgmt_issue": "id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, demographic_no VARCHAR(20) NOT NULL, "
                      "issue_id INT(10) NOT NULL, acute TINYINT(1) NOT NULL, certain TINYINT(1) NOT NULL, "
                      "major TINYINT(1) NOT NULL, resolved TINYINT(1) NOT NULL, type VARCHAR(100), "
                      "update_date DATETIME NOT NULL",
    "casemgmt_issue_notes": "id INT(10) NOT NULL, note_id INT(10) NOT NULL, PRIMARY KEY (id, note_id)",
    "drugs": "drugid INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, provider_no VARCHAR(6), demographic_no INT(10) "
             "NOT NULL DEFAULT 0, rx_date DATE NOT NULL DEFAULT '0000-00-00', end_date DATE NOT NULL DEFAULT "
             "'0000-00-00', written_date DATE, BN VARCHAR(255), GCN_SEQNO DECIMAL(10,0) NOT NULL DEFAULT 0, "
             "customName VARCHAR(60), takemin FLOAT, takemax FLOAT, freqcode VARCHAR(6), duration VARCHAR(4), "
             "durunit CHAR(1), quantity VARCHAR(20), `repeat` TINYINT(4), nosubs TINYINT(1) NOT NULL DEFAULT 0, "
             "prn TINYINT(1) NOT NULL DEFAULT 0, special TEXT, archived TINYINT(1) NOT NULL DEFAULT 0, "
             "GN VARCHAR(255), ATC VARCHAR(20), regional_identifier VARCHAR(100), unit VARCHAR(5), "
             "route VARCHAR(20), create_date DATETIME, dosage TEXT, long_term TINYINT(1), lastUpdateDate DATETIME",
    "allergies": "allergyid INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, demographic_no INT(10) NOT NULL DEFAULT 0, "
                 "entry_date DATE, DESCRIPTION VARCHAR(50) NOT NULL DEFAULT '', TYPECODE TINYINT(4) NOT NULL "
                 "DEFAULT 0, reaction TEXT, archived CHAR(1) DEFAULT '0', start_date DATE, "
                 "severity_of_reaction CHAR(1), onset_of_reaction CHAR(1), lastUpdateDate DATETIME NOT NULL, "
                 "providerNo VARCHAR(6)",
    "preventions": "id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, demographic_no INT(10) NOT NULL DEFAULT 0, "
                   "creation_date DATETIME, prevention_date DATETIME, provider_no VARCHAR(6), "
                   "prevention_type VARCHAR(20), deleted CHAR(1) DEFAULT '0', refused CHAR(1) DEFAULT '0', "
                   "next_date DATE, never CHAR(1) DEFAULT '0', creator INT(10), lastUpdateDate DATETIME NOT NULL",
    "preventionsExt": "id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, prevention_id INT(10), keyval VARCHAR(20), "
                      "val TEXT",
    "measurementType": "id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, type VARCHAR(4) NOT NULL, "
                       "typeDisplayName VARCHAR(255), typeDescription VARCHAR(255), measuringInstruction "
                       "VARCHAR(255), validation VARCHAR(100)",
    "measurements": "id INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, type VARCHAR(4) NOT NULL, demographicNo "
                    "INT(10) NOT NULL DEFAULT 0, providerNo VARCHAR(6) NOT NULL DEFAULT '', dataField "
                    "VARCHAR(255) NOT NULL, measuringInstruction VARCHAR(255) NOT NULL DEFAULT '', comments "
                    "VARCHAR(255), dateObserved DATETIME NOT NULL, dateEntered DATETIME NOT NULL, "
                    "appointmentNo INT(10)",
    "billing": "billing_no INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, clinic_no INT(10) NOT NULL DEFAULT 0, "
               "demographic_no INT(10) NOT NULL DEFAULT 0, provider_no VARCHAR(6) NOT NULL DEFAULT '', "
               "appointment_no INT(10), demographic_name VARCHAR(60), hin VARCHAR(12), update_date DATE, "
               "billing_date DATE, billing_time TIME, content TEXT, total VARCHAR(6), status CHAR(1), "
               "dob VARCHAR(8), visitdate DATE, visittype CHAR(2)",
    "billingmaster": "billingmaster_no INT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY, billing_no INT(10) NOT NULL, "
                     "createdate DATETIME, billingstatus VARCHAR(1), demographic_no INT(10) NOT NULL, "
                     "appointment_no INT(10), billing_code VARCHAR(5), bill_amount VARCHAR(7), "
                     "service_date VARCHAR(8), dx_code1 VARCHAR(5), practitioner_no VARCHAR(5)",
}

#: measurement type → (display name, instruction, value for patient p and visit v)
MEASURES: dict[str, tuple[str, str]] = {
    "BP": ("혈압", "앉은 자세"), "HT": ("키 (cm)", "신발 벗고"), "WT": ("체중 (kg)", "아침 공복"),
    "TEMP": ("체온", "고막"), "HR": ("맥박", "1분"), "A1C": ("당화혈색소", "검사실"),
}


def _measure(kind: str, p: int, v: int) -> str:
    return {"BP": f"{110 + (p + v) % 40}/{65 + (p * v) % 25}", "HT": f"{150 + p % 35}",
            "WT": f"{50 + (p * 3 + v) % 40}.{v % 10}", "TEMP": f"36.{(p + v) % 10}", "HR": f"{60 + (p + v) % 35}",
            "A1C": f"{5 + (p + v) % 4}.{p % 10}"}[kind]


@dataclass
class OscarClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: planted dirty rows: name → the row's key
    dirty: dict[str, int] = field(default_factory=dict)
    #: demographic_no → (last + first name, sex, (year, month, day) text)
    people: dict[int, tuple[str, str, tuple[str, str, str]]] = field(default_factory=dict)
    #: note_id → its demographic_no
    notes: dict[int, int] = field(default_factory=dict)
    #: measurements.id → its dataField as inserted ('120/80', '57.3')
    measured: dict[int, str] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_oscar_clinic(conn_str: str, database: str = "emr_oscar_shaped", *, seed: int = 2026) -> OscarClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    rng = random.Random(seed)
    target = _fresh_database(conn_str, database, "mariadb")
    db = OscarClinic("mariadb", odbc=target, patients="demographic")
    conn = pyodbc.connect(target, autocommit=True)
    conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = ''")  # as OSCAR's installations ran: zero dates
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE `{name}` ({columns}) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        width = len(rows[0])
        c.executemany(f"INSERT INTO `{table}` VALUES ({', '.join('?' * width)})", rows)
        db.table(table.lower(), width, len(rows))

    stamp = dt.datetime(2023, 5, 2, 8, 30)
    put("provider", [("999998", "관리자", "시스템", "admin", None, "", None, None, "1", stamp),
                     ("100001", "김", "의사", "doctor", "가정의학과", "M", dt.date(1975, 3, 1), "12345", "1", stamp),
                     ("100002", "이", "간호", "nurse", None, "F", None, None, "0", stamp)])
    people: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        sex = "MF"[p % 2] if p % 13 else "O"
        birth = (f"{1940 + p % 60}", f"{1 + p % 12:02d}", f"{1 + p % 28:02d}")
        if p == 7:
            birth = (f"{1940 + p % 60}", "00", "00")  # only the year known
            db.dirty["year_only"] = p
        elif p == 8:
            birth = ("", "", "")
            db.dirty["no_birth"] = p
        elif p == 10:
            birth = ("1950", "02", "30")  # no such day
            db.dirty["impossible_birth"] = p
        status = {11: "DE", 12: "IN"}.get(p, "AC")
        roster = "RO" if p % 3 else "NR"
        zero = "0000-00-00" if p % 5 == 0 else None
        people.append((p, "MR" if sex == "M" else "MS", family, given, f"가상로 {p}", "서울", "KR", f"0{p:04d}",
                       f"010-0000-{p:04d}", None, None, *birth, f"{9000000000 + p * 37}", "" if p % 4 else "AB",
                       roster, zero if zero else dt.date(2020, 1 + p % 12, 1), status,
                       dt.date(2024, 1, 1 + p % 28) if status != "AC" else None, dt.date(2019, 1 + p % 12, 2),
                       f"{p:06d}", "Korean", "한국어", "100001", sex, zero, dt.date(2019, 1, 1), "KR",
                       "<rdohip></rdohip><rd></rd>", "100001", stamp + dt.timedelta(days=p)))
        db.people[p] = (f"{family} {given}", sex, birth)
    db.dirty["deceased"], db.dirty["inactive"] = 11, 12
    put("demographic", people)
    appointments: list[tuple[Any, ...]] = []
    base = dt.datetime(2024, 3, 4, 9, 0)
    for a in range(1, 81):
        p = 1 + (a * 7) % PATIENTS
        at = base + dt.timedelta(days=a // 4, minutes=15 * (a % 4))
        nobody = a % 23 == 0  # a slot kept for a meeting
        appointments.append((a, "100001", at.date(), at.time(), (at + dt.timedelta(minutes=15)).time(),
                             "회의" if nobody else f"{db.people[p][0]}", 0 if nobody else p, None,
                             "감기" if a % 3 else "혈압 확인", "본원", "진료", "B" if a % 5 else "N", at, at, "100001"))
    db.dirty["nobodys_slot"] = 23
    put("appointment", appointments)
    put("issue", [(1, "401", "고혈압", "doctor", stamp, "icd9"), (2, "250", "당뇨병", "doctor", stamp, "icd9"),
                  (3, "OMeds", "다른 약", "nurse", stamp, "system")])
    notes: list[tuple[Any, ...]] = []
    for n in range(1, 61):
        a = appointments[n - 1]
        p = a[6] or 1
        notes.append((n, a[12], a[12], str(p), "100001", f"[{a[2].isoformat()} .: {a[8]}] 두통 {n % 5 + 1}일째",
                      1, "face to face encounter with client", None, None, 0, 0,
                      str(rng.getrandbits(64)), a[0]))
        db.notes[n] = p
    notes.append((61, base, base, "9999", "100001", "차트가 지워진 환자의 메모", 1, None, None, None, 0, 0, None, None))
    db.dirty["orphan_note"] = 61
    db.notes[61] = 9999
    put("casemgmt_note", notes)
    put("casemgmt_issue", [(i, str(1 + i * 3 % PATIENTS), 1 + i % 3, 0, 1, i % 2, 0, "doctor", stamp)
                           for i in range(1, 16)])
    put("casemgmt_issue_notes", [(i, n) for i in range(1, 16) for n in (i, i + 20)])
    drugs: list[tuple[Any, ...]] = []
    for d in range(1, 41):
        p = 1 + (d * 3) % PATIENTS
        rx = dt.date(2024, 1 + d % 12, 1 + d % 27)
        drug = ("타이레놀정500mg", "ACETAMINOPHEN", "N02BE01") if d % 2 else ("노바스크정5mg", "AMLODIPINE", "C08CA01")
        drugs.append((d, "100001", p, rx, "0000-00-00" if d == 5 else rx + dt.timedelta(days=30), rx, drug[0],
                      0, None, 1.0, 2.0 if d % 3 else 1.0, "BID" if d % 2 else "OD", "30", "D", "60", d % 3, 0,
                      int(d % 7 == 0), f"{drug[0]}\n1-2 정 하루 두 번 식후 30일", int(d == 9), drug[1], drug[2],
                      f"0{2200000 + d}", "mg", "PO", datetime_at(rx), "500" if d % 2 else "5", int(d % 4 == 0),
                      datetime_at(rx)))
    db.dirty["archived_drug"] = 9
    put("drugs", drugs)
    put("allergies", [(i, 1 + (i * 5) % PATIENTS, dt.date(2023, i, 3), "페니실린" if i % 2 else "땅콩", 8 if i % 2 else 0,
                       "두드러기" if i % 3 else None, "1" if i == 4 else "0", None if i % 2 else dt.date(2010, 1, 1),
                       "4" if i % 2 else "1", "2", stamp, "100001") for i in range(1, 11)])
    db.dirty["archived_allergy"] = 4
    preventions: list[tuple[Any, ...]] = []
    exts: list[tuple[Any, ...]] = []
    for v in range(1, 31):
        p = 1 + (v * 11) % PATIENTS
        when = dt.datetime(2023, 10, 1 + v % 28, 10, 0)
        kind = ("Flu", "Td", "HepB", "PAP")[v % 4]
        preventions.append((v, p, when, when, "100001", kind, "1" if v == 6 else "0", "1" if v == 10 else "0",
                            when.date() + dt.timedelta(days=365), "0", 1, when))
        if kind != "PAP":
            for key, val in (("lot", f"LOT{v:04d}"), ("dose", "0.5 mL"), ("location", "왼팔"), ("route", "IM")):
                exts.append((len(exts) + 1, v, key, val))
        else:
            exts.append((len(exts) + 1, v, "result", "정상"))
    db.dirty["deleted_prevention"] = 6
    put("preventions", preventions)
    put("preventionsExt", exts)
    put("measurementType", [(i, k, n, n, ins, "3" if k != "BP" else "6")
                            for i, (k, (n, ins)) in enumerate(MEASURES.items(), 1)])
    measurements: list[tuple[Any, ...]] = []
    for a in appointments[:60]:
        p, at = a[6], a[12]
        if not p:
            continue
        for kind in ("BP", "HT", "WT", "TEMP", "HR") + (("A1C",) if a[0] % 5 == 0 else ()):
            measurements.append((len(measurements) + 1, kind, p, "100001", _measure(kind, p, a[0]),
                                 MEASURES[kind][1], None, at, at + dt.timedelta(minutes=5), a[0]))
    measurements.append((len(measurements) + 1, "WT", 0, "100001", "70", "", "환자 미지정", base, base, None))
    db.dirty["nobodys_measurement"] = len(measurements)
    db.measured = {m[0]: m[4] for m in measurements}
    put("measurements", measurements)
    bills: list[tuple[Any, ...]] = []
    masters: list[tuple[Any, ...]] = []
    for b, a in enumerate(appointments[:50], 1):
        p = a[6]
        if not p:
            continue
        year, month, day = db.people[p][2]
        bills.append((b, 1, p, "100001", a[0], db.people[p][0], people[p - 1][14], a[2], a[2], a[3],
                      "<xml_cpt>A001A</xml_cpt>", "33.70", "O", f"{year}{month}{day}", a[2], "00"))
        masters.append((len(masters) + 1, b, a[12], "O", p, a[0], "A001A", "33.70", a[2].strftime("%Y%m%d"),
                        "J00" if b % 2 else "I10", "12345"))
    put("billing", bills)
    put("billingmaster", masters)
    conn.close()
    return db


def datetime_at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, 30)
