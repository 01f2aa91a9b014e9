"""Reading the plain records the store hands over: fields by name, times as aware datetimes, local weeks.

Records may be dicts (rows, JSON) or objects with attributes (dataclasses); times are stored in UTC,
but days and weeks are counted in Vietnam's time (UTC+7, no daylight saving), as admins live them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.core.localtime import VIETNAM_TZ, as_utc, utcnow


def field(record: Any, name: str, default: Any = None) -> Any:
    """A record's field, whether the record is a mapping or an object."""
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def week_start(moment: dt.datetime) -> dt.date:
    """The Monday (local date) of the week a moment falls in."""
    day = as_utc(moment).astimezone(VIETNAM_TZ).date()
    return day - dt.timedelta(days=day.weekday())


def last_weeks(weeks: int, now: dt.datetime | None = None) -> list[dt.date]:
    """The Mondays of the last `weeks` weeks, oldest first, the current week last."""
    if weeks < 1:
        raise ValueError(f"số tuần phải từ 1 trở lên, đang là {weeks}")
    current = week_start(now or utcnow())
    return [current - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def local_midnight(now: dt.datetime) -> dt.datetime:
    """The start of today (local), as UTC."""
    local = as_utc(now).astimezone(VIETNAM_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)
