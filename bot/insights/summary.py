"""Headline counts for the admin dashboard: today (Vietnam's day), the last 7 and the last 30 days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bot.core.localtime import as_utc, utcnow
from bot.insights.records import field, local_midnight

ANSWERED = "answered"


def _period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    return {"today": local_midnight(now), "7_days": now - dt.timedelta(days=7), "30_days": now - dt.timedelta(days=30)}


def summary(questions: Iterable[Any], feedback: Iterable[Any] = (), now: dt.datetime | None = None) -> dict[str, dict]:
    """Per period: questions asked, answered, not answered (declined, clarify, low confidence),
    declined outright, feedback given and the share found helpful (None when nobody answered).

    `questions` are question-log records (`at`, `outcome` or `reason`); `feedback` records (`at`, `helpful`)."""
    now = as_utc(now) if now else utcnow()
    starts = _period_starts(now)
    out: dict[str, dict[str, Any]] = {
        name: {"questions": 0, "answered": 0, "not_answered": 0, "declined": 0, "feedback": 0, "helpful": 0}
        for name in starts
    }
    for record in questions:
        at = as_utc(field(record, "at"))
        outcome = str(field(record, "outcome") or field(record, "reason") or "")
        for name, start in starts.items():
            if start <= at <= now:
                counts = out[name]
                counts["questions"] += 1
                counts["answered" if outcome == ANSWERED else "not_answered"] += 1
                counts["declined"] += outcome == "declined"
    for record in feedback:
        at = as_utc(field(record, "at"))
        for name, start in starts.items():
            if start <= at <= now and field(record, "helpful") is not None:
                out[name]["feedback"] += 1
                out[name]["helpful"] += bool(field(record, "helpful"))
    for counts in out.values():
        counts["helpful_rate"] = round(counts["helpful"] / counts["feedback"], 3) if counts["feedback"] else None
    return out
