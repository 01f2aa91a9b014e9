"""Checks on what a client posts to the REST and relay doors, before Rasa sees it (pure: no Rasa import, tested and
fuzzed on its own).

A body is at most MAX_BODY_BYTES of UTF-8 JSON, nested at most MAX_DEPTH deep, an object with a text `message` and a
`sender` (an id of SENDER_CHARS as given; any other text, up to MAX_SENDER_TEXT characters, by its hash, so a
client that names conversations "user 1" or "người dùng" keeps working). Everything else a client adds
(`metadata`, `input_channel`, ...) is ignored: the door, not the client, says which channel a turn came from,
and nothing unchecked lands in the tracker.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

MAX_BODY_BYTES = 64 * 1024  # a 10,000-character Vietnamese question is ~30 KB of JSON
MAX_MESSAGE_CHARS = 10_000  # far above any real question; stops a megabyte of text reaching NLU
MAX_DEPTH = 20  # {"sender", "message"} needs 1; deeper is an attack on the parser, not a question
WEB_PREFIX = "web-"
MAX_SENDER_CHARS = 124  # web- + 124 = 128, the ticket store's sender column
SENDER_CHARS = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_SENDER_CHARS}}}")
MAX_SENDER_TEXT = 512  # a sender of other characters is kept by its hash; longer than this is not an id
TELEGRAM_SENDER = re.compile(r"tg--?[0-9]{1,20}")  # telegram_format.sender_id: tg-<chat id>
INBOX_SECRET_CHARS = 24  # the page's ids: web- + 24 hex = 96 random bits; a shorter id is guessable
INBOX_SENDER = re.compile(rf"{WEB_PREFIX}[A-Za-z0-9_.:-]{{{INBOX_SECRET_CHARS},{MAX_SENDER_CHARS}}}")
USAGE = 'the body must be a JSON object: {"sender": "...", "message": "..."}'


class Refused(ValueError):
    """A request the door turns away: the HTTP status and a reason in plain words."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Turn:
    """One accepted message: the sender as the client wrote it (checked, not yet namespaced) and the text."""

    sender: str
    message: str


def depth(value: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:  # one level past the limit is enough to refuse
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(raw: bytes) -> object:
    """The JSON value of a body; Refused(413) when too big, Refused(400) when not UTF-8 JSON or nested too deep."""
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refused(400, "the body must be UTF-8 encoded JSON") from None
    except RecursionError:  # "[" * 60000: Python's parser gives up before our depth check can
        raise Refused(400, f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # JSONDecodeError, and numbers too long to convert
        raise Refused(400, USAGE) from None
    if depth(value) > MAX_DEPTH:
        raise Refused(400, f"the body is nested more than {MAX_DEPTH} levels deep")
    return value


def checked_text(message: object) -> str:
    """The message text, or Refused(400): text only, not too long, storable (NUL characters, which PostgreSQL
    cannot store, are dropped; lone surrogates, which no database stores, are refused)."""
    if not isinstance(message, str):
        raise Refused(400, "'message' must be a text")
    if len(message) > MAX_MESSAGE_CHARS:
        raise Refused(400, f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    message = message.replace("\x00", "")
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" parses as JSON but no database can store it
        raise Refused(400, "'message' must be valid Unicode text") from None
    return message


def checked_sender(sender: object) -> str:
    """The sender as a safe id, or Refused(400) when it is missing, empty, too long or not text (a number is read as
    text). An id of A-Z a-z 0-9 _ . : - (1-124) is kept as given; other text ("user 1", "người dùng") becomes
    `h-` + a hash of it: the same text always reaches the same conversation, and no character of it reaches a
    conversation id, a log line or a file name."""
    if sender is None:
        raise Refused(400, "'sender' is missing: give each conversation its own id, e.g. \"web-\" + 24 random hex")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_TEXT:
        raise Refused(400, f"'sender' must be a text of 1-{MAX_SENDER_TEXT} characters "
                           "(best: an id of A-Z a-z 0-9 _ . : -)")
    if SENDER_CHARS.fullmatch(sender):
        return sender
    return "h-" + hashlib.sha256(sender.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def read_turn(raw: bytes) -> Turn:
    """The sender and message of a REST body, or Refused with the status and reason."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise Refused(400, USAGE)
    message = checked_text(body.get("message"))
    return Turn(checked_sender(body.get("sender")), message)


def web_conversation_id(sender: str) -> str:
    """The conversation a public-door sender speaks in: always `web-…`, so `tg-1` over REST is `web-tg-1` and can
    never reach a Telegram or Zalo resident's conversation, ticket or staff reply."""
    return sender if sender.startswith(WEB_PREFIX) else WEB_PREFIX + sender


def relay_conversation_id(sender: str) -> str:
    """The Telegram relay's sender, or Refused(400): only `tg-<chat id>`."""
    if not TELEGRAM_SENDER.fullmatch(sender):
        raise Refused(400, "the relay speaks only for Telegram chats: 'sender' must be tg-<chat id>")
    return sender


def rest_body_problem(raw: bytes) -> str | None:
    """Why a REST body is refused, in plain words; None when it is fine."""
    try:
        read_turn(raw)
    except Refused as refused:
        return refused.reason
    return None
