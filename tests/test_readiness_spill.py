"""The readiness observer's visits beyond memory (reports/readiness.py ``_VisitSpill``): the report is the one
the all-in-memory observer makes, byte for byte, whatever the visit memory, and the files hold no id."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from emr_exporter import model
from emr_exporter.connectors import load_connector
from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
from emr_exporter.reports import readiness
from emr_exporter.sources.base import SqliteFileSource

CREATED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
INSTITUTION = model.Institution(code="99350017", name="가상의원", address="서울", phone="02")
ALL_IN_MEMORY = 1 << 30


class _Counting(readiness._VisitSpill):
    made: ClassVar[list[_Counting]] = []

    def __init__(self, work_dir: Path | None) -> None:
        super().__init__(work_dir)
        _Counting.made.append(self)


@pytest.fixture
def counted_spills(monkeypatch: pytest.MonkeyPatch) -> list[_Counting]:
    _Counting.made = []
    monkeypatch.setattr(readiness, "_VisitSpill", _Counting)
    return _Counting.made


def _export(demo_clinic: Any, visit_memory: int, work_dir: Path | None = None) -> tuple[bytes, str]:
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    institution = read_institution(spec, source)
    observer = readiness.ReadinessObserver(institution, visit_memory=visit_memory, work_dir=work_dir)
    run = ExportRun(spec, source, institution=institution, created=CREATED,
                    attachments_root=demo_clinic.attachments_root, observers=[observer])
    digest = digest_stream(run.stream()).sha256
    ((_, data),) = observer.report_members()
    return data, digest


def test_the_demo_clinic_report_and_bag_are_the_same_with_spilled_visits(
    demo_clinic: Any, counted_spills: list[_Counting], tmp_path: Path,
) -> None:
    # The demo clinic's planted defects: missing splits, licences, birth dates, visits without a payer.
    in_memory, in_memory_bag = _export(demo_clinic, ALL_IN_MEMORY)
    assert not counted_spills
    for memory in (1, 7, 1000):
        spilled, spilled_bag = _export(demo_clinic, memory, tmp_path / f"work-{memory}")
        assert spilled == in_memory and spilled_bag == in_memory_bag
    assert len(counted_spills) == 3
    assert counted_spills[0].encounters == counted_spills[1].encounters > 2000  # every visit went to the files
    assert {"Diagnosis", "Receipt", "FeeLine"} <= set(counted_spills[0].type_names)
    assert in_memory.count(b'"chart_numbers": [\n') > 5  # gaps with their patients (orphans are quarantined)


def _stream(rng: random.Random) -> list[model.Record]:
    """Records in an order no export makes: visits after records that name them, ids repeated with another
    patient, unknown patients and visits, no visit at all, records entered in error; every flag varied."""
    prov = model.Provenance("t", "T", "0")
    day = dt.date(2021, 3, 4)
    practitioners = [model.Practitioner(id=f"dr{n}", provenance=prov, name="의사" if n else "",
                                        licence_kind="의사" if n % 2 else None, licence_number=str(n)) for n in range(3)]
    patients = [f"p{n}" for n in range(60)]
    visits = [model.record_id("t", "VISIT", str(n)) for n in range(400)]
    records: list[model.Record] = list(practitioners)
    for n, patient in enumerate(patients):
        records.append(model.Patient(id=patient, provenance=prov, chart_number=f"C{n:04d}", name="" if n % 9 == 0 else "김",
                                     rrn=None if n % 7 == 0 else "900101-1234567", address="서울" if n % 5 else None,
                                     birth_date=day if n % 4 else None, sex="female" if n % 3 else "unknown"))

    def maybe(value: Any, odds: float = 0.8) -> Any:
        return value if rng.random() < odds else None

    def some_visit() -> str | None:
        roll = rng.random()
        if roll < 0.05:
            return None
        if roll < 0.1:
            return model.record_id("t", "VISIT", f"never-{rng.randrange(50)}")
        return rng.choice(visits)

    children: list[model.Record] = []
    for n in range(3000):
        kind = n % 5
        common: dict[str, Any] = {"id": f"r{n}", "provenance": prov, "patient_id": rng.choice([*patients, "nobody"]),
                                  "encounter_id": some_visit()}
        if rng.random() < 0.03:
            common["status"] = "entered-in-error"
        if kind == 0:
            children.append(model.Diagnosis(code="J00", kcd_edition=maybe("kcd-8"), onset=maybe(day), **common))
        elif kind == 1:
            children.append(model.OrderLine(ordered=day, code_type=rng.choice(["drug", None, "procedure"]),
                                            outside_prescription=rng.random() < 0.7, name=maybe("약"),
                                            dose=maybe(Decimal(1)), frequency=maybe(3), days=maybe(5),
                                            prescriber_id=rng.choice(["dr0", "dr1", "dr2", None]), **common))
        elif kind == 2:
            children.append(model.LabResult(observed=day, value=rng.choice(["", None, "5.1"]), **common))
        elif kind == 3:
            children.append(model.Receipt(issued=day, number=maybe("202103-1"), covered_patient=maybe(Decimal(1)),
                                          covered_insurer=maybe(Decimal(2)), total=maybe(Decimal(3)),
                                          paid=maybe(Decimal(3)), **common))
        else:
            children.append(model.FeeLine(service_date=day, name=maybe("진찰료"), code=maybe("AA154"),
                                          total=maybe(Decimal(9)), patient_share=maybe(Decimal(3)),
                                          insurer_share=maybe(Decimal(6)), non_covered=maybe(Decimal(0), 0.3), **common))
    encounters: list[model.Record] = []
    for n, visit in enumerate(visits + visits[:40]):  # 40 ids twice (the first stays), with another patient
        encounters.append(model.Encounter(
            id=visit, provenance=prov, patient_id=rng.choice([*patients, "nobody"]), start=day,
            kind="inpatient" if n % 6 == 0 else "outpatient", end=maybe(day), practitioner_id=maybe(f"dr{n % 3}"),
            department=maybe("내과"), payer_type=rng.choice(["건강보험", "자보", "산재", None]),
            status="entered-in-error" if n % 97 == 5 else None,
        ))
    # Mostly visits first (as an export), but a tenth of the children come before their visits.
    early = children[:300]
    mixed = encounters + children[300:]
    rng.shuffle(early)
    records += early
    records += mixed[:200]
    late = mixed[200:]
    rng.shuffle(late)  # some visits now come after records naming them
    return records + late


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_stream_in_any_order_gives_the_same_report_with_any_visit_memory(
    seed: int, counted_spills: list[_Counting], tmp_path: Path,
) -> None:
    records = _stream(random.Random(seed))

    def report(memory: int) -> tuple[bytes, dict[str, int]]:
        observer = readiness.ReadinessObserver(INSTITUTION, visit_memory=memory, work_dir=tmp_path)
        for record in records:
            observer.observe(record)
        ((_, data),) = observer.report_members()
        return data, observer.result().unlinked

    expected, unlinked = report(ALL_IN_MEMORY)
    assert not counted_spills
    assert sum(unlinked.values()) > 100 and set(unlinked) >= {"Diagnosis", "Receipt", "FeeLine", "LabResult"}
    for memory in (1, 2, 37, 300):
        assert report(memory) == (expected, unlinked), memory
    assert len(counted_spills) == 4
    assert list(tmp_path.iterdir()) == []  # unnamed files, gone once closed


def test_the_files_hold_no_id_and_no_flag_in_clear(tmp_path: Path) -> None:
    observer = readiness.ReadinessObserver(INSTITUTION, visit_memory=1, work_dir=tmp_path)
    prov = model.Provenance("t", "T", "0")
    ids = [model.record_id("t", "VISIT", str(n)) for n in range(5000)]
    for visit in ids:
        observer.observe(model.Encounter(id=visit, provenance=prov, patient_id="p", start=dt.date(2020, 1, 1)))
    spill = observer._spill
    assert spill is not None
    spill.finish()
    written = b"".join(handle.read() for handle in _rewound(spill._files))
    assert len(written) == 32 * 5000
    keys = {readiness._id_key(visit).to_bytes(8, "little") for visit in ids}
    assert not any(written[at:at + 8] in keys for at in range(0, len(written), 8))
    # In clear, an encounter's second word is its flags (< 2^32): its four high bytes would be zero.
    assert sum(written[at + 12:at + 16] == bytes(4) for at in range(0, len(written), 32)) < 10
    entries = [entry for part in range(readiness._PARTS) for entry in spill.entries(part)]
    assert sorted(key for chunk in entries for key in chunk[0::4]) == sorted(readiness._id_key(v) for v in ids)
    assert observer.result().documents  # resolves and closes the files
    assert all(handle.closed for handle in spill._files)


def _rewound(handles: list[Any]) -> list[Any]:
    for handle in handles:
        handle.seek(0)
    return handles


def test_visit_memory_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert readiness.ReadinessObserver(INSTITUTION).visit_memory == readiness.DEFAULT_VISIT_MEMORY == 1 << 17
    monkeypatch.setenv(readiness.VISIT_MEMORY_ENV, "5")
    assert readiness.ReadinessObserver(INSTITUTION).visit_memory == 5
    with pytest.raises(ValueError, match="at least 1 visit"):
        readiness.ReadinessObserver(INSTITUTION, visit_memory=0)
