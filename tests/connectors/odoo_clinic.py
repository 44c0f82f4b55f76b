"""A synthetic clinic shaped like an Odoo medical EMR (OCA vertical-medical / BrowseInfo's and OeHealth's
``medical.*`` modules) on PostgreSQL (test data only; names Korean and made up).

Odoo's physical shape, as its ORM makes it: one table per model, the model's dots as underscores
(``medical.patient`` → ``medical_patient``), every table keyed by ``id serial`` with ``create_uid``, ``create_date``,
``write_uid``, ``write_date`` (``timestamp without time zone``, UTC); a Many2one an integer column ``…_id``; a
Selection a varchar of short codes (``state`` draft/confirmed/done/cancel); ``active`` booleans for the soft
delete (archiving); ``company_id`` on most rows; record names from ``ir.sequence`` (``APT/2024/0001``); a Many2many
through a ``<a>_<b>_rel`` table of the two ids alone, no ``id`` and no audit columns.

Every person is one ``res_partner`` row: patients, physicians, the insurer and the companies (``is_company``),
``name`` the full name in one string, ``ref`` and ``vat`` free identifiers (the RRN in ``vat`` for some patients,
masked for others); ``medical_patient`` holds ``partner_id`` and the clinical flags (gender, blood type, deceased),
``medical_physician`` a ``partner_id`` too. Diagnoses: ``medical_patient_disease.pathology_id`` → the code table
``medical_pathology``; an appointment's diagnoses in ``medical_appointment_medical_pathology_rel``. A prescription
line's drug name three hops away: line → ``medical_medicament.product_id`` → ``product_product.product_tmpl_id`` →
``product_template.name``. ``ir_attachment`` holds documents of ANY model (``res_model``, ``res_id``: a patient's
scan, an appointment's referral letter, a company's logo, an invoice's PDF), the bytes in ``db_datas`` or a
filestore path in ``store_fname``; ``mail_message`` the chatter (``model``, ``res_id``, HTML ``body``) of every
model. ``ir_model``, ``ir_translation``, ``ir_config_parameter`` are the framework's; ``res_users`` holds password
hashes.

Planted: an archived patient (its partner ``active`` false); a cancelled appointment (``state`` 'cancel') and a
draft one; an appointment of a patient id nobody has (orphan); attachments and messages whose ``res_id`` is the id
of a patient AND of an appointment AND of a partner (only ``res_model`` tells them apart).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database, postgres_tables

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지민"]
PATIENTS = 40
APPOINTMENTS = 90
#: res_partner ids: 1 the clinic (a company), 2 the insurer (a company), 3-4 the physicians, 10 + i patient i's
CLINIC, INSURER, DOCTORS, PARTNER = 1, 2, (3, 4), 10
#: pathology id → (code, name)
PATHOLOGIES = {1: ("J00", "급성 비인두염"), 2: ("I10", "본태성 고혈압"), 3: ("K29.7", "상세불명의 위염"),
               4: ("E11.9", "합병증을 동반하지 않은 2형 당뇨병"), 5: ("M54.5", "요통")}
#: product template id → drug name
DRUGS = {1: "타이레놀정 500mg", 2: "노바스크정 5mg", 3: "아목시실린캡슐 250mg"}

_AUDIT = "create_uid integer, create_date timestamp without time zone, write_uid integer, " \
         "write_date timestamp without time zone"

DDL: dict[str, str] = {
    "res_company": f"id serial PRIMARY KEY, name varchar NOT NULL, partner_id integer NOT NULL, currency_id integer, "
                   f"active boolean, {_AUDIT}",
    "res_partner": "id serial PRIMARY KEY, name varchar, display_name varchar, company_id integer, type varchar, "
                   "parent_id integer, ref varchar, vat varchar, lang varchar, tz varchar, active boolean, "
                   "is_company boolean, street varchar, city varchar, zip varchar, phone varchar, mobile varchar, "
                   f"email varchar, comment text, customer_rank integer, supplier_rank integer, {_AUDIT}",
    "res_users": "id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar, partner_id integer NOT "
                 f"NULL, company_id integer NOT NULL, active boolean, share boolean, signature text, {_AUDIT}",
    "ir_model": f"id serial PRIMARY KEY, name varchar NOT NULL, model varchar NOT NULL, info text, state varchar, "
                f"transient boolean, {_AUDIT}",
    "ir_translation": "id serial PRIMARY KEY, name varchar NOT NULL, res_id integer, lang varchar, type varchar, "
                      "src text, value text, module varchar, state varchar, comments text",
    "ir_config_parameter": f"id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL, {_AUDIT}",
    "medical_patient": "id serial PRIMARY KEY, partner_id integer NOT NULL, identification_code varchar, gender "
                       "varchar, birthdate_date date, blood_type varchar, rh varchar, is_deceased boolean, "
                       f"date_death timestamp without time zone, active boolean, company_id integer, {_AUDIT}",
    "medical_physician": "id serial PRIMARY KEY, partner_id integer NOT NULL, code varchar, specialty varchar, "
                         f"active boolean, {_AUDIT}",
    "medical_pathology": f"id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL, notes text, active "
                         f"boolean, {_AUDIT}",
    "medical_appointment": "id serial PRIMARY KEY, name varchar NOT NULL, patient_id integer NOT NULL, physician_id "
                           "integer, appointment_date timestamp without time zone NOT NULL, duration double "
                           "precision, urgency varchar, state varchar, comments text, company_id integer, "
                           f"{_AUDIT}",
    "medical_appointment_medical_pathology_rel": "medical_appointment_id integer NOT NULL, medical_pathology_id "
                                                 "integer NOT NULL, PRIMARY KEY (medical_appointment_id, "
                                                 "medical_pathology_id)",
    "medical_patient_disease": "id serial PRIMARY KEY, patient_id integer NOT NULL, pathology_id integer NOT NULL, "
                               "physician_id integer, diagnosed_date date, healed_date date, disease_severity "
                               f"varchar, is_active boolean, short_comment varchar, {_AUDIT}",
    "product_template": "id serial PRIMARY KEY, name varchar NOT NULL, type varchar, default_code varchar, "
                        f"list_price numeric, active boolean, company_id integer, {_AUDIT}",
    "product_product": "id serial PRIMARY KEY, product_tmpl_id integer NOT NULL, default_code varchar, barcode "
                       f"varchar, active boolean, {_AUDIT}",
    "medical_medicament": "id serial PRIMARY KEY, product_id integer NOT NULL, active_component varchar, "
                          f"presentation varchar, indications text, {_AUDIT}",
    "medical_prescription_order": "id serial PRIMARY KEY, name varchar NOT NULL, patient_id integer NOT NULL, "
                                  "physician_id integer, date_prescription timestamp without time zone, state "
                                  f"varchar, notes text, company_id integer, {_AUDIT}",
    "medical_prescription_order_line": "id serial PRIMARY KEY, prescription_order_id integer NOT NULL, "
                                       "medicament_id integer NOT NULL, dose double precision, dose_unit varchar, "
                                       "frequency varchar, duration integer, duration_period varchar, qty "
                                       f"integer, is_active boolean, {_AUDIT}",
    "ir_attachment": "id serial PRIMARY KEY, name varchar NOT NULL, description text, res_model varchar, res_field "
                     "varchar, res_id integer, company_id integer, type varchar NOT NULL, url varchar, public "
                     "boolean, db_datas bytea, store_fname varchar, file_size integer, checksum varchar, mimetype "
                     f"varchar, {_AUDIT}",
    "mail_message": "id serial PRIMARY KEY, subject varchar, date timestamp without time zone, body text, model "
                    "varchar, res_id integer, record_name varchar, message_type varchar NOT NULL, author_id "
                    f"integer, {_AUDIT}",
}


@dataclass
class OdooClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: planted rows: name → the row's id
    dirty: dict[str, int] = field(default_factory=dict)
    #: medical_patient id → (full name as res_partner.name holds it, gender, birth date)
    people: dict[int, tuple[str, str, dt.date]] = field(default_factory=dict)
    #: medical_appointment id → (medical_patient id, state)
    appointments: dict[int, tuple[int, str]] = field(default_factory=dict)
    #: ir_attachment id → (res_model, res_id)
    attachments: dict[int, tuple[str, int]] = field(default_factory=dict)
    #: mail_message id → (model, res_id)
    messages: dict[int, tuple[str, int]] = field(default_factory=dict)
    #: for tests/test_random_server_clinics.py's flow
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def create_odoo_clinic(conn_str: str, database: str = "emr_odoo_shaped") -> OdooClinic:
    """Build the clinic on the PostgreSQL server of ``conn_str`` (a fresh database ``database``)."""
    target = _fresh_database(conn_str, database, "postgresql")
    db = OdooClinic("postgresql", odbc=target, patients="medical_patient")
    conn, put = postgres_tables(db, target, DDL)
    created = dt.datetime(2024, 1, 2, 0, 30, 0, 250000)

    def audit(at: dt.datetime = created, changed: bool = False) -> tuple[Any, ...]:
        return (2, at, 2 if changed else 1, at + dt.timedelta(hours=3) if changed else at)

    put("res_company", [(1, "행복내과의원", CLINIC, 32, True, *audit())])
    partners: list[tuple[Any, ...]] = [
        (CLINIC, "행복내과의원", "행복내과의원", 1, "contact", None, None, "123-45-67890", "ko_KR", "Asia/Seoul", True,
         True, "가상로 1", "서울특별시", "04524", "02-555-0100", None, "clinic@example.kr", None, 0, 0, *audit()),
        (INSURER, "가상손해보험(주)", "가상손해보험(주)", 1, "contact", None, "INS-01", "220-81-00000", "ko_KR", "Asia/Seoul",
         True, True, "보험로 9", "서울특별시", "07325", "1588-0000", None, None, "<p>실손보험 청구처</p>", 0, 1, *audit()),
        (DOCTORS[0], "김의사", "행복내과의원, 김의사", 1, "contact", CLINIC, "DR-001", None, "ko_KR", "Asia/Seoul", True,
         False, None, None, None, None, "010-1000-0001", "dr.kim@example.kr", None, 0, 0, *audit()),
        (DOCTORS[1], "이의사", "행복내과의원, 이의사", 1, "contact", CLINIC, "DR-002", None, "ko_KR", "Asia/Seoul", True,
         False, None, None, None, None, "010-1000-0002", None, None, 0, 0, *audit())]
    for p in range(1, PATIENTS + 1):
        name = SURNAMES[p % 10] + GIVEN[(p * 7) % 10]
        sex = "mf"[p % 2]
        birth = dt.date(1950 + p % 50, 1 + p % 12, 1 + p % 28)
        rrn_tail = ("1" if sex == "m" else "2") if birth.year < 2000 else ("3" if sex == "m" else "4")
        rrn = f"{birth:%y%m%d}-{rrn_tail}{p:06d}"
        # the RRN in vat for most, masked for every fourth (the clinic's policy changed); none for patient 5
        vat = None if p == 5 else rrn[:8] + "******" if p % 4 == 0 else rrn
        archived = p == 11
        partners.append((PARTNER + p, name, name, 1, "contact", None, f"C{p:05d}", vat, "ko_KR", "Asia/Seoul",
                         not archived, False, f"가상로 {p}길 {p * 3}", "서울특별시" if p % 3 else "성남시",
                         f"{p:05d}", None, f"010-{3000 + p:04d}-{5000 + p:04d}",
                         f"pt{p}@example.kr" if p % 3 == 0 else None,
                         "<p>보호자 연락 요망</p>" if p % 10 == 3 else None, 1, 0, *audit(changed=p % 4 == 0)))
        db.people[p] = (name, sex, birth)
    db.dirty["archived_patient"] = 11
    put("res_partner", partners)
    put("res_users", [(1, "__system__", None, CLINIC, 1, False, False, None, *audit()),
                      (2, "admin", "$pbkdf2-sha512$25000$" + "a" * 40, DOCTORS[0], 1, True, False,
                       "<p>김의사 드림</p>", *audit())])
    put("ir_model", [(i, label, model, None, "base", False, *audit()) for i, (label, model) in enumerate([
        ("Contact", "res.partner"), ("Patient", "medical.patient"), ("Appointment", "medical.appointment"),
        ("Attachment", "ir.attachment"), ("Message", "mail.message"), ("Journal Entry", "account.move")], 1)])
    put("ir_translation", [(1, "ir.model,name", 2, "ko_KR", "model", "Patient", "환자", "medical", "translated", None),
                           (2, "ir.model,name", 3, "ko_KR", "model", "Appointment", "예약", "medical", "translated",
                            None),
                           (3, "medical.appointment,state", None, "ko_KR", "selection", "Cancelled", "취소",
                            "medical", "translated", None)])
    put("ir_config_parameter", [(1, "database.uuid", "7d0e2c4a-0000-4000-8000-000000000000", *audit()),
                                (2, "web.base.url", "http://localhost:8069", *audit())])
    put("medical_physician", [(1, DOCTORS[0], "PHY-001", "내과", True, *audit()),
                              (2, DOCTORS[1], "PHY-002", "가정의학과", True, *audit())])
    # the patients' ids are not their partners' (patient p: partner 10 + p)
    put("medical_patient", [(p, PARTNER + p, f"PAT/{p:04d}", sex, birth, "ABO"[p % 3] if p % 4 else "AB",
                             "+" if p % 7 else "-", p == 17, dt.datetime(2024, 5, 1, 5, 30) if p == 17 else None,
                             p != 11, 1, *audit(changed=p % 5 == 0)) for p, (_, sex, birth) in db.people.items()])
    put("medical_pathology", [(k, name, code, None, True, *audit()) for k, (code, name) in PATHOLOGIES.items()])
    base = dt.datetime(2024, 2, 5, 0, 0)
    appointments: list[tuple[Any, ...]] = []
    diagnosed: list[tuple[Any, ...]] = []
    for a in range(1, APPOINTMENTS + 1):
        pid = 999 if a == 7 else 1 + (a * 3) % PATIENTS
        at = base + dt.timedelta(days=a // 2, hours=a % 8, minutes=(a * 11) % 60)
        state = "cancel" if a % 15 == 4 else "draft" if a == APPOINTMENTS else "confirmed" if a % 15 == 9 else "done"
        appointments.append((a, f"APT/2024/{a:04d}", pid, 1 + a % 2, at, 0.25 if a % 3 else 0.5,
                             "a" if a % 11 else "b", state, "<p>두통 및 발열</p>" if a % 5 == 0 else None, 1,
                             *audit(at, changed=state != "draft")))
        db.appointments[a] = (pid, state)
        if state == "done":
            diagnosed.extend((a, 1 + (a + k) % 5) for k in range(1 + a % 2))
    db.dirty["orphan_appointment"] = 7
    db.dirty["cancelled_appointment"] = 4
    put("medical_appointment", appointments)
    put("medical_appointment_medical_pathology_rel", diagnosed)
    put("medical_patient_disease", [
        (i, 1 + (i * 3) % PATIENTS, 1 + i % 5, 1 + i % 2, dt.date(2019 + i % 5, 1 + i % 12, 1 + i % 27),
         dt.date(2024, 1, 2) if i % 7 == 0 else None, ["1_mi", "2_mo", "3_sv"][i % 3], i % 7 != 0,
         "추적 관찰" if i % 4 == 0 else None, *audit()) for i in range(1, 36)])
    put("product_template", [(t, name, "product", f"D{t:03d}", 1000 * t, True, 1, *audit())
                             for t, name in DRUGS.items()])
    # the product ids are not their templates' (template t: product 20 + t), nor the medicaments' (product 20 + t:
    # medicament 30 + t)
    put("product_product", [(20 + t, t, f"D{t:03d}", f"880{t:010d}", True, *audit()) for t in DRUGS])
    put("medical_medicament", [(30 + t, 20 + t, ("acetaminophen", "amlodipine", "amoxicillin")[t - 1],
                                "정제" if t < 3 else "캡슐", None, *audit()) for t in DRUGS])
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for o in range(1, 41):
        at = base + dt.timedelta(days=o, hours=1)
        orders.append((o, f"RX/2024/{o:04d}", 1 + (o * 5) % PATIENTS, 1, at, "cancel" if o % 13 == 0 else "done",
                       None, 1, *audit(at)))
        for n in range(1 + o % 2):
            lines.append((len(lines) + 1, o, 30 + 1 + (o + n) % 3, 1.0 if n == 0 else 0.5, "tab", "1일 3회",
                          3 + o % 5, "days", 9 + o % 5, True, *audit(at)))
    put("medical_prescription_order", orders)
    put("medical_prescription_order_line", lines)
    pdf = b"%PDF-1.4\n% synthetic\n"
    attachments: list[tuple[Any, ...]] = []

    def attach(model: str, res_id: int, name: str, mimetype: str, data: bytes | None, fname: str | None) -> None:
        k = len(attachments) + 1
        attachments.append((k, name, None, model, None, res_id, 1, "binary", None, False, data, fname,
                            len(data) if data else 2048, f"{k:040x}", mimetype, *audit()))
        db.attachments[k] = (model, res_id)

    for p in range(1, 13):  # a patient's scanned consent form: bytes in the database or a filestore path
        attach("medical.patient", p, f"동의서_{p}.pdf", "application/pdf", pdf + bytes([p]) if p % 2 else None,
               None if p % 2 else f"{p:02x}/{p:040x}")
    for a in range(1, 9):  # an appointment's referral letter: appointment a's id is also patient a's and a partner's
        attach("medical.appointment", a, f"진료의뢰서_{a}.pdf", "application/pdf", pdf + b"A" + bytes([a]), None)
    attach("res.partner", INSURER, "logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 8, None)
    attach("res.partner", PARTNER + 3, "명함.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\1" * 8, None)
    attach("account.move", 3, "INV_2024_0003.pdf", "application/pdf", None, "ab/" + "c" * 40)
    attach("ir.ui.view", 1, "web_icon.svg", "image/svg+xml", b"<svg/>", None)
    db.dirty["partner_attachment"] = len(attachments) - 2  # res.partner 13 (patient 3's partner), res_id 13
    put("ir_attachment", attachments)
    messages: list[tuple[Any, ...]] = []

    def say(model: str, res_id: int, body: str, kind: str = "comment", subject: str | None = None) -> None:
        k = len(messages) + 1
        messages.append((k, subject, created + dt.timedelta(days=k), body, model, res_id, None, kind, DOCTORS[0],
                         *audit()))
        db.messages[k] = (model, res_id)

    for p in range(1, 16):
        say("medical.patient", p, f"<p>{db.people[p][0]} 환자: 혈압 재측정 필요</p>")
    for a in (1, 2, 3, 4):
        say("medical.appointment", a, "<p>예약이 <b>취소</b>되었습니다</p>" if a == 4 else "<p>예약 확정</p>",
            "notification")
    say("res.partner", INSURER, "<p>보험사 담당자 변경</p>")
    say("account.move", 3, "<p>청구서 발송</p>", "notification", "INV/2024/0003")
    put("mail_message", messages)
    for table, columns in DDL.items():  # Odoo's sequences follow the ids it gave
        if columns.startswith("id serial"):
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT COALESCE(MAX(id), 1) FROM {table}))")
    conn.close()
    return db
