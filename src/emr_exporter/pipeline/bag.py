"""A BagIt (RFC 8493) bag written as a deterministic PAX tar byte stream, entirely in memory.

The export pipeline pushes records in and pulls tar bytes out (``yield from bag.add_ndjson(...)``);
the bytes go straight into encryption. Nothing is written to disk, and memory stays bounded by the
open NDJSON segments (one per group, at most ``segment_bytes`` each) plus one output chunk and one
caller chunk.

Member layout (``root`` defaults to ``bag``)::

    bag/bagit.txt                         always the first member
    bag/data/<group>.<NNNN>.ndjson        NDJSON segments, NNNN from 0001 per group
    bag/data/<path>                       add_file / add_bytes payload (attachments, reports)
    bag/data/fhir/manifest.json           FHIR Bulk Data manifest (written by finish)
    bag/bag-info.txt
    bag/manifest-sha256.txt
    bag/tagmanifest-sha256.txt            covers bagit.txt, bag-info.txt, manifest-sha256.txt
    bag/tagmanifest-sha256.txt.p7s        only with sign_tagmanifest; not listed in the tagmanifest

Determinism: the same calls produce byte-identical output (fixed mtime = ``created``, uid/gid 0,
empty user/group names, mode 0o644, PAX records only where tarfile needs them for the name/size).

Every public method checks its arguments at once (``ValueError``: bad or duplicate name) and
returns a generator that writes only when iterated; iterate each one to the end, in call order
(``yield from``). A step skipped, abandoned half-way or failing leaves a hole in the tar, and the
bag then refuses to write further (``ExportError``). Output is coalesced into chunks of
``OUTPUT_CHUNK_BYTES``: ``add_*`` may keep up to that much pending, ``flush()`` and ``finish()``
emit everything added so far.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
import tarfile
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from emr_exporter.errors import ExportError
from emr_exporter.pipeline.check import IdIndex

#: Size of the chunks handed downstream (encryption works best with large buffers).
OUTPUT_CHUNK_BYTES = 256 * 1024
BLOCK = tarfile.BLOCKSIZE  # 512
RECORD = tarfile.RECORDSIZE  # 10240, tarfile pads the archive end to this

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
FHIR_MANIFEST_PATH = "fhir/manifest.json"
COMPUTED_BAG_INFO_LABELS = ("Payload-Oxum", "Bagging-Date", "Bag-Size")


@dataclass
class _Segment:
    """The NDJSON lines buffered for one group's current segment."""

    data: bytearray = field(default_factory=bytearray)
    lines: int = 0
    number: int = 0  # segments of this group already emitted


#: One encoder for every line: ``json.dumps`` with options builds a new JSONEncoder per call, which
#: was a measurable share of the export's time (benchmarks/bench_export.py). Same output.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


#: orjson (native) writes the same bytes as the encoder above for everything the export produces, ~5x
#: faster, except floats below 1e-4 (``1e-05`` here, ``0.00001`` or ``1e-5`` there), integers beyond 64
#: bits and non-str keys (orjson refuses both). Its output is checked for the tiny-float forms (a number
#: token with ``0.0000`` or ``e-``; a false alarm only costs the slow path) and every orjson error falls
#: back, so the line is always the one ``_CANONICAL_ENCODER`` writes (test: tests/test_bag.py). Non-finite
#: floats never get here (fhir_number refuses them, raw values are made JSON-safe by ``jsonable``).
# Passthrough: dataclasses, datetimes and subclasses (enums, str subclasses) go to the fallback, which
# writes or refuses them exactly as before.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_TINY_FLOAT = re.compile(rb"[:,\[]-?(?:0\.0000|[0-9.]+e-)")


def canonical_json_line(obj: Mapping[str, Any]) -> bytes:
    """One canonical NDJSON line: sorted keys, no spaces, UTF-8, LF."""
    try:
        line = orjson.dumps(obj, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: big integer, non-str key, unknown type...
        line = None
    # Substring tests first (C memmem, ~20x faster than the pattern over a whole line); the pattern only
    # when one of the two forms occurs at all.
    if line is None or (_maybe_tiny_float(line) and _TINY_FLOAT.search(line)):
        return (_CANONICAL_ENCODER.encode(obj) + "\n").encode("utf-8")
    return line


#: Bytes a tiny float's exponent can follow ("1e-05", "1.5e-07"): any other "e-" is text.
_MANTISSA_END = frozenset(b"0123456789.")


#: "e-" right after a mantissa's digit or dot: the literal "e-" is what the engine searches for (C, fast),
#: the byte before it is then looked at (a pattern led by the class [0-9.] would try every byte).
_EXPONENT = re.compile(rb"e-(?<=[0-9.]e-)")


def _maybe_tiny_float(line: bytes) -> bool:
    """True when ``line`` may hold a float :data:`_TINY_FLOAT` would find (never False when it would).

    Most FHIR lines hold "e-" in words and URIs ("data-absent-reason", "code-system"); the pattern over
    such a line cost ~8 µs. Every match of the pattern has "0.0000" or a digit or dot right before "e-",
    so only those are looked for (exactly :func:`_maybe_tiny_float_reference`, ~0.5 µs a line less).
    """
    return b"0.0000" in line or _EXPONENT.search(line) is not None


def _maybe_tiny_float_reference(line: bytes) -> bool:
    """:func:`_maybe_tiny_float` walked in Python (the reference it is tested against)."""
    if b"0.0000" in line:
        return True
    at = line.find(b"e-")
    while at >= 0:
        if at and line[at - 1] in _MANTISSA_END:
            return True
        at = line.find(b"e-", at + 2)
    return False


def normalise_bag_path(path: str) -> str:
    """NFC-normalise a relative bag path and reject anything that is unsafe to extract.

    Rejected (``ValueError``): empty, absolute, backslashes, empty / ``.`` / ``..`` components,
    control characters, and ``%`` (RFC 8493 would need percent-encoding in manifests, which
    common validators do not decode).
    """
    if not isinstance(path, str) or not path:
        raise ValueError("bag path must be a non-empty string")
    path = unicodedata.normalize("NFC", path)
    if "\\" in path:
        raise ValueError(f"bag path must not contain a backslash: {path!r}")
    if path.startswith("/"):
        raise ValueError(f"bag path must be relative: {path!r}")
    if "%" in path:
        raise ValueError(f"bag path must not contain '%': {path!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        raise ValueError(f"bag path must not contain control characters: {path!r}")
    for component in path.split("/"):
        if component in ("", ".", ".."):
            raise ValueError(f"bag path has an empty, '.' or '..' component: {path!r}")
    return path


def _fold(path: str) -> str:
    """The key under which two names collide on a case-insensitive, normalising file system."""
    return unicodedata.normalize("NFC", path.casefold())


def _human_size(octets: int) -> str:
    """Bag-Size: an approximate size with a decimal unit, e.g. '1.5 GB'."""
    size = float(octets)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{octets} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _check_bag_info(items: Mapping[str, str]) -> None:
    for label, value in items.items():
        if (
            not isinstance(label, str)
            or not label
            or label != label.strip()
            or ":" in label
            or any(ord(ch) < 0x20 for ch in label)
        ):
            raise ValueError(f"bag-info label is not valid: {label!r}")
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            raise ValueError(f"bag-info value for {label!r} must be a single-line string")
        if label in COMPUTED_BAG_INFO_LABELS:
            raise ValueError(f"bag-info label {label!r} is computed by the bag and cannot be given")


class BagStream:
    """Write one BagIt bag as a deterministic PAX tar stream (see the module docstring)."""

    def __init__(
        self,
        *,
        bag_info: Mapping[str, str],
        created: datetime,
        root: str = "bag",
        segment_bytes: int = 4 * 1024 * 1024,
        sign_tagmanifest: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if created.tzinfo is None or created.utcoffset() is None:
            raise ValueError("created must be a timezone-aware datetime")
        if segment_bytes < 1:
            raise ValueError("segment_bytes must be positive")
        _check_bag_info(bag_info)
        self._bag_info = dict(bag_info)
        self._created = created
        self._mtime = int(created.timestamp())
        self._root = normalise_bag_path(root)
        self._segment_bytes = segment_bytes
        self._sign_tagmanifest = sign_tagmanifest

        self._segments: dict[str, _Segment] = {}
        self._checked_groups: dict[str, str] = {}  # group as given → normalise_bag_path(group)
        self._out = bytearray()
        self._started = False  # bagit.txt written
        self._issued = 0  # steps handed out by the public methods
        self._completed = 0  # steps that ran to their end (they must run in order)
        self._finish_called = False
        # Name bookkeeping for duplicate / file-vs-directory collisions: 64-bit hashes of the folded names
        # (see _name_key); the files' in sorted arrays (8 bytes a member; an int in a set was ~60, ~3 MB at the
        # 10^7 clinic's ~60 000 members), the few directories in a set.
        self._file_keys = IdIndex()
        self._file_keys.add(_name_key(_fold("data/" + FHIR_MANIFEST_PATH)))
        self._dir_keys: set[int] = {_name_key(_fold("data")), _name_key(_fold("data/fhir"))}
        # data/fhir/manifest.json's outputs, packed (a dict each was ~370 bytes): the group (an index in
        # _fhir_groups), the segment's number and its lines.
        self._fhir_groups: dict[str, int] = {}
        self._fhir_outputs = array("Q")  # group, number, lines: three words an output
        self._members = _MemberLog()
        self._payload_files = 0
        self._payload_bytes = 0
        self._tar_bytes = 0

    # ------------------------------------------------------------------ read-only results

    @property
    def payload_files(self) -> int:
        return self._payload_files

    @property
    def payload_bytes(self) -> int:
        return self._payload_bytes

    @property
    def tar_bytes(self) -> int:
        """Bytes of tar produced so far (after finish: the whole archive, a multiple of 10240)."""
        return self._tar_bytes

    @property
    def members(self) -> list[tuple[str, int, str]]:
        """Every member in tar order as (path relative to the bag root, size, sha256 hex)."""
        return list(self._members.entries())

    # ------------------------------------------------------------------ public generators
    # Each public method checks its arguments and reserves names when called (ValueError then,
    # bag still usable) and returns a generator that does the writing when iterated.

    def add_ndjson(self, group: str, obj: Mapping[str, Any]) -> Iterator[bytes]:
        """Append ``obj`` as one canonical line to ``group``'s segment; emit the segment when full."""
        # Called once per exported record with a handful of distinct groups: remember each group's
        # checked form instead of re-checking the same string every time (a hot spot in profiles).
        checked = self._checked_groups.get(group)
        if checked is None:
            checked = self._checked_groups[group] = normalise_bag_path(group)
        group = checked
        line = canonical_json_line(obj)
        return self._sequenced(self._add_ndjson(group, line))

    def add_line(self, group: str, line: bytes | bytearray) -> Iterator[bytes]:
        """Like :meth:`add_ndjson` for a line already made by :func:`canonical_json_line` (checked first)."""
        if self.append_line(group, line):
            return iter(())
        return self._sequenced(self._add_ndjson(self._checked_groups[group], line))

    def append_line(self, group: str, line: bytes | bytearray) -> bool:
        """:meth:`add_line` when all it would do is join the line to its group's open segment: done at once,
        True. False (nothing done) when the step must go through :meth:`add_line` (the group's first line,
        a full segment, an earlier step still pending). The export's busiest call (~4 lines a row): no
        generator, no iterator for the common case."""
        checked = self._checked_groups.get(group)
        if checked is None:
            checked = self._checked_groups[group] = normalise_bag_path(group)
        # Only when no earlier step is still pending (so the order and the bytes are those of the step).
        segment = self._segments.get(checked)
        if (segment is not None and segment.lines and self._completed == self._issued and not self._finish_called
                and len(segment.data) + len(line) < self._segment_bytes):
            segment.data += line
            segment.lines += 1
            return True
        return False

    def flush(self, group: str | None = None) -> Iterator[bytes]:
        """Emit the partial segment of ``group`` (or of every group, sorted) and all pending bytes."""
        only = None if group is None else normalise_bag_path(group)
        return self._sequenced(self._flush(only))

    def add_file(self, path: str, size: int, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Stream a payload file ``data/<path>`` of known ``size`` without holding it whole.

        Raises ExportError (while iterating) if the chunks add up to more or less than ``size``.
        """
        rel = "data/" + normalise_bag_path(path)
        if size < 0:
            raise ValueError("size must not be negative")
        self._claim(rel)
        return self._sequenced(self._add_file(rel, size, chunks))

    def add_bytes(self, path: str, data: bytes) -> Iterator[bytes]:
        """Add a small payload file ``data/<path>`` held in memory."""
        rel = "data/" + normalise_bag_path(path)
        self._claim(rel)
        return self._sequenced(self._member(rel, data, payload=True))

    def finish(self, extra_bag_info: Mapping[str, str] | None = None) -> Iterator[bytes]:
        """Flush all segments, write the manifests and tag files, and end the archive."""
        extra = dict(extra_bag_info or {})
        _check_bag_info(extra)
        clash = sorted(set(extra) & set(self._bag_info))
        if clash:
            raise ValueError(f"bag-info labels given twice: {clash}")
        steps = self._sequenced(self._finish(extra))
        self._finish_called = True
        return steps

    # ------------------------------------------------------------------ generator bodies

    def _add_ndjson(self, group: str, line: bytes | bytearray) -> Iterator[bytes]:
        segment = self._segments.get(group)
        if segment is None:
            segment = self._segments[group] = _Segment()
        if segment.lines and len(segment.data) + len(line) > self._segment_bytes:
            yield from self._emit_segment(group, segment)
        if not segment.lines and len(line) >= self._segment_bytes:
            # One oversized line (a carried 50 MB scan's base64): its own segment, the line itself rather than
            # a copy of it (the same bytes).
            segment.lines = 1
            yield from self._emit_segment(group, segment, line)
            return
        segment.data += line
        segment.lines += 1
        if len(segment.data) >= self._segment_bytes:
            # Full (or one oversized line): nothing more can join it.
            yield from self._emit_segment(group, segment)

    def _flush(self, only: str | None) -> Iterator[bytes]:
        for name in sorted(self._segments) if only is None else [only]:
            segment = self._segments.get(name)
            if segment is not None and segment.lines:
                yield from self._emit_segment(name, segment)
        yield from self._drain()

    def _add_file(self, rel: str, size: int, chunks: Iterable[bytes], *, payload: bool = True) -> Iterator[bytes]:
        yield from self._start()
        yield from self._write(self._header(rel, size))
        digest = hashlib.sha256()
        written = 0
        for chunk in chunks:
            if written + len(chunk) > size:
                raise ExportError(
                    f"The file {rel} grew while it was being exported (expected {size} bytes, got more). "
                    "Make sure nothing is changing the clinic's files, then run the export again."
                )
            digest.update(chunk)
            written += len(chunk)
            yield from self._write(chunk)
        if written != size:
            raise ExportError(
                f"The file {rel} shrank while it was being exported (expected {size} bytes, got "
                f"{written}). Make sure nothing is changing the clinic's files, then run the export again."
            )
        yield from self._write(self._padding(size))
        self._record(rel, size, digest.hexdigest(), payload=payload)

    def _finish(self, extra: dict[str, str]) -> Iterator[bytes]:
        for name in sorted(self._segments):
            segment = self._segments[name]
            if segment.lines:
                yield from self._emit_segment(name, segment)
        self._segments.clear()

        yield from self._member("data/" + FHIR_MANIFEST_PATH, self._fhir_manifest(), payload=True)

        info = {**self._bag_info, **extra}
        info["Payload-Oxum"] = f"{self._payload_bytes}.{self._payload_files}"
        info["Bagging-Date"] = self._created.date().isoformat()
        info["Bag-Size"] = _human_size(self._payload_bytes)
        bag_info_txt = "".join(f"{label}: {value}\n" for label, value in info.items()).encode("utf-8")
        yield from self._member("bag-info.txt", bag_info_txt)

        # Streamed, never whole in memory: at 10^8 source rows (~520 000 members) it is ~65 MB.
        order = self._members.payload_order()
        yield from self._add_file("manifest-sha256.txt", self._members.manifest_size(order),
                                  self._members.manifest_chunks(order), payload=False)
        del order
        tag_digests = {
            "bagit.txt": hashlib.sha256(BAGIT_TXT).hexdigest(),
            "bag-info.txt": hashlib.sha256(bag_info_txt).hexdigest(),
            "manifest-sha256.txt": self._members.last_digest(),
        }
        tagmanifest_txt = "".join(f"{tag_digests[name]}  {name}\n" for name in sorted(tag_digests)).encode("utf-8")
        yield from self._member("tagmanifest-sha256.txt", tagmanifest_txt)
        if self._sign_tagmanifest is not None:
            yield from self._member("tagmanifest-sha256.txt.p7s", self._sign_tagmanifest(tagmanifest_txt))

        end = 2 * BLOCK
        remainder = (self._tar_bytes + end) % RECORD
        if remainder:
            end += RECORD - remainder
        yield from self._write(bytes(end))
        yield from self._drain()

    # ------------------------------------------------------------------ internals

    def _sequenced(self, body: Iterator[bytes]) -> Iterator[bytes]:
        """Wrap a body so that bodies run strictly in call order, each to its end.

        A step that was never iterated (a forgotten ``yield from``), abandoned half-way or that
        failed leaves a hole in the tar; the next step then refuses to run.
        """
        if self._finish_called:
            raise ExportError("Internal error: the bag is already finished; nothing more can be added.")
        ticket = self._issued
        self._issued += 1
        return self._run(ticket, body)

    def _run(self, ticket: int, body: Iterator[bytes]) -> Iterator[bytes]:
        if ticket != self._completed:
            raise ExportError(
                "Internal error: an earlier step writing the bag was skipped or did not complete, so "
                "the bag is incomplete. Run the export again."
            )
        yield from body
        self._completed += 1

    def _claim(self, rel: str) -> None:
        """Reserve a member name; reject duplicates (incl. case/normalisation) and file/dir clashes."""
        folded = _fold(rel)
        parts = folded.split("/")
        key = _name_key(folded)
        parents = [_name_key("/".join(parts[:i])) for i in range(1, len(parts))]
        if key in self._file_keys or key in self._dir_keys:
            raise ValueError(f"bag path is used twice (case and Unicode form are ignored): {rel!r}")
        if any(parent in self._file_keys for parent in parents):
            raise ValueError(f"bag path lies under a file of the same name: {rel!r}")
        self._file_keys.add(key)
        self._dir_keys.update(parents)

    def _start(self) -> Iterator[bytes]:
        if not self._started:
            self._started = True
            yield from self._member("bagit.txt", BAGIT_TXT)

    def _emit_segment(self, group: str, segment: _Segment, line: bytes | bytearray | None = None) -> Iterator[bytes]:
        """Write ``segment`` as its member (``line``: its one line, given apart from its empty data)."""
        segment.number += 1
        rel = f"data/{group}.{segment.number:04d}.ndjson"
        self._claim(rel)
        if group.startswith("fhir/"):
            index = self._fhir_groups.setdefault(group, len(self._fhir_groups))
            self._fhir_outputs.extend((index, segment.number, segment.lines))
        data: bytes | bytearray = segment.data if line is None else line
        segment.data, segment.lines = bytearray(), 0
        yield from self._member(rel, data, payload=True)

    def _fhir_outputs_list(self) -> list[dict[str, Any]]:
        """The manifest's outputs as dicts (tests; the manifest itself is written from the packed form)."""
        return [self._fhir_output(group, number, lines) for group, number, lines in self._fhir_output_rows()]

    def _fhir_output_rows(self) -> Iterator[tuple[str, int, int]]:
        groups = list(self._fhir_groups)
        outputs = self._fhir_outputs
        for at in range(0, len(outputs), 3):
            yield groups[outputs[at]], outputs[at + 1], outputs[at + 2]

    @staticmethod
    def _fhir_output(group: str, number: int, lines: int) -> dict[str, Any]:
        return {
            "type": group.rsplit("/", 1)[1],
            "url": f"{group[len('fhir/'):]}.{number:04d}.ndjson",  # relative to manifest.json's own location
            "count": lines,
        }

    def _fhir_manifest(self) -> bytes:
        """canonical_json_line of the manifest, its outputs written one by one (sorted keys: "error",
        "output", "requiresAccessToken", "transactionTime"), never all as dicts at once."""
        head = canonical_json_line({"error": [], "output": []})
        tail = canonical_json_line({
            "requiresAccessToken": False, "transactionTime": self._created.isoformat(timespec="seconds"),
        })
        out = bytearray(head[: -len(b"]}\n")])
        for n, row in enumerate(self._fhir_output_rows()):
            if n:
                out += b","
            out += canonical_json_line(self._fhir_output(*row))[:-1]
        out += b"],"
        out += tail[1:]
        return bytes(out)

    def _member(self, rel: str, data: bytes | bytearray, *, payload: bool = False) -> Iterator[bytes]:
        if rel != "bagit.txt":
            yield from self._start()
        yield from self._write(self._header(rel, len(data)))
        yield from self._write(data)
        yield from self._write(self._padding(len(data)))
        self._record(rel, len(data), hashlib.sha256(data).hexdigest(), payload=payload)

    def _record(self, rel: str, size: int, hexdigest: str, *, payload: bool) -> None:
        self._members.append(rel, size, hexdigest, payload)
        if payload:
            self._payload_files += 1
            self._payload_bytes += size

    def _header(self, rel: str, size: int) -> bytes:
        info = tarfile.TarInfo(f"{self._root}/{rel}")
        info.size = size
        info.mtime = self._mtime
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    @staticmethod
    def _padding(size: int) -> bytes:
        return bytes(-size % BLOCK)

    def _write(self, data: bytes | bytearray) -> Iterator[bytes]:
        """Append to the output, yielding exactly OUTPUT_CHUNK_BYTES-sized chunks as they fill."""
        size = len(data)
        self._tar_bytes += size
        out = self._out
        if not out and size == OUTPUT_CHUNK_BYTES and isinstance(data, bytes):
            yield data  # already the right size: no copy
            return
        view = memoryview(data)
        pos = 0
        while pos < size:
            if not out and size - pos >= OUTPUT_CHUNK_BYTES:
                yield bytes(view[pos : pos + OUTPUT_CHUNK_BYTES])
                pos += OUTPUT_CHUNK_BYTES
                continue
            take = min(OUTPUT_CHUNK_BYTES - len(out), size - pos)
            out += view[pos : pos + take]
            pos += take
            if len(out) >= OUTPUT_CHUNK_BYTES:
                yield bytes(out)
                out.clear()
        view.release()

    def _drain(self) -> Iterator[bytes]:
        if self._out:
            chunk = bytes(self._out)
            self._out.clear()
            yield chunk


def _name_key(folded: str) -> int:
    """64 bits of BLAKE2b of a folded name. Two different names sharing a key would be refused as a
    duplicate (never accepted): with 520 000 members (10^8 source rows) the chance is ~7e-9."""
    return int.from_bytes(hashlib.blake2b(folded.encode("utf-8"), digest_size=8).digest(), "big")


_SORT_SLICE = 1 << 14  # payload paths sorted at once when the manifest is written


class _MemberLog:
    """Every tar member (path, size, SHA-256) in flat arrays: ~110 bytes a member instead of ~480 as
    tuples of str (issue 17: 10^8 source rows are ~520 000 members), kept until the manifest is written."""

    def __init__(self) -> None:
        self._names = bytearray()  # UTF-8 paths back to back
        self._ends = array("Q")  # end offset of each path in _names
        self._sizes = array("Q")
        self._digests = bytearray()  # 32 bytes each
        self._payload = bytearray()  # 1 if the member is listed in manifest-sha256.txt

    def append(self, rel: str, size: int, hexdigest: str, payload: bool) -> None:
        self._names += rel.encode("utf-8")
        self._ends.append(len(self._names))
        self._sizes.append(size)
        self._digests += bytes.fromhex(hexdigest)
        self._payload.append(1 if payload else 0)

    def _name(self, i: int) -> bytes:
        return bytes(self._names[self._ends[i - 1] if i else 0 : self._ends[i]])

    def entries(self) -> Iterator[tuple[str, int, str]]:
        for i in range(len(self._ends)):
            yield self._name(i).decode("utf-8"), self._sizes[i], self._digests[32 * i : 32 * i + 32].hex()

    def last_digest(self) -> str:
        return self._digests[-32:].hex()

    def payload_order(self) -> array[int]:
        """The payload members' indices sorted by path (code point order = UTF-8 byte order). Sorted in slices
        of _SORT_SLICE, then merged: the paths as bytes (~90 bytes each) exist for one slice at a time, not
        for every member at once (~47 MB at 10^8 source rows)."""
        payload = [i for i in range(len(self._ends)) if self._payload[i]]
        slices = [array("Q", sorted(payload[at : at + _SORT_SLICE], key=self._name))
                  for at in range(0, len(payload), _SORT_SLICE)]
        del payload
        if len(slices) == 1:
            return slices[0]
        return array("Q", heapq.merge(*slices, key=self._name))

    def manifest_size(self, order: array[int]) -> int:
        ends = self._ends
        return sum(64 + 2 + ends[i] - (ends[i - 1] if i else 0) + 1 for i in order)

    def manifest_chunks(self, order: array[int]) -> Iterator[bytes]:
        """manifest-sha256.txt: ``<sha256>  <path>`` for every payload member in ``order``, ~1 MB at a time."""
        out = bytearray()
        for i in order:
            out += self._digests[32 * i : 32 * i + 32].hex().encode("ascii")
            out += b"  " + self._name(i) + b"\n"
            if len(out) >= 1 << 20:
                yield bytes(out)
                out.clear()
        if out:
            yield bytes(out)

    def payload_manifest(self) -> bytes:
        """manifest-sha256.txt whole (tests)."""
        return b"".join(self.manifest_chunks(self.payload_order()))
