"""Measurements kept as entity–attribute–value rows (OpenMRS ``obs``, OSCAR ``measurements``, Care2x's measurement
rows, a Korean EMR's 바이탈 table of 항목코드 + 결과값): one row per measurement, with a link to the patient (or the
visit), a type — a code, or an id into a dictionary table —, a value and optionally a unit and a time.

The scaffold (:func:`eav_guesses`) recognises such a table that no other section reads and, for every type it can
name as a vital sign (by the type's code, or by the dictionary's code or name; Korean and English), writes one
``vital_signs`` section whose query selects that type's rows, the value read into that vital's field (a blood
pressure written '120/80' split into systolic and diastolic). The types a dictionary classes as laboratory tests
(OpenMRS's concept class 'Test'), where their values are numbers, are one ``lab_result`` section, the test's code
and name joined in from the dictionary. The rows of every other type are read by one more
section (``…_other``) that maps nothing (``carry = "…"``): each such row is carried whole with its reason (no
Observation is made of a type nobody named, no row quarantined), so that the sections' filters split the table
exactly and no row is read twice.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emr_exporter.connectors.spec import IDENTIFIER
from emr_exporter.errors import SourceQueryError

#: Why the rows of a measurement table's other types are carried (``carry`` of its ``…_other`` section).
OTHER_REASON = "a measurement of a type that is no vital sign and no lab test: kept as recorded"


@dataclass(frozen=True, slots=True)
class ScaffoldKit:
    """What this module uses of the scaffold's (authoring/scaffold.py passes it: the scaffold imports this module,
    never the other way round): how it reads names, and the guess it makes a measurement field of."""

    name_fits: Callable[[str, str], bool]
    words: Callable[[str, bool], str]
    integer_typed: Callable[[Any], bool]
    reserved: frozenset[str]
    field_guess: Callable[..., Any]


#: a blood pressure written as one text, '120/80'
_BP_TEXT = re.compile(r"^\s*\d{1,3}\s*/\s*\d{1,3}\s*$")
#: the engines whose SQL the scaffold splits such a text in (scaffold._bp_part_sql)
_SPLIT_ENGINES = ("sqlite", "sqlite-odbc", "mariadb", "postgresql")
#: the most types a table may have to be taken for a measurement table (a type column is a short list of kinds)
MAX_TYPES = 200
#: a type column: a kind, a concept, an item's code (항목코드), a measurement's type number
_TYPE_COLUMN = (r"(.*_)?(TYPE|KIND|CONCEPT|ITEM|ATTR|ATTRIBUTE)(_?(ID|NO|NR|CD|CODE|KEY|SEQ))?",
                r"(MSR|MEAS|MEASURE|MEASUREMENT|VS|VITAL|OBS|OBSERVATION)_?(TYPE|KIND|CD|CODE|ID|NR|NO|ITEM)(_.*)?",
                r"항목.*", r"(측정|바이탈|활력)?(항목|종류|구분|코드).*")
#: a value column: the measurement's value as a number or as text
_VALUE_COLUMN = (r"(.*_)?(VALUE|VAL)(_?(NUMERIC|NUM|NUMBER|TEXT|TXT|STR))?",
                 r"(.*_)?(RESULT|RSLT|READING)(_?VAL(UE)?)?", r"DATA_?FIELD", r"(결과|측정)(값|치)?", r".*값")
#: a dictionary's column saying what kind of thing its row is (OpenMRS concept.class_id → concept_class.name)
_CLASS_COLUMN = (r"(.*_)?(CLASS|CATEGORY|CATEG|GRP|GROUP)(_?(ID|NO|NR|CD|CODE|NM|NAME))?", r".*(분류|구분)(코드|명)?")
#: the kinds a dictionary's class names a laboratory test by (OpenMRS 'Test', 'LabSet')
_LAB_CLASSES = frozenset({"TEST", "LABSET", "LAB SET", "LAB", "LABORATORY", "LAB TEST", "검사", "진단검사", "임상병리",
                          "검체검사"})
_UNIT_COLUMN = (r"(.*_)?(UNIT|UNITS|UOM)(_?(NM|NAME|TEXT))?", r"단위.*")
#: vital kind → what names it (a code or a name, upper case, as a whole or as the name's first words); the first
#: kind that fits wins, so systolic and diastolic come before the blood pressure itself
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("systolic", r"(SBP|SYS|SYSTOLIC\b.*|(BP|BLOOD PRESSURE) ?(SYS|SYSTOLIC|HIGH|MAX|H)\b.*|.*수축기.*|최고혈압.*)"),
    ("diastolic", r"(DBP|DIA|DIASTOLIC\b.*|(BP|BLOOD PRESSURE) ?(DIA|DIASTOLIC|LOW|MIN|L)\b.*|.*이완기.*|최저혈압.*)"),
    ("bp", r"(BP|NIBP|B/P|BLOOD PRESSURE\b.*|혈압.*)"),
    ("pulse", r"(PR|HR|PULSE\b.*|HEART RATE\b.*|맥박.*|심박(수)?.*)"),
    ("respiration", r"(RR|RESP|RESPIRATION\b.*|RESPIRATORY RATE\b.*|호흡(수)?.*)"),
    ("temperature", r"(BT|TEMP|TEMPERATURE\b.*|BODY TEMPERATURE\b.*|체온.*)"),
    ("spo2", r"(SPO2|SAO2|O2 ?SAT\b.*|OXYGEN SATURATION\b.*|산소포화도.*)"),
    ("weight", r"(WT|BW|WEIGHT\b.*|BODY WEIGHT\b.*|체중.*|몸무게.*)"),
    ("height", r"(HT|BH|HEIGHT\b.*|BODY HEIGHT\b.*|신장|신장 ?\(.*|키|키 ?\(.*)"),
    ("bmi", r"(BMI\b.*|BODY MASS INDEX\b.*|체질량지수.*)"),
    ("waist", r"(WAIST\b.*|허리둘레.*)"),
    ("head", r"(HC|HEAD CIRCUMFERENCE\b.*|HEAD CIRC\b.*|두위.*|머리둘레.*)"),
))
#: the vital-signs fields a measurement section keeps from the table's own guess (the rest are the measurements)
_KEPT = ("patient_id", "encounter_id", "observed", "performer_id", "status", "recorded_status")


def vital_kind(*names: str | None) -> str | None:
    """The vital sign a type's code or name says (``'WT'``, ``'체중'``, ``'Weight (kg)'``), else None."""
    for name in names:
        if not name:
            continue
        text = re.sub(r"\s+", " ", name.strip().upper().replace("_", " "))
        for kind, pattern in _KINDS:
            if pattern.fullmatch(text):
                return kind
    return None


@dataclass(frozen=True, slots=True)
class _Type:
    value: Any  # as the type column holds it
    label: str  # the code and the dictionary's name, as the scaffold's comment shows them


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _fits(kit: ScaffoldKit, column_name: str, patterns: tuple[str, ...]) -> bool:
    return IDENTIFIER.match(column_name) is not None and column_name.upper() not in kit.reserved and any(
        kit.name_fits(p, column_name) for p in patterns)


def _hangul_pairs(name: str) -> set[str]:
    """The two-syllable words of a Korean name (항목코드: 항목, 목코, 코드), but the ones any code column has."""
    pairs = {name[i:i + 2] for i in range(len(name) - 1) if all("가" <= ch <= "힣" for ch in name[i:i + 2])}
    return pairs - {"코드", "번호", "순번", "일련"}


class _EavTable:
    """One measurement table's guesses (:func:`eav_guesses`)."""

    def __init__(self, guesser: Any, table: Any, kit: ScaffoldKit) -> None:
        self.guesser, self.table, self.kit = guesser, table, kit
        self.source = guesser.source
        self.engine = guesser.profile.engine
        self.relation = guesser.relation(table.name)

    def type_column(self) -> str | None:
        found = [c for c in self.table.columns if not c.primary_key and c.non_empty and not c.distinct_capped
                 and 2 <= c.distinct <= MAX_TYPES and not c.is_binary and _fits(self.kit, c.name, _TYPE_COLUMN)]
        return found[0].name if found else None

    def value_column(self, type_column: str) -> str | None:
        found = [c for c in self.table.columns if c.name != type_column and not c.primary_key and c.non_empty
                 and not c.is_binary and _fits(self.kit, c.name, _VALUE_COLUMN)
                 and not re.search(r"(CODED|DATETIME|DATE|_ID)$", self.kit.words(c.name, False))]
        numeric = [c for c in found if c.numeric >= c.non_empty]  # OpenMRS value_numeric before value_text
        chosen = numeric or found
        return chosen[0].name if chosen else None

    def unit_column(self, taken: set[str]) -> str | None:
        return next((c.name for c in self.table.columns if c.name not in taken and not c.primary_key
                     and not self.kit.integer_typed(c) and _fits(self.kit, c.name, _UNIT_COLUMN)), None)

    def class_sql(self, dictionary: Any) -> str | None:
        """SQL of the class (a name) of the dictionary's row ``EAV_D``: its own text column, or the name of the row of
        a class table its id column names; None where it has none."""
        for column in dictionary.columns:
            if column.primary_key or not column.non_empty or not _fits(self.kit, column.name, _CLASS_COLUMN):
                continue
            if not self.kit.integer_typed(column):
                return f"EAV_D.{column.name}"
            own = set(self.kit.words(column.name, False).split("_")) - {"ID", "NO", "NR", "CD", "CODE"}
            for table in self.guesser.profile.tables:
                if table is dictionary or not self.guesser._linkable(table) or not own & set(
                        self.kit.words(table.bare, True).split("_")):
                    continue
                sampled, hits = self.guesser.exact_hits(dictionary, column.name, table.name, table.primary_key[0],
                                                        None)
                if sampled and hits >= 0.8 * sampled:
                    name_sql: str | None = self.guesser._dictionary_values(table, f"EAV_D.{column.name}")[1]
                    return name_sql
        return None

    def sample(self, type_column: str, value_column: str, types: list[_Type]) -> list[Any]:
        """The values of the rows of ``types`` (the first 200 in key order; none where the query fails)."""
        assert self.source is not None
        where = f"X.{type_column} IN ({', '.join(_literal(t.value) for t in types)})"
        try:
            return [row["v"] for row in self.source.rows(
                f"SELECT X.{value_column} AS v FROM {self.relation} X WHERE {where} AND X.{value_column} IS NOT NULL "
                f"ORDER BY X.{self.table.primary_key[0]} LIMIT 200")]
        except SourceQueryError:
            return []

    def numeric(self, type_column: str, value_column: str, types: list[_Type]) -> bool:
        """Whether the values of ``types`` are numbers (90 % of a sample of them)."""
        sample = self.sample(type_column, value_column, types)
        numbers = sum(1 for v in sample if (isinstance(v, (int, float)) and not isinstance(v, bool))
                      or (isinstance(v, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", v)))
        return bool(sample) and numbers >= 0.9 * len(sample)

    def dictionary(self, type_column: str) -> tuple[Any, str, str | None, str | None] | None:
        """The table the type column is an id into, and the SQL of its code and name for a row ``EAV_D``."""
        own = set(self.kit.words(type_column, False).split("_")) - {"ID", "NO", "NR", "CD", "SEQ", "KEY", "FK", "NUM"}
        own |= _hangul_pairs(type_column)
        best: tuple[tuple[int, float], Any] | None = None
        for candidate in self.guesser.profile.tables:
            if candidate is self.table or not self.guesser._linkable(candidate):
                continue
            overlap = len(own & (set(self.kit.words(candidate.bare, True).split("_")) | _hangul_pairs(candidate.bare)))
            if not overlap:
                continue
            sampled, hits = self.guesser.exact_hits(self.table, type_column, candidate.name,
                                                    candidate.primary_key[0], None)
            if not sampled or hits < 0.8 * sampled:
                continue
            rank = (overlap, hits / sampled)
            if best is None or rank > best[0]:
                best = (rank, candidate)
        if best is None:
            return None
        dictionary = best[1]
        code_sql, name_sql, _ = self.guesser._dictionary_values(dictionary, f"EAV_D.{dictionary.primary_key[0]}")
        if code_sql is None and name_sql is None:
            return None
        return dictionary, dictionary.primary_key[0], code_sql, name_sql

    def types(self, type_column: str) -> tuple[list[_Type], dict[str, list[_Type]], list[_Type], Any, str] | None:
        """Every type the table holds (its distinct values), those a vital kind names by kind, those the
        dictionary classes as laboratory tests, the dictionary (or None), and where the names come from."""
        assert self.source is not None
        try:
            values = [row["v"] for row in self.source.rows(
                f"SELECT DISTINCT X.{type_column} AS v FROM {self.relation} X WHERE X.{type_column} IS NOT NULL")]
        except SourceQueryError:
            return None
        if len(values) > MAX_TYPES or any(isinstance(v, (bytes, bytearray, float)) for v in values):
            return None
        names: dict[str, tuple[str | None, str | None]] = {}
        classes: dict[str, str] = {}
        said = f"the type's own code ({type_column})"
        found = self.dictionary(type_column)
        if found is not None:
            dictionary, pk, code_sql, name_sql = found
            class_sql = self.class_sql(dictionary)
            try:
                rows = list(self.source.rows(
                    f"SELECT EAV_D.{pk} AS k, {code_sql or 'NULL'} AS c, {name_sql or 'NULL'} AS n, "
                    f"{class_sql or 'NULL'} AS cl FROM {self.guesser.relation(dictionary.name)} EAV_D"))
                names = {str(r["k"]): (r["c"], r["n"]) for r in rows}
                classes = {str(r["k"]): str(r["cl"]).strip().upper() for r in rows if isinstance(r["cl"], str)}
            except SourceQueryError:
                return None
            said = f"{type_column} is an id into {dictionary.name}: its code and name"
        kinds: dict[str, list[_Type]] = {}
        every: list[_Type] = []
        labs: list[_Type] = []
        for value in sorted(values, key=lambda v: (str(type(v)), v)):
            code, name = names.get(str(value), (None, None))
            shown = " ".join(dict.fromkeys(str(p) for p in (value, code, name) if p not in (None, "")))
            kind = vital_kind(*(str(p) for p in (code, name) if p is not None)) if found else vital_kind(str(value))
            every.append(_Type(value, shown))
            if kind is not None:
                kinds.setdefault(kind, []).append(_Type(value, shown))
            elif classes.get(str(value)) in _LAB_CLASSES:
                labs.append(_Type(value, shown))
        return every, kinds, labs, found[0] if found else None, said

    def bp_text(self, type_column: str, value_column: str, types: list[_Type]) -> bool:
        """Whether the blood pressures of ``types`` are written '120/80' (80 % of a sample of them)."""
        sample = self.sample(type_column, value_column, types)
        texts = [v for v in sample if isinstance(v, str)]
        return bool(texts) and len(texts) == len(sample) and sum(
            1 for v in texts if _BP_TEXT.match(v)) >= 0.8 * len(texts)


def _section_prefix(table: Any, taken: set[str]) -> str:
    bare = table.bare.lower()
    prefix = f"vital_{bare}" if re.fullmatch(r"[a-z0-9_]+", bare) else "vital_eav"
    n, name = 1, prefix
    while name in taken:
        n += 1
        name = f"{prefix}{n}"
    return name


def eav_guesses(guesser: Any, kit: ScaffoldKit) -> dict[str, Any]:
    """Section name → its guess, for every measurement table no other section reads (see the module's doc)."""
    if guesser.source is None:
        return {}
    patient = guesser.guesses.get("patient")
    if patient is None or not patient.usable:
        return {}
    read = {g.table.lower() for g in guesser.guesses.values() if g.usable and g.table}
    out: dict[str, Any] = {}
    prefixes: set[str] = set()
    for table in guesser.profile.tables:
        if table.name.lower() in read or not guesser._linkable(table):
            continue
        found = _table_guesses(guesser, table, prefixes, kit)
        for guess in found:
            out[guess.section] = guess
    return out


def _table_guesses(guesser: Any, table: Any, prefixes: set[str], kit: ScaffoldKit) -> list[Any]:
    """The sections of one measurement table: the table's own vital-signs guess (its patient, visit and time, as
    the scaffold finds them) made one section per vital kind, and one for the other types' rows."""
    eav = _EavTable(guesser, table, kit)
    type_column = eav.type_column()
    value_column = eav.value_column(type_column) if type_column else None
    if type_column is None or value_column is None:
        return []
    base = guesser._guess_table("vital_signs", table, "")
    if not base.usable or base.lookups:
        return []
    query = base.query or f"SELECT X.* FROM {eav.relation} X"
    if not re.fullmatch(rf"SELECT X\.\*(, .*)? FROM {re.escape(eav.relation)} X( LEFT JOIN .*)?", query) \
            or " WHERE " in query.upper():
        return []
    typed = eav.types(type_column)
    if typed is None:
        return []
    every, kinds, labs, dictionary, said = typed
    unit = eav.unit_column({type_column, value_column})
    kept = [f for f in base.fields if f.field in _KEPT]
    why_value = (f"{value_column} holds each row's value, whatever its type ({len(every)} {type_column} types seen; "
                 f"{said} tell the vital signs)")
    prefix = _section_prefix(table, prefixes)
    prefixes.add(prefix)
    sections: list[Any] = []
    named: list[_Type] = []
    for kind, types in kinds.items():
        fields = list(kept)
        if kind == "bp":
            if eav.engine not in _SPLIT_ENGINES or not eav.bp_text(type_column, value_column, types):
                continue  # a blood pressure not written '120/80': which number it is is not known
            for part, name in ((1, "systolic"), (2, "diastolic")):
                fields.append(kit.field_guess(name, value_column, "decimal", f"{why_value}: the {name} number of "
                                         "'120/80' read out (expr); the value carried raw as written",
                                         bp_part=part, engine=eav.engine))
        else:
            fields.append(kit.field_guess(kind, value_column, "decimal", why_value))
        if unit is not None:
            unit_field = "bp_unit" if kind in ("bp", "systolic", "diastolic") else f"{kind}_unit"
            fields.append(kit.field_guess(unit_field, unit, "text", f"{unit}: the unit written beside the value"))
        condition = f"X.{type_column} IN ({', '.join(_literal(t.value) for t in types)})"
        sections.append(dataclasses.replace(
            base, fields=fields, notes=[], unnamable=[],
            why=(f"an entity–attribute–value measurement table: one row per measurement, its type in {type_column}; "
                 f"the rows of the {kind} type{'s' if len(types) > 1 else ''} "
                 f"({'; '.join(t.label for t in types)})"),
            query=f"{query} WHERE {condition}", query_why=(base.query_why + "; " if base.query_why else "")
            + f"only the {kind} rows (the table's other types are read by the other {prefix}_* sections)",
            section=f"{prefix}_{kind}"))
        named += types
    if not sections:
        return []
    lab = _lab_section(eav, base, query, type_column, value_column, unit, labs, dictionary, prefix)
    if lab is not None:
        sections.append(lab)
        named += labs
    others = [t for t in every if t not in named]
    listed = ", ".join(_literal(t.value) for t in named)
    sections.append(dataclasses.replace(
        base, fields=[], notes=[], unnamable=[], carry=OTHER_REASON,
        why=(f"the rows of {table.name}'s other {type_column} types ({len(others)} seen, none named as a vital sign"
             + " or a lab test"
             + (f": {'; '.join(t.label for t in others[:20])}{' …' if len(others) > 20 else ''}" if others else "")
             + "): no record is made of them, each row is carried whole with its reason (no "
             "Observation of a type nobody named); give a type its own section to map it"),
        query=f"{query} WHERE (X.{type_column} NOT IN ({listed}) OR X.{type_column} IS NULL)",
        query_why="every row no other section of this table reads (the filters split the table exactly)",
        section=f"{prefix}_other"))
    return sections


def _lab_section(eav: _EavTable, base: Any, query: str, type_column: str, value_column: str, unit: str | None,
                 labs: list[_Type], dictionary: Any, prefix: str) -> Any:
    """The rows of the types the dictionary classes as laboratory tests, where their values are numbers: one
    ``lab_result`` section, the test's code and name joined in from the dictionary; else None."""
    if not labs or dictionary is None or not eav.numeric(type_column, value_column, labs):
        return None
    code_sql, name_sql, said = eav.guesser._dictionary_values(dictionary, f"X.{type_column}")
    if code_sql is not None and f" FROM {eav.relation} LK_N " in code_sql:
        code_sql = None  # "the code" found in the measurement table itself: its type column, which is the code
    if code_sql is None and name_sql is None:
        return None
    selects = [f"{sql} AS SCAFFOLD_{name.upper()}" for name, sql in (("code", code_sql), ("name", name_sql)) if sql]
    own_code = code_sql is None and not eav.kit.integer_typed(eav.table.column(type_column))
    why = (f"{type_column} is an id into {dictionary.name}, whose class says a laboratory test: {said} "
           "(see query; the id carried raw beside the section)")
    fields = [f for f in base.fields if f.field in _KEPT and f.field not in ("performer_id",)]
    fields += [eav.kit.field_guess(name, f"SCAFFOLD_{name.upper()}", "text", why)
               for name, sql in (("code", code_sql), ("name", name_sql)) if sql]
    if own_code:  # a code, not an id: the test's code as the row writes it
        fields.insert(-1 if name_sql else len(fields), eav.kit.field_guess(
            "code", type_column, "text", f"{type_column}: the test's code, as the row writes it"))
    fields.append(eav.kit.field_guess("value", value_column, "text", f"{value_column}: the result as recorded"))
    if unit is not None:
        fields.append(eav.kit.field_guess("unit", unit, "text", f"{unit}: the unit written beside the value"))
    condition = f"X.{type_column} IN ({', '.join(_literal(t.value) for t in labs)})"
    return dataclasses.replace(
        base, entity="lab_result", fields=fields, notes=[], unnamable=[],
        why=(f"the rows of {eav.table.name}'s {type_column} types its dictionary classes as laboratory tests, whose "
             f"values are numbers ({'; '.join(t.label for t in labs)})"),
        query=query.replace("SELECT X.*", "SELECT X.*, " + ", ".join(selects), 1) + f" WHERE {condition}",
        query_why=(base.query_why + "; " if base.query_why else "") + "only the laboratory tests' rows; their code "
        f"and name joined in from {dictionary.name} (one value per row: every row kept)",
        section=prefix.replace("vital_", "lab_", 1))
