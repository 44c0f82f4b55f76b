"""A synthetic clinic shaped like GNUmed on PostgreSQL (test data only), as its server/sql files declare it.

GNUmed's habits: tables spread over schemas (``dem`` the people, ``clin`` the chart, ``ref`` the reference data,
``blobs`` the documents, ``audit`` the audit trail); surrogate keys ``pk`` and references ``fk_*`` (older tables:
``id`` and ``id_identity``); every audited table inherits ``audit.audit_fields`` (``pk_audit``, ``row_version``,
``modified_when`` timestamptz, ``modified_by`` of type ``name``) and has its ``audit.log_<table>``, which inherits
``audit.audit_trail`` (``orig_version``, ``orig_when``, ``orig_by``, ``orig_tableoid``, ``audit_action``,
``audit_when``, ``audit_by``) and repeats the table's columns. The person ``dem.identity`` (``dob`` timestamptz,
``gender`` a tag of ``dem.gender_label``) has no name: its names are rows of ``dem.names`` (``id_identity``,
``firstnames``, ``lastnames``, ``active``; several a person, one active), its external ids rows of
``dem.lnk_identity2ext_id`` (``id_identity``, ``external_id``, ``fk_origin`` of ``dem.enum_ext_id_types``: the
주민등록번호, masked or whole, and the old chart number). The chart hangs off ``clin.encounter`` (``fk_patient``):
``clin.health_issue`` and ``clin.episode`` name their encounter, and every clinical item inherits
``clin.clin_root_item`` (``clin_when``, ``fk_encounter``, ``fk_episode``, ``narrative``, ``soap_cat``): SOAP notes
(``clin.clin_narrative``), ``clin.allergy``, ``clin.vaccination``, ``clin.test_result`` (``val_num``,
``val_alpha``, ``val_unit``, ``fk_type`` of ``clin.test_type``), ``clin.substance_intake``; such a row reaches its
patient only through its encounter (two hops). Documents: ``blobs.doc_med`` (its encounter and episode) and its
pages ``blobs.doc_obj`` (``data`` bytea, ``filename``): a page reaches its patient three hops away (page → document
→ encounter → patient).

Names are Korean and made up; no real data. Planted: a person with two names (the old one inactive), a
vaccination of an encounter nobody has (orphan), a test result of text only (no number), a patient who died
(``dem.identity.deceased``: the time of death, NULL for the living), a page whose document is missing (a dead
chain: ``fk_doc`` 99).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원"]
PATIENTS = 30
ENCOUNTERS = 60  # encounter e is patient (e % PATIENTS) + 1's
KST = dt.timezone(dt.timedelta(hours=9))
AT = dt.datetime(2024, 3, 4, 9, 30, tzinfo=KST)
DEAD = 9  # the one patient who died
PAGES = 17  # blobs.doc_obj: two pages a document (8 documents), and one page of a document nobody has

_AUDITED = "INHERITS (audit.audit_fields)"
_ITEM = "INHERITS (clin.clin_root_item)"
#: table → (its own columns, its INHERITS clause); a table's cells: its own and its parents' columns
DDL: dict[str, tuple[str, str]] = {
    "audit.audit_fields": ("pk_audit serial NOT NULL, row_version integer NOT NULL DEFAULT 0, "
                           "modified_when timestamptz NOT NULL DEFAULT now(), "
                           "modified_by name NOT NULL DEFAULT CURRENT_USER", ""),
    "audit.audit_trail": ("pk_audit serial PRIMARY KEY, orig_version integer NOT NULL, orig_when timestamptz NOT NULL, "
                          "orig_by name NOT NULL, orig_tableoid oid NOT NULL, audit_action text NOT NULL "
                          "CHECK (audit_action IN ('UPDATE', 'DELETE')), audit_when timestamptz NOT NULL, "
                          "audit_by name NOT NULL", ""),
    "dem.gender_label": ("pk serial PRIMARY KEY, tag text NOT NULL UNIQUE, label text NOT NULL, "
                         "sort_weight integer NOT NULL, comment text NOT NULL", _AUDITED),
    "dem.identity": ("pk serial PRIMARY KEY, pupic char(24), gender text REFERENCES dem.gender_label(tag), "
                     "karyotype text, dob timestamptz NOT NULL, fk_marital_status integer, cob char(2), "
                     "deceased timestamptz, title text, tob time, dob_is_estimated boolean NOT NULL DEFAULT false, "
                     "comment text", _AUDITED),
    "dem.names": ("id serial PRIMARY KEY, id_identity integer NOT NULL REFERENCES dem.identity(pk), "
                  "active boolean DEFAULT true, lastnames text NOT NULL, firstnames text NOT NULL, "
                  "preferred text, comment text", ""),
    "dem.enum_ext_id_types": ("pk serial PRIMARY KEY, name text NOT NULL, issuer text, "
                              "context char(1) DEFAULT 'p' CHECK (context IN ('p', 'o', 'c', 's'))", ""),
    "dem.lnk_identity2ext_id": ("id serial PRIMARY KEY, id_identity integer NOT NULL REFERENCES dem.identity(pk), "
                                "external_id text NOT NULL, fk_origin integer NOT NULL "
                                "REFERENCES dem.enum_ext_id_types(pk), comment text", _AUDITED),
    "clin.encounter_type": ("pk serial PRIMARY KEY, description text NOT NULL UNIQUE", _AUDITED),
    "clin.encounter": ("pk serial PRIMARY KEY, fk_patient integer NOT NULL REFERENCES dem.identity(pk), "
                       "fk_type integer NOT NULL REFERENCES clin.encounter_type(pk), fk_location integer, "
                       "source_time_zone interval, reason_for_encounter text, assessment_of_encounter text, "
                       "started timestamptz NOT NULL, last_affirmed timestamptz NOT NULL", _AUDITED),
    "clin.health_issue": ("pk serial PRIMARY KEY, description text, laterality varchar(2), age_noted interval, "
                          "is_active boolean DEFAULT true, clinically_relevant boolean DEFAULT true, "
                          "is_confidential boolean DEFAULT false, is_cause_of_death boolean NOT NULL DEFAULT false, "
                          "fk_encounter integer NOT NULL REFERENCES clin.encounter(pk), grouping text, "
                          "diagnostic_certainty_classification text, summary text", _AUDITED),
    "clin.episode": ("pk serial PRIMARY KEY, fk_health_issue integer REFERENCES clin.health_issue(pk), "
                     "description text NOT NULL, is_open boolean DEFAULT true, "
                     "fk_encounter integer NOT NULL REFERENCES clin.encounter(pk), "
                     "diagnostic_certainty_classification text, summary text", _AUDITED),
    "clin.clin_root_item": ("pk_item serial NOT NULL, clin_when timestamptz NOT NULL DEFAULT now(), "
                            "fk_encounter integer NOT NULL, fk_episode integer NOT NULL, narrative text, "
                            "soap_cat text CHECK (soap_cat IN ('s', 'o', 'a', 'p'))", _AUDITED),
    "clin.clin_narrative": ("pk serial PRIMARY KEY", _ITEM),
    "clin._enum_allergy_type": ("pk serial PRIMARY KEY, value text NOT NULL UNIQUE", ""),
    "clin.allergy": ("pk serial PRIMARY KEY, substance text NOT NULL, substance_code text, generics text, "
                     "allergene text, atc_code text, fk_type integer NOT NULL REFERENCES clin._enum_allergy_type(pk), "
                     "generic_specific boolean NOT NULL DEFAULT false, definite boolean NOT NULL DEFAULT false",
                     _ITEM),
    "ref.drug_product": ("pk serial PRIMARY KEY, description text NOT NULL, preparation text NOT NULL, "
                         "atc_code text, is_fake boolean NOT NULL DEFAULT false", _AUDITED),
    "ref.vaccine": ("pk serial PRIMARY KEY, fk_drug_product integer REFERENCES ref.drug_product(pk), "
                    "is_live boolean NOT NULL DEFAULT false, min_age interval, max_age interval, comment text",
                    _AUDITED),
    "clin.vaccination": ("pk serial PRIMARY KEY, fk_vaccine integer NOT NULL REFERENCES ref.vaccine(pk), "
                         "site text, batch_no text NOT NULL, reaction text", _ITEM),
    "clin.test_type": ("pk serial PRIMARY KEY, fk_test_org integer, abbrev text NOT NULL, name text, loinc text, "
                       "comment text, reference_unit text", _AUDITED),
    "clin.test_result": ("pk serial PRIMARY KEY, fk_type integer NOT NULL REFERENCES clin.test_type(pk), "
                         "val_num numeric, val_alpha text, val_unit text, val_normal_min numeric, "
                         "val_normal_max numeric, val_normal_range text, technically_abnormal text, material text, "
                         "fk_intended_reviewer integer", _ITEM),
    "ref.substance": ("pk serial PRIMARY KEY, description text NOT NULL, atc text, intake_instructions text",
                      _AUDITED),
    "clin.substance_intake": ("pk serial PRIMARY KEY, fk_substance integer REFERENCES ref.substance(pk), "
                              "intake_is_approved_of boolean, schedule text, duration interval, aim text, "
                              "is_long_term boolean, discontinued timestamptz, discontinue_reason text", _ITEM),
    "blobs.doc_type": ("pk serial PRIMARY KEY, name text NOT NULL UNIQUE", _AUDITED),
    "blobs.doc_med": ("pk serial PRIMARY KEY, fk_type integer NOT NULL REFERENCES blobs.doc_type(pk), comment text, "
                      "clin_when timestamptz NOT NULL, ext_ref text, "
                      "fk_encounter integer NOT NULL REFERENCES clin.encounter(pk), fk_episode integer NOT NULL "
                      "REFERENCES clin.episode(pk)", _AUDITED),
    # fk_doc without its constraint: a page whose document was deleted (a dead chain) stays behind
    "blobs.doc_obj": ("pk serial PRIMARY KEY, fk_doc integer NOT NULL, "
                      "seq_idx integer, comment text, fk_intended_reviewer integer, data bytea NOT NULL, "
                      "filename text", _AUDITED),
}
#: audit.log_<table>: the audit trail's columns, then the audited table's own (no keys, no defaults)
LOGGED = {
    "audit.log_identity": "pk integer, pupic char(24), gender text, karyotype text, dob timestamptz, "
                          "fk_marital_status integer, cob char(2), deceased timestamptz, title text, tob time, "
                          "dob_is_estimated boolean, comment text",
    "audit.log_lnk_identity2ext_id": "id integer, id_identity integer, external_id text, fk_origin integer, "
                                     "comment text",
    "audit.log_clin_narrative": "pk_item integer, clin_when timestamptz, fk_encounter integer, fk_episode integer, "
                                "narrative text, soap_cat text, pk integer",
}
AUDIT_FIELDS = 4  # pk_audit, row_version, modified_when, modified_by
ROOT_ITEM = AUDIT_FIELDS + 6  # and pk_item, clin_when, fk_encounter, fk_episode, narrative, soap_cat
TRAIL = 8


@dataclass
class GnumedClinic(ForeignDb):
    """The database as built: rows and cells per table, and what was planted."""

    #: identity pk → (its active name "성 이름", gender tag, dob as a date)
    people: dict[int, tuple[str, str, dt.date]] = field(default_factory=dict)
    #: identity pk → its 주민등록번호 as stored in dem.lnk_identity2ext_id (whole or masked)
    rrns: dict[int, str] = field(default_factory=dict)
    #: identity pk → the time of death stored in dem.identity.deceased (the others living: NULL)
    dead: dict[int, dt.datetime] = field(default_factory=dict)
    #: encounter pk → identity pk
    encounters: dict[int, int] = field(default_factory=dict)
    #: (clinical table, its pk) → the identity pk it reaches through its encounter
    reaches: dict[tuple[str, int], int] = field(default_factory=dict)
    dirty: dict[str, int] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _rrn(pk: int, born: dt.date, gender: str, masked: bool) -> str:
    century = (1 if born.year < 2000 else 3) + (gender == "f")
    head = f"{born:%y%m%d}-{century}"
    return head + ("******" if masked else f"{(pk * 7919) % 1_000_000:06d}")


def create_gnumed_clinic(conn_str: str, database: str = "emr_gnumed_shaped") -> GnumedClinic:
    """Build the clinic on the PostgreSQL server of ``conn_str`` (a fresh database ``database``)."""
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = GnumedClinic("postgresql", odbc=target, patients="dem.identity")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    for schema in ("dem", "clin", "ref", "blobs", "audit"):
        c.execute(f"CREATE SCHEMA {schema}")
    for name, (columns, inherits) in DDL.items():
        c.execute(f"CREATE TABLE {name} ({columns}) {inherits}")
    for name, columns in LOGGED.items():
        c.execute(f"CREATE TABLE {name} ({columns}) INHERITS (audit.audit_trail)")
    # the audit fields as GNUmed's triggers keep them: who changed the row, when, how often
    audit_seq = iter(range(1, 10_000))

    def audited(version: int = 0) -> tuple[Any, ...]:
        return (next(audit_seq), version, AT + dt.timedelta(minutes=version * 17), "gm-dbo" if version else "any-doc")

    def put(table: str, rows: list[tuple[Any, ...]], *, casts: dict[int, str] | None = None) -> None:
        width = len(rows[0])
        marks = [f"CAST(? AS {casts[i]})" if casts and i in casts else "?" for i in range(width)]
        c.executemany(f"INSERT INTO {table} VALUES ({', '.join(marks)})", rows)
        db.table(table, width, len(rows))

    # audited tables: the parent's columns first (INHERITS puts them first), then the table's own
    put("dem.gender_label", [(*audited(), 1, "m", "남", 1, "male"), (*audited(), 2, "f", "여", 2, "female")])
    people: list[tuple[Any, ...]] = []
    names: list[tuple[Any, ...]] = []
    for pk in range(1, PATIENTS + 1):
        gender = "mf"[pk % 2]
        born = dt.date(1940 + pk * 2, pk % 12 + 1, pk % 27 + 1)
        dob = dt.datetime(born.year, born.month, born.day, 11, 0, tzinfo=KST)
        surname, given = SURNAMES[pk % len(SURNAMES)], GIVEN[pk % len(GIVEN)]
        if pk == DEAD:
            db.dead[pk] = dt.datetime(2024, 11, 2, 4, 15, tzinfo=KST)
        died = db.dead[pk].isoformat() if pk in db.dead else None
        people.append((*audited(pk % 3), pk, None, gender, None, dob.isoformat(), None, "KR", died,
                       "박사" if pk == 4 else None, None, pk == 6, None))
        if pk % 5 == 0:  # married: the maiden name kept, inactive, before the active one
            names.append((len(names) + 1, pk, False, SURNAMES[(pk + 3) % len(SURNAMES)], given, None, "결혼 전 성"))
        names.append((len(names) + 1, pk, True, surname, given, given[:1] if pk % 4 == 0 else None, None))
        db.people[pk] = (f"{surname} {given}", gender, born)
    put("dem.identity", people, casts={AUDIT_FIELDS + 4: "timestamptz", AUDIT_FIELDS + 7: "timestamptz"})
    put("dem.names", names)
    db.dirty["renamed"] = 5
    put("dem.enum_ext_id_types", [(1, "주민등록번호", "행정안전부", "p"), (2, "구 차트번호", "이전 EMR", "p")])
    ext: list[tuple[Any, ...]] = []
    for pk in range(1, PATIENTS + 1):
        born, gender = db.people[pk][2], db.people[pk][1]
        db.rrns[pk] = _rrn(pk, born, gender, masked=pk % 3 == 0)
        ext.append((*audited(), len(ext) + 1, pk, db.rrns[pk], 1, "마스킹" if pk % 3 == 0 else None))
        if pk % 2 == 0:
            ext.append((*audited(), len(ext) + 1, pk, f"C{pk:06d}", 2, None))
    put("dem.lnk_identity2ext_id", ext)
    put("clin.encounter_type", [(*audited(), 1, "진료실 방문"), (*audited(), 2, "전화 상담")])
    encounters: list[tuple[Any, ...]] = []
    for e in range(1, ENCOUNTERS + 1):
        patient = e % PATIENTS + 1
        started = AT + dt.timedelta(days=e * 3, hours=e % 5)
        encounters.append((*audited(), e, patient, 1 + (e % 7 == 0), None, "+09:00", f"내원 사유 {e}",
                           "호전" if e % 2 else None, started.isoformat(),
                           (started + dt.timedelta(minutes=20)).isoformat()))
        db.encounters[e] = patient
    put("clin.encounter", encounters, casts={AUDIT_FIELDS + 4: "interval", AUDIT_FIELDS + 7: "timestamptz",
                                             AUDIT_FIELDS + 8: "timestamptz"})
    issues = [(*audited(), i, desc, None, "2 years" if i % 2 else None, i != 3, True, False, False, i, None,
               None, None) for i, desc in enumerate(["본태성 고혈압", "2형 당뇨병", "위염", "요통", "알레르기 비염"], 1)]
    put("clin.health_issue", issues, casts={AUDIT_FIELDS + 3: "interval"})
    episodes = [(*audited(), e, (e - 1) % 5 + 1 if e <= 10 else None, f"에피소드 {e}", e % 3 != 0, e, None, None)
                for e in range(1, 21)]
    put("clin.episode", episodes)

    def episode_of(encounter: int) -> int:
        return (encounter - 1) % 20 + 1

    def item(pk: int, encounter: int, narrative: str | None, soap: str | None) -> tuple[Any, ...]:
        when = AT + dt.timedelta(days=encounter * 3, hours=encounter % 5, minutes=pk % 50)
        return (*audited(), 1000 + pk, when.isoformat(), encounter, episode_of(encounter), narrative, soap)

    when_cast = {AUDIT_FIELDS + 1: "timestamptz"}
    notes: list[tuple[Any, ...]] = []
    for n in range(1, 121):
        e = (n - 1) // 2 + 1
        soap = "soap"[n % 4]
        text = {"s": "두통 호소", "o": "혈압 138/88", "a": "고혈압 의증", "p": "2주 후 재진"}[soap]
        notes.append((*item(n, e, f"{text} ({n})", soap), n))
        db.reaches[("clin.clin_narrative", n)] = db.encounters[e]
    put("clin.clin_narrative", notes, casts=when_cast)
    put("clin._enum_allergy_type", [(1, "allergy"), (2, "sensitivity")])
    allergies = [(*item(200 + a, a * 4, "발진", "o"), a, ["페니실린", "아스피린", "땅콩"][a % 3], None, None, None,
                  ["J01CE01", "N02BA01", None][a % 3], 1 + (a % 4 == 0), False, a % 2 == 0) for a in range(1, 13)]
    put("clin.allergy", allergies, casts=when_cast)
    for a in range(1, 13):
        db.reaches[("clin.allergy", a)] = db.encounters[a * 4]
    put("ref.drug_product", [(*audited(), 1, "인플루엔자 백신", "주사", "J07BB02", False),
                             (*audited(), 2, "B형간염 백신", "주사", "J07BC01", False)])
    put("ref.vaccine", [(*audited(), 1, 1, False, None, None, None), (*audited(), 2, 2, False, None, None, None)])
    vaccinations = [(*item(300 + v, v * 3 if v != 18 else 9999, None, "p"), v, 1 + v % 2,
                     "왼쪽 삼각근" if v % 2 else None, f"LOT{v:04d}", None) for v in range(1, 19)]
    put("clin.vaccination", vaccinations, casts=when_cast)
    db.dirty["orphan_vaccination"] = 18
    for v in range(1, 18):
        db.reaches[("clin.vaccination", v)] = db.encounters[v * 3]
    put("clin.test_type", [(*audited(), 1, None, "GLU", "공복혈당", "1558-6", None, "mg/dL"),
                           (*audited(), 2, None, "HbA1c", "당화혈색소", "4548-4", None, "%"),
                           (*audited(), 3, None, "U-PRO", "요단백", "2888-6", None, None)])
    results: list[tuple[Any, ...]] = []
    for r in range(1, 49):
        kind = r % 3 + 1
        value = {1: Decimal(90 + r), 2: Decimal(f"{5 + r % 4}.{r % 10}"), 3: None}[kind]
        results.append((*item(400 + r, (r - 1) % ENCOUNTERS + 1, None, "o"), r, kind, value,
                        "음성" if kind == 3 else None, {1: "mg/dL", 2: "%", 3: None}[kind],
                        Decimal(70) if kind == 1 else None, Decimal(99) if kind == 1 else None, None,
                        "+" if value is not None and kind == 1 and value > 99 else None, "혈액" if kind < 3 else "소변",
                        None))
        db.reaches[("clin.test_result", r)] = db.encounters[(r - 1) % ENCOUNTERS + 1]
    put("clin.test_result", results, casts=when_cast)
    db.dirty["text_result"] = 2  # r=2: kind 3, val_alpha only
    put("ref.substance", [(*audited(), 1, "암로디핀", "C08CA01", "아침 식후"), (*audited(), 2, "메트포르민", "A10BA02", None)])
    intakes = [(*item(500 + s, s * 2, "복용 중", "p"), s, 1 + s % 2, True, "1일 1회", "30 days" if s % 2 else None,
                "혈압 조절" if s % 2 else "혈당 조절", s % 3 == 0,
                (AT + dt.timedelta(days=90)).isoformat() if s == 5 else None, "부작용" if s == 5 else None)
               for s in range(1, 25)]
    put("clin.substance_intake", intakes, casts={**when_cast, ROOT_ITEM + 4: "interval",
                                                 ROOT_ITEM + 7: "timestamptz"})
    for s in range(1, 25):
        db.reaches[("clin.substance_intake", s)] = db.encounters[s * 2]
    put("blobs.doc_type", [(*audited(), 1, "의뢰서"), (*audited(), 2, "검사 결과지")])
    put("blobs.doc_med", [(*audited(), d, 1 + d % 2, f"문서 {d}", (AT + dt.timedelta(days=d)).isoformat(), None, d * 5,
                           episode_of(d * 5)) for d in range(1, 9)], casts={AUDIT_FIELDS + 3: "timestamptz"})
    put("blobs.doc_obj", [(*audited(), o, (o - 1) // 2 + 1 if o < PAGES else 99, o % 2 + 1, None, None,
                           b"%PDF-1.4\n" + bytes(range(256)) + o.to_bytes(2, "big"), f"scan{o}.pdf")
                          for o in range(1, PAGES + 1)])
    db.dirty["dead_page"] = PAGES  # the last page's document (fk_doc 99) is nobody's: its chain breaks
    for o in range(1, PAGES):
        db.reaches[("blobs.doc_obj", o)] = db.encounters[((o - 1) // 2 + 1) * 5]
    # the audit trail: what each row was before an UPDATE or DELETE, the RRN among them
    trail = [(9000 + n, 0, AT.isoformat(), "any-doc", 0, "UPDATE", (AT + dt.timedelta(days=n)).isoformat(), "gm-dbo")
             for n in range(1, 31)]
    oid = {t: c.execute("SELECT CAST(? AS regclass)::oid", t).fetchval() for t in ("dem.identity",
                                                                                 "dem.lnk_identity2ext_id",
                                                                                 "clin.clin_narrative")}
    cast = {2: "timestamptz", 6: "timestamptz"}
    put("audit.log_identity", [(*trail[i][:4], oid["dem.identity"], *trail[i][5:], p[AUDIT_FIELDS], None, p[6], None,
                                p[8], None, "KR", None, None, None, False, "이전 기록")
                               for i, p in enumerate(people[:6])], casts={**cast, TRAIL + 4: "timestamptz"})
    put("audit.log_lnk_identity2ext_id", [(*trail[10 + i][:4], oid["dem.lnk_identity2ext_id"], *trail[10 + i][5:],
                                           x[AUDIT_FIELDS], x[AUDIT_FIELDS + 1], x[AUDIT_FIELDS + 2], 1, None)
                                          for i, x in enumerate(ext[:4])], casts=cast)
    put("audit.log_clin_narrative", [(*trail[20 + i][:4], oid["clin.clin_narrative"], "DELETE", *trail[20 + i][6:],
                                      *n[AUDIT_FIELDS:]) for i, n in enumerate(notes[:5])],
        casts={**cast, TRAIL + 1: "timestamptz"})
    conn.close()
    return db
