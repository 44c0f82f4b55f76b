"""A synthetic eye clinic shaped like OpenEyes (an open-source ophthalmology EMR on MySQL/MariaDB; its published
Yii migrations, ``m130913_000000_consolidation`` and the modules' consolidations; test data only).

OpenEyes' tables as it declares them (a subset of each table's columns, with its names and types; InnoDB, foreign
keys declared): on every row the housekeeping columns ``last_modified_user_id``, ``last_modified_date``,
``created_user_id``, ``created_date``. ``patient`` (``hos_num`` — here a Korean chart number —, ``nhs_num`` — here
a made-up 주민등록번호 —, ``dob``, ``gender`` VARCHAR(1), ``date_of_death``) whose name is in ``contact``
(``title``, ``first_name``, ``last_name``) through ``contact_id``; the clinical history is ``episode`` (a patient's
care under a ``firm``) → ``event`` (an encounter: ``event_type_id``, ``event_date``, ``deleted`` TINYINT(1)) → the
element tables ``et_ophciexamination_*`` and ``et_ophtroperationnote_*``, each keyed to its ``event_id`` (three hops
from the patient), with ``eye_id`` into ``eye`` (1 Left, 2 Right, 3 Both) and a ``left_*``/``right_*`` pair of
columns per finding. Readings are child rows of an element: ``ophciexamination_visualacuity_reading``
(``element_id``, ``value`` an integer base value, ``method_id``, ``side`` 0 right, 1 left) and
``ophciexamination_intraocularpressure_value`` (``element_id``, ``eye_id``, ``reading_id`` into the lookup
``ophciexamination_intraocularpressure_reading`` whose ``value`` is the mmHg, ``instrument_id``). Diagnoses:
``secondary_diagnosis`` (``patient_id``, ``disorder_id`` into ``disorder`` keyed by the SNOMED CT id, ``eye_id``,
``date`` VARCHAR(10)) and the examination's ``et_ophciexamination_diagnoses`` → ``ophciexamination_diagnosis``.
Medications the 2013 way (``medication``: ``patient_id``, ``drug_id``, ``route_id``, ``frequency_id``,
``start_date``, ``end_date``), allergies (``patient_allergy_assignment`` → ``allergy``), the ``*_version`` tables
(a copy of a table's every column plus ``version_date`` and the key ``version_id``; the row as it was before each
change) and ``audit``.

Names are Korean and made up; no real data. Planted: deleted events (``deleted`` 1) with their elements, a
patient whose chart number changed twice (two ``patient_version`` rows), diagnoses changed twice
(``secondary_diagnosis_version``), a visual acuity of one eye only (``eye_id`` 1, no right reading).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database, mariadb_tables

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 30
EPISODES = 40
EVENTS = 80

_HK = ("last_modified_user_id INT(10) UNSIGNED NOT NULL DEFAULT 1, last_modified_date DATETIME NOT NULL DEFAULT "
       "'1900-01-01 00:00:00', created_user_id INT(10) UNSIGNED NOT NULL DEFAULT 1, created_date DATETIME NOT NULL "
       "DEFAULT '1900-01-01 00:00:00'")
_ID = "id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY"
_VERSION = "version_date DATETIME NOT NULL, version_id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY"

_PATIENT = ("pas_key INT(10) UNSIGNED, dob DATE, gender VARCHAR(1), hos_num VARCHAR(40), nhs_num VARCHAR(40), "
            + _HK + ", gp_id INT(10) UNSIGNED, date_of_death DATE, practice_id INT(10) UNSIGNED, ethnic_group_id "
            "INT(10) UNSIGNED, contact_id INT(10) UNSIGNED NOT NULL, deleted TINYINT(1) UNSIGNED NOT NULL DEFAULT 0")
_SECONDARY = ("disorder_id BIGINT(20) UNSIGNED NOT NULL, eye_id INT(10) UNSIGNED, patient_id INT(10) UNSIGNED NOT "
              "NULL, date VARCHAR(10), " + _HK)
_ALLERGY_ASSIGNMENT = ("patient_id INT(10) UNSIGNED NOT NULL, allergy_id INT(10) UNSIGNED NOT NULL, comments "
                       "VARCHAR(1024), other VARCHAR(256), " + _HK)

DDL: dict[str, str] = {
    "user": f"{_ID}, username VARCHAR(40) NOT NULL, first_name VARCHAR(40) NOT NULL, last_name VARCHAR(40) NOT NULL, "
            "email VARCHAR(80), active TINYINT(1) NOT NULL DEFAULT 1, password VARCHAR(255), salt VARCHAR(10), "
            "is_doctor TINYINT(1) UNSIGNED NOT NULL DEFAULT 0, " + _HK,
    "contact": f"{_ID}, nick_name VARCHAR(80), primary_phone VARCHAR(20), title VARCHAR(20), first_name VARCHAR(100) "
               "NOT NULL, last_name VARCHAR(100) NOT NULL, qualifications VARCHAR(200), contact_label_id INT(10) "
               "UNSIGNED, " + _HK,
    "eye": f"{_ID}, name VARCHAR(10), display_order INT(10) UNSIGNED NOT NULL DEFAULT 1",
    "firm": f"{_ID}, service_subspecialty_assignment_id INT(10) UNSIGNED, pas_code VARCHAR(4), name VARCHAR(40) NOT "
            "NULL, " + _HK + ", consultant_id INT(10) UNSIGNED, FOREIGN KEY (consultant_id) REFERENCES user (id)",
    "disorder": "id BIGINT(20) UNSIGNED NOT NULL PRIMARY KEY, fully_specified_name VARCHAR(255) NOT NULL, term "
                "VARCHAR(255) NOT NULL, " + _HK + ", specialty_id INT(10) UNSIGNED, active TINYINT(1) NOT NULL "
                "DEFAULT 1",
    "event_type": f"{_ID}, name VARCHAR(40) NOT NULL UNIQUE, " + _HK + ", event_group_id INT(10) UNSIGNED NOT NULL, "
                  "class_name VARCHAR(200) NOT NULL, support_services TINYINT(1) UNSIGNED NOT NULL DEFAULT 0",
    "patient": f"{_ID}, {_PATIENT}, FOREIGN KEY (contact_id) REFERENCES contact (id)",
    "episode": f"{_ID}, patient_id INT(10) UNSIGNED NOT NULL, firm_id INT(10) UNSIGNED, start_date DATETIME NOT NULL, "
               "end_date DATETIME, " + _HK + ", episode_status_id INT(10) UNSIGNED NOT NULL DEFAULT 1, legacy "
               "TINYINT(1) UNSIGNED DEFAULT 0, deleted INT(10) UNSIGNED NOT NULL DEFAULT 0, eye_id INT(10) UNSIGNED, "
               "disorder_id BIGINT(20) UNSIGNED, support_services TINYINT(1) UNSIGNED NOT NULL DEFAULT 0, "
               "FOREIGN KEY (patient_id) REFERENCES patient (id), FOREIGN KEY (firm_id) REFERENCES firm (id), "
               "FOREIGN KEY (eye_id) REFERENCES eye (id), FOREIGN KEY (disorder_id) REFERENCES disorder (id)",
    "event": f"{_ID}, episode_id INT(10) UNSIGNED, created_user_id INT(10) UNSIGNED NOT NULL, event_type_id INT(10) "
             "UNSIGNED NOT NULL, last_modified_user_id INT(10) UNSIGNED NOT NULL DEFAULT 1, last_modified_date "
             "DATETIME NOT NULL DEFAULT '1900-01-01 00:00:00', created_date DATETIME NOT NULL DEFAULT '1900-01-01 "
             "00:00:00', info VARCHAR(1024), deleted TINYINT(1) UNSIGNED NOT NULL DEFAULT 0, delete_reason "
             "VARCHAR(255), event_date DATETIME NOT NULL, FOREIGN KEY (episode_id) REFERENCES episode (id), "
             "FOREIGN KEY (event_type_id) REFERENCES event_type (id)",
    "secondary_diagnosis": f"{_ID}, {_SECONDARY}, FOREIGN KEY (patient_id) REFERENCES patient (id), FOREIGN KEY "
                           "(disorder_id) REFERENCES disorder (id), FOREIGN KEY (eye_id) REFERENCES eye (id)",
    "allergy": f"{_ID}, name VARCHAR(40), " + _HK + ", display_order INT(10) UNSIGNED NOT NULL DEFAULT 1",
    "patient_allergy_assignment": f"{_ID}, {_ALLERGY_ASSIGNMENT}, FOREIGN KEY (patient_id) REFERENCES patient (id), "
                                  "FOREIGN KEY (allergy_id) REFERENCES allergy (id)",
    "drug": f"{_ID}, name VARCHAR(100) NOT NULL, tallman VARCHAR(100), dose_unit VARCHAR(40), default_dose "
            "VARCHAR(40), " + _HK,
    "drug_route": f"{_ID}, name VARCHAR(40) NOT NULL, display_order INT(10) UNSIGNED NOT NULL DEFAULT 1, " + _HK,
    "drug_frequency": f"{_ID}, name VARCHAR(40) NOT NULL, long_name VARCHAR(40) NOT NULL, display_order INT(10) "
                      "UNSIGNED NOT NULL DEFAULT 1, " + _HK,
    "medication": f"{_ID}, patient_id INT(10) UNSIGNED NOT NULL, drug_id INT(10) UNSIGNED NOT NULL, route_id INT(10) "
                  "UNSIGNED NOT NULL, option_id INT(10) UNSIGNED, frequency_id INT(10) UNSIGNED NOT NULL, dose "
                  "VARCHAR(40), start_date DATE NOT NULL, end_date DATE, " + _HK + ", FOREIGN KEY (patient_id) "
                  "REFERENCES patient (id), FOREIGN KEY (drug_id) REFERENCES drug (id), FOREIGN KEY (route_id) "
                  "REFERENCES drug_route (id), FOREIGN KEY (frequency_id) REFERENCES drug_frequency (id)",
    "ophciexamination_visualacuity_method": f"{_ID}, name VARCHAR(32) NOT NULL, display_order INT(10) UNSIGNED NOT "
                                            "NULL DEFAULT 1, " + _HK,
    "ophciexamination_visual_acuity_unit": f"{_ID}, name VARCHAR(40) NOT NULL, tooltip TINYINT(1) NOT NULL DEFAULT "
                                           "0, " + _HK,
    "et_ophciexamination_visualacuity": f"{_ID}, event_id INT(10) UNSIGNED NOT NULL, eye_id INT(10) UNSIGNED NOT "
                                        "NULL DEFAULT 3, left_comments TEXT, right_comments TEXT, unit_id INT(10) "
                                        "UNSIGNED NOT NULL, " + _HK + ", left_unable_to_assess TINYINT(1) UNSIGNED "
                                        "NOT NULL DEFAULT 0, right_unable_to_assess TINYINT(1) UNSIGNED NOT NULL "
                                        "DEFAULT 0, left_eye_missing TINYINT(1) UNSIGNED NOT NULL DEFAULT 0, "
                                        "right_eye_missing TINYINT(1) UNSIGNED NOT NULL DEFAULT 0, FOREIGN KEY "
                                        "(event_id) REFERENCES event (id), FOREIGN KEY (eye_id) REFERENCES eye (id), "
                                        "FOREIGN KEY (unit_id) REFERENCES ophciexamination_visual_acuity_unit (id)",
    "ophciexamination_visualacuity_reading": f"{_ID}, element_id INT(10) UNSIGNED NOT NULL, value INT(10) UNSIGNED "
                                             "NOT NULL, method_id INT(10) UNSIGNED NOT NULL, side TINYINT(1) "
                                             "UNSIGNED NOT NULL DEFAULT 0, " + _HK + ", FOREIGN KEY (element_id) "
                                             "REFERENCES et_ophciexamination_visualacuity (id), FOREIGN KEY "
                                             "(method_id) REFERENCES ophciexamination_visualacuity_method (id)",
    "ophciexamination_intraocularpressure_reading": f"{_ID}, name VARCHAR(3), value INT(10) UNSIGNED, display_order "
                                                    "INT(10) UNSIGNED NOT NULL DEFAULT 1, " + _HK,
    "ophciexamination_instrument": f"{_ID}, name VARCHAR(255), display_order INT(10) UNSIGNED NOT NULL DEFAULT 1, "
                                   + _HK,
    "et_ophciexamination_intraocularpressure": f"{_ID}, event_id INT(10) UNSIGNED NOT NULL, eye_id INT(10) UNSIGNED "
                                               "NOT NULL DEFAULT 3, left_comments TEXT, right_comments TEXT, " + _HK
                                               + ", FOREIGN KEY (event_id) REFERENCES event (id), FOREIGN KEY "
                                               "(eye_id) REFERENCES eye (id)",
    "ophciexamination_intraocularpressure_value": f"{_ID}, element_id INT(10) UNSIGNED NOT NULL, eye_id INT(10) "
                                                  "UNSIGNED NOT NULL, reading_time TIME NOT NULL, reading_id INT(10) "
                                                  "UNSIGNED, instrument_id INT(10) UNSIGNED, " + _HK + ", FOREIGN "
                                                  "KEY (element_id) REFERENCES et_ophciexamination_intraocularpressure"
                                                  " (id), FOREIGN KEY (eye_id) REFERENCES eye (id), FOREIGN KEY "
                                                  "(reading_id) REFERENCES "
                                                  "ophciexamination_intraocularpressure_reading (id), FOREIGN KEY "
                                                  "(instrument_id) REFERENCES ophciexamination_instrument (id)",
    "et_ophciexamination_diagnoses": f"{_ID}, event_id INT(10) UNSIGNED NOT NULL, " + _HK + ", FOREIGN KEY "
                                     "(event_id) REFERENCES event (id)",
    "ophciexamination_diagnosis": f"{_ID}, element_diagnoses_id INT(10) UNSIGNED NOT NULL, disorder_id BIGINT(20) "
                                  "UNSIGNED NOT NULL, eye_id INT(10) UNSIGNED NOT NULL, principal TINYINT(1) "
                                  "UNSIGNED NOT NULL DEFAULT 0, date VARCHAR(10), " + _HK + ", FOREIGN KEY "
                                  "(element_diagnoses_id) REFERENCES et_ophciexamination_diagnoses (id), FOREIGN KEY "
                                  "(disorder_id) REFERENCES disorder (id), FOREIGN KEY (eye_id) REFERENCES eye (id)",
    "proc": f"{_ID}, term VARCHAR(255) NOT NULL, short_format VARCHAR(255) NOT NULL, default_duration SMALLINT(5) "
            "UNSIGNED NOT NULL, snomed_code VARCHAR(20) NOT NULL, snomed_term VARCHAR(255) NOT NULL, " + _HK,
    "et_ophtroperationnote_procedurelist": f"{_ID}, event_id INT(10) UNSIGNED NOT NULL, eye_id INT(10) UNSIGNED NOT "
                                           "NULL, " + _HK + ", booking_event_id INT(10) UNSIGNED, FOREIGN KEY "
                                           "(event_id) REFERENCES event (id), FOREIGN KEY (eye_id) REFERENCES eye (id)",
    "ophtroperationnote_procedurelist_procedure_assignment": f"{_ID}, procedurelist_id INT(10) UNSIGNED NOT NULL, "
                                                             "proc_id INT(10) UNSIGNED NOT NULL, display_order "
                                                             "TINYINT(3) UNSIGNED NOT NULL DEFAULT 0, " + _HK + ", "
                                                             "FOREIGN KEY (procedurelist_id) REFERENCES "
                                                             "et_ophtroperationnote_procedurelist (id), FOREIGN KEY "
                                                             "(proc_id) REFERENCES proc (id)",
    "patient_version": f"id INT(10) UNSIGNED NOT NULL, {_PATIENT}, {_VERSION}",
    "secondary_diagnosis_version": f"id INT(10) UNSIGNED NOT NULL, {_SECONDARY}, {_VERSION}",
    "patient_allergy_assignment_version": f"id INT(10) UNSIGNED NOT NULL, {_ALLERGY_ASSIGNMENT}, {_VERSION}",
    "audit": f"{_ID}, action VARCHAR(64) NOT NULL, target_type VARCHAR(64) NOT NULL, patient_id INT(10) UNSIGNED, "
             "episode_id INT(10) UNSIGNED, event_id INT(10) UNSIGNED, user_id INT(10) UNSIGNED, data TEXT, "
             "remote_addr VARCHAR(40), http_user_agent VARCHAR(1024), server_name VARCHAR(255), request_uri "
             "VARCHAR(255), " + _HK,
}

#: eye.id → name (OpenEyes' own rows)
EYES = {1: "Left", 2: "Right", 3: "Both"}
#: disorder.id (SNOMED CT) → (fully specified name, term)
DISORDERS = {
    193570009: ("Cataract (disorder)", "Cataract"),
    23986001: ("Glaucoma (disorder)", "Glaucoma"),
    4855003: ("Diabetic retinopathy (disorder)", "Diabetic retinopathy"),
    267718000: ("Age-related macular degeneration (disorder)", "Age related macular degeneration"),
    38341003: ("Hypertensive disorder, systemic arterial (disorder)", "Hypertension"),
}
#: event_type.id → (name, class_name)
EVENT_TYPES = {1: ("Examination", "OphCiExamination"), 2: ("Operation Note", "OphTrOperationnote")}


@dataclass
class OpenEyesClinic(ForeignDb):
    """The database as built, and what was planted."""

    dirty: dict[str, Any] = field(default_factory=dict)
    #: patient id → (last name + first name, gender, dob text)
    people: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    #: episode id → patient id
    episodes: dict[int, int] = field(default_factory=dict)
    #: event id → (episode id, event type id, event_date, deleted)
    events: dict[int, tuple[int, int, dt.datetime, int]] = field(default_factory=dict)
    #: visual acuity reading id → (element id, value, side 0 right / 1 left)
    va_readings: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    #: intraocular pressure value id → (element id, eye id, mmHg)
    iop_values: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    #: secondary_diagnosis id → (patient id, disorder id, eye id)
    diagnoses: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_openeyes_clinic(conn_str: str, database: str = "emr_openeyes_shaped") -> OpenEyesClinic:
    """Build the clinic on the MariaDB server of ``conn_str`` (a fresh database ``database``)."""
    target = _fresh_database(conn_str, database, "mariadb")
    db = OpenEyesClinic("mariadb", odbc=target, patients="patient")
    conn, put = mariadb_tables(db, target, DDL, time_zone="+09:00")
    stamp = dt.datetime(2024, 1, 2, 8, 30)

    def hk(at: dt.datetime = stamp, who: int = 1) -> tuple[Any, ...]:
        return (who, at, who, at)

    put("user", [(1, "admin", "관리", "시스템", None, 1, hashlib.sha1(b"not-a-real-password").hexdigest(), "ab12",
                  0, *hk()),
                 (2, "drkang", "안과", "강", "dr@example.invalid", 1, hashlib.sha1(b"not-real-either").hexdigest(),
                  "cd34", 1, *hk())])
    put("eye", [(i, name, i) for i, name in EYES.items()])
    put("firm", [(1, None, "GLA", "녹내장 클리닉", *hk(), 2), (2, None, "CAT", "백내장 클리닉", *hk(), 2)])
    put("disorder", [(i, fsn, term, *hk(), 1, 1) for i, (fsn, term) in DISORDERS.items()])
    put("event_type", [(i, name, *hk(), 1, cls, 0) for i, (name, cls) in EVENT_TYPES.items()])
    contacts: list[tuple[Any, ...]] = []
    patients: list[tuple[Any, ...]] = []
    for p in range(1, PATIENTS + 1):
        family, given = SURNAMES[p % 10], GIVEN[(p * 3) % 10]
        sex = "MF"[p % 2]
        dob = dt.date(1940 + p % 50, 1 + p % 12, 1 + p % 28)
        rrn = f"{dob:%y%m%d}-{(1 if dob.year < 2000 else 3) + p % 2}{p:06d}"  # made up: no checksum, no real one
        contacts.append((100 + p, None, f"010-0000-{p:04d}", None, given, family, None, None, *hk()))
        patients.append((p, None, dob, sex, f"{20240000 + p}", rrn, *hk(stamp + dt.timedelta(days=p)), None,
                         dt.date(2025, 2, 1) if p == 17 else None, None, None, 100 + p, 0))
        db.people[p] = (f"{family} {given}", sex, dob.isoformat())
    put("contact", contacts)
    put("patient", patients)
    # patient 5's chart number changed twice: the rows as they were (a history copy, never a second patient)
    put("patient_version", [(*patients[4][:4], f"OLD-{v}", *patients[4][5:], stamp + dt.timedelta(days=v), None)
                            for v in (1, 2)])
    db.dirty["corrected_patient"] = 5
    episodes: list[tuple[Any, ...]] = []
    for e in range(1, EPISODES + 1):
        pid = 1 + (e * 7) % PATIENTS
        start = stamp + dt.timedelta(days=3 * e)
        episodes.append((e, pid, 1 + e % 2, start, None, *hk(start), 1, 0, 0, 1 + e % 3,
                         (23986001, 193570009)[e % 2], 0))
        db.episodes[e] = pid
    put("episode", episodes)
    events: list[tuple[Any, ...]] = []
    for v in range(1, EVENTS + 1):
        episode = 1 + (v * 3) % EPISODES
        kind = 2 if v % 8 == 0 else 1
        at = stamp + dt.timedelta(days=3 * episode + v % 20, hours=v % 7)
        deleted = int(v in (11, 42))
        events.append((v, episode, 2, kind, 2, at, at, None, deleted, "잘못 입력" if deleted else None, at))
        db.events[v] = (episode, kind, at, deleted)
    db.dirty["deleted_events"] = (11, 42)
    put("event", events)
    exams = [v for v in db.events if db.events[v][1] == 1]
    operations = [v for v in db.events if db.events[v][1] == 2]
    put("ophciexamination_visualacuity_method", [(1, "Unaided", 1, *hk()), (2, "Glasses", 2, *hk()),
                                                 (3, "Pinhole", 3, *hk())])
    put("ophciexamination_visual_acuity_unit", [(1, "Snellen Metre", 1, *hk()), (2, "ETDRS Letters", 0, *hk())])
    vas: list[tuple[Any, ...]] = []
    readings: list[tuple[Any, ...]] = []
    for n, v in enumerate(exams, 1):
        at = db.events[v][2]
        eye = 1 if n == 4 else 3  # the fourth: the left eye alone
        vas.append((n, v, eye, "좌안 흐림" if n % 5 == 0 else None, None, 1, *hk(at), 0, 0, 0, 0))
        for side in ((1,) if eye == 1 else (0, 1)):
            value = 85 + (n * 3 + side * 7) % 25  # OpenEyes' base value (ETDRS letters + 30)
            readings.append((len(readings) + 1, n, value, 1 + n % 3, side, *hk(at)))
            db.va_readings[len(readings)] = (n, value, side)
    db.dirty["left_only_va"] = 4
    put("et_ophciexamination_visualacuity", vas)
    put("ophciexamination_visualacuity_reading", readings)
    put("ophciexamination_intraocularpressure_reading", [(i, str(i), i, i, *hk()) for i in range(1, 41)])
    put("ophciexamination_instrument", [(1, "Goldmann", 1, *hk()), (2, "iCare", 2, *hk())])
    iops: list[tuple[Any, ...]] = []
    values: list[tuple[Any, ...]] = []
    for n, v in enumerate(exams[::2], 1):
        at = db.events[v][2]
        iops.append((n, v, 3, None, "각막 부종" if n % 6 == 0 else None, *hk(at)))
        for eye in (2, 1):
            mmhg = 12 + (n * 5 + eye * 3) % 15
            values.append((len(values) + 1, n, eye, at.time(), mmhg, 1 + n % 2, *hk(at)))
            db.iop_values[len(values)] = (n, eye, mmhg)
    put("et_ophciexamination_intraocularpressure", iops)
    put("ophciexamination_intraocularpressure_value", values)
    elements = [(n, v, *hk(db.events[v][2])) for n, v in enumerate(exams[1::3], 1)]
    put("et_ophciexamination_diagnoses", elements)
    put("ophciexamination_diagnosis", [(n, n, list(DISORDERS)[n % 4], 1 + n % 3, int(n % 2 == 0),
                                        f"{db.events[v][2]:%Y-%m-%d}", *hk(db.events[v][2]))
                                       for n, v, *_ in elements])
    secondary: list[tuple[Any, ...]] = []
    for s in range(1, 46):
        pid = 1 + (s * 11) % PATIENTS
        disorder = list(DISORDERS)[s % 5]
        eye = None if disorder == 38341003 else 1 + s % 3  # hypertension: no eye
        secondary.append((s, disorder, eye, pid, f"20{10 + s % 14}-{1 + s % 12:02d}" if s % 4 else "2019",
                          *hk(stamp + dt.timedelta(days=s))))
        db.diagnoses[s] = (pid, disorder, eye)
    put("secondary_diagnosis", secondary)
    put("secondary_diagnosis_version", [(*secondary[s - 1][:2], 3, *secondary[s - 1][3:],
                                         stamp + dt.timedelta(days=s, hours=1), None) for s in (2, 2, 9, 30)])
    db.dirty["versioned_diagnoses"] = (2, 9, 30)
    put("allergy", [(1, "페니실린", *hk(), 1), (2, "아트로핀", *hk(), 2), (3, "요오드 조영제", *hk(), 3)])
    allergies = [(a, 1 + (a * 5) % PATIENTS, 1 + a % 3, "발진" if a % 2 else None, None, *hk()) for a in range(1, 19)]
    put("patient_allergy_assignment", allergies)
    put("patient_allergy_assignment_version", [(*allergies[0][:3], None, None, *hk(), stamp, None)])
    put("drug", [(1, "Latanoprost 0.005% eye drops", "LATANOprost", "drop", "1", *hk()),
                 (2, "Timolol 0.5% eye drops", None, "drop", "1", *hk()),
                 (3, "Prednisolone acetate 1% eye drops", None, "drop", "1", *hk())])
    put("drug_route", [(1, "Eye", 1, *hk()), (2, "Oral", 2, *hk())])
    put("drug_frequency", [(1, "od", "once a day", 1, *hk()), (2, "bd", "twice a day", 2, *hk()),
                           (3, "qds", "four times a day", 3, *hk())])
    put("medication", [(m, 1 + (m * 3) % PATIENTS, 1 + m % 3, 1, None, 1 + m % 3, "1 drop",
                        (stamp + dt.timedelta(days=m)).date(), (stamp + dt.timedelta(days=m + 30)).date()
                        if m % 4 == 0 else None, *hk()) for m in range(1, 31)])
    put("proc", [(1, "Phacoemulsification and IOL", "Phaco/IOL", 30, "415089008", "Phacoemulsification of lens",
                  *hk()),
                 (2, "Trabeculectomy", "Trab", 60, "392022007", "Trabeculectomy", *hk())])
    lists = [(n, v, 1 + n % 2, *hk(db.events[v][2]), None) for n, v in enumerate(operations, 1)]
    put("et_ophtroperationnote_procedurelist", lists)
    put("ophtroperationnote_procedurelist_procedure_assignment",
        [(n, n, 1 + n % 2, 1, *hk(db.events[v][2])) for n, v, *_ in lists])
    put("audit", [(a, ("view", "create", "update")[a % 3], ("patient", "event")[a % 2], 1 + a % PATIENTS,
                   None, 1 + a % EVENTS if a % 2 else None, 2, None, "10.0.0.5", "Mozilla/5.0", "oe.local",
                   f"/patient/view/{1 + a % PATIENTS}", *hk(stamp + dt.timedelta(hours=a))) for a in range(1, 41)])
    conn.close()
    return db
