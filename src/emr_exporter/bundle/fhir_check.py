"""Check the FHIR output of an opened bag, streaming: one NDJSON line at a time, never a whole file.

Run by ``open_bundle`` after the bag manifests and the inner signature (docs/bundle-format.md §7, step
11). For every ``data/fhir/*.ndjson`` line: valid JSON, an object of the file's resource type, an ``id``
not used twice for that type, and (when ``fhir.resources`` is installed: ``pip install
'emr-exporter[verify]'``) valid against the FHIR structure; every reference to a Patient, Encounter,
Practitioner or Organization resolves to a resource in the bag; the Bulk Data ``manifest.json`` lists
exactly the NDJSON files, each with its true line count.

Memory: ids are kept as 8-byte digests in sorted arrays per resource type (about 8 bytes a resource:
80 MB for 10⁷ resources, bounded by the bag's resource count), never whole files. Two passes: the
first validates and collects ids, the second resolves references (a reference may point to a file read
later). A digest collision can only suggest a duplicate id, which is then confirmed on the real ids
before anything is reported; that a dangling reference hits another id's digest is a 1-in-2⁶⁴/n chance.

Messages name the file, the line, the resource type and the failing path: never a value.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from emr_exporter.errors import BundleError
from emr_exporter.pipeline.fhir import structure_validator

FHIR_DIR = "data/fhir"
MANIFEST = "manifest.json"
#: Resource types whose references must resolve inside the bag.
REFERENCE_TARGETS = ("Patient", "Encounter", "Practitioner", "Organization")
ENABLE_HINT = "install it with: pip install 'emr-exporter[verify]'"


@dataclass
class FhirCheckReport:
    counts: dict[str, int] = field(default_factory=dict)  # resources per type
    files: int = 0
    references_checked: int = 0
    structure_validated: bool = False  # False: fhir.resources is not installed

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "files": self.files,
            "references_checked": self.references_checked,
            "structure_validated": self.structure_validated,
        }


def check_fhir_output(bag_root: Path, name: str, *, validate_structure: bool = True) -> FhirCheckReport:
    """Check ``bag_root/data/fhir``; raise :class:`BundleError` on the first problem."""
    report = FhirCheckReport()
    fhir_dir = bag_root / FHIR_DIR
    files = _files_from_manifest(fhir_dir, name)
    validator = structure_validator() if validate_structure else None
    report.structure_validated = validator is not None
    ids: dict[str, _IdDigests] = {}

    # Pass 1: JSON, type, structure, ids; line counts against the manifest.
    for rel, resource_type, listed_count in files:
        type_ids = ids.setdefault(resource_type, _IdDigests())
        lines = 0
        for line_no, resource in _resources(bag_root, rel, resource_type, name):
            lines += 1
            resource_id = resource.get("id")
            if not isinstance(resource_id, str) or not resource_id:
                raise _problem(name, rel, line_no, resource_type, "id: missing (every resource needs an id)")
            if validator is not None:
                problem = validator(resource)
                if problem is not None:
                    raise _problem(name, rel, line_no, resource_type, problem)
            type_ids.add(_digest(resource_id))
        if lines != listed_count:
            raise BundleError(
                f"The FHIR output in the bag of '{name}' does not match its Bulk Data manifest: {rel} has "
                f"{lines} resource(s), the manifest says {listed_count}. The bag is incomplete or was altered."
            )
        report.counts[resource_type] = report.counts.get(resource_type, 0) + lines
        report.files += 1

    for resource_type, type_ids in ids.items():
        duplicates = type_ids.sort()
        if duplicates:
            _report_duplicate(bag_root, name, files, resource_type, duplicates)

    # Pass 2: every reference to a Patient/Encounter/Practitioner/Organization resolves in the bag.
    for rel, resource_type, _ in files:
        for line_no, resource in _resources(bag_root, rel, resource_type, name):
            for path, target_type, target_id in _references(resource):
                report.references_checked += 1
                known = ids.get(target_type)
                if known is None or _digest(target_id) not in known:
                    raise _problem(
                        name, rel, line_no, resource_type,
                        f"{path}: refers to a {target_type} that is not in the bag (dangling reference)",
                    )
    return report


def _problem(name: str, rel: str, line_no: int, resource_type: str, detail: str) -> BundleError:
    return BundleError(
        f"The FHIR output in the bag of '{name}' is not valid: {rel} line {line_no} ({resource_type}): "
        f"{detail.rstrip('.')}."
    )


class _IdDigests:
    """8-byte id digests in 256 arrays by top byte: sorting one bucket at a time keeps the temporary
    list of Python ints to 1/256 of the ids, so memory stays at about 8 bytes an id."""

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(256)]

    def add(self, digest: int) -> None:
        self._buckets[digest >> 56].append(digest)

    def sort(self) -> set[int]:
        """Sort every bucket; return the digests seen more than once."""
        duplicates: set[int] = set()
        for number, bucket in enumerate(self._buckets):
            ordered = array("Q", sorted(bucket))
            self._buckets[number] = ordered
            duplicates.update(a for a, b in pairwise(ordered) if a == b)
        return duplicates

    def __contains__(self, digest: int) -> bool:
        bucket = self._buckets[digest >> 56]
        position = bisect_left(bucket, digest)
        return position < len(bucket) and bucket[position] == digest


def _digest(resource_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(resource_id.encode("utf-8"), digest_size=8).digest(), "big")


def _files_from_manifest(fhir_dir: Path, name: str) -> list[tuple[str, str, int]]:
    """(bag-relative path, resource type, listed count) of every NDJSON file, as the manifest lists them."""
    manifest_path = fhir_dir / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"The bag in '{name}' has no FHIR Bulk Data manifest ({FHIR_DIR}/{MANIFEST}).")
    try:
        manifest = json.loads(manifest_path.read_bytes())  # small: one entry per NDJSON file
        outputs = [(str(o["url"]), str(o["type"]), int(o["count"])) for o in manifest["output"]]
    except (ValueError, KeyError, TypeError):
        raise BundleError(f"The FHIR Bulk Data manifest in the bag of '{name}' is not valid.") from None
    listed: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for url, resource_type, count in outputs:
        if "/" in url or "\\" in url or not url.endswith(".ndjson") or url in seen:
            raise BundleError(f"The FHIR Bulk Data manifest in the bag of '{name}' lists an invalid file.")
        seen.add(url)
        if not (fhir_dir / url).is_file():
            raise BundleError(
                f"The FHIR Bulk Data manifest in the bag of '{name}' lists {FHIR_DIR}/{url}, which is not in the bag."
            )
        listed.append((f"{FHIR_DIR}/{url}", resource_type, count))
    unlisted = sorted(p.name for p in fhir_dir.glob("*.ndjson") if p.name not in seen)
    if unlisted:
        raise BundleError(
            f"The bag of '{name}' has FHIR file(s) its Bulk Data manifest does not list: {FHIR_DIR}/{unlisted[0]}"
            + (f" and {len(unlisted) - 1} more." if len(unlisted) > 1 else ".")
        )
    return sorted(listed)


def _resources(bag_root: Path, rel: str, resource_type: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, resource) of one NDJSON file, one line in memory at a time."""
    with open(bag_root / rel, "rb") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                resource = json.loads(line)
            except ValueError:
                raise _problem(name, rel, line_no, resource_type, "not valid JSON") from None
            if not isinstance(resource, dict):
                raise _problem(name, rel, line_no, resource_type, "not a JSON object")
            if resource.get("resourceType") != resource_type:
                raise _problem(
                    name, rel, line_no, resource_type, f"resourceType: not {resource_type} as the manifest says"
                )
            yield line_no, resource


def _references(value: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, target type, target id) of every relative reference to a REFERENCE_TARGETS type."""
    if isinstance(value, dict):
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if key == "reference" and isinstance(item, str):
                target_type, slash, target_id = item.partition("/")
                if slash and target_type in REFERENCE_TARGETS and target_id and "/" not in target_id:
                    yield item_path, target_type, target_id
            elif isinstance(item, dict | list):
                yield from _references(item, item_path)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _references(item, f"{path}.{position}")


def _report_duplicate(
    bag_root: Path, name: str, files: list[tuple[str, str, int]], resource_type: str, digests: set[int]
) -> None:
    """Confirm a suspected duplicate id on the real ids (rare: rescans that type) and report it."""
    first_seen: dict[str, tuple[str, int]] = {}
    for rel, file_type, _ in files:
        if file_type != resource_type:
            continue
        for line_no, resource in _resources(bag_root, rel, resource_type, name):
            resource_id = resource["id"]
            if _digest(resource_id) not in digests:
                continue
            if resource_id in first_seen:
                first_rel, first_line = first_seen[resource_id]
                raise _problem(
                    name, rel, line_no, resource_type,
                    f"id: already used by the {resource_type} at {first_rel} line {first_line} (ids must be unique)",
                )
            first_seen[resource_id] = (rel, line_no)
