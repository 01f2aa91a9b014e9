"""Rasa NLU component: a long message that asks a question is `ask_question`, whatever incidental words said.

Residents tell a story before they ask. "Tôi bị mất căn cước, đi làm xa không có thời gian lên công an
xã ... có làm lại online được không?" was classified `request_human` (it mentions going in person) and
got the commune question instead of an answer; a question opening with "Chào em" can look like a greeting.
For a message long enough to carry a story (bot/core/asking.py), the intents that such words trigger by
accident are replaced by `ask_question` unless the asking clause itself asks for a person or says
goodbye. Retrieval then answers only a sure match and otherwise asks back or declines.

The other way round, a short typed request for a person ("cho tôi gặp cán bộ hỗ trợ", "gap can bo xa") that the
classifier was unsure of (nlu_fallback, request_human its best guess, as words of "hủy yêu cầu gặp cán bộ" pull it
towards leave_ticket) is `request_human` when its words ask for a person and do not refuse one: without it, the
resident who typed it got a search's "chưa chắc bạn muốn hỏi điều nào".

Button payloads ("/intent{...}") are left to Rasa. Runs in the Rasa environment only (no search or model imports).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.asking import find_ask
from bot.core.text import deaccent
from bot.rasa_side.nlu.override import IntentOverride, set_intent

ASK_QUESTION = "ask_question"
# Intents that incidental words of a story trigger; the others (secrets, guide and helper commands,
# feedback, out_of_scope with its stricter bar) are kept.
STORY_MISFIRES = {"request_human", "greet", "goodbye", "thank", "ask_capabilities", "nlu_fallback", "smalltalk"}
PERSON_ASKED = re.compile(
    r"\b(?:gap|noi chuyen (?:voi|vs)|chuyen (?:cho|qua)|can|nho|goi|xin so(?: dien thoai)?(?: cua)?) "
    r"(?:\w+ )?(?:nhan vien|can bo|nguoi that|tong dai vien|tu van vien|nguoi ho tro|to cong nghe so)\b"
)


def asks_for_a_person(text: str) -> bool:
    """The asking clause itself asks for a person ("nhờ cán bộ xuống nhà", "cho gặp nhân viên")."""
    return bool(PERSON_ASKED.search(deaccent(text).lower()))


# "không cần gặp cán bộ nữa", "hủy yêu cầu gặp cán bộ", "chưa muốn gọi tổng đài viên": no person wanted
PERSON_REFUSED = re.compile(r"\b(?:khong|ko|k|chua|thoi|huy|dung)(?: \w+){0,2} (?:gap|noi chuyen|chuyen|goi|nho|can)\b"
                            r"|\bhuy\b")
FALLBACK = "nlu_fallback"
REQUEST_HUMAN = "request_human"


def short_person_request(message: Message) -> None:
    """Set `request_human` on a short typed message the classifier was unsure of (nlu_fallback, request_human its
    best guess) whose words ask for a person and do not refuse one."""
    text = message.get(TEXT) or ""
    if text.startswith("/") or (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != FALLBACK:
        return
    guesses: list[dict] = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != FALLBACK]
    best: dict = max(guesses, key=lambda r: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0), default={})
    plain = deaccent(text).lower()
    if (best.get(INTENT_NAME_KEY) != REQUEST_HUMAN or find_ask(text).long or not asks_for_a_person(text)
            or PERSON_REFUSED.search(plain)):
        return
    set_intent(message, REQUEST_HUMAN, max(0.8, float(best.get(PREDICTED_CONFIDENCE_KEY) or 0.0)))


def corrected_intent(message: Message) -> None:
    """Both corrections: a long story's incidental words, a short person request the classifier was unsure of."""
    short_person_request(message)
    story_question_intent(message)


def story_question_intent(message: Message) -> None:
    """Set `ask_question` on a long typed message whose intent came from incidental words of its story."""
    text = message.get(TEXT) or ""
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if text.startswith("/") or intent not in STORY_MISFIRES:
        return
    found = find_ask(text)
    if not found.long or asks_for_a_person(found.ask):
        return
    confidence = max(0.8, float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0))
    set_intent(message, ASK_QUESTION, confidence)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class StoryQuestionClassifier(IntentOverride):
    """Overrides request_human, greetings and small talk on long messages that ask something else, and an unsure
    short request for a person (config.yml names this class; a new one would mean retraining)."""

    override = staticmethod(corrected_intent)
