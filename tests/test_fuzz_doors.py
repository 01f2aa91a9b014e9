"""Fuzzing the doors' parsers (issue 9): the REST and relay body reader, the web chat inbox and file names, the
Telegram webhook's update reader, each with 10,000 generated inputs (Hypothesis, derandomized so CI runs the same
cases; no example database). A parser may accept or refuse, never raise. A smaller sample goes over HTTP through
the doors as Rasa mounts them (tests/fakes/doors_app.py): no 500."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st
from telegram import Bot as TelegramBot, Update

from bot.rasa_side.channels.static_files import STATIC_DIR, resolve
from bot.rasa_side.channels.validation import (
    MAX_SENDER_CHARS,
    SENDER_CHARS,
    Refused,
    read_turn,
    relay_conversation_id,
    web_conversation_id,
)
from bot.rasa_side.channels.webchat_inbox import read_inbox
from bot.relay.webhook import read_update
from bot.store.tickets import Tickets
from tests.test_doors import PAGE_ID, RELAY_SECRET, doors  # noqa: F401  (the module fixture)

FUZZ = settings(max_examples=10_000, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
OVER_HTTP = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))

# JSON values of every kind, nested a little; texts with the characters that break things (NUL, surrogates, RTL).
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
senders = st.one_of(st.text(max_size=140), st.from_regex(r"(tg-|zalo-|web-)?[A-Za-z0-9_.:-]{0,130}", fullmatch=True),
                    st.integers(), json_values)
bodies = st.fixed_dictionaries({"sender": senders, "message": st.one_of(st.text(max_size=200), json_values)},
                               optional={"metadata": json_values, "input_channel": json_values})


def deep(n: int, opener: str) -> bytes:
    return (opener * n).encode()


raw_bodies = st.one_of(
    st.binary(max_size=300),
    bodies.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(deep, st.integers(1, 70_000), st.sampled_from(["[", '{"a":', '{"sender": "x", "message": ['])),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@FUZZ
@given(raw_bodies)
def test_the_rest_and_relay_body_reader_accepts_or_refuses(raw):
    try:
        turn = read_turn(raw)
    except Refused as refused:
        assert refused.status in (400, 413) and refused.reason
        return
    assert SENDER_CHARS.fullmatch(turn.sender) and isinstance(turn.message, str)
    conversation = web_conversation_id(turn.sender)
    assert conversation.startswith("web-") and len(conversation) <= MAX_SENDER_CHARS + 4
    try:
        assert relay_conversation_id(turn.sender).startswith("tg-")
    except Refused as refused:
        assert refused.status == 400


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('inbox') / 'store.db'}"
    Tickets.open(url)
    return url


texts = st.one_of(st.none(), st.text(max_size=60), st.from_regex(r"web-[0-9a-f]{20,30}", fullmatch=True),
                  st.from_regex(r"[0-9]{0,20}", fullmatch=True))


@FUZZ
@given(sender=texts, after=texts, name=st.text(max_size=80))
def test_the_web_chat_inbox_and_file_names_accept_or_refuse(store_url, sender, after, name):
    status, body = read_inbox(store_url, sender, after)
    assert (status, set(body)) in ((200, {"messages", "open"}), (400, {"error"}))
    path = resolve(name)
    assert path is None or path.parent == STATIC_DIR.resolve()


BOT = TelegramBot("7000001:AAF-fake_token_for_fuzzing_0001xyz")
users = st.fixed_dictionaries({"id": st.integers(), "is_bot": st.booleans(), "first_name": st.text(max_size=10)})
chats = st.fixed_dictionaries({"id": st.integers(), "type": st.sampled_from(["private", "group", "supergroup", "x"])})
messages = st.fixed_dictionaries(
    {"message_id": st.integers(), "date": st.integers(), "chat": st.one_of(chats, json_values)},
    optional={"text": st.text(max_size=50), "from": users, "entities": json_values, "reply_to_message": json_values},
)
updates = st.fixed_dictionaries(
    {"update_id": st.one_of(st.integers(), json_values)},
    optional={"message": st.one_of(messages, json_values), "edited_message": messages,
              "callback_query": json_values},
)
update_bodies = st.one_of(
    updates.map(lambda u: json.dumps(u).encode()),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(deep, st.integers(1, 70_000), st.sampled_from(["[", '{"message":'])),
)


@FUZZ
@given(update_bodies)
def test_the_telegram_webhook_reads_an_update_or_refuses(body):
    update = read_update(body, BOT)
    assert update is None or isinstance(update, Update)


# --- over HTTP, through the doors as Rasa mounts them ------------------------------------------------------------

@OVER_HTTP
@given(raw=raw_bodies.filter(lambda b: len(b) < 100_000), door=st.sampled_from(["rest", "relay"]))
def test_no_body_makes_a_door_answer_500(doors, raw, door):  # noqa: F811
    r = requests.post(f"{doors.url}/webhooks/{door}/webhook", data=raw,
                      headers={"X-Relay-Secret": RELAY_SECRET, "Content-Type": "application/json"}, timeout=10)
    assert r.status_code in (200, 400, 413), (r.status_code, r.text[:200])


@OVER_HTTP
@given(after=st.text(max_size=30),
       sender=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_no_inbox_query_makes_the_page_answer_500(doors, after, sender):  # noqa: F811
    r = requests.get(f"{doors.url}/webhooks/webchat/inbox", params={"after": after},
                     headers={"X-Webchat-Sender": sender.strip() or PAGE_ID}, timeout=10)
    assert r.status_code in (200, 400), (r.status_code, r.text[:200])

