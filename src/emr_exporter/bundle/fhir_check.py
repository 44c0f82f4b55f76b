"""Check the FHIR output of an opened bag, streaming: one NDJSON line at a time, never a whole file.

Run by ``open_bundle`` after the bag manifests and the inner signature (docs/bundle-format.md §7, step
11). For every ``data/fhir/*.ndjson`` line: valid JSON, an object of the file's resource type, and the
checks of :class:`emr_exporter.pipeline.check.ResourceCheck` — the very ones the export runs before a
resource enters the bag: an ``id`` matching FHIR's pattern and not used twice for that type, no control
character, empty string or badly spaced code, and (when ``fhir.resources`` is installed: ``pip install
'emr-exporter[verify]'``) valid against the FHIR structure; every reference to a Patient, Encounter,
Practitioner or Organization resolves to a resource in the bag; the Bulk Data ``manifest.json`` lists
exactly the NDJSON files, each with its true line count.

Memory: ids are kept as 8-byte digests in sorted arrays per resource type (about 8 bytes a resource:
80 MB for 10⁷ resources, bounded by the bag's resource count), never whole files. Two passes: the
first checks and collects ids, the second resolves references (a reference may point to a file read
later). A digest collision can only suggest a duplicate id, which is then confirmed on the real ids
before anything is reported; that a dangling reference hits another id's digest is a 1-in-2⁶⁴/n chance.

Messages name the file, the line, the resource type and the failing path: never a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emr_exporter.errors import BundleError
from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.check import REFERENCE_TARGETS, ResourceCheck, id_digest
from emr_exporter.pipeline.fhir import structure_validator

FHIR_DIR = "data/fhir"
MANIFEST = "manifest.json"
__all__ = ["ENABLE_HINT", "REFERENCE_TARGETS", "FhirCheckReport", "check_fhir_output"]
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
    """Check ``bag_root/data/fhir``; raise :class:`BundleError` on the first problem.

    Every resource goes through :class:`~emr_exporter.pipeline.check.ResourceCheck`, the very checks the
    export ran on it before sealing (its id, its canonical line's strings and codes, its structure), so
    an export that passed them gives a bag that passes here."""
    report = FhirCheckReport()
    fhir_dir = bag_root / FHIR_DIR
    files = _files_from_manifest(fhir_dir, name)
    validator = structure_validator() if validate_structure else None
    report.structure_validated = validator is not None
    # The ids beyond memory go to keyed temporary runs beside the bag (deleted when the check ends).
    with ResourceCheck(validator, work_dir=bag_root.parent) as check:
        return _check_files(bag_root, name, files, check, report)


def _check_files(
    bag_root: Path, name: str, files: list[tuple[str, str, int]], check: ResourceCheck, report: FhirCheckReport,
) -> FhirCheckReport:
    suspects: dict[str, set[int]] = {}  # resource type -> digests added twice

    # Pass 1: JSON, type, the resource checks, ids; line counts against the manifest.
    for rel, resource_type, listed_count in files:
        type_ids = check.index(resource_type)
        lines = 0
        for line_no, resource in _resources(bag_root, rel, resource_type, name):
            lines += 1
            # The line as the export wrote it (canonical JSON), whatever spacing this file has.
            problem = check.problem(resource, canonical_json_line(resource))
            if problem is not None:
                raise _problem(name, rel, line_no, resource_type, problem)
            digest = id_digest(resource["id"])
            if not type_ids.add(digest):
                suspects.setdefault(resource_type, set()).add(digest)
        if lines != listed_count:
            raise BundleError(
                f"The FHIR output in the bag of '{name}' does not match its Bulk Data manifest: {rel} has "
                f"{lines} resource(s), the manifest says {listed_count}. The bag is incomplete or was altered."
            )
        report.counts[resource_type] = report.counts.get(resource_type, 0) + lines
        report.files += 1

    for resource_type, digests in suspects.items():
        _report_duplicate(bag_root, name, files, resource_type, digests)

    # Pass 2: every reference to a Patient/Encounter/Practitioner/Organization resolves in the bag (files
    # are read in name order: a Condition refers to Encounters read after it).
    for rel, resource_type, _ in files:
        for line_no, resource in _resources(bag_root, rel, resource_type, name):
            dangling = check.dangling(resource, canonical_json_line(resource))
            if dangling is not None:
                path, target_type = dangling
                raise _problem(
                    name, rel, line_no, resource_type,
                    f"{path}: refers to a {target_type} that is not in the bag (dangling reference)",
                )
    report.references_checked = check.references_checked
    return report


def _problem(name: str, rel: str, line_no: int, resource_type: str, detail: str) -> BundleError:
    return BundleError(
        f"The FHIR output in the bag of '{name}' is not valid: {rel} line {line_no} ({resource_type}): "
        f"{detail.rstrip('.')}."
    )


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
            if id_digest(resource_id) not in digests:
                continue
            if resource_id in first_seen:
                first_rel, first_line = first_seen[resource_id]
                raise _problem(
                    name, rel, line_no, resource_type,
                    f"id: already used by the {resource_type} at {first_rel} line {first_line} (ids must be unique)",
                )
            first_seen[resource_id] = (rel, line_no)
