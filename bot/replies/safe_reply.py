"""The reply to a masked message: the safety notice (bot/replies/safety.py) in front of the normal answer.

Only the words are searched: placeholders would pull in unrelated entries ("số định danh" is also a tax topic).
A secret with nothing else answerable gets the knowledge base's entry on never sharing codes (hotline and
official source); a bare phone or account number gets an invitation to ask, or to press for a person.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.knowledge.model import Entry
from bot.replies.answers import HUMAN_BUTTON, Reply, answer_entry
from bot.replies.safety import Level, Notice, asks_something, notice_for, question_part

SAFETY_ENTRY_ID = "an-toan-khong-chia-se-ma"  # never give an OTP, passcode or password to anyone; 1900 0368
ASK_OR_PERSON = "Bạn cần hỏi gì, cứ gõ câu hỏi; cần người giúp thì bấm “Gặp người hỗ trợ”."


def with_notice(notice: Notice, reply: Reply) -> Reply:
    """The reply with the notice in front."""
    return dataclasses.replace(reply, text=f"{notice.text}\n\n{reply.text}".strip())


def unanswered(shown: Reply, declined: Reply) -> Reply:
    """`shown` to the resident, but on record as the declined reply it replaces (declined, reason, confidence...),
    so the unanswered question still reaches the admins' list."""
    shown_fields = {"text", "buttons", "entry_id"}
    outcome = {f.name: getattr(declined, f.name) for f in dataclasses.fields(declined) if f.name not in shown_fields}
    return dataclasses.replace(shown, **outcome)


def safe_reply(text: str, answer: Callable[[str], Reply], by_id: dict[str, Entry]) -> Reply:
    """Answer a (masked) message with `answer`, with the safety notice first when it held a number."""
    notice = notice_for(text)
    if notice is None:
        return answer(text)
    reply = answer(question_part(text)) if asks_something(text) else None
    if notice.level is Level.SECRET and (reply is None or reply.declined):
        entry = by_id.get(SAFETY_ENTRY_ID)
        safety = answer_entry(entry, by_id) if entry else Reply("", [HUMAN_BUTTON], reason="secret")
        reply = safety if reply is None else unanswered(safety, reply)
    elif reply is None:
        reply = Reply(ASK_OR_PERSON, [HUMAN_BUTTON], reason="personal number")
    return with_notice(notice, reply)
