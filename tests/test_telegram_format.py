"""The Telegram channel's pure rules: splitting, keyboards, callback data, groups, secrets, settings."""

from __future__ import annotations

import json
import random

import pytest
import yaml

from bot.core.copy import BUSY_APOLOGY as APOLOGY, WELCOME
from bot.core.privacy import mask
from bot.core.settings import DEFAULT_RASA_URL, ROOT, ConfigError, TelegramSettings
from bot.core.text import split_text as split_by
from bot.messengers.telegram_format import (
    BUTTONS_ONLY,
    GROUP_HINT,
    MAX_CALLBACK_BYTES,
    MAX_MESSAGE,
    SHORT_KEY_PREFIX,
    Button,
    CallbackStore,
    addressed_text,
    chat_tag,
    keyboard_rows,
    secret_matches,
    sender_id,
    tg_len,
    to_telegram,
)

TOKEN = "123456789:AAH-test_token_for_unit_tests_0123"
SECRET = "s3cret-token_with-enough_length"


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The one splitter (bot.core.text) as Telegram uses it: UTF-16 units."""
    return split_by(text, limit, size=tg_len)


def squash(text: str) -> str:
    """The text without whitespace: splitting may only drop separators, never content."""
    return "".join(text.split())


# --- splitting ----------------------------------------------------------------------------------


def test_short_text_is_one_message_untouched():
    assert split_text("Xin chào\n\nbạn") == ["Xin chào\n\nbạn"]
    assert split_text("   ") == [] and split_text("") == []


def test_6000_characters_of_paragraphs_split_at_a_blank_line():
    paragraphs = [f"Bước {i}: " + "hướng dẫn chi tiết " * 14 + "xong." for i in range(1, 23)]  # ~6,500 chars
    text = "\n\n".join(paragraphs)
    assert len(text) > 6000
    parts = split_text(text)
    assert len(parts) == 2
    assert all(tg_len(p) <= MAX_MESSAGE for p in parts)
    assert "\n\n".join(parts) == text  # cut exactly at one paragraph boundary
    assert all(p.startswith("Bước ") for p in parts)


def test_paragraphs_are_packed_greedily():
    a, b, c = "a" * 2000, "b" * 2000, "c" * 2000
    assert split_text(f"{a}\n\n{b}\n\n{c}") == [f"{a}\n\n{b}", c]


def test_one_long_paragraph_splits_at_line_breaks():
    lines = [f"{i}. " + "làm theo hướng dẫn " * 9 + "xong." for i in range(40)]  # one paragraph, ~7,900 chars
    parts = split_text("\n".join(lines))
    assert len(parts) == 2 and all(tg_len(p) <= MAX_MESSAGE for p in parts)
    assert "\n".join(parts) == "\n".join(lines)


def test_one_long_line_splits_between_words_and_one_long_word_anywhere():
    words = " ".join(["dịchvụcông"] * 900)  # 9,899 chars, no line break
    parts = split_text(words)
    assert all(tg_len(p) <= MAX_MESSAGE for p in parts) and " ".join(parts) == words
    blob = "x" * 9000
    assert split_text(blob) == ["x" * 4096, "x" * 4096, "x" * 808]


def test_limit_counts_utf16_units_and_never_cuts_an_emoji_in_half():
    text = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(text)
    assert [tg_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text


@pytest.mark.parametrize("seed", range(20))
def test_random_texts_keep_every_word_and_respect_the_limit(seed):
    rng = random.Random(seed)
    vocab = ["VNeID", "mật khẩu", "hóa đơn", "😀", "\n", "\n\n", "Cổng DVC", "a" * rng.randint(1, 300), " "]
    text = "".join(rng.choice(vocab) for _ in range(rng.randint(1, 3000)))
    limit = rng.choice([50, 300, 4096])
    parts = split_text(text, limit)
    assert all(p and p == p.strip() and tg_len(p) <= limit for p in parts)
    assert squash("".join(parts)) == squash(text)


# --- callback data ------------------------------------------------------------------------------


def test_short_payloads_travel_as_they_are():
    store = CallbackStore()
    payload = '/ask_question{"entry_id": "vneid-quen-mat-khau"}'
    assert store.encode(payload) == payload and store.decode(payload) == payload
    assert len(store) == 0


def test_long_payloads_get_a_short_key_resolved_on_press():
    store = CallbackStore()
    payload = '/ask_question{"entry_id": "dich-vu-cong-huong-dan-nop-ho-so-truc-tuyen-muc-do-toan-trinh"}'
    assert len(payload.encode()) > MAX_CALLBACK_BYTES
    key = store.encode(payload)
    assert key.startswith(SHORT_KEY_PREFIX) and len(key.encode()) <= MAX_CALLBACK_BYTES
    assert store.encode(payload) == key  # same payload, same key: no growth
    assert store.decode(key) == payload
    assert store.decode(SHORT_KEY_PREFIX + "0" * 24) is None  # unknown (e.g. after a restart)


def test_multibyte_payload_is_measured_in_bytes():
    store = CallbackStore()
    payload = "/chọn{" + "ư" * 30 + "}"  # 37 characters, 67 bytes
    assert len(payload) <= 64 < len(payload.encode())
    assert store.decode(store.encode(payload)) == payload and store.encode(payload) != payload


def test_a_payload_that_looks_like_a_key_is_keyed_too():
    store = CallbackStore()
    sneaky = SHORT_KEY_PREFIX + "abc"
    assert store.decode(store.encode(sneaky)) == sneaky


def test_store_forgets_the_least_recently_used():
    store = CallbackStore(capacity=2)
    keys = [store.encode("/x" + str(i) * 70) for i in range(3)]
    assert store.decode(keys[0]) is None and store.decode(keys[2]) is not None and len(store) == 2


# --- Rasa messages -> Telegram ------------------------------------------------------------------

ANSWER_BUTTONS = [
    {"title": "Kích hoạt tài khoản định danh điện tử", "payload": '/ask_question{"entry_id": "vneid-kich-hoat"}'},
    {"title": "Gặp người hỗ trợ", "payload": "/request_human"},
    {"title": "👍 Hữu ích", "payload": '/feedback{"helpful":"yes"}'},
    {"title": "👎 Chưa đúng", "payload": '/feedback{"helpful":"no"}'},
]


def test_buttons_become_rows_with_the_feedback_pair_side_by_side():
    rows = keyboard_rows(ANSWER_BUTTONS, CallbackStore())
    assert [[b.title for b in row] for row in rows] == [
        ["Kích hoạt tài khoản định danh điện tử"],
        ["Gặp người hỗ trợ"],
        ["👍 Hữu ích", "👎 Chưa đúng"],
    ]
    assert rows[2][0].callback_data == '/feedback{"helpful":"yes"}'


def test_link_buttons_and_untitled_buttons():
    rows = keyboard_rows(
        [{"title": "Cổng DVC", "url": "https://dichvucong.gov.vn", "type": "web_url"}, {"title": "", "payload": "/x"}],
        CallbackStore(),
    )
    assert rows == ((Button("Cổng DVC", url="https://dichvucong.gov.vn"),),)


def test_rasa_messages_to_telegram():
    store = CallbackStore()
    long_text = "\n\n".join(["đoạn văn " * 100] * 12)  # ~10,800 chars
    out = to_telegram(
        [
            {"recipient_id": "tg-1", "text": "Câu trả lời"},
            {"recipient_id": "tg-1", "text": long_text, "buttons": ANSWER_BUTTONS},
            {"recipient_id": "tg-1", "image": "https://example.gov.vn/a.png"},
        ],
        store,
    )
    assert out[0].text == "Câu trả lời" and not out[0].keyboard
    middle = out[1:-1]
    assert len(middle) == 3 and all(tg_len(o.text) <= MAX_MESSAGE for o in middle)
    assert [bool(o.keyboard) for o in middle] == [False, False, True]  # buttons on the last piece
    assert out[-1].text == "https://example.gov.vn/a.png"


def test_buttons_without_text():
    store = CallbackStore()
    joined = to_telegram([{"text": "Bạn chọn"}, {"buttons": ANSWER_BUTTONS[:1]}], store)
    assert len(joined) == 1 and joined[0].keyboard
    alone = to_telegram([{"buttons": ANSWER_BUTTONS[:1]}], store)
    assert alone[0].text == BUTTONS_ONLY and alone[0].keyboard
    assert to_telegram([], store) == [] and to_telegram([{"text": "  "}], store) == []


# --- ids, groups, secrets -----------------------------------------------------------------------


def test_sender_and_log_tag():
    assert sender_id(42) == "tg-42" and sender_id(-100123) == "tg--100123"
    tag = chat_tag(123456789, TOKEN)
    assert tag == chat_tag(123456789, TOKEN) != chat_tag(123456780, TOKEN) != chat_tag(123456789, "other")
    assert tag.isalpha() and "123456789" not in tag and mask(tag) == tag


@pytest.mark.parametrize(
    ("text", "mentions", "replied", "expected"),
    [
        ("@dvc_test_bot quên mật khẩu VNeID", ["@dvc_test_bot"], False, "quên mật khẩu VNeID"),
        ("cho hỏi @DVC_Test_Bot, tra cứu hóa đơn", ["@DVC_Test_Bot"], False, "cho hỏi tra cứu hóa đơn"),
        ("tra cứu hóa đơn thế nào", [], True, "tra cứu hóa đơn thế nào"),
        ("@dvc_test_bot", ["@dvc_test_bot"], False, ""),
        ("mai họp tổ dân phố nhé", [], False, None),
        ("@dvc_test_bot_2 ơi", ["@dvc_test_bot_2"], False, None),
        ("hỏi @ban_khac về VNeID", ["@ban_khac"], False, None),
    ],
)
def test_group_messages_are_for_the_bot_only_when_addressed(text, mentions, replied, expected):
    assert addressed_text(text, mentions, "dvc_test_bot", replied) == expected


def test_secret_comparison():
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET) and not secret_matches("", SECRET)
    assert not secret_matches(SECRET + "x", SECRET) and not secret_matches(SECRET.upper(), SECRET)
    assert not secret_matches("", "")


def test_texts_are_vietnamese_and_fit_telegram():
    assert WELCOME.startswith("Xin chào") and APOLOGY.startswith("Xin lỗi")
    assert "VNeID" in WELCOME and "Hóa đơn điện tử" in WELCOME and tg_len(WELCOME) < MAX_MESSAGE


def test_rasas_greeting_says_what_the_channels_say():
    """One greeting (bot/core/copy.py): Telegram's /start, Zalo's fallback welcome and domain.yml's utter_greet."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert [r["text"] for r in domain["responses"]["utter_greet"]] == [WELCOME]


def test_channel_sections_are_read_leniently_and_checked_by_the_relay():
    """Settings.telegram is read for every process (team notices need only the token); the relay's check refuses."""
    s = TelegramSettings.read({"TELEGRAM_BOT_TOKEN": TOKEN, "RELAY_SECRET": RELAY, "TELEGRAM_PORT": "http",
                               "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/"})
    assert (s.token, s.api_base_url) == (TOKEN, "http://127.0.0.1:9") and "TELEGRAM_PORT" in s.problem
    with pytest.raises(ConfigError, match="TELEGRAM_PORT"):
        s.checked()
    assert TelegramSettings.read({}).token == "" and TOKEN not in repr(s)


# --- settings -----------------------------------------------------------------------------------


RELAY = "relay-secret-for-tests_0123456789"


def test_settings_defaults_and_secrets_out_of_repr():
    s = TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "RELAY_SECRET": RELAY})
    assert (s.mode, s.rasa_url, s.rasa_timeout, s.api_base_url) == (
        "polling",
        DEFAULT_RASA_URL,
        10.0,
        "https://api.telegram.org",
    )
    s = TelegramSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_PORT": "9000",
            "RASA_REST_URL": "http://rasa:5005/",
            "RELAY_SECRET": RELAY,
        }
    )
    assert s.webhook_path == "/tg/hook" and s.port == 9000 and s.rasa_url == "http://rasa:5005/webhooks/relay/webhook"
    assert TOKEN not in repr(s) and SECRET not in repr(s) and RELAY not in repr(s) and s.relay_secret == RELAY


@pytest.mark.parametrize("given, used", [
    ("http://rasa:5005", "http://rasa:5005/webhooks/relay/webhook"),
    # An older setting that names the public door: there a chat would be web-tg-…, so the relay door is used.
    ("http://127.0.0.1:5005/webhooks/rest/webhook", "http://127.0.0.1:5005/webhooks/relay/webhook"),
    ("https://x.gov.vn/bot/webhooks/rest/webhook", "https://x.gov.vn/bot/webhooks/relay/webhook"),
    ("https://x.gov.vn/bot/webhooks/relay/webhook", "https://x.gov.vn/bot/webhooks/relay/webhook"),
])
def test_the_relay_always_speaks_to_the_relay_door(given, used):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "RELAY_SECRET": RELAY, "RASA_REST_URL": given}
    assert TelegramSettings.from_env(env).rasa_url == used


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "abc"}, "does not look like a token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET},
            "TELEGRAM_WEBHOOK_URL",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": "https://x.vn/h"},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_MODE": "webhook",
                "TELEGRAM_WEBHOOK_URL": "https://x.vn/h",
                "TELEGRAM_WEBHOOK_SECRET": "short",
            },
            "16-256",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_PORT": "http"}, "TELEGRAM_PORT"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_RASA_TIMEOUT": "-1"}, "TELEGRAM_RASA_TIMEOUT"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "RASA_REST_URL": "localhost:5005"}, "RASA_REST_URL"),
    ],
)
def test_settings_problems_are_named(env, says):
    with pytest.raises(ConfigError, match=says):
        TelegramSettings.from_env({"RELAY_SECRET": RELAY, **env})


@pytest.mark.parametrize("secret", [None, "", "   ", "short-secret"])
def test_the_relay_needs_the_shared_secret_of_rasas_relay_door(secret):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN} | ({} if secret is None else {"RELAY_SECRET": secret})
    with pytest.raises(ConfigError, match="RELAY_SECRET"):
        TelegramSettings.from_env(env)


def test_error_messages_never_echo_the_token():
    with pytest.raises(ConfigError) as err:
        TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "123:short"})
    assert "123:short" not in str(err.value)
    assert json.dumps(str(err.value))  # printable


def test_a_group_is_one_shared_conversation_and_the_hint_says_so():
    # Decision (docs/security.md, "Doors"): every member of a group speaks in tg-<group id>; the hint tells them
    # that everything there is seen by the group and that personal matters belong in a private chat.
    assert sender_id(-100987) == "tg--100987"
    hint = GROUP_HINT.format(username="hoi_dap_bot")
    assert "dùng chung một cuộc trò chuyện" in hint and "nhắn riêng" in hint and "gặp cán bộ" in hint
