"""Keep the C allocator from holding on to the export's large, short-lived buffers (glibc only).

The export's big buffers are the bag's open NDJSON segments (bytearrays that grow line by line to 4 MB
and are freed when written), the output chunks and a page of row dicts. glibc's malloc raises its mmap
threshold each time it frees a mapped block ("dynamic threshold", up to 32 MB): after the first segment
is written, every later one grows *inside* the heap by realloc, and the holes they leave behind cannot be
returned to the system while a small object sits above them. The process then keeps ~10 MB (10^5 rows)
to ~15 MB (10^6) of free heap it will never use again: peak RSS grew with the clinic's size although the
live data did not (docs/performance.md, "flatmem").

A fixed threshold (``mallopt(M_MMAP_THRESHOLD, ...)``, which also turns the dynamic one off) gives each
buffer above it its own mapping, grown by ``mremap`` and returned to the system when freed. 512 KB keeps
the 256 KB output chunks and the cipher's buffers (recycled all the time) in the heap.

Nothing is written differently; only where the bytes live. Other C libraries (Windows, macOS, musl) are
left alone: their allocators do not have this threshold.
"""

from __future__ import annotations

import ctypes
import platform
import threading

#: glibc's malloc.h: ``#define M_MMAP_THRESHOLD -3``.
M_MMAP_THRESHOLD = -3
#: Blocks at least this large get their own mapping (see the module docstring).
MMAP_THRESHOLD_BYTES = 512 * 1024

_lock = threading.Lock()
_done: bool | None = None


def limit_heap_growth() -> bool:
    """Set glibc's mmap threshold once per process; True when it is set (now or before), False elsewhere.

    Idempotent and cheap: the export calls it each time it starts.
    """
    global _done
    with _lock:
        if _done is None:
            _done = _set_threshold()
        return _done


def _set_threshold() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own libc
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))  # 1 on success


__all__ = ["MMAP_THRESHOLD_BYTES", "limit_heap_growth"]
