"""What community digital-technology team members record ("helped a resident with X"), and the commune's
monthly report as CSV.

A member is stored as a name from the configured list or as `member_ref(code)`, a hash: the code itself (a
secret that turns on helper mode) is never stored. Notes are masked. Months are Vietnam's calendar months.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.core.localtime import VIETNAM_TZ, utcnow
from bot.core.privacy import mask
from bot.store.schema import as_utc, engine_for, helper_activity

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CSV_HEADER = ["Ngày", "Giờ", "Thành viên", "Xã/phường", "Chủ đề", "Mục hướng dẫn", "Ghi chú"]
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Vietnamese letters intact) only when it starts with this


@dataclass(frozen=True)
class HelpRecord:
    id: int
    at: dt.datetime
    member: str
    commune: str
    topic: str
    entry_id: str
    note: str


def member_ref(code: str) -> str:
    """A stable label for a member known only by their code: "TV-" and 8 hex digits of its SHA-256."""
    return "TV-" + hashlib.sha256(("helper:" + code.strip().upper()).encode("utf-8")).hexdigest()[:8]


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The start and end (exclusive) of a month written "2026-11", in Vietnam's time. ValueError otherwise."""
    m = MONTH_RE.match((month or "").strip())
    if not m:
        raise ValueError("tháng phải có dạng NNNN-TT, ví dụ 2026-11")
    year, number = int(m.group(1)), int(m.group(2))
    start = dt.datetime(year, number, 1, tzinfo=VIETNAM_TZ)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=VIETNAM_TZ)
    return start, end


class HelperActivity:
    """Help records in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> HelperActivity:
        return cls(engine_for(url))

    def record(self, member: str, commune: str = "", topic: str = "", entry_id: str = "", note: str = "",
               at: dt.datetime | None = None) -> HelpRecord:
        """Store one "helped a resident with ..." (the note masked)."""
        if not member.strip():
            raise ValueError("member is required")
        values = dict(at=(at or utcnow()).astimezone(dt.timezone.utc), member=member.strip()[:80],
                      commune=commune.strip()[:200], topic=(topic or "").strip()[:40],
                      entry_id=(entry_id or "").strip()[:120],
                      note=mask(note or "").strip()[:1000])
        with self.engine.begin() as conn:
            new_id = conn.execute(insert(helper_activity).values(**values)).inserted_primary_key[0]
        return HelpRecord(new_id, **values)

    def records(self, month: str | None = None, commune: str | None = None) -> list[HelpRecord]:
        """Records of a month ("2026-11", Vietnam's time) and/or a commune, oldest first."""
        query = select(helper_activity).order_by(helper_activity.c.at, helper_activity.c.id)
        if month:
            start, end = (bound.astimezone(dt.timezone.utc) for bound in month_bounds(month))  # SQLite compares text
            query = query.where(helper_activity.c.at >= start, helper_activity.c.at < end)
        if commune:
            query = query.where(helper_activity.c.commune == commune)
        with self.engine.connect() as conn:
            return [HelpRecord(r.id, as_utc(r.at), r.member, r.commune, r.topic, r.entry_id, r.note)
                    for r in conn.execute(query)]

    def communes(self) -> list[str]:
        """Every commune with at least one record, for the report's filter."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(helper_activity.c.commune).distinct().order_by(helper_activity.c.commune))
            return [r.commune for r in rows if r.commune]


def report_csv(records: list[HelpRecord]) -> bytes:
    """The monthly report: UTF-8 with a byte-order mark so Excel shows Vietnamese letters, one row per record,
    dates in Vietnam's time (dd/mm/yyyy)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in records:
        local = r.at.astimezone(VIETNAM_TZ)
        writer.writerow([local.strftime("%d/%m/%Y"), local.strftime("%H:%M"), *map(_no_formula, (
            r.member, r.commune, r.topic, r.entry_id, r.note))])
    return (BOM + out.getvalue()).encode("utf-8")


def _no_formula(text: str) -> str:
    """A note starting with = + - @ would run as a formula in Excel: prefix it with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
