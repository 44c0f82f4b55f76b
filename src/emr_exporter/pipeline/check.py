"""The export checks its own output, resource by resource, while streaming (issue: every sealed bundle opens).

``open`` (:mod:`emr_exporter.bundle.fhir_check`) rejects a bag whose FHIR breaks the structure, a string
pattern, id uniqueness or a reference. The export makes those impossible by construction where it can
(record ids are hashes; references are checked against the parents' keys; keys that cannot be told apart
are quarantined) and checks the rest on each serialised line here, before the line enters the bag —
a check of the JSON text costs a regular-expression scan, where the full ``fhir.resources`` model would
cost ~60 µs a resource and halve the export rate (docs/performance.md). What is checked on each line:

* no control character below U+0020 other than tab, CR and LF (and no DEL) in any string;
* no empty string (FHIR: a string has at least one character);
* no ``code`` with leading, trailing or doubled whitespace (FHIR's ``code`` pattern);
* every resource ``id`` matches FHIR's id pattern (checked on the resource, not the line).

A line that fails is not written: its row is quarantined with a reason naming the entity, the masked key
and the JSON path kind that failed, never the value.
"""

from __future__ import annotations

import json
import re

#: What can be wrong with a line's strings shows as a backslash (an escape), a DEL byte or two quotes in a
#: row (an empty string, or an escaped quote ending a text): only such lines are looked at closely.
#: An empty string value: it starts after ':' ',' or '[' (an escaped quote ending a text is '\\""').
_EMPTY = re.compile(rb'[:,\[]""')
#: Escapes taken pairwise from the left (so an escaped backslash is never misread): a forbidden control
#: character is \b, \f or \u0000-\u001f other than \t \n \r (written short by the encoder).
_ESCAPE = re.compile(rb'\\(u00[01][0-9a-fA-F]|[bf])|\\.')
#: A code value that is not plain printable ASCII without spaces: only those are looked at closely.
_CODE_SUSPECT = re.compile(rb'"code":"(?![!#-\[\]-~]*")')
_CODE_VALUE = re.compile(rb'"code":"((?:[^"\\]|\\.)*)"')
#: FHIR's ``code`` and ``id`` patterns (as ``open``'s structure check applies them).
CODE_PATTERN = re.compile(r"[^\s]+(\s[^\s]+)*")  # used with fullmatch ($ would allow a final LF)
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def line_problem(line: bytes) -> str | None:
    """The first FHIR rule one canonical JSON line breaks, or None.

    Ordered cheapest first: plain substring searches decide for almost every line; the regular
    expressions only run on lines that hold a suspect byte sequence.
    """
    # Substring searches (memchr-fast) rather than one regular expression: ~1.6 µs a line, not ~11.
    if b"\\" in line or b"\x7f" in line or b'""' in line:
        if b"\x7f" in line or any(m.group(1) for m in _ESCAPE.finditer(line)):
            return "a text holds a control character FHIR does not allow"
        if _EMPTY.search(line):
            return "a text is empty (FHIR strings hold at least one character)"
    if b'"code":"' in line and _CODE_SUSPECT.search(line):
        for match in _CODE_VALUE.finditer(line):
            raw = match.group(1)
            # A JSON string without a backslash is its UTF-8 text as is: no decoder call (most suspect
            # codes are Korean text, checked here on every such line).
            text = json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")
            if not CODE_PATTERN.fullmatch(text):
                return "a code has leading, trailing or repeated spaces (FHIR's code pattern)"
    return None


__all__ = ["CODE_PATTERN", "ID_PATTERN", "line_problem"]
