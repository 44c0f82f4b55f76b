"""JSON documents kept in a column (PostgreSQL ``jsonb``/``json``, MariaDB ``JSON``, JSON written into a text column):
what the scaffold's sample learns of them (the keys of the objects, never a value), and the SQL that lifts one key's
value out of the cell on each engine.

A cloud-style EMR keeps the measurements of a visit as one document, ``vitals = {"bp": "120/80", "pulse": 72,
"temp": 36.5}`` (``{"혈압": "130/85", "맥박": 80}``): the scaffold reads each key whose name is a vital sign's into its
field by :func:`lift_sql`; the whole cell is still carried raw as written, so a key no field reads is never lost
(docs/connectors.md, "JSON columns").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

#: A document longer than this is not parsed by the sample (a scanned form kept as JSON): only its size counted.
PARSED_UP_TO = 65_536
#: At most this many distinct keys are counted per column (a settings bag of user-named keys).
KEYS_CAP = 64
#: A key the lift's SQL names in a quoted literal and a JSON path: letters (Hangul too), digits, ``_``, ``-`` and
#: spaces; never a quote mark, a backslash, a ``$``, a ``.`` or a ``?`` (an ODBC parameter marker).
LIFTABLE_KEY = re.compile(r"[\w -]{1,40}")
#: The engines :func:`lift_sql` writes SQL for.
LIFT_ENGINES = ("postgresql", "mariadb", "sqlite", "sqlite-odbc")
_BP = re.compile(r"^\s*\d{1,3}\s*/\s*\d{1,3}\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


@dataclass(slots=True)
class KeyCount:
    """One key of a column's sampled JSON objects: how many held it with a value that is no object or list, how
    many of those values are numbers (or numeric text), and how many a blood pressure written '120/80'; and how many
    held an object or a list there (a SOAP note's ``"o": {"인후": "발적"}``, ``"p": ["타이레놀", …]``)."""

    held: int = 0
    numbers: int = 0
    bp_text: int = 0
    nested: int = 0


@dataclass(slots=True)
class JsonKeys:
    """The sampled JSON objects of one column: how many, and their keys (names only, never a value)."""

    objects: int = 0
    keys: dict[str, KeyCount] = field(default_factory=dict)
    capped: bool = False

    def add(self, text: str) -> None:
        """Count ``text`` if it is a JSON object (anything else, malformed JSON too, is not counted)."""
        stripped = text.strip()
        if not stripped.startswith("{") or len(stripped) > PARSED_UP_TO:
            return
        try:
            document = json.loads(stripped)
        except ValueError:
            return
        if not isinstance(document, dict):
            return
        self.objects += 1
        for key, value in document.items():
            if value is None or isinstance(value, bool):
                continue
            count = self.keys.get(key)
            if count is None:
                if len(self.keys) >= KEYS_CAP:
                    self.capped = True
                    continue
                count = self.keys[key] = KeyCount()
            if isinstance(value, dict | list):
                count.nested += 1
                continue
            count.held += 1
            if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
                count.numbers += 1
            elif isinstance(value, str) and _BP.match(value):
                count.bp_text += 1


def json_column_type(engine: str, type_name: str) -> bool:
    """Whether a column of ``type_name`` may be lifted from on ``engine``: PostgreSQL's own ``jsonb``/``json`` only
    (``->>`` on text would need a cast that stops the query at the first malformed cell); on MariaDB and SQLite
    any text column, whose malformed cells the lift reads as NULL."""
    upper = type_name.upper()
    if engine == "postgresql":
        return upper in ("JSONB", "JSON")
    return engine in LIFT_ENGINES and not upper.endswith(("BLOB", "BINARY")) and upper not in ("BYTEA", "IMAGE")


def lift_sql(engine: str, column: str, keys: Sequence[str], nested: bool = False) -> str:
    """The SQL reading the value of the first of ``keys`` the JSON object in ``column`` holds, as text (one
    measurement written under two spellings, ``bp`` by one screen and ``혈압`` by another: the first found); NULL
    where the cell is NULL, no object, has none of the keys or holds a JSON null, or (unless ``nested``) an object
    or list there; with ``nested`` an object or list is read as its JSON text (a SOAP note's ``"o": {"인후":
    "발적"}``: PostgreSQL's and MariaDB's as the server keeps it, SQLite's without spaces); a JSON ``true`` or
    ``false`` as that text on every engine (no number: the field's defect, never 1 or 0). On MariaDB
    (``JSON_VALID``) and SQLite (``json_valid``) a malformed cell is NULL, never partly read (the query never stops
    on one);
    PostgreSQL's ``->>`` is only written for its json types, which hold no malformed text. Each key must fit
    :data:`LIFTABLE_KEY`."""
    if not keys or not all(LIFTABLE_KEY.fullmatch(key) for key in keys):
        raise ValueError("a JSON key the lift cannot name")
    lifts = [_lift_one(engine, column, key, nested) for key in keys]
    lifted = lifts[0] if len(lifts) == 1 else f"COALESCE({', '.join(lifts)})"
    # MariaDB's JSON_VALUE reads a malformed document up to where it breaks ('{"혈압": "120/80", "맥박": 7' gave
    # 120/80): no value is taken from a document that is not whole
    return f"CASE WHEN JSON_VALID({column}) THEN {lifted} END" if engine == "mariadb" else lifted


def _lift_one(engine: str, column: str, key: str, nested: bool) -> str:
    # A JSON true/false is read as its JSON text, as PostgreSQL's ->> gives it ('true': no number, the field's
    # defect), never as MariaDB's JSON_VALUE and SQLite's json_extract read it (1/0: {"pulse": true} was a heart
    # rate of 1/min); an object or list is no value on every engine (PostgreSQL's ->> alone gives its JSON text)
    # unless ``nested`` (then its JSON text on every engine)
    if engine == "postgresql":
        if nested:  # ->> gives an object's or a list's JSON text, a JSON null as NULL
            return f"({column} ->> '{key}')"
        return (f"(CASE WHEN jsonb_typeof(CAST({column} -> '{key}' AS jsonb)) IN ('object', 'array') THEN NULL "
                f"ELSE {column} ->> '{key}' END)")
    if engine == "mariadb":
        path = f"'$.\"{key}\"'"
        part = f"JSON_EXTRACT({column}, {path})"
        # JSON_VALUE gives a scalar only: an object or list (nested) and true/false (as their text) from JSON_EXTRACT
        kinds = "'OBJECT', 'ARRAY', 'BOOLEAN'" if nested else "'BOOLEAN'"
        return f"CASE WHEN JSON_TYPE({part}) IN ({kinds}) THEN {part} ELSE JSON_VALUE({column}, {path}) END"
    if engine in ("sqlite", "sqlite-odbc"):
        path = f"'$.\"{key}\"'"
        if nested:  # json_extract gives an object's or a list's JSON text, a JSON null as NULL
            return (f"CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}, {path}) IN ('true', 'false') "
                    f"THEN json_type({column}, {path}) ELSE json_extract({column}, {path}) END END")
        return (f"CASE WHEN json_valid({column}) THEN CASE WHEN json_type({column}, {path}) IN ('object', 'array') "
                f"THEN NULL WHEN json_type({column}, {path}) IN ('true', 'false') THEN json_type({column}, {path}) "
                f"ELSE json_extract({column}, {path}) END END")
    raise ValueError(f"no JSON lift written for {engine}")
