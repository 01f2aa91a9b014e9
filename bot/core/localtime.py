"""Vietnam's clock: times are stored in UTC; days, weeks and months are counted, and times shown, in
Vietnam's time (UTC+7, no daylight saving, so a fixed offset is exact)."""

from __future__ import annotations

import datetime as dt
from typing import Any

VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: Any) -> dt.datetime:
    """A time as an aware UTC datetime; a naive one (SQLite returns those) is read as the UTC it was written in."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"thời điểm không hợp lệ: {value!r} (cần dạng ISO, ví dụ 2026-11-20T08:30:00+00:00)"
            ) from None
    if not isinstance(value, dt.datetime):
        raise ValueError(f"thời điểm không hợp lệ: {value!r} (cần datetime)")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def local_text(moment: dt.datetime | None, seconds: bool = False) -> str:
    """A stored time as admins read it: Vietnam's time, day first ('' for none)."""
    if moment is None:
        return ""
    return as_utc(moment).astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
