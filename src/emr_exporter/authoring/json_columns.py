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

from emr_exporter.connectors.spec import IDENTIFIER

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
#: A HIRA drug code (약품코드, nine digits) as a prescription's array writes it: a text, so never a dose
_DRUG_CODE = re.compile(r"^[0-9]{9}$")


@dataclass(slots=True)
class KeyCount:
    """One key of a column's sampled JSON objects: how many held it with a value that is no object or list, how
    many of those values are numbers (or numeric text), and how many a blood pressure written '120/80'; and how many
    held an object or a list there (a SOAP note's ``"o": {"인후": "발적"}``, ``"p": ["타이레놀", …]``)."""

    held: int = 0
    numbers: int = 0
    bp_text: int = 0
    nested: int = 0
    #: how many are texts shaped as a HIRA drug code (nine digits, ``"642102570"``): the shape counted, never kept
    drug_codes: int = 0


@dataclass(slots=True)
class JsonKeys:
    """The sampled JSON objects of one column: how many, and their keys (names only, never a value)."""

    objects: int = 0
    keys: dict[str, KeyCount] = field(default_factory=dict)
    capped: bool = False
    #: the sampled values that are JSON arrays holding an object (a prescription's drugs), and those objects' keys
    arrays: int = 0
    elements: int = 0
    element_keys: dict[str, KeyCount] = field(default_factory=dict)

    def add(self, text: str) -> None:
        """Count ``text`` if it is a JSON object (anything else, malformed JSON too, is not counted)."""
        stripped = text.strip()
        if not stripped.startswith(("{", "[")) or len(stripped) > PARSED_UP_TO:
            return
        try:
            document = json.loads(stripped)
        except ValueError:
            return
        if isinstance(document, list):  # an array of objects (a prescription's drugs): each object's keys
            elements = [e for e in document if isinstance(e, dict)]
            self.arrays += bool(elements)
            self.elements += len(elements)
            for element in elements:
                self._count(self.element_keys, element)
            return
        if not isinstance(document, dict):
            return
        self.objects += 1
        self._count(self.keys, document)

    def _count(self, keys: dict[str, KeyCount], document: dict[str, object]) -> None:
        for key, value in document.items():
            if value is None or isinstance(value, bool):
                continue
            count = keys.get(key)
            if count is None:
                if len(keys) >= KEYS_CAP:
                    self.capped = True
                    continue
                count = keys[key] = KeyCount()
            if isinstance(value, dict | list):
                count.nested += 1
                continue
            count.held += 1
            if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
                count.numbers += 1
            elif isinstance(value, str) and _BP.match(value):
                count.bp_text += 1
            if isinstance(value, str) and _DRUG_CODE.match(value):
                count.drug_codes += 1


def json_column_type(engine: str, type_name: str) -> bool:
    """Whether a column of ``type_name`` may be lifted from on ``engine``: PostgreSQL's own ``jsonb``/``json`` only
    (``->>`` on text would need a cast that stops the query at the first malformed cell); on MariaDB and SQLite
    any text column, whose malformed cells the lift reads as NULL."""
    upper = type_name.upper()
    if engine == "postgresql":
        return upper in ("JSONB", "JSON")
    return engine in LIFT_ENGINES and not upper.endswith(("BLOB", "BINARY")) and upper not in ("BYTEA", "IMAGE")


def lift_sql(engine: str, column: str, keys: Sequence[str], nested: bool = False, reading: str = "json_value") -> str:
    """The SQL reading the value of the first of ``keys`` the JSON object in ``column`` holds, as text (one
    measurement written under two spellings, ``bp`` by one screen and ``혈압`` by another: the first found); NULL
    where the cell is NULL, no object, has none of the keys or holds a JSON null, or (unless ``nested``) an object
    or list there; with ``nested`` an object or list is read as its JSON text (a SOAP note's ``"o": {"인후":
    "발적"}``: PostgreSQL's and MariaDB's as the server keeps it, SQLite's without spaces); a JSON ``true`` or
    ``false`` as that text on every engine (no number: the field's defect, never 1 or 0). On MariaDB
    (``JSON_VALID``) and SQLite (``json_valid``) a malformed cell is NULL, never partly read (the query never stops
    on one);
    PostgreSQL's ``->>`` is only written for its json types, which hold no malformed text. Each key must fit
    :data:`LIFTABLE_KEY`. On MariaDB/MySQL ``reading`` (drivers.json_value_reading) ``"extract"`` writes no
    ``JSON_VALUE`` (MySQL 5.7.8–8.0.20 has none): ``JSON_UNQUOTE(JSON_EXTRACT(…))`` behind a ``JSON_TYPE`` test
    (a JSON null none, not the text 'null' JSON_UNQUOTE gives), the same values."""
    if not keys or not all(LIFTABLE_KEY.fullmatch(key) for key in keys):
        raise ValueError("a JSON key the lift cannot name")
    lifts = [_lift_one(engine, column, key, nested, reading) for key in keys]
    lifted = lifts[0] if len(lifts) == 1 else f"COALESCE({', '.join(lifts)})"
    # MariaDB's JSON_VALUE reads a malformed document up to where it breaks ('{"혈압": "120/80", "맥박": 7' gave
    # 120/80): no value is taken from a document that is not whole
    return f"CASE WHEN JSON_VALID({column}) THEN {lifted} END" if engine == "mariadb" else lifted


def _lift_one(engine: str, column: str, key: str, nested: bool, reading: str) -> str:
    # A JSON true/false is read as its JSON text, as PostgreSQL's ->> gives it ('true': no number, the field's
    # defect), never as MariaDB's JSON_VALUE and SQLite's json_extract read it (1/0: {"pulse": true} was a heart
    # rate of 1/min); an object or list is no value on every engine (PostgreSQL's ->> alone gives its JSON text)
    # unless ``nested`` (then its JSON text on every engine)
    if engine == "postgresql":
        if nested:  # ->> gives an object's or a list's JSON text, a JSON null as NULL
            return f"({column} ->> '{key}')"
        return (f"(CASE WHEN jsonb_typeof(CAST({column} -> '{key}' AS jsonb)) IN ('object', 'array') THEN NULL "
                f"ELSE {column} ->> '{key}' END)")
    if engine == "mariadb" and reading == "extract":
        return _extract_one(column, key, nested)
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


#: The order-line fields a prescription's array of drug objects holds, each by the names its keys are given (whole
#: key, any case; English and Korean): ``[{"code": "642102570", "name": "타이레놀정500mg", "dose": 1, "times": 3,
#: "days": 5}]``, ``[{"약품코드": …, "약품명": …, "1회량": …, "횟수": …, "일수": …, "용법": …}]``.
DRUG_ARRAY_KEYS: dict[str, tuple[str, ...]] = {
    "code": (r"(drug_?|med_?|yak_?|edi_?)?(code|cd)", r"(약품|약가|약|청구|보험)?코드"),
    "name": (r"(drug_?|med_?|yak_?)?(name|nm)", r"drug", r"medication", r"(약품|약)(명|이름)", r"약품명칭"),
    "dose": (r"dose", r"(once_?)?(qty|amt)", r"1회(투여)?량", r"(1회)?투여량", r"용량"),
    "frequency": (r"freq(uency)?", r"times", r"(day_?)?cnt", r"(1일)?(투여)?횟수"),
    "days": (r"days?", r"(총)?(투약|투여|복용)?일수"),
    "dose_unit": (r"(dose_?)?unit", r"단위"),
    "route": (r"route", r"용법"),
}
#: Of those, the amounts: numbers (80 % of the values the sample saw under the key), and two of them at least with
#: a drug's code or name before an array is read as a prescription's drugs (a name is no number: ``[{"name": 2,
#: "dose": 3, "days": 4}]`` is not; a code may be, the clinic's own).
DRUG_AMOUNTS = ("dose", "frequency", "days")


def drug_array_keys(keys: JsonKeys) -> dict[str, tuple[str, ...]] | None:
    """The order-line field → the keys of the drug objects that hold it (the most held first: one field written
    under two spellings, ``name`` by one screen and ``약품명`` by another, is read from whichever an element holds),
    where the sampled arrays of ``keys`` are a prescription's drugs (:data:`DRUG_ARRAY_KEYS`): a code or a name key,
    and two amounts or more whose values are numbers. None otherwise. Keys only: no value is looked at here (the
    sample counted their shapes)."""
    if not keys.elements:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for name, patterns in DRUG_ARRAY_KEYS.items():
        fits = sorted(((count.held, key) for key, count in keys.element_keys.items()
                       if LIFTABLE_KEY.fullmatch(key) and any(re.fullmatch(p, key, re.IGNORECASE) for p in patterns)
                       and (name not in DRUG_AMOUNTS or count.numbers >= 0.8 * count.held > 0)
                       and (name != "name" or count.numbers < count.held)), key=lambda fit: (-fit[0], fit[1]))
        taken = {k for ks in found.values() for k in ks}
        if fits := [fit for fit in fits if fit[1] not in taken]:
            found[name] = tuple(key for _, key in fits)
    if not ({"code", "name"} & set(found)) or sum(name in found for name in DRUG_AMOUNTS) < 2:
        return None
    return found


def drug_code_field(keys: JsonKeys, codes: Sequence[str]) -> str:
    """``edi_code`` where the values the sample saw under the ``codes`` keys are HIRA drug codes (nine digits: 80 %),
    as a column of them is read; ``local_code`` otherwise (the clinic's own codes)."""
    held = sum(keys.element_keys[key].held for key in codes)
    return "edi_code" if sum(keys.element_keys[key].drug_codes for key in codes) >= 0.8 * held > 0 else "local_code"


def elements_sql(engine: str, relation: str, column: str, selects: Sequence[str], position: str,
                 lifted: Sequence[tuple[str, Sequence[str]]], needed: Sequence[Sequence[str]],
                 reading: str = "json_table") -> str:
    """The query reading ONE ROW PER ELEMENT of the JSON array kept in ``column`` of ``relation`` (aliased ``X``):
    ``selects`` of the row (``X.RX_ID``…), the element's position in the array (1 for the first) as ``position``,
    and per (alias, keys) of ``lifted`` the value of the first of the keys the element holds (:func:`lift_sql`).
    Only the elements where one of the keys of ``needed`` holds a value (a drug's code or name): another element's
    values stay in the document, which the row's own section carries whole. Each engine's own unnesting:
    PostgreSQL ``jsonb_array_elements … WITH ORDINALITY`` (a ``json`` cell cast to ``jsonb``, which cannot fail),
    MariaDB ``JSON_TABLE`` (10.6+; ``FOR ORDINALITY``), SQLite ``json_each`` (its ``key`` is the position from 0);
    on a MariaDB/MySQL server without JSON_TABLE (``reading`` ``"positions"``, drivers.json_array_reading) the
    positions of :func:`_positions_sql`. A document that is NULL, malformed or no array gives no row (never read
    part-way; the query never stops on one)."""
    if engine == "mariadb" and reading == "positions":
        return _positions_sql(relation, column, selects, position, lifted, needed)
    if engine == "postgresql":
        document = f"CAST(X.{column} AS jsonb)"
        source = (f"{relation} X CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof({document}) = "
                  f"'array' THEN {document} END) WITH ORDINALITY AS J(elem, pos)")
        element, at = "J.elem", "J.pos"
    elif engine == "mariadb":
        source = (f"{relation} X, JSON_TABLE(CASE WHEN JSON_VALID(X.{column}) THEN CASE WHEN JSON_TYPE(X.{column}) "
                  f"= 'ARRAY' THEN X.{column} END END, '$[*]' COLUMNS (pos FOR ORDINALITY, elem JSON PATH '$')) J")
        element, at = "J.elem", "J.pos"
    elif engine in ("sqlite", "sqlite-odbc"):
        source = (f"{relation} X, json_each(CASE WHEN json_valid(X.{column}) THEN CASE WHEN json_type(X.{column}) "
                  f"= 'array' THEN X.{column} END END) J")
        element, at = "J.value", "(J.key + 1)"
    else:
        raise ValueError(f"no JSON array read written for {engine}")
    values = [f"{lift_sql(engine, element, keys)} AS {alias}" for alias, keys in lifted]
    where = " OR ".join(f"{lift_sql(engine, element, keys)} IS NOT NULL" for keys in needed)
    return f"SELECT {', '.join([*selects, f'{at} AS {position}', *values])} FROM {source} WHERE {where}"


#: The positions :func:`_positions_sql` reads of one array: 10 ** POSITION_DIGITS (an element past them is not read
#: as an order line, the document carried whole with it; connector check counts such documents)
POSITION_DIGITS = 4
_DIGITS = "(SELECT 0 AS d UNION ALL " + " UNION ALL ".join(f"SELECT {d}" for d in range(1, 10)) + ")"


def positions_length_sql(column: str) -> str:
    """The number of elements of the JSON array in ``column``; NULL where it is NULL, malformed or no array."""
    return (f"CASE WHEN JSON_VALID({column}) THEN CASE WHEN JSON_TYPE({column}) = 'ARRAY' THEN JSON_LENGTH({column}) "
            "END END")


def _positions_sql(relation: str, column: str, selects: Sequence[str], position: str,
                   lifted: Sequence[tuple[str, Sequence[str]]], needed: Sequence[Sequence[str]]) -> str:
    """:func:`elements_sql` on a MariaDB/MySQL server without JSON_TABLE (MariaDB 10.2.3–10.5, MySQL 5.7.8–8.0.20,
    which have no recursive CTE before MariaDB 10.2.2 and MySQL 8.0 either): each row of ``relation`` joined to
    the positions 0 … 9999 below its array's ``JSON_LENGTH``, made of :data:`POSITION_DIGITS` derived tables of
    the ten digits (joined by ``STRAIGHT_JOIN``: the table first, each digit bounded by the length, ~40 tests a row,
    never 10,000; the join's own STRAIGHT_JOIN, not the SELECT's, which the server drops where it merges the query
    into the export's paging around it: the digits first, 30 s for a page of 7 rows of 80 prescriptions, was 0.05 s).
    A cheap bound first: an array of n elements is at least 2n + 1 characters, so most digits are ruled out without
    parsing the document. Each element is extracted once (``JSON_EXTRACT(doc, CONCAT('$[', n, ']'))``) in a derived
    table its ``LIMIT`` keeps the server from merging into the query around it (materialized: 4.4–4.7 s for 49,978
    elements, against 7.5–8.4 s reading each value at its path ``$[n]."key"`` of the whole document), and each value
    read out of that small text (:func:`_portable_lift`: JSON_EXTRACT, JSON_TYPE and JSON_UNQUOTE, which both have;
    MySQL has no JSON_VALUE before 8.0.21). ``selects`` are columns of the row (``X.RX_ID``)."""
    if not all(s.startswith("X.") and IDENTIFIER.match(s[2:]) for s in selects):
        raise ValueError("the positions' query selects the row's columns only")
    document = f"X.{column}"
    joins: list[str] = []
    parts: list[str] = []
    for level in range(POSITION_DIGITS - 1, -1, -1):
        parts.append(f"D{level}.d * {10 ** level}" if level else f"D{level}.d")
        at = " + ".join(parts)
        # the first digit's test says the document is a whole array (its 0 always tested): the others', reached
        # only past it, count its elements alone (one parse of it, not three)
        length = (positions_length_sql(document) if level == POSITION_DIGITS - 1
                  else f"JSON_LENGTH({document})")
        joins.append(f"STRAIGHT_JOIN {_DIGITS} D{level} ON ({at}) * 2 + 1 < CHAR_LENGTH({document}) AND {at} < "
                     f"{length}")
    at = " + ".join(parts)
    element = f"{position}_ELEMENT"
    inner = (f"SELECT {', '.join([*selects, f'{at} + 1 AS {position}'])}, JSON_EXTRACT({document}, CONCAT('$[', {at}, "
             f"']')) AS {element} FROM {relation} X {' '.join(joins)} LIMIT {_NO_LIMIT}")
    values = [f"{_portable_lift(f'E.{element}', keys)} AS {alias}" for alias, keys in lifted]
    where = " OR ".join(f"{_portable_lift(f'E.{element}', keys)} IS NOT NULL" for keys in needed)
    outer = [f"E.{s[2:]}" for s in selects]
    return f"SELECT {', '.join([*outer, f'E.{position}', *values])} FROM ({inner}) E WHERE {where}"


#: The largest LIMIT MariaDB and MySQL take: every row, the derived table materialized (their manuals' own idiom)
_NO_LIMIT = 18446744073709551615


def _portable_lift(element: str, keys: Sequence[str]) -> str:
    """The value of the first of ``keys`` the JSON object ``element`` holds, as :func:`lift_sql` reads it on MariaDB
    (a string unquoted, a number as written, true/false as their text; an object, a list or a JSON null none; no
    object, none), with the functions of MariaDB 10.2.3 and MySQL 5.7.8."""
    if not keys or not all(LIFTABLE_KEY.fullmatch(key) for key in keys):
        raise ValueError("a JSON key the lift cannot name")
    lifts = [_extract_one(element, key, nested=False) for key in keys]
    return lifts[0] if len(lifts) == 1 else f"COALESCE({', '.join(lifts)})"


def _extract_one(column: str, key: str, nested: bool) -> str:
    """One key's value as MariaDB's ``JSON_VALUE`` reads it (a string unquoted, its escapes read, a number as
    written), with ``JSON_EXTRACT``, ``JSON_TYPE`` and ``JSON_UNQUOTE`` only (MariaDB 10.2.3, MySQL 5.7.8): a JSON
    null none (JSON_UNQUOTE alone gives the text 'null'), true/false as their text, an object or a list none or,
    with ``nested``, its JSON text."""
    part = f"JSON_EXTRACT({column}, '$.\"{key}\"')"
    kept = part if nested else "NULL"
    return (f"CASE JSON_TYPE({part}) WHEN 'OBJECT' THEN {kept} WHEN 'ARRAY' THEN {kept} WHEN 'NULL' THEN NULL "
            f"WHEN 'BOOLEAN' THEN {part} ELSE JSON_UNQUOTE({part}) END")
