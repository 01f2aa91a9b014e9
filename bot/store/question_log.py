"""What residents asked and how they judged the answers: the records behind the admin's insights.

Answered questions keep only their entry (no text); questions the bot declined or answered with low
confidence keep their text, already masked by the caller (bot.core.privacy.mask), for admins to act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from bot.core.localtime import utcnow
from bot.core.privacy import mask
from bot.store.schema import as_utc, engine_for, feedback, questions

KEEPS_TEXT = ("low_confidence", "clarify", "declined")


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    at: dt.datetime
    outcome: str
    entry_id: str | None
    topic: str | None
    confidence: float | None
    text: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class FeedbackRecord:
    at: dt.datetime
    entry_id: str | None
    helpful: bool


class Events:
    """The question log and answer feedback."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Events:
        return cls(engine_for(url))

    def record_question(self, outcome: str, text: str, entry_id: str | None = None, topic: str | None = None,
                        confidence: float | None = None, at: dt.datetime | None = None) -> None:
        """Log one question; the text is masked again here and kept only when the bot was unsure."""
        with self.engine.begin() as conn:
            conn.execute(insert(questions).values(
                at=at or utcnow(), outcome=outcome, entry_id=entry_id, topic=topic, confidence=confidence,
                text=mask(text)[:1000] if outcome in KEEPS_TEXT else None,
            ))

    def record_feedback(self, entry_id: str | None, helpful: bool, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(feedback).values(at=at or utcnow(), entry_id=entry_id, helpful=helpful))

    def questions(self, since: dt.datetime | None = None, outcomes: tuple[str, ...] | None = None,
                  unresolved_only: bool = False) -> list[QuestionRecord]:
        query = select(questions).order_by(questions.c.at)
        if since:
            query = query.where(questions.c.at >= since)
        if outcomes:
            query = query.where(questions.c.outcome.in_(outcomes))
        if unresolved_only:
            query = query.where(questions.c.resolved_by.is_(None))
        with self.engine.connect() as conn:
            return [QuestionRecord(r.id, as_utc(r.at), r.outcome, r.entry_id, r.topic, r.confidence, r.text,
                                   r.resolved_by) for r in conn.execute(query)]

    def unanswered(self, since: dt.datetime | None = None) -> list[QuestionRecord]:
        """Questions the bot declined or was unsure about, not yet turned into an entry."""
        return self.questions(since, KEEPS_TEXT, unresolved_only=True)

    def mark_resolved(self, question_ids: list[int], entry_id: str) -> None:
        """Remember that these questions now have an entry (they leave the unanswered list)."""
        if question_ids:
            with self.engine.begin() as conn:
                conn.execute(update(questions).where(questions.c.id.in_(question_ids)).values(resolved_by=entry_id))

    def feedback(self, since: dt.datetime | None = None) -> list[FeedbackRecord]:
        query = select(feedback).order_by(feedback.c.at)
        if since:
            query = query.where(feedback.c.at >= since)
        with self.engine.connect() as conn:
            return [FeedbackRecord(as_utc(r.at), r.entry_id, r.helpful) for r in conn.execute(query)]
