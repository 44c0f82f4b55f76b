"""The export's own output check (pipeline/check.py): what FHIR forbids or `open` rejects, found on the
serialised line, and nothing else (escaped backslashes and quotes are text, not defects)."""

from __future__ import annotations

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
