"""A synthetic clinic whose EMR ran on Microsoft SQL Server / Access and was ported, by a conversion tool, into
PostgreSQL and into MariaDB: the same rows in both (test data only; names, numbers and notes are made up).

What such ports look like, and the demo does not:

* Hungarian/CamelCase names (``tblPatient``, ``PatientID``, ``dtVisit``, ``bIsActive``, ``nvcMemo``): on
  PostgreSQL created quoted in mixed case inside a schema ``dbo`` (outside the search path), on MariaDB as
  the mixed-case table names of a case-sensitive server;
* a clinic that changed EMR vendor once: two generations of tables, ``tblPatient``/``tblVisitOld`` (the
  Access era, integer keys) and ``PATIENT_NEW``/``tblVisit`` (uniqueidentifier keys: ``uuid`` / ``CHAR(36)``),
  the same people under different chart numbers, and ``PatientMap`` between them; a chart number of the new
  generation that is another person's number in the old one;
* datetime2 kept as text with 7 fraction digits, smalldatetime, money as ``DECIMAL(19,4)``, bit columns
  (``boolean`` / ``BIT(1)``), Access yes/no as -1/0, dates as text ``MM/DD/YYYY`` and ``DD-MON-YY``, memos
  with CRLF and tabs, identity keys with gaps, soft-deleted rows (``bDeleted``) that must still be exported;
* on MariaDB, the visits' patient GUIDs in upper case (a uniqueidentifier converted to text), the patients' own
  in lower case;
* a new-generation patient with family and given name columns and a ``FullName`` that disagrees with them,
  a visit table with a local ``dtVisit`` and a ``dtVisitUTC`` (nine hours earlier) before it;
* SQL Server's own ``sysdiagrams`` and the program's ``tblUser`` with password hashes.

Planted dirty rows (what :class:`MigratedClinic` ``dirty`` names): a new patient whose family and given names
are NULL (only the full name), a visit whose patient is nobody's, a visit without a patient, a diagnosis
without a code.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database

FAMILY = ["김", "이", "박", "최", "정", "강", "조", "윤"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은"]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
KCD = [("J00", "급성 비인두염"), ("I10", "본태성 고혈압"), ("K29.7", "상세불명의 위염")]

OLD_PATIENTS = 24
NEW_PATIENTS = 30
VISITS = 90
OLD_VISITS = 40


def _guid(n: int) -> str:
    return str(uuidlib.UUID(int=(0x5EED << 112) + n * 0x1000100010001))


@dataclass
class MigratedClinic(ForeignDb):
    """The database as built (tables named as the bag's inventory names them), and what was planted."""

    #: planted dirty rows: name → the row's key (as text)
    dirty: dict[str, str] = field(default_factory=dict)
    #: the tables as created (mixed case), in creation order
    created: list[str] = field(default_factory=list)
    #: every inserted row per table (as created), in insertion order, for byte-for-byte comparisons
    inserted: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    #: column names per table (as created)
    column_names: dict[str, list[str]] = field(default_factory=dict)
    #: the visits' patient GUIDs are in upper case, the patients' keys in lower case (MariaDB: CHAR(36))
    upper_guids: bool = False


def _rows() -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's columns and rows, engine-neutral (Python values)."""
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    # the Access era: integer identity keys with gaps, one name column, text dates
    old = []
    old_ids = [i for i in range(1, OLD_PATIENTS + 6) if i % 6 != 4][:OLD_PATIENTS]
    for n, pid in enumerate(old_ids):
        birth = dt.date(1950 + n, 1 + n % 12, 1 + n % 28)
        last = dt.date(2019, 1 + n % 12, 1 + n % 27)
        old.append((pid, f"{pid:06d}", f"{FAMILY[n % 8]}{GIVEN[(n * 3) % 8]}", f"{birth:%m/%d/%Y}", "MF"[n % 2],
                    0 if n % 7 == 3 else -1, f"전 EMR 메모 {n}\r\n\t- 혈압약 복용\r\n" if n % 3 == 0 else None,
                    f"{last.day:02d}-{MONTHS[last.month - 1]}-{last:%y}"))
    rows["tblPatient"] = (["PatientID", "ChartNo", "PtName", "dtBirth", "Sex", "bIsActive", "nvcMemo",
                           "dtLastVisit"], old)
    # the new EMR: uniqueidentifier keys, family/given/full names, bit and yes/no flags, datetime2 as text
    new = []
    for n in range(NEW_PATIENTS):
        family, given = FAMILY[(n + 1) % 8], GIVEN[(n * 5) % 8]
        full = f"{family} {given}" if n % 4 else f"{family}{given}"
        if n == 6:
            full = f"{family}{GIVEN[(n * 5 + 1) % 8]}"  # the full name disagrees (a former given name)
        fam: str | None = family
        giv: str | None = given
        if n == 9:
            fam = giv = None  # only the full name
        chart = f"{n + 1:06d}" if n == 2 else f"N{n + 1:05d}"  # 000003: another person's old chart number
        created = dt.datetime(2021, 3, 1, 9, 30) + dt.timedelta(days=n, minutes=7 * n)
        new.append((_guid(n + 1), chart, fam, giv, full, dt.date(1951 + n, 1 + (n * 5) % 12, 1 + (n * 7) % 28),
                    "MF"[(n + 1) % 2], 0 if n % 9 == 4 else -1, n in (5, 17),
                    f"신규 EMR 메모\r\n\t알레르기: 없음\t(확인 {n})" if n % 4 == 1 else None,
                    f"{created:%Y-%m-%d %H:%M:%S}.{1234567 + n:07d}",
                    dt.datetime(2023, 6, 1, 8, 15) + dt.timedelta(days=n)))
    rows["PATIENT_NEW"] = (["PatientGUID", "ChartNumber", "FamilyName", "GivenName", "FullName", "dtBirth", "Sex",
                            "bIsActive", "bDeleted", "nvcMemo", "dtCreated", "sdtModified"], new)
    # the mapping between the generations (the first 20 old patients are the first 20 new ones)
    rows["PatientMap"] = (["MapID", "OldPatientID", "NewPatientGUID"],
                          [(10 + 3 * n, old_ids[n], _guid(n + 1)) for n in range(20)])
    visits = []
    for v in range(VISITS):
        vid = 1000 + v + (v // 10) * 3  # identity with gaps
        patient: str | None = _guid(v % NEW_PATIENTS + 1)
        if v == 13:
            patient = _guid(999)  # nobody's
        if v == 27:
            patient = None
        local = dt.datetime(2023, 7, 1, 9, 0) + dt.timedelta(days=v, hours=v % 8, minutes=(v * 11) % 60,
                                                             milliseconds=123 if v % 7 == 0 else 0)
        utc = local - dt.timedelta(hours=9)
        fee = Decimal(f"{(v % 9 + 1) * 1234}.{(v * 37) % 10000:04d}")
        complaint = "두통\r\n\t발열\r\n" if v % 5 == 0 else "정기 검진\t" if v % 11 == 0 else "정기 검진"
        visits.append((vid, patient, utc, local, fee, complaint, v in (8, 44)))
    rows["tblVisit"] = (["VisitID", "PatientGUID", "dtVisitUTC", "dtVisit", "mnFee", "nvcChiefComplaint",
                         "bDeleted"], visits)
    old_visits = []
    for v in range(OLD_VISITS):
        day = dt.date(2018, 1, 1) + dt.timedelta(days=9 * v)
        old_visits.append((v + 1, old_ids[v % OLD_PATIENTS], f"{day.day:02d}-{MONTHS[day.month - 1]}-{day:%y}",
                           dt.datetime(day.year, day.month, day.day, 10, 30), Decimal(f"{3000 + v}.5000")))
    rows["tblVisitOld"] = (["OldVisitID", "PatientID", "VisitDate", "sdtVisit", "mnCharge"], old_visits)
    dx = []
    for v, visit in enumerate(visits):
        code, name = KCD[v % 3]
        dx.append((5000 + v * 2, visit[0], None if v == 20 else code, name,
                   f"{visit[3]:%Y-%m-%d %H:%M:%S}.{v:07d}", v % 2 == 0))
    rows["tblDiagnosis"] = (["DxID", "VisitID", "DxCode", "DxName", "dtDx", "bPrimary"], dx)
    payments = []
    for v, visit in enumerate(visits[:60]):
        amount = [Decimal("12345.6789"), Decimal("-0.0001"), Decimal("0.0000"), Decimal("922337203685477.5807")][v % 4]
        payments.append((v + 1, visit[0], amount, f"{visit[3]:%m/%d/%Y}", ["현금", "카드"][v % 2]))
    rows["tblPayment"] = (["PaymentID", "VisitID", "mnAmount", "dtPaid", "PayType"], payments)
    rows["tblUser"] = (["UserID", "LoginName", "PasswordHash", "bIsAdmin"],
                       [(1, "admin", "0x0200A1B2C3D4E5F6", True), (2, "drkim", "0x0200FFEEDDCCBBAA", False)])
    rows["sysdiagrams"] = (["name", "principal_id", "diagram_id", "version", "definition"],
                           [("Diagram_0", 1, 1, 1, bytes(range(256)) * 4)])
    return rows


_DDL = {
    "postgresql": {
        "tblPatient": '"PatientID" INT PRIMARY KEY, "ChartNo" VARCHAR(10), "PtName" VARCHAR(50), "dtBirth" VARCHAR(10), '
                      '"Sex" CHAR(1), "bIsActive" SMALLINT NOT NULL, "nvcMemo" TEXT, "dtLastVisit" VARCHAR(9)',
        "PATIENT_NEW": '"PatientGUID" uuid PRIMARY KEY, "ChartNumber" VARCHAR(20) NOT NULL, "FamilyName" VARCHAR(50), '
                       '"GivenName" VARCHAR(50), "FullName" VARCHAR(100), "dtBirth" DATE, "Sex" CHAR(1), '
                       '"bIsActive" SMALLINT NOT NULL, "bDeleted" BOOLEAN NOT NULL, "nvcMemo" TEXT, '
                       '"dtCreated" VARCHAR(27), "sdtModified" TIMESTAMP(0)',
        "PatientMap": '"MapID" INT PRIMARY KEY, "OldPatientID" INT, "NewPatientGUID" uuid',
        "tblVisit": '"VisitID" INT PRIMARY KEY, "PatientGUID" uuid, "dtVisitUTC" TIMESTAMP(3), "dtVisit" TIMESTAMP(3), '
                    '"mnFee" NUMERIC(19,4), "nvcChiefComplaint" TEXT, "bDeleted" BOOLEAN NOT NULL',
        "tblVisitOld": '"OldVisitID" INT PRIMARY KEY, "PatientID" INT, "VisitDate" VARCHAR(9), '
                       '"sdtVisit" TIMESTAMP(0), "mnCharge" NUMERIC(19,4)',
        "tblDiagnosis": '"DxID" INT PRIMARY KEY, "VisitID" INT, "DxCode" VARCHAR(10), "DxName" VARCHAR(100), '
                        '"dtDx" VARCHAR(27), "bPrimary" BOOLEAN NOT NULL',
        "tblPayment": '"PaymentID" INT PRIMARY KEY, "VisitID" INT, "mnAmount" NUMERIC(19,4), "dtPaid" VARCHAR(10), '
                      '"PayType" VARCHAR(10)',
        "tblUser": '"UserID" INT PRIMARY KEY, "LoginName" VARCHAR(50), "PasswordHash" VARCHAR(100), '
                   '"bIsAdmin" BOOLEAN NOT NULL',
        "sysdiagrams": '"name" VARCHAR(128) NOT NULL, "principal_id" INT NOT NULL, "diagram_id" INT PRIMARY KEY, '
                       '"version" INT, "definition" BYTEA',
    },
    "mariadb": {
        "tblPatient": "PatientID INT PRIMARY KEY, ChartNo VARCHAR(10), PtName VARCHAR(50), dtBirth VARCHAR(10), "
                      "Sex CHAR(1), bIsActive SMALLINT NOT NULL, nvcMemo LONGTEXT, dtLastVisit VARCHAR(9)",
        "PATIENT_NEW": "PatientGUID CHAR(36) PRIMARY KEY, ChartNumber VARCHAR(20) NOT NULL, FamilyName VARCHAR(50), "
                       "GivenName VARCHAR(50), FullName VARCHAR(100), dtBirth DATE, Sex CHAR(1), "
                       "bIsActive SMALLINT NOT NULL, bDeleted BIT(1) NOT NULL, nvcMemo LONGTEXT, "
                       "dtCreated VARCHAR(27), sdtModified DATETIME",
        "PatientMap": "MapID INT PRIMARY KEY, OldPatientID INT, NewPatientGUID CHAR(36)",
        "tblVisit": "VisitID INT PRIMARY KEY, PatientGUID CHAR(36), dtVisitUTC DATETIME(3), dtVisit DATETIME(3), "
                    "mnFee DECIMAL(19,4), nvcChiefComplaint LONGTEXT, bDeleted BIT(1) NOT NULL",
        "tblVisitOld": "OldVisitID INT PRIMARY KEY, PatientID INT, VisitDate VARCHAR(9), sdtVisit DATETIME, "
                       "mnCharge DECIMAL(19,4)",
        "tblDiagnosis": "DxID INT PRIMARY KEY, VisitID INT, DxCode VARCHAR(10), DxName VARCHAR(100), "
                        "dtDx VARCHAR(27), bPrimary BIT(1) NOT NULL",
        "tblPayment": "PaymentID INT PRIMARY KEY, VisitID INT, mnAmount DECIMAL(19,4), dtPaid VARCHAR(10), "
                      "PayType VARCHAR(10)",
        "tblUser": "UserID INT PRIMARY KEY, LoginName VARCHAR(50), PasswordHash VARCHAR(100), bIsAdmin BIT(1) NOT NULL",
        "sysdiagrams": "name VARCHAR(128) NOT NULL, principal_id INT NOT NULL, diagram_id INT PRIMARY KEY, "
                       "version INT, definition LONGBLOB",
    },
}


def create_migrated_clinic(engine: str, conn_str: str, database: str | None = None) -> MigratedClinic:
    """The ported clinic on ``engine`` ('postgresql': in schema dbo, quoted mixed-case names; 'mariadb')."""
    import pyodbc

    target = _fresh_database(conn_str, database or f"emr_migrated_{engine[:5]}", engine)
    prefix = "dbo." if engine == "postgresql" else ""
    db = MigratedClinic(engine, odbc=target, patients=f"{prefix}patient_new".lower(),
                        also_read=tuple(f"{prefix}{t}".lower() for t in ("tblVisit", "tblDiagnosis")))
    conn = pyodbc.connect(target, autocommit=True)
    if engine == "mariadb":
        conn.setencoding(encoding="utf-8")
    c = conn.cursor()
    if engine == "postgresql":
        c.execute("CREATE SCHEMA dbo")
    rows = _rows()
    for table, (columns, values) in rows.items():
        qualified = f'dbo."{table}"' if engine == "postgresql" else table
        c.execute(f"CREATE TABLE {qualified} ({_DDL[engine][table]})")
        if values:
            marks = ", ".join("?" * len(columns))
            # MariaDB's driver drops a bound datetime's fraction of a second: those go as the text they are
            bound = values if engine != "mariadb" else [tuple(
                v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row) for row in values]
            if engine == "mariadb" and table == "tblVisit":
                # the visits' uniqueidentifier came over as SQL Server writes it, in upper case; the patients'
                # as the new EMR wrote them, in lower case (SQL Server compares them ignoring case)
                bound = [(r[0], r[1].upper() if r[1] else r[1], *r[2:]) for r in bound]
                db.upper_guids = True
            c.executemany(f"INSERT INTO {qualified} VALUES ({marks})", bound)
        # the inventory names a PostgreSQL table outside public schema.table, a capitals one in lower case
        name = f"{prefix}{table}".lower()
        db.table(name, len(columns), len(values))
        db.created.append(table)
        db.inserted[table] = values
        db.column_names[table] = columns
    db.dirty = {"nameless": _guid(10), "orphan_visit": "1016", "patientless_visit": "1033", "codeless_dx": "5040",
                "deleted_patients": f"{_guid(6)},{_guid(18)}"}
    conn.close()
    return db
