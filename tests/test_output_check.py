"""The export's own output check (pipeline/check.py): what FHIR forbids or `open` rejects, found on the
serialised line, and nothing else (escaped backslashes and quotes are text, not defects)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emr_exporter.pipeline.bag import canonical_json_line
from emr_exporter.pipeline.check import line_problem

CONTROL = "a text holds a control character FHIR does not allow"
EMPTY = "a text is empty (FHIR strings hold at least one character)"
CODE = "a code has leading, trailing or repeated spaces (FHIR's code pattern)"


@pytest.mark.parametrize(("resource", "problem"), [
    ({"text": "급성\x07비인두염"}, CONTROL),  # BEL
    ({"text": "a\x00b"}, CONTROL),  # NUL
    ({"text": "a\x1b"}, CONTROL),  # ESC
    ({"text": "a\x0bb"}, CONTROL),  # VT
    ({"text": "\x08"}, CONTROL),  # backspace: the encoder writes \b
    ({"text": "\x0c"}, CONTROL),  # form feed: \f
    ({"text": "a\x7f"}, CONTROL),  # DEL
    ({"text": "C:\\\x07"}, CONTROL),  # a backslash, then BEL
    ({"text": ""}, EMPTY),
    ({"given": ["김", ""]}, EMPTY),
    ({"code": " J00"}, CODE),
    ({"code": "J00 "}, CODE),
    ({"code": "J00\n"}, CODE),
    ({"code": "J0  0"}, CODE),
    ({"code": "가  나"}, CODE),
    ({"text": "줄\n바꿈\t탭\r"}, None),  # tab, LF, CR are allowed
    ({"text": "C:\\bin\\file"}, None),  # a backslash followed by b is text, not a control character
    ({"text": 'say ""hi""'}, None),  # quotes ending a text are escaped, not an empty string
    ({"text": 'x:"', "more": 'y,""'}, None),
    ({"code": "J00"}, None),
    ({"code": "가 나"}, None),
    ({"code": "J\"0"}, None),
])
def test_line_problem(resource: dict[str, Any], problem: str | None) -> None:
    assert line_problem(canonical_json_line(resource)) == problem


# --- the fast paths are the reference paths ----------------------------------------------------------------
# line_problem and the bag's tiny-float prefilter take shortcuts for the common clean line (pipeline/check.py,
# pipeline/bag.py); each must give exactly what its reference gives, on every line a real export checks
# (the demo clinic, the two Korean-style clinics with their planted defects) and on planted odd lines.


def _export_comparing(monkeypatch: pytest.MonkeyPatch, spec: Any, database: Any, attachments: Any) -> tuple[int, int]:
    import datetime as dt

    from emr_exporter.pipeline import bag, check
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.sources.base import SqliteFileSource

    seen = {"lines": 0, "problems": 0, "floats": 0}
    fast_problem, fast_float = check.line_problem, bag._maybe_tiny_float

    def line_problem(line: bytes) -> str | None:
        problem = fast_problem(line)
        assert problem == check.line_problem_reference(line), line
        seen["lines"] += 1
        seen["problems"] += problem is not None
        return problem

    def maybe_tiny_float(line: bytes) -> bool:
        maybe = fast_float(line)
        assert maybe == bag._maybe_tiny_float_reference(line), line
        seen["floats"] += 1
        return maybe

    monkeypatch.setattr(check, "line_problem", line_problem)
    monkeypatch.setattr(bag, "_maybe_tiny_float", maybe_tiny_float)
    source = SqliteFileSource(database)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source, {"code": "12345678", "name": "x"}),
                        created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), attachments_root=attachments)
        digest_stream(run.stream())
    finally:
        source.close()
    assert seen["floats"] >= seen["lines"]
    return seen["lines"], seen["problems"]


def test_fast_line_checks_are_the_reference_on_every_demo_line(demo_clinic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from emr_exporter.connectors import load_connector

    lines, problems = _export_comparing(monkeypatch, load_connector("demo"), demo_clinic.path,
                                        demo_clinic.attachments_root)
    # The demo's planted defects are found by the mapper before a line is made: the odd lines are below.
    assert lines > 5000 and problems == 0


@pytest.mark.parametrize("style", ["hwanja", "recept"])
def test_fast_line_checks_are_the_reference_on_korean_styles(tmp_path, monkeypatch, style: str) -> None:  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "connectors"))  # as tests/test_check.py does
    from korean_styles import HWANJA_CONNECTOR, RECEPT_CONNECTOR, create_hwanja_clinic, create_recept_clinic

    from emr_exporter.connectors import load_connector

    create, text = {"hwanja": (create_hwanja_clinic, HWANJA_CONNECTOR),
                    "recept": (create_recept_clinic, RECEPT_CONNECTOR)}[style]
    clinic = create(tmp_path / f"{style}.sqlite")
    (tmp_path / "connectors" / style).mkdir(parents=True)
    (tmp_path / "connectors" / style / "connector.toml").write_text(text, encoding="utf-8")
    lines, _ = _export_comparing(monkeypatch, load_connector(style, [tmp_path / "connectors"]), clinic.path, None)
    assert lines > 200


def test_fast_line_checks_are_the_reference_on_planted_odd_lines() -> None:
    """Random resources built from the characters the checks look at: codes and texts with ASCII and
    Unicode spaces (U+3000, U+00A0), controls, DEL, quotes, backslashes, empty strings, Korean text, tiny
    and plain floats; every outcome of both checks occurs."""
    import random

    from emr_exporter.pipeline.bag import _maybe_tiny_float, _maybe_tiny_float_reference
    from emr_exporter.pipeline.check import line_problem_reference

    pieces = ["J00", "가", "나다", " ", "  ", "\u3000", "\xa0", "\t", "\n", "\x07", "\x7f", '"', '""', "\\", "\\b",
              "e-", "1e-", "0.0000", "code", ":", ",", "[", "x"]
    rng = random.Random(13)

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4)))

    outcomes: set[str | None] = set()
    floats: set[bool] = set()
    for _ in range(20000):
        resource: dict[str, Any] = {
            "resourceType": "Observation", "id": "o",
            "code": {"coding": [{"code": text(), "system": "s"}], "text": text()},
            "valueQuantity": {"value": rng.choice([1, 0.5, 1e-05, 2.5e-07, 0.0001, 123.25]), "code": text()},
        }
        if rng.random() < 0.3:
            resource["content"] = [{"attachment": {"contentType": text(), "title": text()}}]
        line = canonical_json_line(resource)
        problem = line_problem(line)
        assert problem == line_problem_reference(line), line
        outcomes.add(problem)
        maybe = _maybe_tiny_float(line)
        assert maybe == _maybe_tiny_float_reference(line), line
        floats.add(maybe)
    assert outcomes == {None, CONTROL, EMPTY, CODE} and floats == {True, False}


# --- the reference look-up's fast path is the reference path ------------------------------------------------
# ResourceCheck.dangling reads a record id's digest off the line's bytes and looks it up in its type's index in
# place; the reference is references() on the parsed line and known() for each target, in the line's order.


def _dangling_reference(check: Any, line: bytes) -> tuple[str, str] | None:
    import json

    from emr_exporter.pipeline.check import references

    for path, target_type, target_id in references(json.loads(line)):
        if not check.known(target_type, target_id):
            return path, target_type
    return None


def _comparing_dangling(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    from emr_exporter.pipeline.check import ResourceCheck

    seen = {"lines": 0, "dangling": 0}
    fast = ResourceCheck.dangling

    def dangling(self: Any, resource: Any, line: bytes, paths: Any = None) -> tuple[str, str] | None:
        expected = _dangling_reference(self, line)
        if seen["lines"] % 3 == 0:  # the index's path, not only the remembered references
            self._verified.clear()
        found = fast(self, resource, line, paths)
        assert found == expected, line
        seen["lines"] += 1
        seen["dangling"] += found is not None
        return found

    monkeypatch.setattr(ResourceCheck, "dangling", dangling)
    return seen


@pytest.mark.parametrize("id_memory", [None, 40])
def test_fast_reference_look_up_is_the_reference_on_every_demo_line(demo_clinic, monkeypatch, id_memory) -> None:  # type: ignore[no-untyped-def]
    """Every line of the demo export, with the ids in memory and with 40 digests
    in memory (the ids spilling, the reference targets partly on disk): the same answer as the reference."""
    import datetime as dt

    from emr_exporter.connectors import load_connector
    from emr_exporter.pipeline.check import IdIndex
    from emr_exporter.pipeline.export import ExportRun, digest_stream, read_institution
    from emr_exporter.sources.base import SqliteFileSource

    seen = _comparing_dangling(monkeypatch)
    kept_spilled: list[int] = []  # a spy (behaviour unchanged): reference targets' digests that went to disk
    spill = IdIndex.spill

    def spy(self: IdIndex, first: int = 0) -> int:
        count = spill(self, first)
        if self.keep:
            kept_spilled.append(count)
        return count

    monkeypatch.setattr(IdIndex, "spill", spy)
    spec = load_connector("demo")
    source = SqliteFileSource(demo_clinic.path)
    try:
        run = ExportRun(spec, source, institution=read_institution(spec, source), id_memory=id_memory,
                        created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), attachments_root=demo_clinic.attachments_root)
        digest_stream(run.stream())
    finally:
        source.close()
    assert seen["lines"] > 5000  # (the demo's orphans are found by the mapper: dangling ones are planted below)
    assert (sum(kept_spilled) > 0) is (id_memory is not None)


def test_fast_reference_look_up_is_the_reference_on_planted_references(tmp_path: Path) -> None:
    """Record ids and look-alikes (upper case, 31 and 33 hex digits, a non-hex letter, an escape, a '/'),
    types never claimed, ids in memory, on disk, released, released from disk, sharing a claimed id's first
    64 bits: every answer as the reference's, found and dangling both occurring."""
    import random

    from emr_exporter.pipeline.bag import canonical_json_line
    from emr_exporter.pipeline.check import ResourceCheck, id_digest

    rng = random.Random(41)
    types = ["Patient", "Encounter", "Practitioner", "Organization", "Observation"]
    with ResourceCheck(id_memory=64, work_dir=tmp_path) as check:
        claimed: list[tuple[str, str]] = []
        for n in range(3000):
            resource_type = types[n % 4] if n % 7 else "Observation"
            resource_id = f"{rng.getrandbits(128):032x}" if n % 5 else f"p-{n}"
            assert check.claim(resource_type, resource_id) is not None
            claimed.append((resource_type, resource_id))
            if n % 50 == 0:  # given back: in memory now, or later from a run
                check.release([(resource_type, id_digest(resource_id))])
        for resource_type, resource_id in claimed[:300:7]:  # released from a run by now
            check.release([(resource_type, id_digest(resource_id))])

        def look_alikes(resource_type: str, resource_id: str) -> list[str]:
            return [resource_id, resource_id.upper(), resource_id[:31], resource_id + "0", resource_id[:-1] + "g",
                    resource_id[:16] + f"{rng.getrandbits(64):016x}", resource_id[:10] + '"' + resource_id[11:],
                    resource_id[:10] + "/" + resource_id[11:], f"{rng.getrandbits(128):032x}"]

        outcomes: set[bool] = set()
        for resource_type, resource_id in rng.sample(claimed, 400):
            for target_type in (resource_type, rng.choice([*types, "Device"])):
                for target_id in look_alikes(resource_type, resource_id):
                    line = canonical_json_line({"resourceType": "Observation", "subject": {"reference":
                                                f"{target_type}/{target_id}"}, "encounter": {"reference":
                                                f"Encounter/{claimed[rng.randrange(len(claimed))][1]}"}})
                    expected = _dangling_reference(check, line)
                    if rng.random() < 0.5:
                        check._verified.clear()
                    assert check.dangling(None, line) == expected, line
                    outcomes.add(expected is None)
        assert outcomes == {True, False} and check.id_spill.spills > 10
