"""Time zones of stored values (``[source] timezone``, a field's ``tz``): Asia/Seoul needs no tz database."""

from __future__ import annotations

import datetime as dt
import functools

from emr_exporter.model import KST

__all__ = ["KST", "zone"]


@functools.cache
def zone(name: str) -> dt.tzinfo:
    """A time zone by IANA name. Asia/Seoul is fixed +09:00 (no DST since 1988; no tz database needed)."""
    if name in ("Asia/Seoul", "KST", "+09:00"):
        return KST
    if name in ("UTC", "Etc/UTC", "Z"):
        return dt.UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        raise LookupError(f"unknown time zone {name!r} (an IANA name such as Asia/Seoul or UTC)") from None
