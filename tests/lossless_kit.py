"""Rebuild every row of every table of a clinic database from an OPENED bag, and compare it byte for byte.

Used by tests/test_lossless.py (SQLite file) and tests/test_lossless_db.py (MariaDB, PostgreSQL). Where
each source cell comes back from:

* a table no entity reads: ``data/raw/tables/<table>.*.ndjson`` (every column, carried form); a PostgreSQL
  partition: with its partitioned table (inventory fate ``read_with``); a table with inheritance children: its
  own rows only (``FROM ONLY``), each child's with the child;
* the database's large objects (PostgreSQL; inventory kind ``large-objects``): ``{oid, data}`` rows in
  ``data/raw/tables/pg_largeobject.*.ndjson``, compared with every object's bytes (``lo_get``); a column holding
  their numbers (``oid``, the ``lo`` domain, which psqlODBC reads as the bytes) is compared as the numbers;
* a quarantined row: ``data/raw/<entity>.*.ndjson`` (every column of the entity's query);
* a column of a table its sections read that none of their queries selects (inventory ``unselected_columns``):
  ``data/raw/unselected/<table>.*.ndjson``, found by the table's key (``{"key": …, "columns": …}``), or, where the
  table has no usable key, as the whole row that agrees with the rest of the rebuilt row (``{"row": …}``);
* an exported row: the key from the record list (``data/report/lists``); unmapped columns, dropped or
  repaired fields, a changed key and every mapped cell FHIR cannot give back exactly (``transformed``)
  from ``data/raw/columns/<entity>.*.ndjson`` (keyed by record id); every other mapped cell from the FHIR
  resource itself, at the location ``data/report/cells.json`` names, turned back into the source value by
  :func:`emr_exporter.pipeline.cells.rebuild_cell` (codes through the connector's map, references through
  the parent's key, an attachment's bytes from the bag member its DocumentReference names).

Every rebuilt row is compared with the row the same source reads from the database now, cell by cell:
same value, same type, same written form of numbers (``12.50`` is not ``12.5``), bytes as bytes.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.connectors.mapper import key_text
from emr_exporter.connectors.spec import ConnectorSpec
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.cells import ColumnPlan, rebuild_cell, same, shape_of
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import Source
from emr_exporter.sources.catalog import CatalogTable, convert_row, from_name, list_tables, readable_select
from emr_exporter.sources.drivers import caps_for


def lines(bag: Path, prefix: str) -> Iterator[dict[str, Any]]:
    """Every NDJSON line of the segments ``data/<prefix>.NNNN.ndjson`` (not of sub-folders)."""
    folder, _, stem = f"data/{prefix}".rpartition("/")
    for path in sorted((bag / folder).glob(f"{stem}.*.ndjson")):
        with path.open("rb") as fh:
            for line in fh:
                yield json.loads(line)


class Rebuilt:
    """Counts of what was found where (per table), for the tests' assertions and messages."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()
        self.carried_cells = 0
        self.mapped_cells = 0
        self.quarantined_cells = 0
        self.transformed_cells = 0


def source_rows(source: Source, table: CatalogTable, as_bytes: Collection[str] = ()) -> list[dict[str, Any]]:
    """Every row of ``table`` that is its own (PostgreSQL: not its inheritance children's, which are theirs),
    with a PostgreSQL uuid as the server writes it (psqlODBC gives it in upper case) and a boolean as the
    boolean (it gives '1'/'0'), a MariaDB FLOAT as the shortest decimal of its float32, as the export reads
    them; the MariaDB/MySQL latin1 columns named in ``as_bytes`` (:func:`_named`) as the bytes they store (CP949 a
    section reads with CAST(… AS BINARY))."""
    select = "*"
    converters: dict[str, Any] = {}
    if as_bytes:
        select, converters = readable_select(source.engine, [(c.name, c.type) for c in table.columns],
                                             _named(table, as_bytes))
    elif source.engine in ("postgresql", "mariadb", "mysql"):  # MariaDB: a FLOAT as the float32's shortest decimal
        # a large object's column as the number it holds (psqlODBC reads an lo column as the object's bytes), and
        # the table's other columns as the export reads them (an oid beside a timestamptz: GNUmed's audit.log_*)
        select, converters = readable_select(source.engine, [(c.name, c.type) for c in table.columns])
    elif table.has_large_objects:
        caps = caps_for(source.engine)
        select = ", ".join(f"{caps.large_object_ref_expr.format(col=caps.quote(c.name))} AS {caps.quote(c.name)}"
                           if c.large_object else caps.quote(c.name) for c in table.columns)
    rows = list(source.rows(f"SELECT {select} FROM {from_name(source.engine, table)}"))
    return [convert_row(row, converters) for row in rows] if converters else rows


def _named(table: CatalogTable, names: Collection[str]) -> list[str]:
    """The columns of ``table`` that ``names`` names: by their very name, or in lower case where no other column's
    name differs from theirs only by case (PostgreSQL "Twin" and "twin": the one named, not both)."""
    lower = Counter(c.name.lower() for c in table.columns)
    return [c.name for c in table.columns
            if c.name in names or (c.name.lower() in names and lower[c.name.lower()] == 1)]


def check_bag_against_server(bag: Path, connector: Path, odbc: str) -> Rebuilt:
    """:func:`check_bag_against_source` on the clinic server ``odbc`` (a connection string with its password), read
    as the export reads it (a session in the connector's [source] timezone), for the connector in ``connector``."""
    from emr_exporter.connectors.spec import load_spec, session_time_zone
    from emr_exporter.sources.drivers import get_option
    from emr_exporter.sources.odbc import OdbcSource

    spec = load_spec(connector)
    source = OdbcSource(odbc, get_option(odbc, "PWD"), time_zone=session_time_zone(spec))
    try:
        return check_bag_against_source(bag, spec, source)
    finally:
        source.close()


def check_bag_against_source(bag: Path, spec: ConnectorSpec, source: Source,
                             stored_bytes: Mapping[str, Collection[str]] | None = None) -> Rebuilt:
    """Rebuild every row of every table of ``source`` from ``bag``; raise AssertionError on any difference.
    ``stored_bytes``: table → its latin1 columns compared as the bytes stored (:func:`source_rows`)."""
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    catalogue = {t.name.lower(): t for t in list_tables(source)}
    assert sorted(t["name"] for t in inventory if t["kind"] != "large-objects") == sorted(catalogue), (
        "the inventory lists every table and view")
    result = Rebuilt()
    context = _BagContext(bag)
    for entry in inventory:
        name = entry["name"]
        if entry["kind"] == "large-objects":
            db_objects = list(source.rows("SELECT CAST(oid AS bigint) AS oid, lo_get(oid) AS data "
                                          "FROM pg_catalog.pg_largeobject_metadata"))
            assert entry["rows"] == len(db_objects), name
            carried = [{k: decode_raw(v) for k, v in line["row"].items()}
                       for line in lines(bag, f"raw/tables/{_member(entry)}")]
            assert _multiset(carried) == _multiset(db_objects), "the large objects differ from the database's"
            result.rows[name] += len(carried)
            result.carried_cells += sum(len(r) for r in carried)
            continue
        table = catalogue[name]
        if entry["fate"] in ("skipped", "read_with"):  # read_with: a partition, its rows are its table's
            assert entry.get("reason"), name
            continue
        db_rows = source_rows(source, table, (stored_bytes or {}).get(name, ()))
        assert entry["rows"] == len(db_rows), name
        if entry["fate"] == "carried":
            carried = [{k: decode_raw(v) for k, v in line["row"].items()}
                       for line in lines(bag, f"raw/tables/{_member(entry)}")]
            assert _multiset(carried) == _multiset(db_rows), f"carried table {name} differs from the database"
            result.rows[name] += len(carried)
            result.carried_cells += sum(len(r) for r in carried)
            continue
        unselected = _Unselected(bag, entry["unselected_columns"]) if "unselected_columns" in entry else None
        # columns a section reads again for some rows (a visit's diagnosis codes): per section read whole, per
        # column, the keys of the rows the rereading section holds (exported or quarantined): kept there only
        held: dict[str, dict[str, set[str]]] = {}
        for again in entry.get("read_again", []):
            section = spec.entities[again["section"]]
            keys = set(context.keys[again["section"]].values()) | {
                key_text(decode_raw(line["row"][section.key.lower()])) for line in lines(bag, f"raw/{section.name}")}
            for column in again["columns"]:
                held.setdefault(again["by"], {}).setdefault(column, set()).update(keys)
        for entity_name in entry["entities"]:
            entity = spec.entities[entity_name]
            if entity.carry is not None:  # its rows carried whole (data/raw/sections/<name>): each is its row
                _check_carried_section(bag, entry, entity_name, db_rows, result, unselected)
                continue
            # a key the section's query makes (SQLite: SELECT rowid AS row_no, * for a table with no other key):
            # the rows as that query reads them
            own = entity.query and db_rows and entity.key.lower() not in db_rows[0] and not entity.composite
            rows = list(source.rows(entity.query)) if own else db_rows
            if entity.query and entity.composite and db_rows and any(
                    c.lower() not in db_rows[0] for c in entity.key_columns):
                # rows from inside one cell (a prescription's JSON array of drugs, one order line per element, keyed
                # by its position): derived from a cell the table's section read whole keeps raw; each rebuilt and
                # compared with the row the section's query gives, its cells counted once, as the export counts them
                assert entity_name in context.rereads, f"{entity_name}: rows from inside a cell read no row again"
                _check_entity(bag, spec, entity_name, [{k.lower(): v for k, v in r.items()}
                                                       for r in source.rows(entity.query)], context, result)
                continue
            if entity.query and not own and entity_name in context.rereads and db_rows:
                # a section reading again some columns of rows another reads whole (a visit's diagnosis-code
                # column, scaffold's diagnosis_<column>): its rows are those columns of the table's rows
                read = next(iter(source.rows(entity.query)), None)
                given = [c for c in db_rows[0] if read is not None and c in {k.lower() for k in read}]
                rows = [{c: r[c] for c in given} for r in db_rows]
            _check_entity(bag, spec, entity_name, rows, context, result, unselected, held.get(entity_name, {}))
        assert result.rows[name] == len(db_rows), f"{name}: {result.rows[name]} rows rebuilt of {len(db_rows)}"
        if unselected is not None:
            assert unselected.used == len(db_rows) == unselected.lines, (
                f"{name}: {unselected.used} of {unselected.lines} lines of its unselected columns used")
    return result


def _check_carried_section(bag: Path, entry: dict[str, Any], name: str, db_rows: list[dict[str, Any]],
                           result: Rebuilt, unselected: _Unselected | None) -> None:
    """A carried section's rows: each line a row of the table, every cell as stored (but its unselected ones)."""
    [carried] = [c for c in entry["carried_sections"] if c["section"] == name]
    assert carried["reason"], name
    remaining = _multiset(db_rows)
    for line in lines(bag, carried["files"].removeprefix("data/").removesuffix(".*.ndjson")):
        row = {k: decode_raw(v) for k, v in line["row"].items()}
        result.carried_cells += len(row)
        if unselected is not None:
            result.carried_cells += unselected.fill(row, 1)
        whole = repr(sorted(row.items()))
        assert remaining[whole] > 0, f"{name}: a carried row that is no row of {entry['name']} (or one twice)"
        remaining[whole] -= 1
        result.rows[entry["name"]] += 1


def _member(entry: dict[str, Any]) -> str:
    return entry["files"].removeprefix("data/raw/tables/").removesuffix(".*.ndjson")


def _multiset(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(repr(sorted(row.items())) for row in rows)


class _Unselected:
    """A table's columns no query of its sections selects, as ``data/raw/unselected/<table>`` carries them."""

    def __init__(self, bag: Path, entry: dict[str, Any]) -> None:
        self.names: list[str] = entry["columns"]
        self.key: list[str] = entry["key"]
        member = entry["files"].removeprefix("data/").removesuffix(".*.ndjson")
        self.by_key: dict[tuple[str, ...], dict[str, Any]] = {}
        self.whole: list[dict[str, Any]] = []
        self.lines = self.used = 0
        for line in lines(bag, member):
            self.lines += 1
            if self.key:
                key = tuple(repr(decode_raw(line["key"][k])) for k in self.key)
                assert key not in self.by_key, f"{member}: a key twice"
                self.by_key[key] = {k: decode_raw(v) for k, v in line["columns"].items()}
            else:
                self.whole.append({k: decode_raw(v) for k, v in line["row"].items()})

    def fill(self, row: dict[str, Any], counted: int) -> int:
        """Put the row's unselected cells in ``row`` (the rest of it rebuilt); how many cells that was."""
        if self.key:
            found = self.by_key[tuple(repr(row[k]) for k in self.key)]
        else:  # the whole row whose other columns are the rebuilt row's
            [found] = [w for w in self.whole if all(same(w[c], row[c]) for c in row if c not in self.names)][:1]
            if counted:
                self.whole.remove(found)
        row.update({c: found[c] for c in self.names})
        self.used += counted
        return len(self.names)


def _check_entity(
    bag: Path, spec: ConnectorSpec, entity_name: str, db_rows: list[dict[str, Any]], context: _BagContext,
    result: Rebuilt, unselected: _Unselected | None = None, held: Mapping[str, set[str]] | None = None,
) -> None:
    """``held``: per column, the keys (text) of the rows another section reads it again of: there only."""
    entity = spec.entities[entity_name]
    held = held or {}
    key = entity.key.lower()
    # A composite key (key = ["A", "B"]) is its columns' values together.
    key_columns = [c.lower() for c in entity.key_columns] if entity.composite else [key]

    def key_of(row: dict[str, Any]) -> Any:
        return tuple(row.get(c) for c in key_columns) if entity.composite else row.get(key)

    by_key: dict[Any, dict[str, Any]] = {key_of(row): row for row in db_rows}
    table_columns = list(db_rows[0]) if db_rows else []
    cell_map = context.cell_maps[entity_name]
    plans = {c: ColumnPlan.from_dict(c, p) for c, p in cell_map["columns"].items()}
    encoding = cell_map["encoding"]
    resource_types = fhir.resource_types_of(entity.canonical)
    # A section that reads another's rows again (rereads) rebuilds them too, but they are counted once.
    counted = 0 if entity_name in context.rereads else 1
    seen: set[Any] = set()
    for line in lines(bag, f"raw/{entity_name}"):
        row = {k: decode_raw(v) for k, v in line["row"].items()}
        if unselected is not None:
            result.carried_cells += counted * unselected.fill(row, counted)
        original = by_key[key_of(row)]
        _assert_same_row(entity_name, {k: row[k] for k in original}, original)
        seen.add(key_of(row))
        result.rows[entity.table.lower()] += counted
        result.quarantined_cells += len(original)
    columns = {line["id"]: line for line in lines(bag, f"raw/columns/{entity_name}")}
    for record_id, source_key in context.keys[entity_name].items():
        sidecar = columns.get(record_id, {"columns": {}})
        carried = {k: decode_raw(v) for k, v in sidecar["columns"].items()}
        # Two sections reading one table (visits, and their chief complaints as notes) give records with one
        # id but resources of other types: this section's are those of its canonical type.
        resources = [r for r in context.fhir_by_id.get(record_id, []) if r["resourceType"] in resource_types]
        assert resources, f"{entity_name} row {source_key}: no FHIR resource has its id"
        shape = shape_of(resources, record_id)
        by_suffix = {r["id"][len(record_id) + 1:] if r["id"] != record_id else "": r for r in resources}
        # Every column of the table: carried raw if the sidecar has it, else rebuilt from its FHIR location
        # (cells.json), else empty (a mapped column whose location could not be learnt is carried when not).
        rebuilt: dict[str, Any] = {}
        elsewhere: list[str] = []
        for column in table_columns:
            if unselected is not None and column in unselected.names and column not in unselected.key:
                continue  # from data/raw/unselected, below (the key too, where no query is read: rebuilt to find it)
            if source_key in held.get(column, ()):
                # another section reads this cell again: in its resource or raw columns (checked with its rows),
                # never carried here a second time
                assert column not in carried, f"{entity_name} row {source_key}: {column} carried twice"
                elsewhere.append(column)
                rebuilt[column] = None
                continue
            if column in carried:
                rebuilt[column] = carried[column]
                result.carried_cells += 1
                result.transformed_cells += column in sidecar.get("transformed", ())
                continue
            plan = plans.get(column)
            if plan is None:
                rebuilt[column] = None
            else:
                rebuilt[column] = rebuild_cell(plan, shape, by_suffix, source_key, context.parent_key,
                                               context.attachment, encoding)
            result.mapped_cells += 1
        if unselected is not None:
            result.carried_cells += counted * unselected.fill(rebuilt, counted)
            rebuilt = {c: rebuilt[c] for c in table_columns}
        original = by_key.get(key_of(rebuilt))
        assert original is not None, f"{entity_name} row {source_key}: its key was not rebuilt to a row of the table"
        rebuilt.update({c: original[c] for c in elsewhere})  # (the rereading section's rebuild compares them)
        if not entity.composite:
            assert model.record_id(spec.name, entity.record_table, key_text(rebuilt[key])) == record_id
        _assert_same_row(entity_name, rebuilt, original)
        seen.add(key_of(rebuilt))
        result.rows[entity.table.lower()] += counted


def _assert_same_row(entity: str, rebuilt: dict[str, Any], original: dict[str, Any]) -> None:
    """Cell by cell, value and type (and a number's written form): the rebuilt row is the database's."""
    assert rebuilt.keys() == original.keys(), f"{entity}: columns differ"
    differing = [c for c in original if not same(rebuilt[c], original[c])]
    # Only column names and types in the message: the values are patient data.
    assert not differing, f"{entity}: column(s) {differing} not rebuilt exactly " + str(
        [(c, type(rebuilt[c]).__name__, type(original[c]).__name__) for c in differing])


class _BagContext:
    """What the rebuild reads from the opened bag besides one entity's own files."""

    def __init__(self, bag: Path) -> None:
        self.bag = bag
        self.cell_maps = json.loads((bag / "data/report/cells.json").read_bytes())["entities"]
        report = json.loads((bag / "data/report/reconciliation.json").read_bytes())["reconciliation"]
        self.rereads = {e["entity"] for e in report["entities"] if e.get("rereads")}
        self.fhir_by_id: dict[str, list[dict[str, Any]]] = {}
        for path in sorted((bag / "data/fhir").glob("*.ndjson")):
            with path.open("rb") as fh:
                for line in fh:
                    resource = json.loads(line)
                    # A record giving several resources (a vital-signs set) names them <record id>-<part>.
                    self.fhir_by_id.setdefault(resource["id"].split("-", 1)[0], []).append(resource)
        self.keys: dict[str, dict[str, str]] = {}
        for name in self.cell_maps:
            self.keys[name] = {item["id"]: item["source_key"] for item in lines(bag, f"report/lists/{name}")}

    def parent_key(self, entity: str, record_id: str) -> str | None:
        return self.keys.get(entity, {}).get(record_id)

    def attachment(self, url: str) -> bytes:
        return (self.bag / "data" / url.removeprefix("../")).read_bytes()


NFD_DEPARTMENT = unicodedata.normalize("NFD", "내과")
#: A first visit whose text is stored as bytes (2020-01-05).
PLANTED_DATE = b"20200105"


#: A clinic's own diagnosis code (not KCD-shaped): written under the recorded-code system, not a KCD one.
LOCAL_DIAGNOSIS_CODE = "ZZLOCAL7"


def plant_transformed_cells(conn: sqlite3.Connection) -> dict[str, Any]:
    """A trailing blank, NFD Korean, a mixed-case code, a date in an odd format and a number with a trailing
    zero in a demo clinic database, and two diagnosis codes after the first row: a KCD code with a trailing
    blank (not given back as stored) and a local code (given back as is): the planted rows' keys."""
    assert NFD_DEPARTMENT != "내과"
    dr_id = conn.execute("SELECT MIN(DR_ID) FROM DOCTOR WHERE DEPT_NM IS NOT NULL AND DR_ID = TRIM(DR_ID) "
                         "AND DR_ID <> ''").fetchone()[0]
    conn.execute("UPDATE DOCTOR SET DEPT_NM = DEPT_NM || '  ' WHERE DR_ID = ?", (dr_id,))
    visit_no = conn.execute("SELECT MIN(VISIT_NO) FROM VISIT WHERE IO_GB = 'O'").fetchone()[0]
    conn.execute("UPDATE VISIT SET DEPT_NM = ?, IO_GB = 'o' WHERE VISIT_NO = ?", (NFD_DEPARTMENT, visit_no))
    pt_no = conn.execute("SELECT MAX(PT_NO) FROM PT_MASTER WHERE FIRST_VISIT_YMD LIKE '20%'").fetchone()[0]
    # the date's text stored as bytes (a BLOB, as converted legacy databases hold it): read as the date, not given
    # back by FHIR as stored
    conn.execute("UPDATE PT_MASTER SET FIRST_VISIT_YMD = ? WHERE PT_NO = ?", (PLANTED_DATE, pt_no))
    ord_no = conn.execute("SELECT MIN(ORD_NO) FROM ORD_DTL WHERE DOSE IS NOT NULL").fetchone()[0]
    conn.execute("UPDATE ORD_DTL SET DOSE = '1.50' WHERE ORD_NO = ?", (ord_no,))
    blank_dx, local_dx = (row[0] for row in conn.execute(
        "SELECT DIAG_NO FROM DIAG WHERE KCD_CD IS NOT NULL ORDER BY DIAG_NO DESC LIMIT 2"))
    conn.execute("UPDATE DIAG SET KCD_CD = KCD_CD || ' ' WHERE DIAG_NO = ?", (blank_dx,))
    conn.execute("UPDATE DIAG SET KCD_CD = ? WHERE DIAG_NO = ?", (LOCAL_DIAGNOSIS_CODE, local_dx))
    # Lab results after the first row, each with a unit (a plain number is then written as valueQuantity.value):
    # the value as stored -> (key, unit or None to keep the row's).
    lab_rows = [row[0] for row in conn.execute(
        "SELECT RSLT_NO FROM LAB_RSLT WHERE UNIT IS NOT NULL ORDER BY RSLT_NO DESC LIMIT ?", (len(PLANTED_LAB_VALUES),))]
    for rslt_no, (value, unit) in zip(lab_rows, PLANTED_LAB_VALUES, strict=True):
        conn.execute("UPDATE LAB_RSLT SET RSLT_VAL = ?, UNIT = COALESCE(?, UNIT) WHERE RSLT_NO = ?", (value, unit, rslt_no))
    # Procedure orders (a ServiceRequest, whose 원외처방 extension is written only when true) after the first row:
    # one empty, one 'n' (read as false): neither given back by FHIR as stored.
    empty_rx, lower_rx = (row[0] for row in conn.execute(
        "SELECT ORD_NO FROM ORD_DTL WHERE CD_GB = '2' AND OUT_RX_YN = 'N' ORDER BY ORD_NO DESC LIMIT 2"))
    conn.execute("UPDATE ORD_DTL SET OUT_RX_YN = NULL WHERE ORD_NO = ?", (empty_rx,))
    conn.execute("UPDATE ORD_DTL SET OUT_RX_YN = 'n' WHERE ORD_NO = ?", (lower_rx,))
    return {"dr_id": dr_id, "visit_no": visit_no, "pt_no": pt_no, "ord_no": ord_no, "blank_dx": blank_dx,
            "local_dx": local_dx, "lab": dict(zip(lab_rows, PLANTED_LAB_VALUES, strict=True)), "empty_rx": empty_rx,
            "lower_rx": lower_rx}


#: Lab result values planted by plant_transformed_cells (value, unit or None for the row's own): plain numbers
#: FHIR holds as valueQuantity.value, written otherwise than that number's JSON text or not, and text.
PLANTED_LAB_VALUES: list[tuple[str, str | None]] = [
    ("5.10", None), (" 5.1", None), ("5.1 ", None), ("+5", None), ("5e0", None), ("5.1", None),
    ("5.1", "밀리그램"), ("5.1 단위", None), ("<5.1", None),
]
