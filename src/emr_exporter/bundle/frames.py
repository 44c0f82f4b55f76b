"""emrx/v2 compression frames: what each part's plaintext is before it is encrypted.

A v2 part carries the tar bytes ``[i·P, (i+1)·P)`` as a sequence of frames, each covering at most
``FRAME_SIZE`` consecutive tar bytes (frames never cross a part boundary, so every part decodes on its
own: a resume and a part-wise ``open`` still work):

    frame = method (1 byte) ‖ raw length (uint32be) ‖ encoded length (uint32be) ‖ encoded bytes
    method 0 = stored (encoded = the raw bytes), 1 = zstd (encoded = exactly one zstd frame, RFC 8878,
    whose content size is written and equals the raw length)

The writer decides per frame: it compresses, and stores the frame as it is when zstd saves less than
1/32 (JPEG, PDF, DICOM, zip/gz… members, and random data). zstd is fast on such data (it detects
incompressible blocks), so the trial costs little. The normative text is docs/bundle-format.md §5a.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import zstandard

FRAME_SIZE = 1 << 20  # raw tar bytes per frame at most
FRAME_HEADER = struct.Struct(">BII")
STORED, ZSTD = 0, 1
ZSTD_LEVEL = 3  # zstd's default: ~2 GB/s on NDJSON here, far above a clinic's disk or uplink
# Worst case of the encoded bytes for n raw bytes: every frame stored, plus its 9-byte header.


def max_encoded_size(raw_size: int) -> int:
    return raw_size + -(-raw_size // FRAME_SIZE) * FRAME_HEADER.size


class FrameEncoder:
    """Encode one frame of raw bytes (≤ FRAME_SIZE) as header + stored or zstd bytes."""

    def __init__(self, level: int = ZSTD_LEVEL) -> None:
        # One compressor reused for every frame (its tables are allocated once); each call still makes a
        # complete, independent zstd frame with its content size.
        self._zstd = zstandard.ZstdCompressor(level=level, write_content_size=True)
        self.stored_frames = 0
        self.zstd_frames = 0

    def encode(self, raw: bytes | bytearray | memoryview) -> bytes:
        size = len(raw)
        if not 0 < size <= FRAME_SIZE:
            raise ValueError("a frame holds 1 to FRAME_SIZE bytes")
        packed = self._zstd.compress(raw)
        if len(packed) < size - size // 32:
            self.zstd_frames += 1
            return FRAME_HEADER.pack(ZSTD, size, len(packed)) + packed
        self.stored_frames += 1
        return FRAME_HEADER.pack(STORED, size, size) + bytes(raw)


class FrameError(ValueError):
    """The decrypted part is not a valid frame sequence (cannot happen to an authenticated part from
    this writer; a bug or a foreign writer). The message names no content."""


class FrameDecoder:
    """Incremental decoder: feed the decrypted bytes of one part, get the raw tar bytes back.

    Holds at most one encoded frame (≤ FRAME_SIZE + a few bytes) plus one fed chunk.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._zstd = zstandard.ZstdDecompressor()
        self.raw_size = 0

    def feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        self._buffer += data
        while len(self._buffer) >= FRAME_HEADER.size:
            method, raw_len, enc_len = FRAME_HEADER.unpack_from(self._buffer)
            if not 0 < raw_len <= FRAME_SIZE or method not in (STORED, ZSTD):
                raise FrameError("bad frame header")
            if method == STORED and enc_len != raw_len:
                raise FrameError("stored frame with a different encoded length")
            if enc_len > max_encoded_size(FRAME_SIZE):
                raise FrameError("frame too long")
            end = FRAME_HEADER.size + enc_len
            if len(self._buffer) < end:
                return
            body = bytes(self._buffer[FRAME_HEADER.size : end])
            del self._buffer[:end]
            if method == ZSTD:
                if zstandard.frame_content_size(body) != raw_len:
                    raise FrameError("zstd frame without the announced content size")
                try:
                    # allow_extra_data=False: the encoded bytes are exactly one zstd frame, nothing hidden after it
                    body = self._zstd.decompress(body, max_output_size=raw_len, allow_extra_data=False)
                except zstandard.ZstdError:
                    raise FrameError("zstd frame does not decode") from None
                if len(body) != raw_len:
                    raise FrameError("zstd frame decodes to another length")
            self.raw_size += raw_len
            yield body

    def finish(self) -> None:
        if self._buffer:
            raise FrameError("the part ends inside a frame")


def encode_frames(raw: bytes, encoder: FrameEncoder | None = None) -> bytes:
    """All frames for ``raw`` (the plaintext of one part, before encryption). For tests and tools."""
    encoder = encoder or FrameEncoder()
    return b"".join(encoder.encode(raw[i : i + FRAME_SIZE]) for i in range(0, len(raw), FRAME_SIZE))
