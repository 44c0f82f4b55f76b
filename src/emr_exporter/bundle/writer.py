"""Seal a deterministic bag tar stream into one `.emrx` file: signed, encrypted in parts, resumable.

The file is written as ``<name>.emrx.partial`` beside a journal (see :mod:`.journal`); each finished
part is fsynced and journaled; at the end the trailer is appended and the file renamed to ``<name>.emrx``.
A kill at any point followed by the same call resumes the same bundle: journaled parts are only
re-hashed (their plaintext must be identical, or the export must start over), everything after them is
encrypted again with fresh Cobblestone instances (fresh random salt: no nonce is ever reused).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from emr_exporter.bundle import format as fmt
from emr_exporter.bundle.cms import sign_detached
from emr_exporter.bundle.frames import FRAME_SIZE, FrameDecoder, FrameEncoder, FrameError
from emr_exporter.bundle.journal import Journal, JournalPart, JournalState, fsync_dir
from emr_exporter.bundle.keys import Recipient, Signer, check_signing_certificate, describe_certificate
from emr_exporter.bundle.keywrap import unwrap_key, wrap_key
from emr_exporter.errors import BundleError, ExportCancelled
from emr_exporter.model import KST

# The Cobblestone API is imported lazily by the functions using it: see _encryptor().


@dataclass(frozen=True)
class SealedBundle:
    path: Path
    bundle_id: str
    size: int
    parts: int
    plaintext_size: int
    #: SHA-256 of the whole tar stream (the bag's digest, shown in the transfer report); None when the
    #: caller asked ``write(digest_plaintext=False)``.
    plaintext_sha256: str | None
    #: SHA-256 of the .emrx file itself, taken while sealing (what the upload announces to the store, so
    #: the uploader need not read the file once more); None after a crash between sealing and renaming.
    file_sha256: str | None = None


def bundle_file_name(institution_code: str, created: dt.datetime, bundle_id: str) -> str:
    """``<code>-<YYYYMMDD>-<id8>.emrx``; the date is the day in Korea (an export at 08:00 KST is on that day, not
    on the day before in UTC)."""
    safe_code = "".join(c for c in institution_code if c.isalnum() or c in "-_") or "institution"
    day = created.astimezone(KST) if created.tzinfo is not None else created
    return f"{safe_code}-{day:%Y%m%d}-{bundle_id[:8]}.emrx"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class BundleWriter:
    """Use :meth:`open`, then optionally :meth:`sign_tagmanifest` (from the bag stream), then :meth:`write`."""

    def __init__(
        self, out_dir: Path, signer: Signer, recipient: Recipient, journal: Journal, data_key: bytes, *,
        resumed: bool,
    ) -> None:
        self.out_dir = out_dir
        self.signer = signer
        self._journal = journal
        self._data_key = data_key
        self.resumed = resumed
        state = journal.state
        self.bundle_id: str = state.bundle_id
        self.created: dt.datetime = dt.datetime.strptime(state.created, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        )
        self.part_size: int = state.part_size
        self.format: str = state.format
        self._compressed = state.format == fmt.FORMAT_V2
        self._frames = FrameEncoder()
        self.path: Path = out_dir / state.file_name
        self.spool_path: Path = out_dir / (state.file_name + ".partial")
        #: Labels for bag-info.txt: the signed content names its addressee (against surreptitious
        #: forwarding) and its bundle.
        self.bag_info: dict[str, str] = {
            "Recipient": recipient.name,
            "Recipient-Key-Id": recipient.key_id,
            "Bundle-Id": self.bundle_id,
        }

    # ------------------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        out_dir: Path,
        *,
        signer: Signer,
        recipient: Recipient,
        institution_code: str,
        export_key: str,
        part_size: int = 64 * 2**20,
        header_info: dict[str, Any] | None = None,
        restart: bool = False,
        compress: bool = True,
    ) -> BundleWriter:
        """Start a bundle in ``out_dir``, or resume the unfinished one of the same ``export_key``.

        ``header_info`` (optional, JSON) is signed into the header under ``"info"``; it is visible to
        anyone holding the file, so it must never contain patient data. ``restart=True`` discards an
        unfinished bundle of this export and starts a new one. ``compress=False`` writes the older
        emrx/v1 (no compression frames); a resumed bundle keeps the format it was started with.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        fmt.check_part_size(part_size)
        check_signing_certificate(signer.certificate, signer.private_key)
        journal = Journal.load(out_dir, export_key)
        if journal is not None and restart:
            cls.discard(out_dir, export_key)
            journal = None
        if journal is not None:
            return cls._resume(out_dir, journal, signer=signer, recipient=recipient, part_size=part_size)
        return cls._start(
            out_dir, signer=signer, recipient=recipient, institution_code=institution_code,
            export_key=export_key, part_size=part_size, header_info=header_info,
            bundle_format=fmt.FORMAT_V2 if compress else fmt.FORMAT_V1,
        )

    @classmethod
    def discard(cls, out_dir: Path, export_key: str) -> None:
        """Delete the unfinished bundle (spool file and journal) of ``export_key``, if any."""
        journal = Journal.load(Path(out_dir), export_key)
        if journal is None:
            return
        (Path(out_dir) / (journal.state.file_name + ".partial")).unlink(missing_ok=True)
        journal.remove()

    @classmethod
    def _start(
        cls,
        out_dir: Path,
        *,
        signer: Signer,
        recipient: Recipient,
        institution_code: str,
        export_key: str,
        part_size: int,
        header_info: dict[str, Any] | None,
        bundle_format: str,
    ) -> BundleWriter:
        from cryptography.cobblestone import Cobblestone256Encryptor

        bundle_id = str(uuid.uuid4())
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        data_key = Cobblestone256Encryptor.generate_key()
        info = fmt.hpke_info(bundle_id)
        store_alg, store_wrapped = wrap_key(recipient.public_key, data_key, info=info)
        self_alg, self_wrapped = wrap_key(signer.certificate.public_key(), data_key, info=info)  # type: ignore[arg-type]
        payload: dict[str, Any] = {
            "enc": fmt.PAYLOAD_ENC,
            "part_size": part_size,
            "context": f"{bundle_format} NUL || bundle_id (16 bytes) || uint64be(part index)",
            "content_type": "application/x-tar; bagit",
        }
        if bundle_format == fmt.FORMAT_V2:
            payload["compression"] = fmt.PAYLOAD_COMPRESSION
            payload["frame_size"] = FRAME_SIZE
        header: dict[str, Any] = {
            "format": bundle_format,
            "bundle_id": bundle_id,
            "created": _iso(created),
            "institution": {
                "code": institution_code,
                "certificate_subject": describe_certificate(signer.certificate),
                "certificate_sha256": signer.cert_sha256,
            },
            "recipient": {"key_id": recipient.key_id, "name": recipient.name},
            "key_wrap": {"alg": store_alg, "wrapped_key": _b64(store_wrapped)},
            "payload": payload,
        }
        if header_info:
            header["info"] = header_info
        header_bytes = fmt.canonical_json(header)
        header_signature = sign_detached(signer, header_bytes)
        file_name = bundle_file_name(institution_code, created, bundle_id)
        header_end = len(fmt.MAGIC) + 2 * fmt.RECORD_HEADER.size + len(header_bytes) + len(header_signature)
        state = JournalState(
            export_key=export_key,
            bundle_id=bundle_id,
            created=_iso(created),
            institution_code=institution_code,
            file_name=file_name,
            part_size=part_size,
            signer_cert_sha256=signer.cert_sha256,
            recipient_key_id=recipient.key_id,
            self_wrap_alg=self_alg,
            self_wrapped_key=_b64(self_wrapped),
            header_b64=_b64(header_bytes),
            header_signature_b64=_b64(header_signature),
            header_end_offset=header_end,
            format=bundle_format,
        )
        journal = Journal.create(out_dir, state)  # journal first: the spool can always be rebuilt from it
        return cls(out_dir, signer, recipient, journal, data_key, resumed=False)

    @classmethod
    def _resume(
        cls, out_dir: Path, journal: Journal, *, signer: Signer, recipient: Recipient, part_size: int
    ) -> BundleWriter:
        state = journal.state
        files = f"'{state.file_name}.partial' and the hidden '{journal.state_path.name}'"
        start_over = (
            f"To start over, delete {files} in '{out_dir}' and run the export again."
        )
        if state.signer_cert_sha256 != signer.cert_sha256:
            raise BundleError(
                "An unfinished bundle of this export was started with a different institution certificate, "
                f"so it cannot be continued. Use the same certificate, or start over. {start_over}"
            )
        if state.recipient_key_id != recipient.key_id:
            raise BundleError(
                "An unfinished bundle of this export was encrypted for a different store certificate. "
                f"{start_over}"
            )
        if state.part_size != part_size:
            raise BundleError(
                f"An unfinished bundle of this export uses parts of {state.part_size} bytes, not {part_size}. "
                f"Run it with the same settings, or start over. {start_over}"
            )
        data_key = unwrap_key(
            signer.private_key,
            state.self_wrap_alg,
            base64.b64decode(state.self_wrapped_key),
            info=fmt.hpke_info(state.bundle_id),
        )
        if data_key is None:
            raise BundleError(
                f"The unfinished bundle's key cannot be recovered with this certificate. {start_over}"
            )
        return cls(out_dir, signer, recipient, journal, data_key, resumed=True)

    # ------------------------------------------------------------------------------ inner signature

    def sign_tagmanifest(self, data: bytes) -> bytes:
        """Detached CMS signature over the bag's tag manifest; the same bytes again on a resume."""
        digest = hashlib.sha256(data).hexdigest()
        cached = self._journal.state.inner_signatures.get(digest)
        if cached is not None:
            return base64.b64decode(cached)
        signature = sign_detached(self.signer, data)
        self._journal.state.inner_signatures[digest] = _b64(signature)
        self._journal.save_state()  # before the signature enters the stream, so a resume replays it
        return signature

    # ------------------------------------------------------------------------------------- writing

    def write(
        self,
        stream: Iterable[bytes],
        progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
        *,
        summary: dict[str, Any] | None = None,
        digest_plaintext: bool = True,
    ) -> SealedBundle:
        """Encrypt ``stream`` into the bundle file and seal it.

        ``progress`` is called with the total plaintext bytes handled so far, after each part is on disk
        and journaled. ``summary`` (optional, JSON, no patient data: e.g. resource counts) is signed into
        the trailer and shown by ``verify``. The format itself needs one SHA-256 pass, over the
        ciphertext; ``digest_plaintext`` adds the bag's own SHA-256 (``SealedBundle.plaintext_sha256``)
        in a second thread, so it costs nothing extra with two free cores and a full SHA-256 pass on one.
        The stream's chunks must not be modified after they are yielded (``bytes`` never are).
        """
        state = self._journal.state
        if state.state == "sealed":
            return self._finish_sealed()
        spool = self._open_spool()
        digest = _PlaintextDigest() if digest_plaintext else None
        sink = _SpoolSink(spool, self._journal)
        try:
            pieces = _Pieces(stream, cancel, digest)
            position = 0
            index = 0
            while True:
                if index < len(self._journal.parts):
                    plaintext_size = self._replay_part(pieces, self._journal.parts[index])
                else:
                    pieces.check_cancel()  # between parts: stop promptly, the finished ones are journaled
                    plaintext_size = self._encrypt_part(sink, pieces, index)
                position += plaintext_size
                if progress is not None:
                    progress(position)
                index += 1
                if plaintext_size < self.part_size:
                    break  # the final part is the first short one
            if pieces.has_more():
                self._source_changed("the data is now longer than when the export was interrupted")
            sink.close()
            return self._seal(
                spool, position, summary, digest.hexdigest() if digest is not None else None, sink.file_hash
            )
        finally:
            sink.close(raise_error=False)
            if digest is not None:
                digest.close()
            spool.close()

    def _open_spool(self) -> Any:
        """Open the spool file positioned after the last journaled part (rebuilding it if needed)."""
        state = self._journal.state
        size = self.spool_path.stat().st_size if self.spool_path.exists() else 0
        header_ok = size >= state.header_end_offset
        if header_ok:
            with open(self.spool_path, "rb") as fh:
                header_ok = fh.read(len(fmt.MAGIC)) == fmt.MAGIC
        if not header_ok:
            with open(self.spool_path, "wb") as fh:
                fh.write(fmt.MAGIC)
                fmt.write_record(fh, fmt.HEAD, base64.b64decode(state.header_b64))
                fmt.write_record(fh, fmt.HSIG, base64.b64decode(state.header_signature_b64))
                fh.flush()
                os.fsync(fh.fileno())
            fsync_dir(self.out_dir)
            size = state.header_end_offset
        kept = [p for p in self._journal.parts if p.end_offset <= size]
        if len(kept) != len(self._journal.parts) or self.resumed:
            self._journal.truncate_parts(len(kept))  # also drops a torn line in the log
        end = kept[-1].end_offset if kept else state.header_end_offset
        spool = open(self.spool_path, "r+b")  # noqa: SIM115 - closed by write()
        spool.truncate(end)  # a half-written part is thrown away and encrypted again, with a fresh salt
        spool.seek(end)
        return spool

    def _replay_part(self, pieces: _Pieces, entry: JournalPart) -> int:
        """Check a journaled part against the regenerated stream: decrypt it from the spool and compare.

        Only a resume pays for this (one read, decryption and SHA-256 of the finished parts); a normal
        write never hashes the plaintext. Byte-for-byte comparison is exact, and decryption also proves
        the spool still holds the very part the journal describes. A v2 part is decoded from its
        compression frames first: what is compared is always the tar bytes.
        """
        from cryptography.cobblestone import Cobblestone256Decryptor

        decryptor = Cobblestone256Decryptor(
            self._data_key, fmt.part_context(self.bundle_id, entry.index, self.format)
        )
        frames = FrameDecoder() if self._compressed else None
        ciphertext_hash = hashlib.sha256()
        size = 0

        def compare(plaintext: bytes) -> int:
            if frames is None:
                return self._compare(pieces, entry, plaintext)
            return sum(self._compare(pieces, entry, raw) for raw in frames.feed(plaintext))

        with open(self.spool_path, "rb") as fh:
            fh.seek(entry.end_offset - entry.ciphertext_size)
            remaining = entry.ciphertext_size
            try:
                while remaining:
                    ciphertext = fh.read(min(_HANDOFF_PLAINTEXT, remaining))
                    if not ciphertext:
                        break
                    remaining -= len(ciphertext)
                    ciphertext_hash.update(ciphertext)
                    size += compare(decryptor.update(ciphertext))
                size += compare(decryptor.finalize())
                if frames is not None:
                    frames.finish()
            except (InvalidTag, FrameError):
                remaining = -1
        if remaining or ciphertext_hash.hexdigest() != entry.ciphertext_sha256:
            raise BundleError(
                f"The unfinished bundle '{self.spool_path.name}' was damaged (part {entry.index} no longer reads "
                f"back as written), so it cannot be continued. Start the export over: delete "
                f"'{self.spool_path.name}' and the hidden '{self._journal.state_path.name}' in "
                f"'{self.out_dir}' and run the export again."
            )
        if size != entry.plaintext_size:
            self._source_changed(f"part {entry.index} no longer has the same content")
        return size

    def _compare(self, pieces: _Pieces, entry: JournalPart, plaintext: bytes) -> int:
        """Consume ``len(plaintext)`` bytes of the stream; they must be exactly ``plaintext``."""
        view = memoryview(plaintext)
        while view:
            piece = pieces.take(len(view))
            if piece is None or piece != view[: len(piece)]:
                self._source_changed(f"part {entry.index} no longer has the same content")
            view = view[len(piece) :]  # type: ignore[arg-type]
        return len(plaintext)

    def _raw_source(self, pieces: _Pieces, tar_bytes: list[int]) -> Iterator[memoryview]:
        """emrx/v1: the part's plaintext is its tar slice as it comes."""
        while tar_bytes[0] < self.part_size:
            piece = pieces.take(min(self.part_size - tar_bytes[0], _HANDOFF_PLAINTEXT))
            if piece is None:
                return
            tar_bytes[0] += len(piece)
            yield piece

    def _framed_source(self, pieces: _Pieces, tar_bytes: list[int]) -> Iterator[bytes]:
        """emrx/v2: the part's tar slice cut into frames of ≤ FRAME_SIZE, each compressed or stored."""
        while tar_bytes[0] < self.part_size:
            want = min(FRAME_SIZE, self.part_size - tar_bytes[0])
            piece = pieces.take(want)
            if piece is None:
                return
            if len(piece) < want:  # gather a whole frame (one copy; a full piece is compressed in place)
                frame = bytearray(piece)
                while len(frame) < want and (more := pieces.take(want - len(frame))) is not None:
                    frame += more
                piece = memoryview(frame)
            tar_bytes[0] += len(piece)
            yield self._frames.encode(piece)

    def _encrypt_part(self, sink: _SpoolSink, pieces: _Pieces, index: int) -> int:
        """Encrypt and hash one part; the sink thread writes it. Returns once the part is journaled."""
        from cryptography.cobblestone import Cobblestone256Encryptor

        encryptor = Cobblestone256Encryptor(self._data_key, fmt.part_context(self.bundle_id, index, self.format))
        ciphertext_hash = hashlib.sha256()
        sink.start_part(index)
        tar_bytes = [0]
        source = self._framed_source(pieces, tar_bytes) if self._compressed else self._raw_source(pieces, tar_bytes)
        buffer, fed, filled = sink.free_buffer(), 0, 0
        for chunk in source:
            view = memoryview(chunk)
            while view:
                n = min(len(view), _HANDOFF_PLAINTEXT - fed)
                filled += encryptor.update_into(view[:n], memoryview(buffer)[filled:])
                fed += n
                view = view[n:]
                if fed == _HANDOFF_PLAINTEXT:
                    ciphertext_hash.update(memoryview(buffer)[:filled])  # releases the GIL: the sink writes meanwhile
                    sink.write(buffer, filled)
                    buffer, fed, filled = sink.free_buffer(), 0, 0
        ciphertext_hash.update(memoryview(buffer)[:filled])
        sink.write(buffer, filled)
        final = encryptor.finalize()
        ciphertext_hash.update(final)
        sink.write_bytes(final)
        sink.end_part(tar_bytes[0], ciphertext_hash.hexdigest())
        return tar_bytes[0]

    def _source_changed(self, detail: str) -> None:
        raise BundleError(
            f"The records changed since this export was interrupted ({detail}), so the unfinished bundle "
            f"'{self.path.name}' cannot be continued. Start the export over: delete "
            f"'{self.spool_path.name}' and the hidden '{self._journal.state_path.name}' in '{self.out_dir}' "
            "and run the export again."
        )

    def _seal(
        self, spool: Any, plaintext_size: int, summary: dict[str, Any] | None, plaintext_sha256: str | None,
        file_hash: _FileHash,
    ) -> SealedBundle:
        state = self._journal.state
        header_bytes = base64.b64decode(state.header_b64)
        trailer: dict[str, Any] = {
            "format": self.format,
            "bundle_id": self.bundle_id,
            "header_sha256": hashlib.sha256(header_bytes).hexdigest(),
            "n_parts": len(self._journal.parts),
            "plaintext_size": plaintext_size,
            "parts": [self._trailer_part(p) for p in self._journal.parts],
        }
        if summary:
            trailer["summary"] = summary
        trailer_bytes = fmt.canonical_json(trailer)
        fmt.write_record(spool, fmt.TRLR, trailer_bytes)
        fmt.write_record(spool, fmt.TSIG, sign_detached(self.signer, trailer_bytes))
        spool.flush()
        os.fsync(spool.fileno())
        file_hash.update_to(spool.tell())  # the trailer records: the file hash is complete
        spool.close()
        state.state = "sealed"
        state.plaintext_sha256 = plaintext_sha256 or ""
        state.plaintext_size = plaintext_size
        state.file_sha256 = file_hash.hexdigest()
        self._journal.save_state()
        return self._finish_sealed()

    def _trailer_part(self, part: JournalPart) -> dict[str, Any]:
        entry: dict[str, Any] = {"index": part.index, "size": part.ciphertext_size, "sha256": part.ciphertext_sha256}
        if self._compressed:
            entry["tar_size"] = part.plaintext_size  # v2: the ciphertext size no longer tells it
        return entry

    def _finish_sealed(self) -> SealedBundle:
        """Rename the sealed spool to its final name and drop the journal (idempotent)."""
        state = self._journal.state
        if self.spool_path.exists():
            os.replace(self.spool_path, self.path)
            fsync_dir(self.out_dir)
        if not self.path.exists():
            raise BundleError(
                f"The finished bundle '{self.path}' is missing (moved or deleted). Run the export again "
                "after deleting the hidden journal files in that folder."
            )
        result = SealedBundle(
            path=self.path,
            bundle_id=self.bundle_id,
            size=self.path.stat().st_size,
            parts=len(self._journal.parts),
            plaintext_sha256=state.plaintext_sha256 or None,
            plaintext_size=state.plaintext_size,
            file_sha256=state.file_sha256 or None,
        )
        self._journal.remove()
        return result


class _Pieces:
    """Cut an iterable of byte strings into pieces of at most n bytes without copying."""

    def __init__(
        self, stream: Iterable[bytes], cancel: threading.Event | None, digest: _PlaintextDigest | None = None
    ) -> None:
        self._iterator: Iterator[bytes] = iter(stream)
        self._pending = memoryview(b"")
        self._cancel = cancel
        self._exhausted = False
        self._digest = digest

    def check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise ExportCancelled(
                "The export was cancelled. Nothing was lost: run the same export again to continue."
            )

    def _fill(self) -> bool:
        while not self._pending:
            self.check_cancel()
            if self._exhausted:
                return False
            try:
                chunk = next(self._iterator)
            except StopIteration:
                self._exhausted = True
                return False
            self._pending = memoryview(chunk).cast("B")
            if self._digest is not None and len(self._pending):
                self._digest.update(self._pending)
        return True

    def take(self, n: int) -> memoryview | None:
        if not self._fill():
            return None
        piece, self._pending = self._pending[:n], self._pending[n:]
        return piece

    def has_more(self) -> bool:
        return self._fill()



# Plaintext handed to the encryptor per buffer: large enough that the thread hand-off costs nothing,
# small enough that the buffers (see _SpoolSink) keep memory flat.
_HANDOFF_PLAINTEXT = 1 << 20
# Room for the ciphertext of one hand-off: salt + commitment, one carried-over chunk and every tag.
_BUFFER_SIZE = (
    fmt.MESSAGE_OVERHEAD + _HANDOFF_PLAINTEXT + fmt.CHUNK + (_HANDOFF_PLAINTEXT // fmt.CHUNK + 2) * fmt.CHUNK_OVERHEAD
)
_BUFFERS = 4  # in flight between the encrypting thread and the sink: at most 4 MiB


class _SpoolSink:
    """A worker thread that owns the spool file while parts are written.

    The calling thread encrypts (Cobblestone holds the GIL) into preallocated buffers and hashes them;
    this thread writes them (hashlib and file writes release the GIL, so on two cores the kernel's copy
    into the page cache, as costly as half a SHA-256 pass, runs beside the hashing), then closes each
    part: patches its record length, fsyncs once, and journals it. ``end_part`` waits for that, so a
    part counts as finished only once it is on disk and journaled. After an error the thread keeps
    returning buffers, so the caller never blocks; the error is raised in the caller at its next call.
    """

    def __init__(self, spool: Any, journal: Journal) -> None:
        self._spool = spool
        self._journal = journal
        self._todo: queue.SimpleQueue[tuple[str, Any, Any]] = queue.SimpleQueue()
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(_BUFFERS):
            self._free.put(bytearray(_BUFFER_SIZE))
        self._done: queue.SimpleQueue[None] = queue.SimpleQueue()
        #: SHA-256 of the file as far as it is journaled, advanced by this thread after each part.
        self.file_hash = _FileHash(Path(spool.name))
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="emrx-spool-sink", daemon=True)
        self._thread.start()

    # --------------------------------------------------------------- called by the encrypting thread

    def start_part(self, index: int) -> None:
        self._check()
        self._todo.put(("start", index, None))

    def free_buffer(self) -> bytearray:
        buffer = self._free.get()  # blocks while all buffers are in flight: memory stays flat
        self._check()
        return buffer

    def write(self, buffer: bytearray, length: int) -> None:
        self._todo.put(("data", buffer, length))

    def write_bytes(self, data: bytes) -> None:
        self._todo.put(("bytes", data, None))

    def end_part(self, plaintext_size: int, ciphertext_sha256: str) -> None:
        self._todo.put(("end", plaintext_size, ciphertext_sha256))
        self._done.get()
        self._check()

    def close(self, *, raise_error: bool = True) -> None:
        """Stop the thread after everything queued is handled; raise its error unless told not to."""
        if not self._closed:
            self._closed = True
            self._todo.put(("stop", None, None))
            self._thread.join()
        if raise_error:
            self._check()

    def _check(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # ------------------------------------------------------------------------------- worker thread

    def _run(self) -> None:
        spool = self._spool
        index = record_start = ciphertext_size = 0
        while True:
            kind, value, length = self._todo.get()
            try:
                if kind == "stop":
                    return
                if kind == "data":
                    if self._error is None and length:
                        spool.write(memoryview(value)[:length])
                        ciphertext_size += length
                    self._free.put(value)
                elif self._error is not None:
                    if kind == "end":
                        self._done.put(None)
                elif kind == "start":
                    index, record_start, ciphertext_size = value, spool.tell(), 0
                    # The length is patched in "end": the final part's size is not known in advance.
                    spool.write(fmt.RECORD_HEADER.pack(fmt.PART, 0))
                    spool.write(fmt.PART_PREFIX.pack(index, uuid.UUID(self._journal.state.bundle_id).bytes))
                elif kind == "bytes":
                    spool.write(value)
                    ciphertext_size += len(value)
                elif kind == "end":
                    end = spool.tell()
                    spool.seek(record_start)
                    spool.write(fmt.RECORD_HEADER.pack(fmt.PART, fmt.PART_PREFIX.size + ciphertext_size))
                    spool.seek(end)
                    spool.flush()
                    os.fsync(spool.fileno())
                    self._journal.add_part(
                        JournalPart(
                            index=index,
                            plaintext_size=value,
                            ciphertext_size=ciphertext_size,
                            ciphertext_sha256=length,
                            end_offset=end,
                        )
                    )
                    self._done.put(None)
                    # After the hand-back: re-reading the part from the page cache and hashing it (both
                    # release the GIL) overlaps the encryption of the next part. The record length was only
                    # known now, so the file cannot be hashed as it is written.
                    self.file_hash.update_to(end)
            except BaseException as exc:  # handed to the caller; keep draining so it never blocks
                self._error = exc
                if kind == "data":
                    self._free.put(value)
                if kind == "end":
                    self._done.put(None)


class _FileHash:
    """SHA-256 of the spool file's bytes ``[0, end)``, advanced in order by re-reading what is on disk
    through its own read handle (no os.pread: it does not exist on Windows)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._hash = hashlib.sha256()
        self._done = 0

    def update_to(self, end: int) -> None:
        with open(self._path, "rb", buffering=0) as fh:
            fh.seek(self._done)
            while self._done < end:
                block = fh.read(min(_HANDOFF_PLAINTEXT, end - self._done))
                if not block:
                    raise BundleError("The bundle file being written was cut short by something else; start over.")
                self._hash.update(block)
                self._done += len(block)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class _PlaintextDigest:
    """SHA-256 of the whole plaintext stream, computed in its own thread (hashlib releases the GIL)."""

    _QUEUED = 8  # chunks of the stream held for hashing at most: memory stays flat

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._todo: queue.Queue[memoryview | None] = queue.Queue(maxsize=self._QUEUED)
        self._thread = threading.Thread(target=self._run, name="emrx-plaintext-digest", daemon=True)
        self._thread.start()
        self._closed = False

    def update(self, chunk: memoryview) -> None:
        self._todo.put(chunk)

    def hexdigest(self) -> str:
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._todo.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (chunk := self._todo.get()) is not None:
            self._hash.update(chunk)
