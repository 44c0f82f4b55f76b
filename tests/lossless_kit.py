"""Rebuild a clinic database's rows from an OPENED bag, to prove that nothing was left behind.

Used by tests/test_lossless.py (SQLite file) and tests/test_lossless_db.py (MariaDB, PostgreSQL). Where
each source cell is found again:

* a table no entity reads: ``data/raw/tables/<table>.*.ndjson`` (every column, carried form);
* a quarantined row: ``data/raw/<entity>.*.ndjson`` (every column of the entity's query);
* an exported row: its unmapped columns, dropped/repaired fields and a changed key in
  ``data/raw/columns/<entity>.*.ndjson`` (keyed by record id); every other (mapped) cell is looked for in
  the FHIR resources of that record id, as the connector's transform renders it.

The carried cells are compared value for value with the database (bytes as bytes, text as text, types
kept); the mapped cells are checked to be in a FHIR resource of the row's record id.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from emr_exporter import model
from emr_exporter.connectors.mapper import key_text
from emr_exporter.connectors.spec import ConnectorSpec
from emr_exporter.connectors.transforms import TRANSFORMS, FieldRepaired, RowRejected, TransformContext
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.raw import decode_raw
from emr_exporter.sources.base import Source
from emr_exporter.sources.catalog import list_tables, quoted_name


def lines(bag: Path, prefix: str) -> Iterator[dict[str, Any]]:
    """Every NDJSON line of the segments ``data/<prefix>.NNNN.ndjson`` (not of sub-folders)."""
    folder, _, stem = f"data/{prefix}".rpartition("/")
    for path in sorted((bag / folder).glob(f"{stem}.*.ndjson")):
        with path.open("rb") as fh:
            for line in fh:
                yield json.loads(line)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "data" and isinstance(item, str) and value.get("contentType", "").startswith("text/"):
                yield base64.b64decode(item).decode("utf-8")  # a note's text is an attachment
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _rendered(value: Any) -> list[str]:
    """How a canonical value may appear in FHIR JSON (as text, to be found in a leaf)."""
    if value is None or isinstance(value, bool):
        return []  # yes/no fields become codes or extensions: counted, not searched for
    if isinstance(value, dt.datetime):
        return [fhir.fhir_datetime(value)[:16]]
    if isinstance(value, dt.date):
        return [fhir.fhir_date(value)]
    if isinstance(value, Decimal | int):
        return [str(fhir.fhir_number(Decimal(value)))]
    return [str(value)]


class Rebuilt:
    """Counts of what was found where (per table), for the tests' assertions and messages."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()
        self.carried_cells = 0
        self.mapped_cells = 0
        self.quarantined_cells = 0
        self.bool_cells = 0


def source_rows(source: Source, table: str) -> list[dict[str, Any]]:
    return list(source.rows(f"SELECT * FROM {quoted_name(source, table)}"))


def check_bag_against_source(bag: Path, spec: ConnectorSpec, source: Source, attachments: Path | None) -> Rebuilt:
    """Rebuild every row of every table of ``source`` from ``bag``; raise AssertionError on any difference."""
    inventory = json.loads((bag / "data/report/inventory.json").read_bytes())["tables"]
    catalogue = {t.name.lower(): t for t in list_tables(source)}
    assert sorted(t["name"] for t in inventory) == sorted(catalogue), "the inventory lists every table and view"
    result = Rebuilt()
    fhir_by_id: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((bag / "data/fhir").glob("*.ndjson")):
        with path.open("rb") as fh:
            for line in fh:
                resource = json.loads(line)
                # A record giving several resources (a vital-signs set) names them <record id>-<part>.
                fhir_by_id.setdefault(resource["id"].split("-", 1)[0], []).append(resource)
    for entry in inventory:
        name = entry["name"]
        table = catalogue[name]
        if entry["fate"] == "skipped":
            assert entry.get("reason"), name
            continue
        db_rows = source_rows(source, table.name)
        assert entry["rows"] == len(db_rows), name
        if entry["fate"] == "carried":
            carried = [{k: decode_raw(v) for k, v in line["row"].items()}
                       for line in lines(bag, f"raw/tables/{_member(entry)}")]
            assert _multiset(carried) == _multiset(db_rows), f"carried table {name} differs from the database"
            result.rows[name] += len(carried)
            result.carried_cells += sum(len(r) for r in carried)
            continue
        for entity_name in entry["entities"]:
            _check_entity(bag, spec, entity_name, db_rows, fhir_by_id, attachments, result)
        assert result.rows[name] == len(db_rows), f"{name}: {result.rows[name]} rows rebuilt of {len(db_rows)}"
    return result


def _member(entry: dict[str, Any]) -> str:
    return entry["files"].removeprefix("data/raw/tables/").removesuffix(".*.ndjson")


def _multiset(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(repr(sorted(row.items())) for row in rows)


def _check_entity(
    bag: Path, spec: ConnectorSpec, entity_name: str, db_rows: list[dict[str, Any]],
    fhir_by_id: dict[str, list[dict[str, Any]]], attachments: Path | None, result: Rebuilt,
) -> None:
    entity = spec.entities[entity_name]
    key = entity.key.lower()
    by_key: dict[Any, dict[str, Any]] = {row[key]: row for row in db_rows}
    quarantined = list(lines(bag, f"raw/{entity_name}"))
    columns = {line["id"]: line for line in lines(bag, f"raw/columns/{entity_name}")}
    listed = list(lines(bag, f"report/lists/{entity_name}"))
    ctx = TransformContext(spec=spec, attachments_root=attachments)
    seen: set[Any] = set()
    for line in quarantined:
        row = {k: decode_raw(v) for k, v in line["row"].items()}
        original = by_key[row[key]]
        assert {k: row[k] for k in original} == original, f"{entity_name} quarantined row differs"
        seen.add(row[key])
        result.rows[entity.table.lower()] += 1
        result.quarantined_cells += len(original)
    for item in listed:
        record_id = item["id"]
        sidecar = columns.get(record_id, {"columns": {}})
        carried = {k: decode_raw(v) for k, v in sidecar["columns"].items()}
        # The row of this record: its exact key is in the sidecar when trimming changed it.
        raw_key = carried.get(key)
        if raw_key is None:
            raw_key = next(k for k in by_key if key_text(k) == item["source_key"] and k not in seen)
        original = by_key[raw_key]
        assert model.record_id(spec.name, entity.table, key_text(raw_key)) == record_id
        for column, value in carried.items():
            if column not in original:
                continue  # a column the section's query joins in from another table (carried there too)
            assert original[column] == value and type(original[column]) is type(value), (
                f"{entity_name} {column}: carried value differs")
        assert record_id in fhir_by_id, f"{entity_name} row {item['source_key']}: no FHIR resource has its id"
        resources = fhir_by_id[record_id]
        texts = [str(v) for v in _leaves(resources)]
        for field in entity.fields.values():
            column = field.column.lower() if field.column else None
            if column is None or column in carried or column not in original or original[column] is None:
                continue
            value = _canonical(field, original, ctx, spec, entity)
            # Coded and yes/no fields become FHIR codes of their own (outpatient -> AMB): counted as mapped.
            values = list(value) if isinstance(value, list | tuple) else [value]  # a list: every item
            for item_value in values:
                rendered = [] if field.type in ("code", "bool") else _rendered(item_value)
                if not rendered:
                    result.bool_cells += 1
                    continue
                assert any(r in t for r in rendered for t in texts), (
                    f"{entity_name} row {item['source_key']}: field {field.name} ({column}) is in no FHIR resource")
        mapped_columns = set(original) - set(carried)
        result.mapped_cells += len(mapped_columns)
        result.carried_cells += len(carried)
        seen.add(raw_key)
        result.rows[entity.table.lower()] += 1


def _canonical(field: Any, row: dict[str, Any], ctx: TransformContext, spec: ConnectorSpec, entity: Any) -> Any:
    raw = row[field.column.lower()]
    if field.type in ("ref", "ref_list"):
        assert field.ref is not None
        if getattr(field, "ref_field", None):
            return None  # a reference by a unique column: the id comes from the parent's key
        parent = spec.entities[field.ref]
        keys = TRANSFORMS["ref_list"](raw, field, ctx) if field.type == "ref_list" else (key_text(raw),)
        ids = tuple(model.record_id(spec.name, parent.record_table, key) for key in keys)
        return ids if field.type == "ref_list" else ids[0]
    if field.type == "file":
        return None  # the file's bytes are in data/attachments: the path itself is a mapped cell
    if field.type == "blob":
        return None
    try:
        value = TRANSFORMS[field.type](raw, field, ctx)
    except FieldRepaired as repaired:
        value = repaired.value
    except RowRejected:
        raise AssertionError(f"{entity.name}.{field.name}: a rejected value was not carried raw") from None
    if field.type == "kcd_edition":
        return value  # appears inside the code system URL
    return value
