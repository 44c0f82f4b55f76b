"""The `.emrx` file layout (normative text: docs/bundle-format.md): magic, framed records, JSON.

    file   = MAGIC record*            MAGIC = b"EMRX\\r\\n\\x1a\\n" (8 bytes)
    record = type (4 ASCII bytes) ‖ uint64be body length ‖ body

Records, in this order: HEAD (header.json), HSIG (its detached CMS), PART × n, TRLR (trailer.json),
TSIG (its detached CMS). A PART body is ``uint64be index ‖ bundle id (16 bytes) ‖ ciphertext``; the
ciphertext is one C2SP chunked-encryption message (Cobblestone-256) whose context is
``context prefix of the version ‖ bundle id (16 bytes) ‖ uint64be index``. In emrx/v1 the encrypted
plaintext is the tar slice itself; in emrx/v2 it is that slice as compression frames (:mod:`.frames`).
"""

from __future__ import annotations

import json
import struct
import uuid
from typing import Any, BinaryIO

FORMAT_V1 = "emrx/v1"
FORMAT_V2 = "emrx/v2"  # compressed frames inside each part (docs/bundle-format.md §5a)
FORMAT = FORMAT_V2  # what the writer makes by default
FORMATS = (FORMAT_V1, FORMAT_V2)  # what the reader opens
MAGIC = b"EMRX\r\n\x1a\n"
RECORD_HEADER = struct.Struct(">4sQ")
PART_PREFIX = struct.Struct(">Q16s")
CONTEXT_PREFIX = b"emrx/v1\x00"  # v1; v2 uses b"emrx/v2\x00" (see part_context)
HPKE_INFO_PREFIX = b"emrx/v1 key-wrap\x00"
PAYLOAD_ENC = "c2sp.org/chunked-encryption@v1 Cobblestone-256"
PAYLOAD_COMPRESSION = "emrx-frames zstd"  # v2 header payload.compression
CHUNK = 16384  # Cobblestone plaintext chunk size
CHUNK_OVERHEAD = 16  # GCM tag per chunk
MESSAGE_OVERHEAD = 56  # 24-byte salt + 32-byte commitment
MIN_PART_SIZE = CHUNK
MAX_PART_SIZE = 1 << 32

HEAD, HSIG, PART, TRLR, TSIG = b"HEAD", b"HSIG", b"PART", b"TRLR", b"TSIG"
RECORD_TYPES = (HEAD, HSIG, PART, TRLR, TSIG)
MAX_METADATA_RECORD = 64 << 20  # header/trailer/signatures are small; refuse absurd lengths


def canonical_json(value: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _prefix(fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown bundle format {fmt!r}")
    return fmt.encode("ascii")


def part_context(bundle_id: str, index: int, fmt: str = FORMAT_V1) -> bytes:
    # The version is in the context, so a v1 part can never authenticate as a v2 part or back.
    return _prefix(fmt) + b"\x00" + uuid.UUID(bundle_id).bytes + index.to_bytes(8, "big")


def hpke_info(bundle_id: str) -> bytes:
    # Same in v1 and v2: it binds the wrapped key to the bundle; the version is in the signed header.
    return HPKE_INFO_PREFIX + uuid.UUID(bundle_id).bytes


def ciphertext_size(plaintext_size: int) -> int:
    """Exact Cobblestone ciphertext length for a plaintext length (the final chunk is always short)."""
    return MESSAGE_OVERHEAD + plaintext_size + (plaintext_size // CHUNK + 1) * CHUNK_OVERHEAD


def plaintext_size_of(ciphertext_len: int) -> int | None:
    """Inverse of :func:`ciphertext_size`; None when no plaintext length gives that ciphertext length."""
    body = ciphertext_len - MESSAGE_OVERHEAD
    if body < CHUNK_OVERHEAD:
        return None
    chunks = -(-body // (CHUNK + CHUNK_OVERHEAD))  # ceil
    plaintext = body - chunks * CHUNK_OVERHEAD
    return plaintext if plaintext >= 0 and ciphertext_size(plaintext) == ciphertext_len else None


def check_part_size(part_size: int) -> None:
    if part_size < MIN_PART_SIZE or part_size % CHUNK or part_size > MAX_PART_SIZE:
        raise ValueError(f"part_size must be a multiple of {CHUNK} between {MIN_PART_SIZE} and {MAX_PART_SIZE}")


def write_record(out: BinaryIO, record_type: bytes, body: bytes) -> int:
    out.write(RECORD_HEADER.pack(record_type, len(body)))
    out.write(body)
    return RECORD_HEADER.size + len(body)
