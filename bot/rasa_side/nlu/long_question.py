"""Rasa NLU component: a long message that asks a question is `ask_question`, whatever incidental words said.

Residents tell a story before they ask. "Tôi bị mất căn cước, đi làm xa không có thời gian lên công an
xã ... có làm lại online được không?" was classified `request_human` (it mentions going in person) and
got the commune question instead of an answer; a question opening with "Chào em" can look like a greeting.
For a message long enough to carry a story (bot/core/asking.py), the intents that such words trigger by
accident are replaced by `ask_question` unless the asking clause itself asks for a person or says
goodbye. Retrieval then answers only a sure match and otherwise asks back or declines. A short message that asks
for a person ("gặp cán bộ hỗ trợ") is request_human even when the classifier was unsure. Button payloads
("/intent{...}") are left to Rasa. Runs in the Rasa environment only (no search or model imports).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
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


# A short message that asks for a person ("gặp cán bộ hỗ trợ", "tôi cần người hỗ trợ") is request_human when the
# classifier was unsure or took it for another intent these words resemble: the bot itself tells residents to type
# "gặp người hỗ trợ", so it must not hang on NLU confidence. Saying one does not want one keeps the classifier's.
PERSON_MISFIRES = {"nlu_fallback", "ask_question", "leave_ticket", "out_of_scope", "ask_capabilities"}
NOT_WANTED = re.compile(r"\b(?:khong|ko|k|chang|cha) (?:can|muon)\b|\bhuy\b"
                        # "không cần gặp cán bộ nữa", "chưa muốn gọi tổng đài viên", "thôi khỏi gặp"
                        r"|\b(?:khong|ko|k|chua|thoi|dung)(?: \w+){0,2} (?:gap|noi chuyen|chuyen|goi|nho|can)\b")
# "làm căn cước có phải gặp cán bộ không": a yes/no question about a person, not a request for one
YES_NO_QUESTION = re.compile(r"\bco (?:phai|can|bat buoc)\b|\b(?:khong|ko|k|chua|a)\s*\?*$")
REQUEST_HUMAN = "request_human"


def person_request_intent(message: Message) -> None:
    """Set `request_human` on a short typed message that asks for a person, whatever the classifier was unsure of."""
    text = message.get(TEXT) or ""
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if text.startswith("/") or intent not in PERSON_MISFIRES or find_ask(text).long:
        return
    plain = deaccent(text).lower().strip()
    if asks_for_a_person(text) and not NOT_WANTED.search(plain) and not YES_NO_QUESTION.search(plain):
        set_intent(message, REQUEST_HUMAN, 1.0)


def asking_intent(message: Message) -> None:
    """The intent the asking clause decides: a long story's question, or a short request for a person."""
    story_question_intent(message)
    person_request_intent(message)


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
    intent on a short message that asks for a person."""

    override = staticmethod(asking_intent)
