"""A synthetic Korean clinic whose prescriptions keep their drugs as a JSON array in one column (test data only; the
same rows on PostgreSQL ``jsonb`` or ``json``, MariaDB ``LONGTEXT`` and a SQLite file's ``TEXT``, read as a file
or over ODBC).

``RA_PATIENT`` (chart number, name, birth date, sex); ``RA_VISIT`` (the visit: patient, time, department);
``RA_RX`` (a prescription: visit, patient, day, and ``RX_ITEMS``, its drugs as ``[{"code": "642102570", "name":
"타이레놀정500mg", "dose": 1, "times": 3, "days": 5}, …]``, every odd prescription in Korean keys ``[{"약품코드": …,
"약품명": …, "1회량": …, "횟수": …, "일수": …, "용법": "식후30분"}]``).

Planted (:attr:`RxArrayClinic.dirty`): a prescription whose drugs are NULL, one ``[]``, one an object (no array),
one a JSON string; an element with no code or name (its values only in the document), a string element, a dose
"반알" (no number), a dose kept as an object, an element with a key no field reads (비고), an element with a code and
no name and one with a name and no code; on MariaDB and SQLite (text columns) a document cut off part-way.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreign_schemas import ForeignDb, _fresh_database, mariadb_tables, postgres_tables

SURNAMES = ["김", "이", "박", "최", "정", "강"]
GIVEN = ["민준", "서연", "도윤", "지우", "하준", "서윤", "시우"]
DRUGS = [("642102570", "타이레놀정500mg"), ("643301010", "노바스크정5mg"), ("641901230", "아모크라정375mg"),
         ("645500310", "무코스타정")]
ROUTES = ["식후30분", "식전", "취침전"]
PATIENTS = 30
VISITS = 90
PRESCRIPTIONS = 80
#: the kinds of clinic: the engine and the prescriptions' document column
KINDS = ("postgresql-jsonb", "postgresql-json", "mariadb", "sqlite", "sqlite-odbc")


def ddl(kind: str) -> dict[str, str]:
    """Table → its columns, for ``kind``."""
    doc = {"postgresql-jsonb": "JSONB", "postgresql-json": "JSON", "mariadb": "LONGTEXT"}.get(kind, "TEXT")
    ts = "TIMESTAMP(0)" if kind.startswith("postgresql") else "DATETIME"
    return {
        "RA_PATIENT": "PT_ID INT PRIMARY KEY, CHART_NO VARCHAR(10) NOT NULL, PT_NAME VARCHAR(40), BIRTH_DATE DATE, "
                      "SEX CHAR(1)",
        "RA_VISIT": f"VISIT_ID INT PRIMARY KEY, PT_ID INT NOT NULL, VISIT_AT {ts} NOT NULL, DEPT VARCHAR(20)",
        "RA_RX": f"RX_ID INT PRIMARY KEY, VISIT_ID INT NOT NULL, PT_ID INT NOT NULL, RX_DATE DATE, RX_ITEMS {doc}",
    }


@dataclass
class RxArrayClinic(ForeignDb):
    """The database as built: the prescriptions' documents as written, and what was planted."""

    #: RX_ID → (PT_ID, VISIT_ID, RX_DATE, the drugs as written (None: NULL))
    prescriptions: dict[int, tuple[int, int, dt.date, str | None]] = field(default_factory=dict)
    dirty: dict[str, int] = field(default_factory=dict)
    stored_bytes: dict[str, list[str]] = field(default_factory=dict)
    page_size: int | None = None


def _item(n: int, k: int) -> dict[str, Any]:
    """The k-th drug of prescription ``n``: English keys for an even ``n``, Korean ones for an odd one."""
    code, name = DRUGS[(n + k) % len(DRUGS)]
    dose: Any = 0.5 if k == 2 else 1 + k
    times, days = 3 if (n + k) % 2 else 2, 3 + n % 5
    if n % 2 == 0:
        return {"code": code, "name": name, "dose": dose, "times": times, "days": days}
    return {"약품코드": code, "약품명": name, "1회량": dose, "횟수": times, "일수": days, "용법": ROUTES[(n + k) % 3]}


def _items(n: int, engine: str, dirty: dict[str, int]) -> str | None:
    """The drugs of prescription ``n`` as written (planted ones as :attr:`RxArrayClinic.dirty` names them)."""
    items: list[Any] = [_item(n, k) for k in range(1 + n % 4)]
    planted: dict[int, tuple[str, Any]] = {
        5: ("null", None), 10: ("empty", "[]"), 15: ("object", json.dumps(_item(15, 0), ensure_ascii=False)),
        50: ("string", json.dumps("처방 없음", ensure_ascii=False))}
    if n in planted:
        dirty[planted[n][0]] = n
        return planted[n][1]
    if n == 20:  # the second element names no drug: its values stay in the document only
        items = [_item(20, 0), {"dose": 1, "times": 3, "days": 5, "메모": "보류"}, _item(20, 2)]
        dirty["nameless_element"] = n
    elif n == 25:
        items, dirty["string_element"] = ["타이레놀 1T", _item(25, 0)], n
    elif n == 30:
        items, dirty["dose_no_number"] = [{**_item(30, 0), "dose": "반알"}], n
    elif n == 40:
        items, dirty["dose_object"] = [{**_item(40, 0), "dose": {"am": 1, "pm": 1}}], n
    elif n == 45:
        items, dirty["extra_key"] = [{**_item(45, 0), "비고": "위장장애 시 중단"}], n
    elif n == 55:
        items, dirty["code_only"] = [{"code": "643301010", "dose": 1, "times": 1, "days": 7}], n
    elif n == 60:
        items, dirty["name_only"] = [{"name": "한약 과립", "dose": 1, "times": 2, "days": 10}], n
    elif n == 35 and engine in ("mariadb", "sqlite"):
        dirty["malformed"] = n
        return '[{"code": "642102570", "name": "타이레'  # cut off: a text column, no check
    return json.dumps(items, ensure_ascii=False)


def _rows(engine: str, db: RxArrayClinic) -> dict[str, list[tuple[Any, ...]]]:
    patients = [(i, f"R{i:06d}", SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)],
                 dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), "MF"[i % 2]) for i in range(1, PATIENTS + 1)]
    start = dt.datetime(2024, 3, 4, 9, 0)
    visits = [(n, 1 + n % PATIENTS, start + dt.timedelta(days=n, minutes=13 * n % 420), ["내과", "가정의학과"][n % 2])
              for n in range(1, VISITS + 1)]
    rx = []
    for n in range(1, PRESCRIPTIONS + 1):
        visit = visits[(n * 7) % VISITS]
        items = _items(n, engine, db.dirty)
        rx.append((n, visit[0], visit[1], visit[2].date(), items))
        db.prescriptions[n] = (visit[1], visit[0], visit[2].date(), items)
    return {"RA_PATIENT": patients, "RA_VISIT": visits, "RA_RX": rx}


def create_rxarray_clinic(kind: str, conn_str: str | None = None, path: Path | None = None) -> RxArrayClinic:
    """Build the clinic of ``kind`` (:data:`KINDS`): on the server of ``conn_str`` (a fresh database), or in the
    SQLite file ``path`` (``sqlite-odbc``: the same file, read over the SQLite3 ODBC driver)."""
    engine = kind.split("-")[0]
    if engine == "sqlite":
        assert path is not None
        db = RxArrayClinic(engine, path=path, patients="ra_patient")
        conn = sqlite3.connect(path)
        for name, columns in ddl(kind).items():
            conn.execute(f"CREATE TABLE {name} ({columns})")
        for name, rows in _rows(engine, db).items():
            text = [tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
                          if isinstance(v, dt.date) else v for v in row) for row in rows]
            conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", text)
            db.table(name.lower(), len(rows[0]), len(rows))
        conn.commit()
        conn.close()
        return db
    assert conn_str is not None
    target = _fresh_database(conn_str, "emr_rxarray", engine)
    db = RxArrayClinic(engine, odbc=target, patients="ra_patient")
    conn, put = (postgres_tables if engine == "postgresql" else mariadb_tables)(db, target, ddl(kind))
    for name, rows in _rows(engine, db).items():
        put(name, rows)
    conn.close()
    return db
