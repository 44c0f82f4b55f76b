"""Connector conformance checks every connector's export must pass (used by the demo and OpenEMR tests).

A connector conforms when, on a database it was written for:

* its spec loads through the same discovery every connector uses;
* every entity section balances (source rows = exported + quarantined) and the counts reported match
  the lines written to ``data/fhir`` / ``data/raw``;
* every FHIR resource in the bag validates (R4 structure) and every reference between resources points
  at a resource in the same bag;
* two runs over the same database give byte-identical bag streams (deterministic output).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emr_exporter.connectors import ConnectorSpec, load_connector
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.export import ExportRun, Reconciliation, read_institution
from emr_exporter.sources.base import Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the KR Core profile rules
from krcore_rules import check_profiles

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


@dataclass
class ConformantExport:
    spec: ConnectorSpec
    reconciliation: Reconciliation
    stream: bytes
    files: dict[str, bytes]  # bag member → bytes (small test bags only; the product never holds a bag)

    def ndjson(self, group: str) -> list[dict[str, Any]]:
        """The lines of NDJSON group ``group`` (``data/<group>.NNNN.ndjson`` segments, in order)."""
        pattern = re.compile(re.escape(f"data/{group}.") + r"\d{4}\.ndjson")
        lines: list[dict[str, Any]] = []
        for name in sorted(self.files):
            if pattern.fullmatch(name):
                lines.extend(json.loads(line) for line in self.files[name].decode("utf-8").splitlines())
        return lines

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        return self.ndjson(f"fhir/{resource_type}")

    def raw(self, section: str) -> list[dict[str, Any]]:
        return self.ndjson(f"raw/{section}")

    def counts(self) -> dict[str, tuple[int, int, int, dict[str, int]]]:
        """section → (source rows, exported, quarantined, quarantine reasons)."""
        return {
            e.entity: (e.source_rows, e.exported, e.quarantined, dict(sorted(e.reasons.items())))
            for e in self.reconciliation.entities
        }


def bag_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        # Names relative to the bag root ("data/fhir/Patient.0001.ndjson").
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile()
        }


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str):
            yield reference
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def export_once(
    connector: str, open_source: Callable[[], Source], attachments_root: Path | None,
    institution: dict[str, str | None] | None = None, page_size: int = 7,
) -> ConformantExport:
    spec = load_connector(connector)
    source = open_source()
    try:
        run = ExportRun(
            spec, source, institution=read_institution(spec, source, institution), created=CREATED,
            attachments_root=attachments_root, page_size=page_size,  # small pages: many keyset page turns
        )
        data = b"".join(run.stream())
    finally:
        source.close()
    return ConformantExport(spec, run.reconciliation, data, bag_members(data))


def check_conformance(
    connector: str, open_source: Callable[[], Source], attachments_root: Path | None,
    institution: dict[str, str | None] | None = None, page_size: int = 7,
) -> ConformantExport:
    """Run the export twice and assert every conformance property; returns the first export."""
    export = export_once(connector, open_source, attachments_root, institution, page_size)
    assert export.spec.name == connector

    reconciliation = export.reconciliation
    assert [e.entity for e in reconciliation.entities] == list(export.spec.entities)
    for entity in reconciliation.entities:
        assert entity.balanced, entity.to_dict()
        assert sum(entity.reasons.values()) == entity.quarantined, entity.to_dict()
        assert len(export.raw(entity.entity)) == entity.quarantined, entity.entity
        listed = export.ndjson(f"report/lists/{entity.entity}")
        assert len(listed) == entity.exported, entity.entity
    report = json.loads(export.files["data/report/reconciliation.json"])
    assert report["reconciliation"] == reconciliation.to_dict()

    ids: set[str] = set()
    per_type: Counter[str] = Counter()
    resources: list[dict[str, Any]] = []
    for name in sorted(export.files):
        if name.startswith("data/fhir/") and name.endswith(".ndjson"):
            for line in export.files[name].decode("utf-8").splitlines():
                resource = json.loads(line)
                fhir.validate_resource(resource)
                ids.add(f"{resource['resourceType']}/{resource['id']}")
                per_type[resource["resourceType"]] += 1
                resources.append(resource)
    assert len(ids) == len(resources), "resource ids repeat"
    # Organization + the resources of every exported record: one each, except a vital-signs set, whose
    # measurements are one Observation each with ids "<record id>-<measurement>".
    record_ids = {line["id"] for e in reconciliation.entities for line in export.ndjson(f"report/lists/{e.entity}")}
    assert len(record_ids) == reconciliation.totals["exported"]
    owners = Counter(r["id"].split("-", 1)[0] for r in resources if r["resourceType"] != "Organization")
    assert set(owners) == record_ids
    multiple = {i for i, n in owners.items() if n > 1}
    assert all(r["id"] != i for r in resources for i in multiple if r["resourceType"] != "Observation")
    assert sum(per_type.values()) == 1 + sum(owners.values())
    for resource in resources:  # the KR Core rules of docs/fhir-mapping.md for every profile claimed
        problems = check_profiles(resource)
        assert not problems, f"{resource['resourceType']}/{resource['id']}: {problems}"
    for resource in resources:
        for reference in _references(resource):
            if reference.startswith("../"):  # attachment bytes inside the bag
                assert f"data/{reference[3:]}" in export.files, reference
            else:
                assert reference in ids, f"{resource['resourceType']}/{resource['id']} → {reference}"

    again = export_once(connector, open_source, attachments_root, institution, page_size)
    assert again.stream == export.stream, "two exports of the same database differ"
    return export
