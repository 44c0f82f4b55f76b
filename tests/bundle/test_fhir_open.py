"""`open` validates the FHIR output of the bag: structure, unique ids, references, Bulk Data manifest counts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bundle_testkit import CREATED, PATIENT_RRN
from click.testing import CliRunner

from emr_exporter.bundle.fhir_check import check_fhir_output
from emr_exporter.bundle.reader import open_bundle
from emr_exporter.bundle.writer import BundleWriter
from emr_exporter.cli import main
from emr_exporter.connectors import load_connector
from emr_exporter.errors import BundleError
from emr_exporter.pipeline import fhir
from emr_exporter.pipeline.bag import BagStream

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-02", "identifier": [{"value": PATIENT_RRN}]}
ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "subject": {"reference": "Patient/p1"}}


def seal_resources(out: Path, signer, recipient, resources: list[dict[str, Any]]) -> Path:
    writer = BundleWriter.open(out, signer=signer, recipient=recipient, institution_code="12345678",
                               export_key="fhir-test", part_size=64 * 1024)

    def stream() -> Iterator[bytes]:
        bag = BagStream(bag_info={"External-Identifier": writer.bundle_id}, created=CREATED,
                        sign_tagmanifest=writer.sign_tagmanifest)
        for resource in resources:
            yield from bag.add_ndjson(f"fhir/{resource['resourceType']}", resource)
        yield from bag.finish()

    return writer.write(stream()).path


def test_valid_resources_are_counted_per_type(tmp_path: Path, signer, store) -> None:
    path = seal_resources(tmp_path / "out", signer, store[0], [PATIENT, ENCOUNTER, {**ENCOUNTER, "id": "e2"}])
    opened = open_bundle(path, store[1], tmp_path / "opened")
    assert opened.fhir.counts == {"Patient": 1, "Encounter": 2}
    assert opened.fhir.files == 2 and opened.fhir.references_checked == 2
    assert opened.fhir.structure_validated is True
    assert opened.to_json()["fhir"] == {"counts": {"Encounter": 2, "Patient": 1}, "files": 2,
                                        "references_checked": 2, "structure_validated": True}


def test_invalid_fhir_resource_fails_open_naming_file_line_type_and_path(tmp_path: Path, signer, store) -> None:
    broken = {**PATIENT, "id": "p2", "birthDate": "1980-13-45"}
    path = seal_resources(tmp_path / "out", signer, store[0], [PATIENT, broken])
    with pytest.raises(BundleError) as caught:
        open_bundle(path, store[1], tmp_path / "opened")
    assert str(caught.value) == (
        f"The FHIR output in the bag of '{path.name}' is not valid: data/fhir/Patient.0001.ndjson line 2 "
        "(Patient): birthDate: Value error, Date value string does not match spec regex."
    )
    assert "1980-13-45" not in str(caught.value) and PATIENT_RRN not in str(caught.value)
    assert list((tmp_path / "opened").iterdir()) == []  # nothing is left behind when a check fails


def test_dangling_reference_is_reported(tmp_path: Path, signer, store) -> None:
    orphan = {**ENCOUNTER, "id": "e2", "subject": {"reference": "Patient/p-not-exported"}}
    path = seal_resources(tmp_path / "out", signer, store[0], [PATIENT, ENCOUNTER, orphan])
    with pytest.raises(BundleError) as caught:
        open_bundle(path, store[1], tmp_path / "opened")
    assert str(caught.value) == (
        f"The FHIR output in the bag of '{path.name}' is not valid: data/fhir/Encounter.0001.ndjson line 2 "
        "(Encounter): subject.reference: refers to a Patient that is not in the bag (dangling reference)."
    )


def test_duplicate_id_is_reported(tmp_path: Path, signer, store) -> None:
    path = seal_resources(tmp_path / "out", signer, store[0], [PATIENT, ENCOUNTER, {**PATIENT, "gender": "male"}])
    with pytest.raises(BundleError) as caught:
        open_bundle(path, store[1], tmp_path / "opened")
    assert str(caught.value) == (
        f"The FHIR output in the bag of '{path.name}' is not valid: data/fhir/Patient.0001.ndjson line 2 "
        "(Patient): id: already used by the Patient at data/fhir/Patient.0001.ndjson line 1 (ids must be unique)."
    )


@pytest.mark.parametrize(("resource", "detail"), [
    # The export's own check (pipeline/check.py), which `open` runs too: what the export would quarantine,
    # `open` rejects (control characters and a code's final line feed get past the FHIR models).
    ({**PATIENT, "id": "p2", "name": [{"text": "김\x07민준"}]},
     "a text holds a control character FHIR does not allow"),
    ({**PATIENT, "id": "p2", "name": [{"text": ""}]}, "a text is empty (FHIR strings hold at least one character)"),
    ({**PATIENT, "id": "p2", "photo": [{"contentType": "image/png\n"}]},
     "a code has leading, trailing or repeated spaces (FHIR's code pattern)"),
])
def test_open_runs_the_exports_own_resource_check(
    tmp_path: Path, signer, store, resource: dict[str, Any], detail: str
) -> None:
    path = seal_resources(tmp_path / "out", signer, store[0], [PATIENT, resource])
    with pytest.raises(BundleError) as caught:
        open_bundle(path, store[1], tmp_path / "opened")
    assert str(caught.value) == (
        f"The FHIR output in the bag of '{path.name}' is not valid: data/fhir/Patient.0001.ndjson line 2 "
        f"(Patient): {detail}."
    )


def _write_fhir_dir(root: Path, manifest_count: int) -> None:
    fhir_dir = root / "data" / "fhir"
    fhir_dir.mkdir(parents=True)
    (fhir_dir / "Patient.0001.ndjson").write_text(json.dumps(PATIENT) + "\n" + json.dumps({**PATIENT, "id": "p2"}) + "\n")
    (fhir_dir / "manifest.json").write_text(json.dumps(
        {"output": [{"type": "Patient", "url": "Patient.0001.ndjson", "count": manifest_count}]}
    ))


def test_manifest_counts_must_match_the_lines(tmp_path: Path) -> None:
    # A folder written by hand: BagStream always writes true counts, so a wrong one cannot come from it.
    _write_fhir_dir(tmp_path / "ok", 2)
    assert check_fhir_output(tmp_path / "ok", "x.emrx").counts == {"Patient": 2}
    _write_fhir_dir(tmp_path / "bad", 3)
    with pytest.raises(BundleError) as caught:
        check_fhir_output(tmp_path / "bad", "x.emrx")
    assert str(caught.value) == (
        "The FHIR output in the bag of 'x.emrx' does not match its Bulk Data manifest: "
        "data/fhir/Patient.0001.ndjson has 2 resource(s), the manifest says 3. The bag is incomplete or was altered."
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--patients", "20", "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def test_demo_bundle_passes_with_exact_counts_per_type(tmp_path: Path, demo) -> None:
    out, outcome = demo
    opened = CliRunner().invoke(main, ["open", outcome["bundle"]["path"], "--key", str(out / "demo-keys" / "store-key.pem"),
                                       "--out", str(tmp_path / "opened"), "--json", "--require-fhir-validation"])
    assert opened.exit_code == 0, opened.output
    result = json.loads(opened.output)
    counts = dict(result["fhir"]["counts"])
    assert result["fhir"]["structure_validated"] is True
    # The reconciliation's count of every entity's resources (one per exported record, one per measurement
    # of a vital-signs set: the per-status counts count resources), per resource type it is written as.
    entities = result["reconciliation"]["reconciliation"]["entities"]
    spec = load_connector("demo")
    written = {e["entity"]: sum(e["statuses"].values()) for e in entities}
    exported = {e["entity"]: e["exported"] for e in entities}
    assert all(written[name] == exported[name] for name in written if name != "vital_signs")
    assert written["vital_signs"] > exported["vital_signs"] > 0
    expected: dict[str, int] = {"Organization": 1}  # the institution itself
    for entity, count in written.items():
        types = fhir.resource_types_of(spec.entities[entity].canonical)
        if len(types) == 1:
            expected[types[0]] = expected.get(types[0], 0) + count
    order_types = fhir.resource_types_of("order_line")
    assert sum(counts.pop(t) for t in order_types) == exported["order_line"]
    assert counts == expected
    assert sum(written.values()) == sum(result["fhir"]["counts"].values()) - 1


def test_without_fhir_resources_open_says_validation_was_skipped(tmp_path: Path, demo, monkeypatch) -> None:
    # Fake: fhir.resources is installed in the test venv; None in sys.modules makes its import fail,
    # as on a machine without the 'verify' extra.
    monkeypatch.setitem(sys.modules, "fhir.resources", None)
    monkeypatch.setitem(sys.modules, "fhir.resources.R4B", None)
    out, outcome = demo
    args = ["open", outcome["bundle"]["path"], "--key", str(out / "demo-keys" / "store-key.pem")]
    opened = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert opened.exit_code == 0, opened.output
    assert ("FHIR structure: NOT validated, skipped because fhir.resources is not installed; install it with: "
            "pip install 'emr-exporter[verify]'") in opened.output
    assert "FHIR output:  " in opened.output  # ids, references and manifest counts are still checked

    required = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b"), "--require-fhir-validation"])
    assert required.exit_code != 0
    assert ("FHIR structure validation was required, but fhir.resources is not installed: install it with: "
            "pip install 'emr-exporter[verify]'") in required.output
    assert not (tmp_path / "b").exists()  # refused before decrypting anything
