"""Which entries need an admin to check their facts again: rules change, and an old answer misleads.

An entry is due when its facts were last checked more than MAX_AGE ago, when its `review_by` date has
passed, or when no official page confirms it (`unverified`). Pure: the CLI (`make kb ARGS=stale`) and
the admin page's entry list both call `due_for_review`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge.model import Entry

MAX_AGE = dt.timedelta(days=183)  # about six months


@dataclass(frozen=True)
class Due:
    """One entry to check again, and why, in the admins' words."""

    entry: Entry
    reason: str


def due_for_review(entries: Iterable[Entry], today: dt.date) -> list[Due]:
    """Entries to check again, the most overdue first."""
    found: list[tuple[dt.date, Due]] = []
    for e in entries:
        reasons, since = [], today
        if e.review_by is not None and e.review_by <= today:
            reasons.append(f"đã đến hạn kiểm tra lại {e.review_by:%d/%m/%Y}")
            since = min(since, e.review_by)
        if today - e.checked > MAX_AGE:
            reasons.append(f"kiểm tra lần cuối {e.checked:%d/%m/%Y}, đã hơn 6 tháng")
            since = min(since, e.checked)
        if e.unverified:
            reasons.append("chưa có trang chính thức xác nhận")
        if reasons:
            found.append((since, Due(e, "; ".join(reasons))))
    return [due for _, due in sorted(found, key=lambda pair: (pair[0], pair[1].entry.id))]
