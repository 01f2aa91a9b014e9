"""How much of the admins' unanswered list one resident can fill.

Every question the bot was unsure about keeps its (masked) text for the unanswered page, whose grouping embeds and
clusters them all. One sender (or one client address, where the door knows it) keeps the text of at most
TEXTS_PER_SENDER such questions a day; past that the question is still counted in the statistics, without its text,
so a script cannot bury real residents' questions or make the page slow.
"""

from __future__ import annotations

from bot.core.limits import Limiter, Rule

TEXTS_PER_SENDER = Rule("unanswered-sender", 30, 24 * 3600)
TEXTS_PER_ADDRESS = Rule("unanswered-address", 200, 24 * 3600)


def keeps_text(limiter: Limiter, sender_id: str, address: str | None = None) -> bool:
    """Whether this unsure question's text goes to the unanswered list (counted per sender, per address if known)."""
    counted = [(TEXTS_PER_SENDER, sender_id)] + ([(TEXTS_PER_ADDRESS, address)] if address else [])
    return not any([limiter.hit(rule, key).over for rule, key in counted])
