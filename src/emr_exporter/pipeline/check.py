"""The checks every FHIR resource passes: in the export before it enters the bag, and in ``open`` after.

One implementation, two callers (issue 13: every sealed bundle opens). :class:`ResourceCheck` holds
them: the export (:mod:`emr_exporter.pipeline.export`) runs it on each resource while it streams and
quarantines the row of a resource that fails (except the lines :mod:`emr_exporter.pipeline.fastlines`
writes straight to bytes: that writer takes only values that cannot break the id and line rules, proven
there, and leaves every other row to this check); ``open`` (:mod:`emr_exporter.bundle.fhir_check`) runs it
on each line of the opened bag and rejects the bag. What is checked:

* the resource's ``id``: present and matching FHIR's id pattern;
* its serialised line (:func:`line_problem`, below);
* its structure against the FHIR R4 models (``fhir.resources``), when that is installed and asked for:
  ``open`` asks whenever it can; the export only when told (``ExportRun(validate_structure=True)``,
  the connector check), because the models cost ~60 µs a resource and would halve the export rate
  (docs/performance.md), and the Windows installer does not ship them;
* ids unique per resource type (:class:`IdIndex`: 64-bit digests, ~8 bytes an id);
* every reference to a Patient, Encounter, Practitioner or Organization resolves to a resource in the
  bag (:func:`references`). ``open`` resolves in a second pass (its files are read in name order); the
  export in the same pass, because it writes every referenced type before the types that refer to it
  (entities in dependency order, the Organization first) — a reference to a resource not written yet,
  or never (its row quarantined), is an orphan.

What is checked on each line:

* no control character below U+0020 other than tab, CR and LF (and no DEL) in any string;
* no empty string (FHIR: a string has at least one character);
* no ``code`` or ``contentType`` with leading, trailing or doubled whitespace (FHIR's ``code`` pattern);
* every resource ``id`` matches FHIR's id pattern (checked on the resource, not the line).

A line that fails is not written: its row is quarantined with a reason naming the entity, the masked key
and the JSON path kind that failed, never the value.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from emr_exporter.pipeline.scratch import scratch_file

#: What can be wrong with a line's strings shows as a backslash (an escape), a DEL byte or two quotes in a
#: row (an empty string, or an escaped quote ending a text): only such lines are looked at closely.
#: An empty string value: it starts after ':' ',' or '[' (an escaped quote ending a text is '\\""').
_EMPTY = re.compile(rb'[:,\[]""')
#: Two quotes in a row, found by the regular-expression engine's literal search (~0.5 µs a line where
#: ``b'""' in line`` takes ~1 µs: quotes are frequent, so the two-byte search seldom skips ahead).
_QUOTES = re.compile(rb'""')
#: Escapes taken pairwise from the left (so an escaped backslash is never misread): a forbidden control
#: character is \b, \f or \u0000-\u001f other than \t \n \r (written short by the encoder).
_ESCAPE = re.compile(rb'\\(u00[01][0-9a-fA-F]|[bf])|\\.')
#: A code value that is not plain printable ASCII without spaces: only those are looked at closely. The
#: FHIR ``code`` elements whose value can come from the clinic's data: ``code`` (Coding, Quantity) and
#: ``contentType`` (an attachment's media type, as the EMR recorded it).
_CODE_SUSPECT = re.compile(rb'"(?:code|contentType)":"(?![!#-\[\]-~]*")')
_CODE_VALUE = re.compile(rb'"(?:code|contentType)":"((?:[^"\\]|\\.)*)"')
#: In a line without a backslash (a JSON string then ends at its next quote): the value of every code that
#: holds a byte other than plain printable ASCII (a space, a control byte, UTF-8), in one literal-led
#: scan (``"co`` then the two keys; ~1 µs a line where the suspect search plus a walk over every code
#: value took ~2-6). Plain values always fit FHIR's code pattern (an empty one is found as empty first).
#: ``[!#-~]*+`` is possessive: no byte of ``[!#-~]`` can match ``[^"!-~]``, so giving some back never made
#: a match, and without the back-off a plain code costs a quarter fewer instructions (same matches).
_ODD_CODE_VALUE = re.compile(rb'"co(?:de|ntentType)":"([!#-~]*+[^"!-~][^"]*)"')
#: FHIR's ``code`` and ``id`` patterns (as ``open``'s structure check applies them).
CODE_PATTERN = re.compile(r"[^\s]+(\s[^\s]+)*")  # used with fullmatch ($ would allow a final LF)
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_CONTROL_PROBLEM = "a text holds a control character FHIR does not allow"
_EMPTY_PROBLEM = "a text is empty (FHIR strings hold at least one character)"
_CODE_PROBLEM = "a code has leading, trailing or repeated spaces (FHIR's code pattern)"


def line_problem(line: bytes) -> str | None:
    """The first FHIR rule one canonical JSON line breaks, or None.

    Ordered cheapest first: plain substring searches decide for almost every line; the regular
    expressions only run on lines that hold a suspect byte sequence. Gives exactly what
    :func:`line_problem_reference` gives for every canonical line (test: tests/test_output_check.py, over
    the demo clinic's lines and planted defects).
    """
    if b"\\" in line or b"\x7f" in line:  # rare: escapes to read pairwise, the general path
        return line_problem_reference(line)
    # No escape: a quote always ends a string, no control character can be there (the encoder escapes
    # them), and two quotes in a row are an empty string or an empty key.
    if _QUOTES.search(line) is not None and _EMPTY.search(line) is not None:
        return _EMPTY_PROBLEM
    for raw in _ODD_CODE_VALUE.findall(line):  # usually none; Korean codes (payer types) are the usual ones
        if CODE_PATTERN.fullmatch(raw.decode("utf-8")) is None:
            return _CODE_PROBLEM
    return None


def line_problem_reference(line: bytes) -> str | None:
    """:func:`line_problem` the straightforward way: the reference its fast path is proven against, and
    the path for lines that hold an escape or a DEL byte."""
    # Substring searches (memchr-fast) rather than one regular expression: ~1.6 µs a line, not ~11.
    if b"\\" in line or b"\x7f" in line or b'""' in line:
        if b"\x7f" in line or any(m.group(1) for m in _ESCAPE.finditer(line)):
            return _CONTROL_PROBLEM
        if _EMPTY.search(line):
            return _EMPTY_PROBLEM
    if (b'"code":"' in line or b'"contentType":"' in line) and _CODE_SUSPECT.search(line):
        for match in _CODE_VALUE.finditer(line):
            raw = match.group(1)
            # A JSON string without a backslash is its UTF-8 text as is: no decoder call (most suspect
            # codes are Korean text, checked here on every such line).
            text = json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")
            if not CODE_PATTERN.fullmatch(text):
                return _CODE_PROBLEM
    return None


#: Resource types whose references must resolve inside the bag.
REFERENCE_TARGETS = ("Patient", "Encounter", "Practitioner", "Organization")
ID_MISSING = "id: missing (every resource needs an id)"
ID_INVALID = "id: does not match FHIR's id pattern"

Validator = Callable[[dict[str, Any]], str | None]


_RECORD_ID = re.compile(r"[0-9a-f]{32}")  # model.record_id: 128 bits of SHA-256 in hex
_HEX = b"0123456789abcdef"  # raw_id.strip(_HEX) is empty: all lower-case hex (as _RECORD_ID, ~2x faster)


def id_digest(resource_id: str) -> int:
    """64 bits of an id: what :class:`IdIndex` keeps instead of the string. A record id is already 128 bits
    of SHA-256: its first 64 are taken as they are (a BLAKE2b call costs ~1 µs, and this runs for every
    resource and every reference); any other id is hashed. The same in every process (no ``hash()``)."""
    if len(resource_id) == 32 and _RECORD_ID.fullmatch(resource_id):
        return int(resource_id[:16], 16)
    return int.from_bytes(hashlib.blake2b(resource_id.encode("utf-8"), digest_size=8).digest(), "big")


#: Digests the id indexes of one check hold in memory before they go to disk as sorted runs (8 bytes each:
#: 2^19 are ~4 MB; the 10^5 demo clinic claims ~150 000 ids, the 10^6 one ~1.47 M, 10^7 ~15 M). 2^19, not
#: 2^20: the other half was the largest part of what the export's memory grew by from 10^4 to 10^7 rows, and
#: it costs one more merge level (each spilled digest written once more) and the filter below is as large.
DEFAULT_ID_MEMORY = 1 << 19
#: Tests and benchmarks: another number of digests in memory (e.g. 3, so a tiny clinic spills too).
ID_MEMORY_ENV = "EMR_EXPORTER_ID_MEMORY"
_BLOCK = 512  # digests per block of a run on disk (4 KB, one pread); one 8-byte fence in memory each
_CHUNK = 1 << 16  # digests read or written at once when a run is built or merged (512 KB)
_PIECE = 1 << 12  # digests of each run merged at once as Python ints (IdIndex._merged)
#: An index's in-memory digests are spread over 2^10 sorted arrays by their top bits. Fewer arrays than
#: 2^12: each costs ~100 bytes of its own, and an export has ~20 indexes (4 MB of arrays at 2^12, where the
#: digests themselves are 4 MB); a longer array costs an insert a longer move (~2 KB at 2^19 digests).
_BUCKET_BITS = 10
_BUCKETS = 1 << _BUCKET_BITS
_BUCKET_SHIFT = 64 - _BUCKET_BITS


class IdSpill:
    """Where the id indexes of one :class:`ResourceCheck` put what no longer fits in memory.

    ``memory`` (None: :data:`DEFAULT_ID_MEMORY`, or ``EMR_EXPORTER_ID_MEMORY`` for tests) digests (all
    types together) are held in memory; at that many, every index writes its
    in-memory digests as one sorted *run* to a temporary file in ``work_dir`` (the export's output folder,
    ``open``'s; None: the system's temporary folder) and starts afresh. A run is looked up without mapping
    it (mapped pages count as memory): a fence (its first digest) of every block of 512 digests in memory,
    one ``pread`` of the block and a binary search. Runs of similar size are merged (streaming, LSM-style),
    so there are few: about log2(ids / memory).

    Nothing in a run is derivable from patient data: what is written is not the id's digest but a keyed
    pseudo-random function of it, AES-128 of the digest under a key drawn for this run (``os.urandom``)
    and never stored, truncated to 64 bits. Without the key, a run is random numbers; a record id (or its
    plain digest, computed from a guessed chart number) cannot be tested against it. Truncation makes two
    digests collide with the same odds (2^-64 a pair) as two ids' digests, which the export already
    accepts (:class:`IdIndex`). The files are unnamed where the system allows (POSIX: deleted as soon as
    they are made; Windows: deleted when closed), so even a killed run leaves nothing behind;
    :meth:`close` closes them (the export and ``open`` call it in a ``finally``).
    """

    def __init__(self, memory: int | None = None, work_dir: Path | None = None) -> None:
        if memory is None:  # the default, or the tests' hook
            memory = int(os.environ.get(ID_MEMORY_ENV) or DEFAULT_ID_MEMORY)
        if memory < 1:
            raise ValueError("memory must be at least 1 digest")
        self.memory = memory
        self.work_dir = work_dir
        self.held = 0  # digests in memory, all indexes together
        self.spills = 0  # times the in-memory digests went to disk (tests, benchmarks)
        self.indexes: list[IdIndex] = []
        #: A filter (Bloom, two bits a digest) of every digest written to disk, twice as many bytes as the
        #: digests in memory take (8 MB by default; a power of two, at most 2^32 bits): a digest not marked is in no
        #: run, so a new id is claimed without reading the disk. 8 MB hold 1.5 M spilled ids at ~0.2 %
        #: false "maybe"s, 15 M (10^7 rows) at ~13 %; beyond, more claims read the runs: slower, never wrong.
        bits = min(max(64, 1 << (128 * memory - 1).bit_length()), 1 << 32)
        self.bloom_mask = bits - 1
        self.bloom = bytearray(0)  # made at the first spill: most exports never spill
        self._files: list[Any] = []  # every open run file, closed by close()
        self._encrypt: Callable[[bytes], bytes] | None = None

    def mark(self, digests: Iterable[int]) -> None:
        """Note digests going to disk in the filter (two bits each, from the digest's own random bits: the
        filter stays in memory, so it needs no key)."""
        bloom, mask = self.bloom, self.bloom_mask
        for digest in digests:
            low, high = digest & mask, (digest >> 32) & mask
            bloom[low >> 3] |= 1 << (low & 7)
            bloom[high >> 3] |= 1 << (high & 7)

    def keyed(self, digest: int) -> int:
        """The keyed form of one digest (what the runs hold)."""
        encrypt = self._encrypt
        if encrypt is None:
            encrypt = self._start()
        return int.from_bytes(encrypt(digest.to_bytes(16, "little"))[:8], "little")

    def keyed_all(self, digests: array[int]) -> array[int]:
        """The keyed forms of many digests in one cipher call (~0.05 µs a digest, not ~0.5)."""
        encrypt = self._encrypt
        if encrypt is None:
            encrypt = self._start()
        blocks = array("Q", bytes(16 * len(digests)))
        if sys.byteorder == "little":
            blocks[0::2] = digests  # the low 8 bytes of each 16-byte block, as to_bytes(16, "little") puts them
        else:  # pragma: no cover - no big-endian CI machine
            blocks = array("Q", b"".join(d.to_bytes(16, "little") for d in digests))
        out = array("Q")
        out.frombytes(encrypt(blocks.tobytes()))
        keyed = out[0::2]
        if sys.byteorder != "little":  # pragma: no cover
            keyed.byteswap()
        return keyed

    def _start(self) -> Callable[[bytes], bytes]:
        # A fresh secret per check, in memory only: ECB is right here, each 16-byte block is one digest
        # enciphered on its own (a keyed permutation used as a pseudo-random function, not for secrecy of
        # a message).
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._encrypt = Cipher(algorithms.AES(os.urandom(16)), modes.ECB()).encryptor().update
        return self._encrypt

    def new_file(self) -> Any:
        handle = scratch_file(self.work_dir, ".emr-ids-")  # closed by close()
        self._files.append(handle)
        return handle

    def drop_file(self, handle: Any) -> None:
        self._files.remove(handle)
        handle.close()

    def spill(self) -> None:
        """Make room in memory (held reached ``memory``): every index's in-memory digests to disk, except
        those of the indexes that ``keep`` (the reference targets), while they take at most 3/4 of it.

        References are to Patients, Encounters, Practitioners and the Organization: kept in memory, each is
        answered by a binary search, never by the filter, a cipher call and a ``pread`` (the 10^6 demo
        clinic's ~111 000 fit, at 10^7 ~1.1 M do not all). The other types' ids are only asked for again
        when claimed (a duplicate test the filter answers "new" for almost all of them without a read).
        Beyond 3/4, the kept indexes give up their digests of the top buckets (a random share: digests are
        uniform) until 3/8 remain, so the others always have at least 5/8 of memory before they spill (at
        most ~1.6x as many spills as without the preference; 5/8 kept gave 3x as many, and no faster check,
        on the 10^5 stream replayed with the 10^7 clinic's ratio of targets to memory).
        Exact whatever goes where: a digest is in memory or in a run, and every look-up asks both.
        """
        if not self.bloom:
            self.bloom = bytearray((self.bloom_mask + 1) >> 3)
        self.spills += 1
        for index in self.indexes:
            if not index.keep:
                self.held -= index.spill()
        if self.held > self.memory * 3 // 4:  # what is left is the kept indexes' digests
            first = _BUCKETS * (self.memory * 3 // 8) // self.held  # the buckets kept: 0 .. first-1
            for index in self.indexes:
                if index.keep:
                    self.held -= index.spill(first)
            if self.held > self.memory * 3 // 4:  # unlucky buckets (a tiny memory): all of them
                for index in self.indexes:
                    if index.keep:
                        self.held -= index.spill()

    def close(self) -> None:
        """Close (and so delete) every run file; the indexes forget their runs. Safe to call twice."""
        for index in self.indexes:
            index.runs = []
            index.tombstones = set()
        files, self._files = self._files, []
        for handle in files:
            handle.close()


class _Run:
    """One sorted run of keyed digests in its own temporary file, with a fence per block in memory."""

    __slots__ = ("count", "fences", "fileno", "handle")

    def __init__(self, handle: Any, count: int, fences: array[int]) -> None:
        self.handle = handle
        self.fileno = handle.fileno()
        self.count = count
        self.fences = fences  # the first keyed digest of every block

    def __contains__(self, keyed: int) -> bool:
        block = bisect_right(self.fences, keyed) - 1
        if block < 0:
            return False
        start = block * _BLOCK
        values = array("Q")
        values.frombytes(_pread(self.handle, self.fileno, 8 * min(_BLOCK, self.count - start), 8 * start))
        position = bisect_left(values, keyed)
        return position < len(values) and values[position] == keyed

    def chunks(self) -> Iterator[array[int]]:
        for start in range(0, self.count, _CHUNK):
            values = array("Q")
            values.frombytes(_pread(self.handle, self.fileno, 8 * min(_CHUNK, self.count - start), 8 * start))
            yield values


def _pread(handle: Any, fileno: int, size: int, offset: int) -> bytes:
    if _HAS_PREAD:
        return os.pread(fileno, size, offset)
    handle.seek(offset)  # pragma: no cover - Windows has no pread (one thread reads a run)
    return bytes(handle.read(size))  # pragma: no cover


_HAS_PREAD = hasattr(os, "pread")


def _write_run(spill: IdSpill, values: Iterable[array[int]]) -> _Run | None:
    """A run from sorted chunks of keyed digests (None when they are empty)."""
    handle = spill.new_file()
    fences = array("Q")
    count = 0
    for chunk in values:
        if not chunk:
            continue
        # The fences: every _BLOCK-th digest counted over the whole run.
        first = (-count) % _BLOCK
        fences.extend(chunk[first::_BLOCK])
        chunk.tofile(handle)
        count += len(chunk)
    if not count:
        spill.drop_file(handle)
        return None
    handle.flush()
    return _Run(handle, count, fences)


class IdIndex:
    """64-bit id digests in 1024 sorted arrays by their top 10 bits: about 8 bytes an id, where a set of
    ints costs ~60. Adding and looking up work at any time (the export adds as it writes), each a binary
    search plus a short move inside one array.

    With an :class:`IdSpill` (a :class:`ResourceCheck`'s indexes always have one), memory is bounded:
    what does not fit is in sorted runs on disk (keyed, see there), looked up after the arrays; a
    digest discarded from a run is remembered in :attr:`tombstones` (a failed row's own ids: rare).
    Exact either way: every id written is found, in memory or on disk.

    A digest can stand for two ids: a duplicate it reports is confirmed on the real ids where the caller
    still has them (``open``); the export takes it as a duplicate (1 in 2⁶⁴/n for any one id)."""

    __slots__ = ("_buckets", "keep", "runs", "size", "spill_to", "tombstones")

    def __init__(self, spill: IdSpill | None = None, *, keep: bool = False) -> None:
        self._buckets: list[array[int] | None] = [None] * _BUCKETS
        self.size = 0
        self.spill_to = spill
        #: Kept in memory in preference when the spill makes room (the ids references point to).
        self.keep = keep
        self.runs: list[_Run] = []  # on disk, oldest first
        self.tombstones: set[int] = set()  # keyed digests discarded from a run
        if spill is not None:
            spill.indexes.append(self)

    def add(self, digest: int) -> bool:
        """Add a digest; False (nothing added) when it is there already."""
        bucket = self._buckets[digest >> _BUCKET_SHIFT]
        if bucket is None:
            bucket = self._buckets[digest >> _BUCKET_SHIFT] = array("Q")
        position = bisect_left(bucket, digest)
        if position < len(bucket) and bucket[position] == digest:
            return False
        if self.runs:
            on_disk = self.on_disk(digest)
            if on_disk is not None:  # in a run: a duplicate, or given back before and taken again
                if on_disk not in self.tombstones:
                    return False
                self.tombstones.discard(on_disk)
                self.size += 1
                return True
        bucket.insert(position, digest)
        self.size += 1
        spill = self.spill_to
        if spill is not None:
            spill.held += 1
            if spill.held >= spill.memory:
                spill.spill()
        return True

    def on_disk(self, digest: int) -> int | None:
        """The keyed form of ``digest`` when a run holds it (even discarded), else None."""
        spill = self.spill_to
        assert spill is not None  # runs only exist with a spill
        # The filter first: most digests asked for after a spill are new ids, never written, and it says
        # so for almost all of them without a read (a "maybe" is answered by the runs: exact either way).
        bloom, mask = spill.bloom, spill.bloom_mask
        low, high = digest & mask, (digest >> 32) & mask
        if not (bloom[low >> 3] >> (low & 7) & 1 and bloom[high >> 3] >> (high & 7) & 1):
            return None
        keyed = spill.keyed(digest)
        for run in self.runs:
            if keyed in run:
                return keyed
        return None

    def __contains__(self, digest: int) -> bool:
        bucket = self._buckets[digest >> _BUCKET_SHIFT]
        if bucket is not None:
            position = bisect_left(bucket, digest)
            if position < len(bucket) and bucket[position] == digest:
                return True
        if self.runs:
            on_disk = self.on_disk(digest)
            return on_disk is not None and on_disk not in self.tombstones
        return False

    def discard(self, digest: int) -> None:
        """Take a digest out again (the export: a row whose resources claimed ids and then failed)."""
        bucket = self._buckets[digest >> _BUCKET_SHIFT]
        if bucket is not None:
            position = bisect_left(bucket, digest)
            if position < len(bucket) and bucket[position] == digest:
                del bucket[position]
                self.size -= 1
                if self.spill_to is not None:
                    self.spill_to.held -= 1
                return
        if self.runs:
            on_disk = self.on_disk(digest)
            if on_disk is not None and on_disk not in self.tombstones:
                self.tombstones.add(on_disk)
                self.size -= 1

    def spill(self, first: int = 0) -> int:
        """The in-memory digests of buckets ``first`` to 4095 (all by default) to a new sorted run (keyed);
        runs of similar size merged. How many digests left memory."""
        spill = self.spill_to
        assert spill is not None
        buckets = self._buckets[first:]
        count = sum(len(b) for b in buckets if b)
        if not count:
            return 0
        self._buckets[first:] = [None] * (_BUCKETS - first)  # so each bucket's memory is freed as it is read
        run = _write_run(spill, self._sorted_keyed(buckets, count))
        assert run is not None
        self.runs.append(run)
        # Merged while the one before is at most twice as big: about log2(n / memory) runs, each digest
        # rewritten about as often.
        while len(self.runs) >= 2 and self.runs[-2].count <= 2 * self.runs[-1].count:
            older, newer = self.runs[-2], self.runs[-1]
            merged = _write_run(spill, self._merged(older, newer))
            spill.drop_file(older.handle)
            spill.drop_file(newer.handle)
            self.runs[-2:] = [merged] if merged is not None else []
        return count

    def _sorted_keyed(self, buckets: list[array[int] | None], count: int) -> Iterator[array[int]]:
        """The keyed forms of the digests in ``buckets``, sorted, in chunks; the buckets emptied as they are
        read, so the spill needs little memory beyond the digests themselves (a sorted list of a million
        ints would be ~40 MB)."""
        spill = self.spill_to
        assert spill is not None
        if count <= _CHUNK:  # small: at once (a list of at most 65 536 ints, ~2.5 MB)
            digests = array("Q", b"".join(b.tobytes() for b in buckets if b))
            buckets.clear()
            spill.mark(digests)
            yield array("Q", sorted(spill.keyed_all(digests)))
            return
        # Keyed digests are spread over 4096 arrays by their top 12 bits (their own spread, not the buckets'),
        # each then sorted on its own.
        spread: list[array[int]] = [array("Q") for _ in range(4096)]
        for position, bucket in enumerate(buckets):
            if bucket:
                spill.mark(bucket)
                for keyed in spill.keyed_all(bucket):
                    spread[keyed >> 52].append(keyed)
                buckets[position] = None  # its memory reused by the spread arrays
        for position in range(4096):
            part = spread[position]
            spread[position] = array("Q")
            if part:
                yield array("Q", sorted(part))

    def _merged(self, older: _Run, newer: _Run) -> Iterator[array[int]]:
        """The two runs' digests in order, in chunks, without the discarded ones (each is in one run only).

        Piece by piece (at most _PIECE digests of each): what is at most the smaller of the two pieces' last
        digests is merged at once by ``list.sort`` (two sorted runs: one linear merge in C, several times
        cheaper than ``heapq.merge`` a digest; lists of at most 2 x 4096 ints, ~0.3 MB)."""
        tombstones = self.tombstones
        chunks_a, chunks_b = older.chunks(), newer.chunks()
        a, b = next(chunks_a, None), next(chunks_b, None)
        at_a = at_b = 0
        out = array("Q")
        while a is not None and b is not None:
            x, y = a[at_a:at_a + _PIECE], b[at_b:at_b + _PIECE]
            if x[-1] <= y[-1]:  # all of x, and y up to x's last digest
                cut = bisect_right(y, x[-1])
                merged = x.tolist()
                merged += y[:cut].tolist()
                at_a += len(x)
                at_b += cut
            else:
                cut = bisect_right(x, y[-1])
                merged = y.tolist()
                merged += x[:cut].tolist()
                at_b += len(y)
                at_a += cut
            merged.sort()
            out.extend(self._alive(merged, tombstones))
            if len(out) >= _CHUNK:
                yield out
                out = array("Q")
            if at_a == len(a):
                a, at_a = next(chunks_a, None), 0
            if at_b == len(b):
                b, at_b = next(chunks_b, None), 0
        if out:
            yield out
        for rest, at, chunks in ((a, at_a, chunks_a), (b, at_b, chunks_b)):
            while rest is not None:
                rest = rest[at:]
                yield self._alive(rest.tolist(), tombstones) if tombstones else rest
                rest, at = next(chunks, None), 0

    @staticmethod
    def _alive(values: list[int], tombstones: set[int]) -> array[int]:
        """``values`` without the discarded ones, which leave ``tombstones`` (they are no longer on disk)."""
        if tombstones:
            alive = [v for v in values if v not in tombstones]
            if len(alive) != len(values):
                tombstones.difference_update(values)
                values = alive
        return array("Q", values)


def references(value: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, target type, target id) of every relative reference to a REFERENCE_TARGETS type."""
    if isinstance(value, dict):
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if key == "reference" and isinstance(item, str):
                target_type, slash, target_id = item.partition("/")
                if slash and target_type in REFERENCE_TARGETS and target_id and "/" not in target_id:
                    yield item_path, target_type, target_id
            elif isinstance(item, dict | list):
                yield from references(item, item_path)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from references(item, f"{path}.{position}")


#: Every reference in a canonical JSON line, as the line spells it. In canonical JSON ``"reference":"``
#: is always a key (inside a text its quotes would be escaped). One literal-led pattern (an alternation of
#: the target types after it would cost ~6 µs a line instead of ~1).
_LINE_REFERENCE = re.compile(rb'"reference":"([^"\\]*(?:\\.[^"\\]*)*)"')
_TARGETS = frozenset(t.encode("ascii") for t in REFERENCE_TARGETS)


def _decoded(raw: bytes) -> str:
    return json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")


def _target(raw: bytes) -> tuple[str, str] | None:
    """(type, id) of a reference as :func:`references` takes it (a REFERENCE_TARGETS type, a non-empty id
    without '/'), or None."""
    target_type, slash, raw_id = raw.partition(b"/")
    if not slash or target_type not in _TARGETS:
        return None
    target_id = _decoded(raw_id)
    if not target_id or "/" in target_id:
        return None
    return target_type.decode("ascii"), target_id


def line_references(line: bytes) -> Iterator[tuple[str, str]]:
    """(target type, target id) of every reference :func:`references` finds, read off the canonical line
    (one regular-expression scan: walking the parsed resource costs ~20 µs a resource)."""
    if b'"reference":"' not in line:
        return
    for raw in _LINE_REFERENCE.findall(line):
        target = _target(raw)
        if target is not None:
            yield target


#: Found references remembered as found (as the line spells them) before a new search: a clinic's
#: patients, doctors and the clinic itself are referred to over and over. Bounded: cleared when full.
#: 16 384 references are ~2 MB (65 536 were ~8.5 MB at 10^6 rows, where a full set was cleared anyway);
#: the 10^5 demo clinic's ~11 000 patients and visits all fit, and a miss costs one look-up (~1 µs).
_VERIFIED_MAX = 1 << 14


class ResourceCheck:
    """The per-resource checks and the id bookkeeping both the export and ``open`` run (module docstring).

    ``validator``: :func:`emr_exporter.pipeline.fhir.structure_validator`'s function, or None to leave the
    FHIR structure unchecked.
    """

    def __init__(
        self, validator: Validator | None = None, *, id_memory: int | None = None, work_dir: Path | None = None,
    ) -> None:
        self.validator = validator
        self.ids: dict[str, IdIndex] = {}  # resource type -> the ids written (export) or read (open)
        #: Bounds the ids' memory: beyond ``id_memory`` digests, sorted keyed runs in ``work_dir``.
        self.id_spill = IdSpill(id_memory, work_dir)
        self.references_checked = 0
        self._verified: set[bytes] = set()  # references found before, as the line spells them
        #: The reference targets' indexes by their type as a line spells it (the look-up of a reference).
        self._targets: dict[bytes, IdIndex] = {}
        #: References to resources written later in the same section (:meth:`expect`), as a line spells them.
        self._expected: set[bytes] = set()

    def problem(self, resource: Mapping[str, Any], line: bytes) -> str | None:
        """The first rule ``resource`` (serialised canonically as ``line``) breaks, or None: its id, its
        strings and codes, its structure. Never names a value."""
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            return ID_MISSING
        if not ID_PATTERN.fullmatch(resource_id):
            return ID_INVALID
        problem = line_problem(line)
        if problem is None and self.validator is not None:
            problem = self.validator(dict(resource))
        return problem

    def index(self, resource_type: str) -> IdIndex:
        found = self.ids.get(resource_type)
        if found is None:
            target = resource_type in REFERENCE_TARGETS
            found = self.ids[resource_type] = IdIndex(self.id_spill, keep=target)
            if target:
                self._targets[resource_type.encode("ascii")] = found
        return found

    def close(self) -> None:
        """Delete the ids' temporary runs (if any went to disk). The export and ``open`` call it when they
        end, however they end."""
        self.id_spill.close()

    def __enter__(self) -> ResourceCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def known(self, resource_type: str, resource_id: str) -> bool:
        found = self.ids.get(resource_type)
        return found is not None and id_digest(resource_id) in found

    def claim(self, resource_type: str, resource_id: str) -> int | None:
        """Record the id of a resource about to be written; its digest, or None when the id is taken."""
        # id_digest, inlined: this runs for every resource the export writes.
        if len(resource_id) == 32 and _RECORD_ID.fullmatch(resource_id):
            digest = int(resource_id[:16], 16)
        else:
            digest = id_digest(resource_id)
        found = self.ids.get(resource_type)
        if found is None:
            found = self.index(resource_type)
        # IdIndex.add, inlined (one call less for every resource the export writes).
        buckets = found._buckets
        bucket = buckets[digest >> _BUCKET_SHIFT]
        if bucket is None:
            bucket = buckets[digest >> _BUCKET_SHIFT] = array("Q")
        position = bisect_left(bucket, digest)
        if position < len(bucket) and bucket[position] == digest:
            return None
        if found.runs:  # some went to disk: the filter first (inline), the runs only on its "maybe"
            spill = self.id_spill
            bloom, mask = spill.bloom, spill.bloom_mask
            low, high = digest & mask, (digest >> 32) & mask
            if bloom[low >> 3] >> (low & 7) & 1 and bloom[high >> 3] >> (high & 7) & 1:
                if not found.add(digest):
                    return None
            else:  # in no run: as without runs
                bucket.insert(position, digest)
                found.size += 1
                spill.held += 1
                if spill.held >= spill.memory:
                    spill.spill()
        else:
            bucket.insert(position, digest)
            found.size += 1
            spill = self.id_spill
            spill.held += 1
            if spill.held >= spill.memory:
                spill.spill()
        if resource_type in REFERENCE_TARGETS:  # children usually follow soon: remember it as found
            verified = self._verified
            if len(verified) >= _VERIFIED_MAX:
                verified.clear()
            verified.add(f"{resource_type}/{resource_id}".encode())
        return digest

    def release(self, claimed: Iterable[tuple[str, int]]) -> None:
        """Give back the ids a row claimed before it failed (it writes nothing)."""
        for resource_type, digest in claimed:
            self.ids[resource_type].discard(digest)
        self._verified.clear()  # a remembered reference may have been to one of them

    def expect(self, resource_type: str, ids: Iterable[str]) -> None:
        """Let references to these ids pass :meth:`dangling` as if written: the resources are written later in the
        same section (merged charts' Patients link to each other both ways, so one of two is always first). The
        caller checks they were written, after; ``expect(t, ())`` ends it."""
        self._expected = {f"{resource_type}/{resource_id}".encode() for resource_id in ids}

    def dangling(
        self, resource: Mapping[str, Any] | None, line: bytes, paths: Iterable[tuple[str, str, str]] | None = None
    ) -> tuple[str, str] | None:
        """(path, target type) of the first reference of ``resource`` (serialised as ``line``) whose target
        is not in the bag (written or read so far), or None. Counts them in :attr:`references_checked`.

        ``resource`` is only read for the path of a dangling reference: ``paths`` (its references in its
        own order) may stand in for it, or, both None, the parsed line (the export's worker processes)."""
        found_all = _LINE_REFERENCE.findall(line)  # one literal-led scan (no substring test before it)
        if not found_all:
            return None
        verified = self._verified
        self.references_checked += len(found_all)
        for found in found_all:
            if found in verified:
                continue
            # A record id (the export's every id): its digest read off the line's bytes, looked up in its
            # type's index in place (what _target, known and id_digest give, without their calls).
            target_type_raw, _, raw_id = found.partition(b"/")
            index = self._targets.get(target_type_raw)
            if index is not None and len(raw_id) == 32 and not raw_id.strip(_HEX):
                digest = int(raw_id[:16], 16)
                bucket = index._buckets[digest >> _BUCKET_SHIFT]
                if bucket is not None:
                    position = bisect_left(bucket, digest)
                    if position < len(bucket) and bucket[position] == digest:
                        if len(verified) >= _VERIFIED_MAX:
                            verified.clear()
                        verified.add(found)
                        continue
                if not index.runs:  # not in memory, nothing on disk: not in the bag
                    if found in self._expected:
                        continue
                    walk = paths if paths is not None else references(
                        resource if resource is not None else json.loads(line))
                    target_id = raw_id.decode("ascii")
                    target_type = target_type_raw.decode("ascii")
                    path = next((p for p, t, i in walk if (t, i) == (target_type, target_id)), "?")
                    return path, target_type
            target = _target(found)
            if target is None:  # not a reference that must resolve here (references() leaves it out)
                self.references_checked -= 1
                continue
            target_type, target_id = target
            if not self.known(target_type, target_id) and found not in self._expected:
                # Rare: the path is found on the parsed resource, for the message.
                walk = paths if paths is not None else references(
                    resource if resource is not None else json.loads(line))
                path = next((p for p, t, i in walk if (t, i) == (target_type, target_id)), "?")
                return path, target_type
            if len(verified) >= _VERIFIED_MAX:
                verified.clear()
            verified.add(found)
        return None


__all__ = [
    "CODE_PATTERN", "DEFAULT_ID_MEMORY", "ID_MEMORY_ENV", "ID_PATTERN", "REFERENCE_TARGETS", "IdIndex", "IdSpill",
    "ResourceCheck", "id_digest", "line_problem",
    "line_references", "references",
]
