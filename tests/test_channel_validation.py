"""The pure checks of the REST and relay doors (bot/rasa_side/channels/validation.py)."""

import hashlib
import json

import pytest

from bot.rasa_side.channels.validation import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_MESSAGE_CHARS,
    Refused,
    Turn,
    depth,
    read_turn,
    relay_conversation_id,
    rest_body_problem,
    web_conversation_id,
)


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"{not json", "must be a JSON object"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"sender": "x"}', "'message'"),
        (b'{"sender": "x", "message": 5}', "'message'"),
        (b'{"sender": ["x"], "message": "hi"}', "'sender'"),
        (b'{"message": "hi"}', "'sender' is missing"),
        (b'{"sender": null, "message": "hi"}', "'sender' is missing"),
        (b'{"sender": "", "message": "hi"}', "'sender'"),
        (b'{"sender": true, "message": "hi"}', "'sender'"),
        (b'{"sender": "   ", "message": "hi"}', "'sender'"),
        (('{"sender": "' + "a" * 513 + '", "message": "hi"}').encode(), "'sender'"),
        (b'{"sender": "x", "message": "\\ud800"}', "Unicode"),
        (b'{"sender": "x", "message": "hi", "n": ' + b"9" * 5000 + b"}", "JSON object"),
        (('{"sender": "x", "message": "' + "a" * (MAX_MESSAGE_CHARS + 1) + '"}').encode(), "longer"),
    ],
)
def test_bad_bodies_are_explained(raw, fragment):
    assert fragment in rest_body_problem(raw)


@pytest.mark.parametrize(
    "raw, turn",
    [
        (b'{"sender": "eval-1a2b3c4d5e6f", "message": "xin chao"}', Turn("eval-1a2b3c4d5e6f", "xin chao")),
        ('{"sender": 1, "message": "😀 chào"}'.encode(), Turn("1", "😀 chào")),
        (b'{"sender": "x", "message": ""}', Turn("x", "")),
        # other texts are kept by their hash: no space, slash or letter of them reaches a conversation id
        (b'{"sender": "a b", "message": "hi"}', Turn("h-" + hashlib.sha256(b"a b").hexdigest()[:32], "hi")),
        (b'{"sender": "x/../y", "message": "hi"}', Turn("h-" + hashlib.sha256(b"x/../y").hexdigest()[:32], "hi")),
        (b'{"sender": "x", "message": "a\\u0000b\\u0001"}', Turn("x", "ab\x01")),  # PostgreSQL stores no NUL
        # What a client adds is ignored, whatever its type: the door never reads it.
        (b'{"sender": "x", "message": "m", "metadata": 3, "input_channel": ["telegram"]}', Turn("x", "m")),
    ],
)
def test_good_bodies_give_the_turn(raw, turn):
    assert read_turn(raw) == turn and rest_body_problem(raw) is None


def test_a_body_over_64_kb_is_413_before_parsing():
    raw = json.dumps({"sender": "x", "message": "a" * 5000, "pad": "b" * MAX_BODY_BYTES}).encode()
    with pytest.raises(Refused) as refused:
        read_turn(raw)
    assert refused.value.status == 413


@pytest.mark.parametrize("raw", [b"[" * 60000, b'{"a":' * 12000, b"[" * 5000 + b"]" * 5000])
def test_deep_nesting_is_a_400_not_a_recursion_error(raw):
    with pytest.raises(Refused) as refused:
        read_turn(raw)
    assert refused.value.status == 400 and "nested" in refused.value.reason


def test_nesting_up_to_the_limit_is_fine_and_one_more_is_not():
    def nested(levels: int) -> list:
        value: list = []
        for _ in range(levels - 1):
            value = [value]
        return value

    assert depth(nested(MAX_DEPTH)) == MAX_DEPTH and depth({"a": [1, {"b": 2}]}) == 3 and depth("x") == 0
    ok = json.dumps({"sender": "x", "message": "m", "extra": nested(MAX_DEPTH - 1)}).encode()
    too_deep = json.dumps({"sender": "x", "message": "m", "extra": nested(MAX_DEPTH)}).encode()
    assert rest_body_problem(ok) is None and "nested" in rest_body_problem(too_deep)


@pytest.mark.parametrize(
    "sender, conversation",
    [
        ("tg-999000111", "web-tg-999000111"),  # a Telegram chat's id over the public door is a web conversation
        ("zalo-8841200", "web-zalo-8841200"),
        ("eval-1a2b3c4d5e6f", "web-eval-1a2b3c4d5e6f"),
        ("web-0123456789abcdef01234567", "web-0123456789abcdef01234567"),  # the page's own ids are kept
        ("a" * 124, "web-" + "a" * 124),
    ],
)
def test_the_public_door_namespaces_every_sender(sender, conversation):
    assert web_conversation_id(sender) == conversation and len(conversation) <= 128


def test_only_telegram_chats_may_use_the_relay_door():
    assert relay_conversation_id("tg-12345") == "tg-12345" and relay_conversation_id("tg--100987") == "tg--100987"
    for sender in ("web-0123456789abcdef01234567", "zalo-1", "tg-", "tg-12a", "12345", "tg-1:2"):
        with pytest.raises(Refused):
            relay_conversation_id(sender)
