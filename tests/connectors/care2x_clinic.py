"""A synthetic clinic shaped like Care2x (an open-source PHP hospital information system) on MariaDB (its
published ``care_db_structure`` dumps; test data only).

Care2x's tables as it declares them (a subset of each table's columns, with its names and types): every table
``latin1`` (the Korean text the PHP pages wrote is CP949 bytes in them), MyISAM, no foreign keys, zero dates, and
on every row the audit columns ``status`` (a soft delete: 'deleted', 'void', 'hidden'), ``history`` (a text log
of who did what), ``modify_id``/``modify_time``/``create_id``/``create_time``. ``care_person`` (keyed ``pid``,
``name_first``/``name_last``, ``date_birth`` DATE NOT NULL DEFAULT '0000-00-00', ``sex`` CHAR(1)),
``care_encounter`` (keyed ``encounter_nr``, the patient in ``pid``), ``care_encounter_diagnosis`` and
``care_encounter_prescription`` and ``care_encounter_measurement`` (linked to the patient only through their
``encounter_nr``; a measurement's kind a number, ``msr_type_nr``, of ``care_type_measurement``; its time a
FLOAT(4,2), 14.30), ``care_test_findings_chemlab`` (a lab's results PHP-serialised in ``serial_value``),
``care_type_measurement``, ``care_users`` (an MD5 password).

Names are Korean and made up; no real data. Planted: a person soft-deleted (``status`` 'deleted'), a person born
'0000-00-00', a voided prescription, a deleted measurement, an encounter of a person nobody has (orphan) with its
diagnosis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 36

_AUDIT = ("status VARCHAR(25) NOT NULL DEFAULT '', history TEXT NOT NULL, modify_id VARCHAR(35) NOT NULL DEFAULT '', "
          "modify_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, "
          "create_id VARCHAR(35) NOT NULL DEFAULT '', create_time TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00'")

DDL: dict[str, str] = {
    "care_users": "name VARCHAR(60) NOT NULL, login_id VARCHAR(35) NOT NULL PRIMARY KEY, password VARCHAR(255), "
                  "personell_nr INT(10) UNSIGNED NOT NULL DEFAULT 0, lockflag TINYINT(3) UNSIGNED DEFAULT 0, "
                  "permission TEXT NOT NULL, exc TINYINT(1) NOT NULL DEFAULT 0, " + _AUDIT,
    "care_person": "pid INT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, date_reg DATETIME NOT NULL DEFAULT "
                   "'0000-00-00 00:00:00', name_first VARCHAR(60) NOT NULL, name_2 VARCHAR(60), name_last "
                   "VARCHAR(60) NOT NULL, name_maiden VARCHAR(60), name_others TEXT NOT NULL, date_birth DATE NOT "
                   "NULL DEFAULT '0000-00-00', blood_group CHAR(2) NOT NULL DEFAULT '', addr_str VARCHAR(60) NOT NULL "
                   "DEFAULT '', addr_zip VARCHAR(15) NOT NULL DEFAULT '', phone_1_nr VARCHAR(35), civil_status "
                   "VARCHAR(35) NOT NULL DEFAULT '', sex CHAR(1) NOT NULL DEFAULT '', title VARCHAR(25), "
                   "photo_filename VARCHAR(60), religion VARCHAR(125), death_date DATE, death_cause VARCHAR(255), "
                   "date_update DATETIME, " + _AUDIT,
    "care_encounter": "encounter_nr BIGINT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, pid INT(11) NOT NULL "
                      "DEFAULT 0, encounter_date DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', "
                      "encounter_class_nr SMALLINT(5) UNSIGNED NOT NULL DEFAULT 0, encounter_type VARCHAR(35) NOT "
                      "NULL DEFAULT '', encounter_status VARCHAR(35) NOT NULL DEFAULT '', referrer_diagnosis "
                      "VARCHAR(255) NOT NULL DEFAULT '', referrer_dr VARCHAR(60) NOT NULL DEFAULT '', insurance_nr "
                      "VARCHAR(25) DEFAULT '0', current_dept_nr SMALLINT(5) UNSIGNED, current_att_dr_nr INT(10) NOT "
                      "NULL DEFAULT 0, consulting_dr VARCHAR(60) NOT NULL DEFAULT '', is_discharged TINYINT(1) "
                      "UNSIGNED NOT NULL DEFAULT 0, discharge_date DATE, discharge_time TIME, followup_date DATETIME "
                      "NOT NULL DEFAULT '0000-00-00 00:00:00', post_encounter_notes TEXT NOT NULL, " + _AUDIT,
    "care_encounter_diagnosis": "diagnosis_nr INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, encounter_nr INT(11) NOT "
                                "NULL DEFAULT 0, op_nr INT(10) UNSIGNED NOT NULL DEFAULT 0, date DATETIME NOT NULL "
                                "DEFAULT '0000-00-00 00:00:00', code VARCHAR(25) NOT NULL DEFAULT '', code_parent "
                                "VARCHAR(25) NOT NULL DEFAULT '', group_nr MEDIUMINT(8) UNSIGNED NOT NULL DEFAULT 0, "
                                "code_version TINYINT(4) NOT NULL DEFAULT 0, localcode VARCHAR(35) NOT NULL DEFAULT "
                                "'', category_nr TINYINT(3) UNSIGNED NOT NULL DEFAULT 0, type VARCHAR(35) NOT NULL "
                                "DEFAULT '', localization VARCHAR(35) NOT NULL DEFAULT '', diagnosing_clinician "
                                "VARCHAR(60) NOT NULL DEFAULT '', diagnosing_dept_nr SMALLINT(5) UNSIGNED NOT NULL "
                                "DEFAULT 0, " + _AUDIT,
    "care_encounter_prescription": "nr INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, encounter_nr INT(10) UNSIGNED "
                                   "NOT NULL DEFAULT 0, prescription_type_nr SMALLINT(5) UNSIGNED NOT NULL DEFAULT "
                                   "0, article VARCHAR(100) NOT NULL DEFAULT '', drug_class VARCHAR(60) NOT NULL "
                                   "DEFAULT '', order_nr INT(11) NOT NULL DEFAULT 0, dosage VARCHAR(255) NOT NULL "
                                   "DEFAULT '', application_type_nr SMALLINT(5) UNSIGNED DEFAULT 0, notes TEXT NOT "
                                   "NULL, prescribe_date DATE, prescriber VARCHAR(60) NOT NULL DEFAULT '', "
                                   "color_marker VARCHAR(10) NOT NULL DEFAULT '', is_stopped TINYINT(1) UNSIGNED NOT "
                                   "NULL DEFAULT 0, stop_date DATE, " + _AUDIT,
    "care_type_measurement": "nr SMALLINT(5) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, type VARCHAR(35) NOT "
                             "NULL DEFAULT '', name VARCHAR(35) NOT NULL DEFAULT '', LD_var VARCHAR(35) NOT NULL "
                             "DEFAULT '', " + _AUDIT,
    "care_encounter_measurement": "nr INT(11) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, msr_date DATE NOT NULL "
                                  "DEFAULT '0000-00-00', msr_time FLOAT(4,2) NOT NULL DEFAULT 0.00, encounter_nr "
                                  "INT(11) UNSIGNED NOT NULL DEFAULT 0, msr_type_nr TINYINT(3) UNSIGNED NOT NULL "
                                  "DEFAULT 0, value VARCHAR(255), unit_nr SMALLINT(5) UNSIGNED, unit_type_nr "
                                  "TINYINT(2) UNSIGNED NOT NULL DEFAULT 0, notes VARCHAR(255), measured_by "
                                  "VARCHAR(35) NOT NULL DEFAULT '', " + _AUDIT,
    "care_test_findings_chemlab": "batch_nr INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, encounter_nr INT(11) NOT "
                                  "NULL DEFAULT 0, job_id VARCHAR(25) NOT NULL DEFAULT '', test_date DATE NOT NULL "
                                  "DEFAULT '0000-00-00', test_time TIME NOT NULL DEFAULT '00:00:00', group_id "
                                  "VARCHAR(30) NOT NULL DEFAULT '', serial_value TEXT NOT NULL, type_ids TEXT NOT "
                                  "NULL, validator VARCHAR(15) NOT NULL DEFAULT '', validate_dt DATETIME NOT NULL "
                                  "DEFAULT '0000-00-00 00:00:00', " + _AUDIT,
}

#: care_type_measurement: nr → (type, name)
MEASURE_TYPES = {1: ("weight", "Weight"), 2: ("height", "Height"), 3: ("head_circumference", "Head circumference"),
                 4: ("temperature", "Temperature"), 5: ("bp_systolic", "BP systolic"), 6: ("bp_diastolic",
                                                                                        "BP diastolic")}


@dataclass
class Care2xClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    dirty: dict[str, int] = field(default_factory=dict)
    #: pid → (name_last + name_first, sex, date_birth text)
    people: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    #: encounter_nr → pid
    encounters: dict[int, int] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _ko(text: str | None) -> bytes | None:
    """Korean as the PHP pages stored it in a latin1 column: its CP949 bytes."""
    return None if text is None else text.encode("cp949")


def create_care2x_clinic(conn_str: str, database: str = "emr_care2x_shaped") -> Care2xClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "mariadb")
    db = Care2xClinic("mariadb", odbc=target, patients="care_person")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute("SET SESSION sql_mode = ''")  # zero dates, as the PHP pages wrote them
    c.execute("SET SESSION time_zone = '+09:00'")
    for name, columns in DDL.items():
        c.execute(f"CREATE TABLE {name} ({columns}) ENGINE=MyISAM DEFAULT CHARSET=latin1")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:  # the bytes as a literal: bound, the driver would convert them
            marks = ", ".join(f"x'{v.hex()}'" if isinstance(v, bytes) else "?" for v in row)
            c.execute(f"INSERT INTO {table} VALUES ({marks})", [v for v in row if not isinstance(v, bytes)])
        db.table(table, len(rows[0]), len(rows))

    stamp = dt.datetime(2023, 5, 2, 8, 30)

    def audit(status: str = "", who: str = "admin", at: dt.datetime = stamp) -> tuple[Any, ...]:
        return (status, f"Create: {at:%Y-%m-%d %H:%M:%S} = {who}\n", who, at, who, at)

    put("care_users", [(b"\xb0\xfc\xb8\xae\xc0\xda", "admin", hashlib.md5(b"not-a-real-password").hexdigest(), 0, 0,
                        "System_Admin", 1, *audit()),
                       (_ko("김의사"), "drkim", hashlib.md5(b"not-a-real-one-either").hexdigest(), 1, 0,
                        "_a_1_medocs", 0, *audit())])
    people: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        sex = "mf"[p % 2]
        birth = "0000-00-00" if p == 6 else f"{1940 + p % 60}-{1 + p % 12:02d}-{1 + p % 28:02d}"
        status = "deleted" if p == 9 else ""
        dead = p == 14
        people.append((p, stamp + dt.timedelta(days=p), _ko(given), None, _ko(family), None, b"", birth,
                       "AB"[p % 2] if p % 3 else "", _ko(f"가상로 {p}길"), f"0{p:04d}", f"010-0000-{p:04d}",
                       "single" if p % 2 else "married", sex, None, None, None,
                       dt.date(2024, 6, 1) if dead else None, _ko("심근경색") if dead else None,
                       stamp + dt.timedelta(days=p, hours=1), *audit(status)))
        db.people[p] = (f"{family} {given}", sex, birth)
    db.dirty["deleted_person"], db.dirty["zero_birth"], db.dirty["dead"] = 9, 6, 14
    put("care_person", people)
    encounters: list[tuple[Any, ...]] = []
    base = dt.datetime(2024, 3, 4, 9, 0)
    for e in range(1, 73):
        pid = 1 + (e * 5) % PATIENTS
        at = base + dt.timedelta(days=e, hours=e % 6)
        encounters.append((e, pid, at, 2, "", "", _ko("두통") if e % 3 else b"", b"", "0", 10 + e % 3, 1,
                           _ko("김의사"), int(e % 4 != 0), at.date() if e % 4 else None,
                           dt.time(11, 0) if e % 4 else None, "0000-00-00 00:00:00", b"", *audit()))
        db.encounters[e] = pid
    encounters.append((73, 999, base, 2, "", "", b"", b"", "0", 10, 1, b"", 0, None, None,
                       "0000-00-00 00:00:00", b"", *audit()))
    db.dirty["orphan_encounter"] = 73
    put("care_encounter", encounters)
    diagnoses: list[tuple[Any, ...]] = []
    for e in range(1, 74):
        code = ("J00", "I10", "K29.7", "E11.9")[e % 4]
        diagnoses.append((len(diagnoses) + 1, e, 0, base + dt.timedelta(days=e), code, code[:3], 0, 10, b"", 1,
                          "principal" if e % 5 else "auxiliary", b"", _ko("김의사"), 10, *audit()))
    put("care_encounter_diagnosis", diagnoses)
    prescriptions: list[tuple[Any, ...]] = []
    for r in range(1, 41):
        e = 1 + (r * 2) % 72
        article = ("타이레놀정500mg", "노바스크정5mg")[r % 2]
        prescriptions.append((r, e, 1, _ko(article), b"tablet", r, _ko("1정 하루 두 번"), 1, _ko("식후 30분"),
                              (base + dt.timedelta(days=e)).date(), _ko("김의사"), "", int(r % 9 == 0),
                              (base + dt.timedelta(days=e + 7)).date() if r % 9 == 0 else None,
                              *audit("void" if r == 4 else "")))
    db.dirty["void_prescription"] = 4
    put("care_encounter_prescription", prescriptions)
    put("care_type_measurement", [(n, t, name, f"LDMsr{t}", *audit()) for n, (t, name) in MEASURE_TYPES.items()])
    measurements: list[tuple[Any, ...]] = []
    for e in range(1, 61):
        at = base + dt.timedelta(days=e)
        values = {1: f"{50 + e % 30}.{e % 10}", 2: f"{150 + e % 35}", 4: f"36.{e % 10}", 5: f"{110 + e % 40}",
                  6: f"{65 + e % 25}"}
        for kind, value in values.items():
            measurements.append((len(measurements) + 1, at.date(), 9.30 + (e % 5), e, kind, value, kind, 1,
                                 None, "nurse", *audit("deleted" if (e, kind) == (3, 4) else "")))
    db.dirty["deleted_measurement"] = 13
    put("care_encounter_measurement", measurements)
    labs: list[tuple[Any, ...]] = []
    for b in range(1, 25):
        e = 1 + (b * 3) % 72
        hgb, glu = f"{12 + b % 4}.{b % 10}", f"{90 + b * 3}"
        serial = f'a:2:{{s:3:"hgb";s:{len(hgb)}:"{hgb}";s:3:"glu";s:{len(glu)}:"{glu}";}}'
        labs.append((b, e, f"{20240300 + b}", (base + dt.timedelta(days=e)).date(), dt.time(10, b % 60), "blood",
                     serial, "hgb,glu", "lab1", base + dt.timedelta(days=e, hours=3), *audit()))
    put("care_test_findings_chemlab", labs)
    conn.close()
    return db
