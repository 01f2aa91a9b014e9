"""Weekly charts for the admin page, as PNG bytes.

matplotlib's Agg canvas on a bare Figure (no pyplot): no display, no global state, safe to call from
a web server's threads. Labels are Vietnamese; DejaVu Sans, matplotlib's default font, covers them.
Weeks start on Monday in Vietnam's time; with no data in the period the chart says so instead of failing.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.insights.records import field, last_weeks, week_start
from bot.knowledge.model import TOPICS, topic_of

NO_DATA = "Chưa có dữ liệu"
HELPFUL, NOT_HELPFUL = "Hữu ích", "Chưa đúng"
OTHER_TOPIC = "Khác"
# Why a question went unanswered (the question log's outcome) as admins read it.
REASONS = {
    "declined": "Không trả lời được",
    "clarify": "Phải hỏi lại cho rõ",
    "low_confidence": "Trả lời chưa chắc chắn",
}
_GREEN, _ORANGE = "#2e7d32", "#ef6c00"
_SIZE = (8.0, 3.6)  # inches at 100 dpi: 800 x 360 px, readable on a laptop and a phone turned sideways


Weekly = tuple[list[dt.date], dict[str, list[int]]]  # the weeks' Mondays, and counts per label per week


def _weekly(records: Iterable[Any], weeks: int, now: dt.datetime | None, key: Callable[[Any], str | None]) -> Weekly:
    """Count records per week and per key (records outside the last `weeks` weeks are left out)."""
    starts = last_weeks(weeks, now)
    position = {start: i for i, start in enumerate(starts)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for record in records:
        i = position.get(week_start(field(record, "at")))
        label = key(record)
        if i is not None and label is not None:
            series[label][i] += 1
    return starts, dict(series)


def _helpful_label(record: Any) -> str | None:
    helpful = field(record, "helpful")
    return None if helpful is None else HELPFUL if helpful else NOT_HELPFUL


def _topic_label(record: Any) -> str:
    topic = field(record, "topic") or topic_of(str(field(record, "entry_id") or ""))
    return TOPICS.get(topic or "", OTHER_TOPIC)


def _reason_label(record: Any) -> str:
    reason = str(field(record, "reason") or field(record, "outcome") or "declined")
    return REASONS.get(reason, reason)


def feedback_by_week(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> Weekly:
    """Feedback per week, by HELPFUL / NOT_HELPFUL (also what the page can show as a table)."""
    return _weekly(records, weeks, now, _helpful_label)


def topics_by_week(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> Weekly:
    """Answered questions per week, by topic name (OTHER_TOPIC for an entry outside the topics)."""
    return _weekly(records, weeks, now, _topic_label)


def unanswered_by_week(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> Weekly:
    """Unanswered questions per week, by reason as admins read it (REASONS)."""
    return _weekly(records, weeks, now, _reason_label)


def _figure(title: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=_SIZE, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _no_data(title: str) -> bytes:
    fig, ax = _figure(title)
    ax.set_axis_off()
    ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=16, color="#666666", transform=ax.transAxes)
    return _png(fig)


def _week_axis(ax: Any, starts: list[dt.date]) -> None:
    step = max(1, math.ceil(len(starts) / 13))  # at most ~13 labels, however many weeks
    ticks = list(range(0, len(starts), step))
    ax.set_xticks(ticks, [starts[i].strftime("%d/%m") for i in ticks])
    ax.set_xlabel("Tuần (bắt đầu từ thứ Hai)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Số lượt")
    ax.grid(axis="y", alpha=0.3)


def _legend(ax: Any) -> None:
    """Beside the plot, so it never hides a bar or a line."""
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)


def _stacked_bars(title: str, starts: list[dt.date], series: list[tuple[str, list[int], str | None]]) -> bytes:
    fig, ax = _figure(title)
    bottom = [0] * len(starts)
    for label, counts, color in series:
        ax.bar(range(len(starts)), counts, bottom=bottom, label=label, color=color, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _week_axis(ax, starts)
    _legend(ax)
    return _png(fig)


def plot_feedback(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> bytes:
    """Residents' feedback per week (records with `at` and `helpful`), helpful and not, stacked."""
    title = "Đánh giá câu trả lời của người dân"
    starts, series = feedback_by_week(records, weeks, now)
    if not series:
        return _no_data(title)
    zeros = [0] * weeks
    bars: list[tuple[str, list[int], str | None]] = [
        (HELPFUL, series.get(HELPFUL, zeros), _GREEN), (NOT_HELPFUL, series.get(NOT_HELPFUL, zeros), _ORANGE)]
    return _stacked_bars(title, starts, bars)


def plot_topics(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> bytes:
    """Answered questions per topic per week (records with `at` and `entry_id`, or `topic`), one line each."""
    title = "Câu hỏi đã được trả lời, theo chủ đề"
    starts, series = topics_by_week(records, weeks, now)
    if not series:
        return _no_data(title)
    fig, ax = _figure(title)
    for label in [*TOPICS.values(), OTHER_TOPIC]:
        if label in series:
            ax.plot(range(weeks), series[label], marker="o", markersize=3, linewidth=1.8, label=label)
    _week_axis(ax, starts)
    ax.set_ylim(bottom=0)
    _legend(ax)
    return _png(fig)


def plot_unanswered(records: Iterable[Any], weeks: int = 12, now: dt.datetime | None = None) -> bytes:
    """Questions the bot did not answer, per week (records with `at` and `reason`), stacked by reason."""
    title = "Câu hỏi chưa trả lời được"
    starts, series = unanswered_by_week(records, weeks, now)
    if not series:
        return _no_data(title)
    known = [label for label in REASONS.values() if label in series]
    others = sorted(set(series) - set(known))
    colors = {REASONS["declined"]: "#c62828", REASONS["clarify"]: "#f9a825", REASONS["low_confidence"]: "#6d4c41"}
    return _stacked_bars(title, starts, [(label, series[label], colors.get(label)) for label in known + others])
