"""Zalo Official Account webhook, the pure parts: signature check, event parsing, reply shaping, de-duplication.

Standard library (and bot.core) only, so the checks are unit-tested in the action-server environment and imported
as they are by the Rasa channel (`bot.rasa_side.channels.zalo`). Platform facts:
/work/shared/reference/channels.md, "Zalo Official Account".
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.core.settings import ZALO_MAX_EVENT_AGE_S
from bot.core.text import short_title, split_text

MAX_TEXT_CHARS = 2000  # one Zalo text message
MAX_BUTTONS = 5  # one Zalo button template
MAX_BUTTON_TITLE = 20  # keeps titles on one line in the Zalo app (community guidance, unconfirmed by Zalo)
MAX_BODY_BYTES = 64 * 1024  # a real event is well under 2 KB
MAX_NESTING = 20  # a real event nests 4 deep; json.loads recurses once per level (RecursionError near 1,000)
MAX_EVENT_AGE_S = ZALO_MAX_EVENT_AGE_S  # freshness window of a signed event (bot.core.settings says why an hour)
MAX_CLOCK_SKEW_S = 300.0
MAX_TIMESTAMP_DIGITS = 16  # milliseconds since 1970 have 13 digits until the year 2286
SIGNATURE_HEADER = "X-ZEvent-Signature"
SENDER_PREFIX = "zalo-"
AUDIO_TITLE = "▶ Nghe bản đọc"
AUDIO_LEAD = "🔊 Bấm nút dưới đây để nghe câu trả lời đọc to."
AUDIO_UNAVAILABLE = "Xin lỗi, trên Zalo tôi chưa gửi được bản đọc. Bạn vui lòng xem câu trả lời bằng chữ ở trên."
PLEASE_TYPE = (
    "Xin lỗi, tôi chỉ đọc được tin nhắn chữ, chưa xem được hình ảnh, nhãn dán, tệp, vị trí, âm thanh hay đường "
    "link. Bạn vui lòng gõ câu hỏi bằng chữ (có dấu hay không dấu đều được), ví dụ: “quên mật khẩu VNeID” "
    "hoặc “tra cứu hóa đơn điện tử”."
)


class Kind(enum.Enum):
    """What the channel does with an event."""

    TEXT = "text"  # a question for Rasa
    FOLLOW = "follow"  # a new follower: welcome
    IMAGE = "image"  # a picture (the URL of Zalo's copy): read as a screenshot
    UNSUPPORTED = "unsupported"  # an image, sticker, file...: ask for text
    IGNORED = "ignored"  # receipts, unfollow, the OA's own messages, anything unknown


# Receipts, unfollow and the OA's own outgoing messages (`oa_send_*` come back as events too: answering them would
# make the bot talk to itself). Unknown event names are ignored as well; only `user_send_*` gets "please type".
IGNORED_EVENTS = frozenset({"user_received_message", "user_seen_message", "unfollow", "user_reacted_message"})


class MalformedEvent(ValueError):
    """The body is not a Zalo event we can read."""


@dataclass(frozen=True)
class IncomingEvent:
    """One webhook event, reduced to what the bot needs."""

    kind: Kind
    event_name: str
    user_id: str = ""
    text: str = ""
    msg_id: str = ""
    timestamp: str = ""
    image_url: str = ""

    @property
    def sender_id(self) -> str:
        """The Rasa conversation id for this Zalo user."""
        return SENDER_PREFIX + self.user_id

    @property
    def dedupe_key(self) -> str:
        """Identifies a delivery across Zalo's retries: the message id, or (for follow) user and time."""
        return self.msg_id or f"{self.event_name}:{self.user_id}:{self.timestamp}"


def user_ref(user_id: str) -> str:
    """A short pseudonym for a Zalo user id, for logs (never log the id itself)."""
    return "u:" + hashlib.sha256(user_id.encode()).hexdigest()[:10]


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The `X-ZEvent-Signature` value Zalo sends: `mac=` + sha256(app_id + body + timestamp + OA secret key)."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()).hexdigest()
    return "mac=" + digest


def signature_ok(header: str, app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> bool:
    """Constant-time check of a received signature header against the raw body."""
    expected = signature(app_id, raw_body, timestamp, oa_secret_key)
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


def nesting_depth_exceeds(raw: bytes, limit: int = MAX_NESTING) -> bool:
    """True when the JSON text opens more than `limit` arrays/objects inside each other (brackets inside strings do
    not count). Checked before json.loads, whose recursion a body of 60,000 '[' would exhaust."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the usual case, at C speed
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def event_time(timestamp: str) -> float | None:
    """A webhook's `timestamp` (milliseconds since 1970, as text) in seconds; None when it is not such a number
    (`str.isdigit` alone would take '²')."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        return None
    return int(timestamp) / 1000.0


def freshness_problem(sent_at: float, now: float, max_age_s: float, max_skew_s: float = MAX_CLOCK_SKEW_S) -> str | None:
    """Why an event sent at `sent_at` is refused now (too old, or from the future); None when it is fresh."""
    if now - sent_at > max_age_s:
        return "stale event: its timestamp is outside the accepted window"
    if sent_at - now > max_skew_s:
        return "event from the future: its timestamp is outside the accepted window"
    return None


def _text_field(obj: Any, key: str) -> str:
    """A string (or number, Zalo is not consistent) field of a dict, as text; '' when absent."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value)


def parse_event(body: Any) -> IncomingEvent:
    """Turn a decoded webhook body into an IncomingEvent; MalformedEvent when a field we need is missing."""
    if not isinstance(body, dict):
        raise MalformedEvent("the body must be a JSON object")
    name = _text_field(body, "event_name")
    if not name:
        raise MalformedEvent("'event_name' is missing")
    timestamp = _text_field(body, "timestamp")
    if name == "follow":
        user_id = _text_field(body.get("follower"), "id")
        if not user_id:
            raise MalformedEvent("'follower.id' is missing")
        return IncomingEvent(Kind.FOLLOW, name, user_id=user_id, timestamp=timestamp)
    if name in IGNORED_EVENTS or not name.startswith("user_send_"):
        return IncomingEvent(Kind.IGNORED, name, timestamp=timestamp)
    user_id = _text_field(body.get("sender"), "id")
    message = body.get("message")
    if not user_id:
        raise MalformedEvent("'sender.id' is missing")
    if not isinstance(message, dict):
        raise MalformedEvent("'message' must be an object")
    msg_id = _text_field(message, "msg_id")
    if name == "user_send_text":
        text = message.get("text")
        if not isinstance(text, str):
            raise MalformedEvent("'message.text' must be a text")
        if text.strip():
            return IncomingEvent(Kind.TEXT, name, user_id, text, msg_id, timestamp)
    if name == "user_send_image":
        url = image_url(message)
        if url:
            return IncomingEvent(Kind.IMAGE, name, user_id, "", msg_id, timestamp, image_url=url)
    return IncomingEvent(Kind.UNSUPPORTED, name, user_id, "", msg_id, timestamp)


# Where Zalo keeps the pictures users send (photo-stal.zdn.vn, ...): a picture is fetched only over https from these,
# so a forged event cannot make the channel fetch an internal address. ZALO_MEDIA_HOSTS adds exact hosts (tests).
MEDIA_HOST_SUFFIXES = (".zdn.vn", ".zadn.vn", ".zalo.me", ".zaloapp.com")


def image_url(message: dict) -> str:
    """The full-size picture's URL of an image message (`attachments[0].payload.url`), '' when there is none."""
    attachments = message.get("attachments")
    if not isinstance(attachments, list):
        return ""
    for attachment in attachments:
        if isinstance(attachment, dict) and attachment.get("type") == "image":
            return _text_field(attachment.get("payload"), "url")
    return ""


def media_url_allowed(url: str, extra_hosts: frozenset[str] = frozenset()) -> bool:
    """Whether the channel may fetch this picture: https on Zalo's CDN, or a host listed in ZALO_MEDIA_HOSTS."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    if host in extra_hosts and parts.scheme in ("http", "https"):
        return True
    return parts.scheme == "https" and port in (None, 443) and host.endswith(MEDIA_HOST_SUFFIXES)


@dataclass(frozen=True)
class Verdict:
    """The answer to one webhook request: an HTTP status, and the event when it is accepted."""

    status: int
    error: str = ""
    event: IncomingEvent | None = None


def check_webhook(
    raw: bytes,
    signature_header: str | None,
    app_id: str,
    oa_secret_key: str,
    *,
    now: float | None = None,
    max_age_s: float = MAX_EVENT_AGE_S,
) -> Verdict:
    """Every check a webhook request must pass before the bot acts on it, in order, cheapest first.

    503 when the channel has no app id or secret (nothing can be verified), 413 for an oversized body, 401 without a
    signature, 400 for a body nested too deep or that is not a JSON object with `app_id` and `timestamp`, 403 for a
    wrong signature or another app's event, 400 for a timestamp that is not milliseconds, 403 for one outside the
    window (`max_age_s` old, or ahead of `now` by more than the clock skew), 400 for a signed event that lacks a
    field we need; 200 with the event otherwise.
    """
    if not app_id or not oa_secret_key:
        return Verdict(503, "the Zalo channel is not configured (ZALO_APP_ID, ZALO_OA_SECRET_KEY)")
    if len(raw) > MAX_BODY_BYTES:
        return Verdict(413, "the body is too large")
    if not signature_header or not signature_header.strip():
        return Verdict(401, f"missing {SIGNATURE_HEADER}")
    if nesting_depth_exceeds(raw):
        return Verdict(400, "the body is nested too deep")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or a number of over 4,300 digits (ValueError too)
        return Verdict(400, "the body must be UTF-8 encoded JSON")
    if not isinstance(body, dict):
        return Verdict(400, "the body must be a JSON object")
    body_app_id, timestamp = _text_field(body, "app_id"), _text_field(body, "timestamp")
    if not body_app_id or not timestamp:
        return Verdict(400, "'app_id' and 'timestamp' are required")
    if not signature_ok(signature_header, body_app_id, raw, timestamp, oa_secret_key):
        return Verdict(403, "wrong signature")
    if not hmac.compare_digest(body_app_id.encode(), app_id.encode()):
        return Verdict(403, "event for another app")
    sent_at = event_time(timestamp)
    if sent_at is None:
        return Verdict(400, "'timestamp' must be milliseconds since 1970")
    problem = freshness_problem(sent_at, time.time() if now is None else now, max_age_s)
    if problem:
        return Verdict(403, problem)
    try:
        return Verdict(200, event=parse_event(body))
    except MalformedEvent as exc:
        return Verdict(400, str(exc))


def template_buttons(buttons: list[dict] | None) -> list[dict]:
    """Rasa buttons as Zalo `oa.query.hide` buttons: at most five, short titles, the payload sent back as text."""
    out = []
    for button in buttons or []:
        title, payload = str(button.get("title") or "").strip(), button.get("payload")
        if not title or not isinstance(payload, str) or not payload:
            continue
        out.append({"title": short_title(title, MAX_BUTTON_TITLE), "type": "oa.query.hide", "payload": payload})
    return out[:MAX_BUTTONS]


def audio_link(custom: Any) -> str | None:
    """The MP3 address of a spoken reply (`bot.speech.tts.audio_message`), when it is a full web address Zalo can
    open."""
    audio = custom.get("audio") if isinstance(custom, dict) else None
    url = audio.get("mp3") if isinstance(audio, dict) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def audio_button(custom: dict) -> dict | None:
    """A spoken reply as a link button (the OA API sends no audio messages; the link plays in Zalo's browser)."""
    url = audio_link(custom)
    if url is None:
        return None
    try:
        seconds = max(1, round(float(custom["audio"].get("duration_s") or 0)))
        title = f"▶ Nghe ({seconds} giây)" if seconds < 600 else AUDIO_TITLE
    except (TypeError, ValueError):
        title = AUDIO_TITLE
    return {"title": short_title(title, MAX_BUTTON_TITLE), "type": "oa.open.url", "payload": {"url": url}}


def zalo_messages(rasa_messages: list[dict]) -> list[dict]:
    """Rasa's collected replies as Zalo `message` objects, in order.

    Long texts are split; a reply's buttons ride on its last part. An image becomes its link as text. A spoken
    reply becomes a link button on the message before it (or on a short lead-in); without a public address for
    the audio (BOT_PUBLIC_URL) it becomes an apology. Other custom payloads are dropped.
    """
    out: list[dict] = []
    for reply in rasa_messages:
        if isinstance(reply.get("custom"), dict) and "audio" in reply["custom"] and not reply.get("text"):
            button = audio_button(reply["custom"])
            if button is None:
                out.append({"text": AUDIO_UNAVAILABLE})
            elif out and "attachment" not in out[-1]:
                out[-1] = {**out[-1], "attachment": {"type": "template", "payload": {"buttons": [button]}}}
            else:
                out.append({"text": AUDIO_LEAD, "attachment": {"type": "template", "payload": {"buttons": [button]}}})
            continue
        text = reply.get("text") or ""
        if not text and reply.get("image"):
            text = str(reply["image"])
        parts = split_text(text, MAX_TEXT_CHARS)
        buttons = template_buttons(reply.get("buttons"))
        if not parts and buttons:
            parts = ["Bạn chọn một mục:"]
        for i, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if buttons and i == len(parts) - 1:
                message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
            out.append(message)
    return out


@dataclass
class Deduper:
    """Remembers recently seen delivery keys: bounded in size and age, so memory stays flat under any load."""

    max_items: int = 10_000
    ttl_s: float = 6 * 3600.0  # well past the freshness window (MAX_EVENT_AGE_S): a replay is stale or seen
    clock: Callable[[], float] = time.monotonic
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def seen(self, key: str) -> bool:
        """True if `key` arrived before (within the TTL); otherwise remember it and return False."""
        now = self.clock()
        while self._seen:
            oldest_key, oldest_at = next(iter(self._seen.items()))
            if now - oldest_at < self.ttl_s and len(self._seen) < self.max_items:
                break
            del self._seen[oldest_key]
        if key in self._seen:
            return True
        self._seen[key] = now
        return False

    def __len__(self) -> int:
        return len(self._seen)
