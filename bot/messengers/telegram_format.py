"""Pure logic of the Telegram channel: what the relay says (the greeting and the apology: bot/core/copy.py), how
Rasa's messages become Telegram messages (split at Telegram's limit by `bot.core.text.split_text`, counted in UTF-16
units), short callback data, and when a group message is meant for the bot.

No python-telegram-bot and no I/O here, so every rule is unit-tested on plain data
(`tests/test_telegram_format.py`); `bot/relay/` is the glue and `bot/messengers/telegram_api.py` sends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.text import split_text
from bot.speech.tts import audio_name

MAX_MESSAGE = 4096  # Telegram: 1-4096 characters (UTF-16 code units) per message
MAX_CALLBACK_BYTES = 64  # Telegram: callback_data is 1-64 bytes
SHORT_KEY_PREFIX = "~k:"  # marks a callback_data that stands for a longer, remembered payload
PAIR_TITLE_MAX = 16  # two buttons this short, for the same intent, share a row (the 👍/👎 feedback pair)

# A group is one conversation (tg-<group id>): every member sees the answers, and a ticket opened there is answered
# there. Personal matters belong in a private chat; the hint says so (docs/telegram.md, docs/security.md).
GROUP_HINT = (
    "Xin chào cả nhóm! Trong nhóm, tôi chỉ trả lời khi được nhắc tên (@{username} kèm câu hỏi) "
    "hoặc khi bạn trả lời vào tin nhắn của tôi. Cả nhóm dùng chung một cuộc trò chuyện với tôi: ai trong nhóm "
    "cũng thấy câu hỏi, câu trả lời và trả lời của cán bộ. Việc riêng (số giấy tờ, mã OTP, gặp cán bộ), "
    "bạn hãy nhắn riêng cho tôi."
)
TEXT_ONLY = (
    "Bạn vui lòng gõ câu hỏi bằng chữ. Tôi chưa đọc được hình ảnh, nhãn dán, tin nhắn thoại hay tệp "
    "đính kèm; nếu trong ảnh có chữ, bạn gõ lại nội dung đó giúp tôi nhé."
)
EDITED = "Tôi chỉ đọc tin nhắn mới, không đọc tin đã sửa. Bạn vui lòng gửi lại câu hỏi thành một tin nhắn mới."
UNKNOWN_COMMAND = "Tôi chưa hiểu lệnh này. Bạn cứ gõ câu hỏi bằng chữ, hoặc gõ /help để xem hướng dẫn."
EXPIRED_BUTTON = "Nút này đã hết hạn. Bạn vui lòng gõ lại câu hỏi."
BUTTONS_ONLY = "Bạn chọn một mục dưới đây:"
AUDIO_UNAVAILABLE = "Xin lỗi, lúc này tôi chưa gửi được bản đọc. Bạn vui lòng xem câu trả lời bằng chữ ở trên."


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class CallbackStore:
    """Callback data for inline buttons: a payload that fits in 64 bytes travels as is; a longer one
    travels as a short key remembered here (the newest `capacity` keys) and is resolved on press."""

    def __init__(self, capacity: int = 10_000) -> None:
        """Remember at most `capacity` long payloads, forgetting the least recently used."""
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """The callback_data for `payload` (1-64 bytes)."""
        if 0 < len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(SHORT_KEY_PREFIX):
            return payload
        key = SHORT_KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        """The payload a pressed button stands for; None for a short key this process no longer knows."""
        if not data.startswith(SHORT_KEY_PREFIX):
            return data
        payload = self._payloads.get(data)
        if payload is not None:
            self._payloads.move_to_end(data)
        return payload

    def __len__(self) -> int:
        return len(self._payloads)


@dataclass(frozen=True)
class Button:
    """One inline keyboard button: either callback data (relayed to Rasa on press) or a link."""

    title: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class VoiceNote:
    """A spoken reply to send as a Telegram voice message: the OGG/Opus file's served name and its length."""

    name: str
    duration_s: int


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: text of at most 4,096 units and an optional inline keyboard, or a voice
    message (then `text` is what to send instead if the audio cannot be had)."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] = ()
    voice: VoiceNote | None = None


def voice_note(custom: Any) -> VoiceNote | None:
    """The voice message in a spoken reply's custom payload (`bot.speech.tts.audio_message`): its OGG file, or None."""
    audio = custom.get("audio") if isinstance(custom, dict) else None
    name = audio_name(audio.get("url") or "") if isinstance(audio, dict) else None
    if name is None or not name.endswith(".ogg"):
        return None
    try:
        seconds = max(1, round(float(audio.get("duration_s") or 0)))
    except (TypeError, ValueError):
        seconds = 1
    return VoiceNote(name, seconds)


def _intent(payload: str | None) -> str | None:
    """The intent part of a Rasa payload ("/feedback" of '/feedback{"helpful":"yes"}')."""
    return payload.split("{", 1)[0] if payload else None


def keyboard_rows(buttons: Iterable[dict], store: CallbackStore) -> tuple[tuple[Button, ...], ...]:
    """Rasa buttons as keyboard rows: one per row, except that two consecutive buttons with short titles
    and the same intent (the 👍/👎 feedback pair) share a row."""
    made: list[tuple[Button, str | None]] = []
    for b in buttons:
        title = str(b.get("title") or "").strip()
        if not title:
            continue
        url = b.get("url")
        if url or b.get("type") == "web_url":
            if url:
                made.append((Button(title, url=str(url)), None))
            continue
        payload = str(b.get("payload") or title)
        made.append((Button(title, callback_data=store.encode(payload)), _intent(payload)))
    rows: list[tuple[Button, ...]] = []
    i = 0
    while i < len(made):
        (first, intent), second = made[i], made[i + 1] if i + 1 < len(made) else None
        if (
            second
            and intent is not None
            and second[1] == intent
            and len(first.title) <= PAIR_TITLE_MAX
            and len(second[0].title) <= PAIR_TITLE_MAX
        ):
            rows.append((first, second[0]))
            i += 2
        else:
            rows.append((first,))
            i += 1
    return tuple(rows)


def deliberately_quiet(messages: Iterable[dict]) -> bool:
    """Rasa answered with a ticket marker (actions/handoff.py): the resident wrote to the staff, so no reply is due
    and silence is not a failure to apologise for."""
    return any(isinstance(m.get("custom"), dict) and "ticket" in m["custom"] for m in messages)


def to_telegram(messages: Iterable[dict], store: CallbackStore, limit: int = MAX_MESSAGE) -> list[Outgoing]:
    """Rasa REST messages as Telegram messages: long texts split, buttons on the last piece of their
    message, an image as its link; buttons without text join the previous message or get a short lead-in;
    a spoken reply becomes a voice message (an apology when its payload names no OGG file)."""
    out: list[Outgoing] = []
    for m in messages:
        custom = m.get("custom")
        if isinstance(custom, dict) and "audio" in custom and not m.get("text"):
            note = voice_note(custom)
            out.append(Outgoing(AUDIO_UNAVAILABLE, voice=note) if note else Outgoing(AUDIO_UNAVAILABLE))
            continue
        text = str(m.get("text") or "")
        if m.get("image"):
            text = f"{text}\n{m['image']}" if text.strip() else str(m["image"])
        rows = keyboard_rows(m.get("buttons") or [], store)
        pieces = split_text(text, limit, size=tg_len)
        if not pieces and rows:
            if out and not out[-1].keyboard:
                out[-1] = Outgoing(out[-1].text, rows)
                continue
            pieces = [BUTTONS_ONLY]
        for i, piece in enumerate(pieces):
            out.append(Outgoing(piece, rows if i == len(pieces) - 1 else ()))
    return out


def sender_id(chat_id: int) -> str:
    """The Rasa conversation id for a Telegram chat."""
    return f"tg-{chat_id}"


def chat_tag(chat_id: int, key: str) -> str:
    """A short, stable tag for a chat in logs: a keyed hash, so the chat id itself is never logged.
    Letters only, so the log's number masking never mangles it."""
    digest = hmac.new(key.encode("utf-8"), str(chat_id).encode("utf-8"), hashlib.sha256).digest()
    return "".join("abcdefghijklmnopqrstuvwxyz"[b % 26] for b in digest[:10])


def addressed_text(text: str, mentions: Iterable[str], bot_username: str, replied_to_bot: bool) -> str | None:
    """In a group: the question without the bot's @mention if the message mentions the bot or replies
    to one of its messages, else None (the message is between the members, not for the bot)."""
    handle = "@" + bot_username.lower()
    mentioned = any(m.lower() == handle for m in mentions)
    if not (mentioned or replied_to_bot):
        return None
    if mentioned:
        text = re.sub(rf"(?<![\w@]){re.escape(handle)}(?!\w)[,:;]?", " ", text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]+", " ", text).strip(" \t,:;")


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether a webhook request carried the secret token, compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
