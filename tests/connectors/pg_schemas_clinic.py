"""A synthetic hospital-group EMR on PostgreSQL (test data only) that keeps its records in several schemas
(``clinical``, ``billing``, ``audit``; ``public`` holds only the ``hstore`` extension's objects), unlike the
demo and the typed clinic: visits partitioned by year with a default partition and a detached old partition that
still holds its rows, old-style table inheritance (notes), names that need quotes ("PatientID", "visit date",
Korean names, a column ``order`` and one ``user``), JSON and JSONB documents (vital signs, allergies, a lab panel
as a JSON array in a visit row), text[] and int[] arrays, hstore, generated columns, a table that is only its
sequence's column, a materialized view and views, row-level security the owner is held to (FORCE: the export
account does not see every row), a table the export account may not SELECT and one it may SELECT some columns of, a schema it has no USAGE on, a multi-megabyte text, timestamps
with and without time zone in a database whose TimeZone is not Asia/Seoul.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from foreign_schemas import ForeignDb, _fresh_database

PATIENTS = 60
VISITS = 240  # over 2022 (detached), 2023, 2024, 2025 and beyond (the default partition)
BIG_TEXT = ("영상 판독 소견: 특이 소견 없음. " * 8 + "\n") * 30_000  # about 5 MB of UTF-8
#: JSON exactly as the EMR wrote it (a json column keeps its text: key order, spaces, 1e16, 1.0, a repeated key)
RAW_JSON = '{"bp": "120/80",  "temp": 36.5, "big": 1e16, "one": 1.0, "z": 1, "a": 2, "a": 3}'
LAB_PANEL = '[{"code": "C3750", "value": 98.0, "unit": "mg/dL"}, {"code": "B1010", "value": 1.40E+1}]'
TIME_ZONE = "America/New_York"


@dataclass
class SchemasClinic(ForeignDb):
    #: visit_id → the year partition it was inserted for ("2022" is the detached one, "default" beyond 2025)
    visit_years: dict[int, str] = field(default_factory=dict)
    #: rows of the row-level-security table, all of them, and those the export account may see
    rls_rows: int = 0
    rls_visible: int = 0


def _year_of(visit: int) -> int:
    return 2022 + visit % 5  # 2022 … 2026


def create_schemas_clinic(conn_str: str, database: str = "emr_pg_schemas_clinic") -> SchemasClinic:
    import pyodbc

    target = _fresh_database(conn_str, database, "postgresql")
    db = SchemasClinic("postgresql", odbc=target, patients="clinical.patient")
    conn = pyodbc.connect(target, autocommit=True)
    c = conn.cursor()
    c.execute(f"ALTER DATABASE {database} SET TimeZone = '{TIME_ZONE}'")
    c.execute("CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public")
    for ddl in (
        "CREATE SCHEMA clinical", "CREATE SCHEMA billing", "CREATE SCHEMA audit",
        'CREATE TABLE clinical.patient ("PatientID" int PRIMARY KEY, chart_no varchar(12) NOT NULL, '
        'name text, birth_date date, sex char(1), "user" text, allergies jsonb, tags public.hstore, '
        '"등록일시" timestamptz)',
        # partitioned by year: a default partition, and 2022's detached below (it keeps its rows)
        'CREATE TABLE clinical.visit (visit_id int NOT NULL, "PatientID" int NOT NULL, "visit date" timestamp NOT NULL, '
        "seen_at timestamptz, vitals json, vitals_b jsonb, lab_panel json, dx_codes text[], pain_scores int[], "
        'PRIMARY KEY (visit_id, "visit date")) PARTITION BY RANGE ("visit date")',
        *(f"CREATE TABLE clinical.visit_{y} PARTITION OF clinical.visit FOR VALUES FROM ('{y}-01-01') "
          f"TO ('{y + 1}-01-01')" for y in (2022, 2023, 2024, 2025)),
        "CREATE TABLE clinical.visit_default PARTITION OF clinical.visit DEFAULT",
        # old-style inheritance: the parent keeps rows of its own; the child adds a column
        'CREATE TABLE clinical.note (note_id int PRIMARY KEY, "PatientID" int, written_at timestamp, body text)',
        'CREATE TABLE clinical.progress_note ("order" int, PRIMARY KEY (note_id)) INHERITS (clinical.note)',
        # Korean names, a column named order
        'CREATE TABLE clinical."처방" ("처방번호" int PRIMARY KEY, "PatientID" int, "order" text, "약품코드" varchar(9), '
        '"일수" int)',
        "CREATE TABLE clinical.imaging_report (report_id int PRIMARY KEY, \"PatientID\" int, findings text)",
        "CREATE TABLE billing.invoice (invoice_id int PRIMARY KEY, \"PatientID\" int, amount numeric(12,2), "
        "tax numeric(12,2), total numeric(12,2) GENERATED ALWAYS AS (amount + tax) STORED, issued date)",
        "CREATE TABLE billing.receipt_no (id bigserial PRIMARY KEY)",
        "CREATE SEQUENCE billing.claim_seq",
        "CREATE TABLE audit.access_log (log_id int PRIMARY KEY, \"user\" text, action text, at timestamptz)",
        'CREATE TABLE audit."개인정보_조회" (id int PRIMARY KEY, "user" text, rrn_seen text)',
        "CREATE VIEW billing.v_unpaid AS SELECT invoice_id, total FROM billing.invoice WHERE issued IS NULL",
        "CREATE VIEW clinical.v_patient AS SELECT \"PatientID\", name FROM clinical.patient",
    ):
        c.execute(ddl)

    patients = []
    for i in range(1, PATIENTS + 1):
        allergies = '[{"substance": "페니실린", "severity": "high"}]' if i % 3 == 0 else "[]"
        patients.append((i, f"P{i:07d}", f"환자{i}" if i != 7 else None,
                         dt.date(1950 + i % 60, i % 12 + 1, i % 27 + 1) if i != 9 else None,
                         "MF"[i % 2] if i != 11 else "X", f"dr{i % 4}", allergies,
                         f'"ward"=>"{i % 5}", "bed"=>"{i}"', f"2024-0{i % 9 + 1}-0{i % 9 + 1} 08:30:00+09"))
    c.executemany('INSERT INTO clinical.patient VALUES (?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS public.hstore), '
                  "CAST(? AS timestamptz))", patients)
    db.table("clinical.patient", 9, PATIENTS)

    visits = []
    for v in range(1, VISITS + 1):
        year = _year_of(v)
        when = dt.datetime(year, v % 12 + 1, v % 28 + 1, 9 + v % 8, v % 60)
        db.visit_years[v] = str(year) if year <= 2025 else "default"
        vitals = RAW_JSON if v == 1 else f'{{"bp":"{110 + v % 30}/{70 + v % 15}","temp":{36 + (v % 10) / 10}}}'
        visits.append((v, v % PATIENTS + 1, when, when.isoformat() + "+09:00", vitals, vitals,
                       LAB_PANEL if v % 4 == 0 else None, "{J00,\"I10\",\"K29.7\"}" if v % 2 else "{}",
                       "{3,NULL,7}" if v % 3 else None))
    c.executemany("INSERT INTO clinical.visit VALUES (?, ?, ?, CAST(? AS timestamptz), CAST(? AS json), "
                  "CAST(? AS jsonb), CAST(? AS json), CAST(? AS text[]), CAST(? AS int[]))", visits)
    c.execute("ALTER TABLE clinical.visit DETACH PARTITION clinical.visit_2022")
    for y in ("2022", "2023", "2024", "2025", "default"):
        db.table(f"clinical.visit_{y}" if y == "2022" else "clinical.visit",
                 9, sum(1 for v in db.visit_years.values() if v == y))

    c.executemany("INSERT INTO clinical.note VALUES (?, ?, ?, ?)",
                  [(n, n % PATIENTS + 1, dt.datetime(2024, 3, 1, 10) + dt.timedelta(hours=n), f"주소 {n}")
                   for n in range(1, 41)])
    db.table("clinical.note", 4, 40)
    c.executemany('INSERT INTO clinical.progress_note (note_id, "PatientID", written_at, body, "order") '
                  "VALUES (?, ?, ?, ?, ?)",
                  [(n, n % PATIENTS + 1, dt.datetime(2024, 4, 1, 10) + dt.timedelta(hours=n), f"경과 {n}", n % 3)
                   for n in range(101, 161)])
    db.table("clinical.progress_note", 5, 60)
    c.executemany('INSERT INTO clinical."처방" VALUES (?, ?, ?, ?, ?)',
                  [(n, n % PATIENTS + 1, "1T tid" if n % 2 else "2C bid", f"64{n:07d}", n % 7 + 1)
                   for n in range(1, 121)])
    db.table("clinical.처방", 5, 120)
    c.executemany("INSERT INTO clinical.imaging_report VALUES (?, ?, ?)",
                  [(1, 1, BIG_TEXT), (2, 2, "정상")])
    db.table("clinical.imaging_report", 3, 2)
    c.executemany("INSERT INTO billing.invoice (invoice_id, \"PatientID\", amount, tax, issued) VALUES (?, ?, ?, ?, ?)",
                  [(n, n % PATIENTS + 1, f"{n * 1000}.50", "0.00" if n % 2 else "100.10",
                    dt.date(2024, 5, n % 28 + 1) if n % 5 else None) for n in range(1, 101)])
    db.table("billing.invoice", 6, 100)
    for _ in range(30):
        c.execute("INSERT INTO billing.receipt_no DEFAULT VALUES")
    db.table("billing.receipt_no", 1, 30)
    c.executemany("INSERT INTO audit.access_log VALUES (?, ?, ?, ?)",
                  [(n, "director" if n % 10 == 0 else f"nurse{n % 3}", "view", f"2024-06-01 0{n % 9}:00:00+00")
                   for n in range(1, 201)])
    for ddl in ("ALTER TABLE audit.access_log ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE audit.access_log FORCE ROW LEVEL SECURITY",
                "CREATE POLICY own_rows ON audit.access_log USING (\"user\" <> 'director')"):
        c.execute(ddl)
    # the owner too is held to the policy (FORCE): it sees the rows whose user is not 'director'
    db.rls_rows, db.rls_visible = 200, 180
    db.table("audit.access_log", 4, 200)
    c.executemany('INSERT INTO audit."개인정보_조회" VALUES (?, ?, ?)',
                  [(n, f"clerk{n}", "800101-1******") for n in range(1, 6)])
    db.table("audit.개인정보_조회", 3, 5)
    c.execute(f'REVOKE SELECT ON audit."개인정보_조회" FROM {_user(target)}')
    # SELECT on some of its columns only (not the card number): COUNT(*) is allowed, SELECT * is not
    c.execute('CREATE TABLE billing.card_payment (id int PRIMARY KEY, "PatientID" int, amount int, card_no text)')
    c.executemany("INSERT INTO billing.card_payment VALUES (?, ?, ?, ?)",
                  [(n, n, n * 1000, f"9410-0000-0000-{n:04d}") for n in range(1, 9)])
    db.table("billing.card_payment", 4, 8)
    c.execute(f"REVOKE SELECT ON billing.card_payment FROM {_user(target)}")
    c.execute(f'GRANT SELECT (id, "PatientID", amount) ON billing.card_payment TO {_user(target)}')
    # a schema this account has no USAGE on: its tables are listed, but not even their names can be looked up
    c.execute("CREATE SCHEMA research")
    c.execute("CREATE TABLE research.survey (id int PRIMARY KEY, answer text)")
    c.executemany("INSERT INTO research.survey VALUES (?, ?)", [(n, f"응답 {n}") for n in range(1, 4)])
    db.table("research.survey", 2, 3)
    c.execute(f"REVOKE USAGE ON SCHEMA research FROM {_user(target)}")
    c.execute("CREATE MATERIALIZED VIEW clinical.mv_visits_per_patient AS "
              'SELECT "PatientID", count(*) AS visits FROM clinical.visit GROUP BY "PatientID"')
    conn.close()
    return db


def _user(conn_str: str) -> str:
    from emr_exporter.sources.drivers import get_option

    return get_option(conn_str, "UID") or ""

