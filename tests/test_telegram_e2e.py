"""End to end over Telegram: the real Rasa model and action server (`Bot`), the relay as a real process
(`python -m bot.relay`), and a local fake of the Telegram Bot API standing in for Telegram.
Users' updates are injected into the fake; the assertions read what the relay sent to it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from bot.core.copy import BUSY_APOLOGY as APOLOGY, WELCOME
from bot.messengers.telegram_format import EDITED, GROUP_HINT, MAX_MESSAGE, TEXT_ONLY, tg_len
from tests.fakes.rasa_rest import FakeRasa
from tests.fakes.telegram_api import FakeTelegram
from tests.parity import IDS as PARITY_IDS, five_questions
from tests.telegram_support import SECRET, Relay, closed_port_url, token
from tools.launch import Bot, free_port

pytestmark = pytest.mark.e2e

BOT_USERNAME = "dvc_test_bot"


def joined(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def keyboard(message: dict) -> list[list[str]]:
    """Button titles, row by row."""
    return [[b["text"] for b in row] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])]


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:
    running = Bot(tmp_path_factory.mktemp("tg-bot"))
    try:
        running.start()
        running.say("quen mat khau vneid", "tg-warmup")  # the action server loads its model on first use
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as api:
        yield api


@pytest.fixture(scope="module")
def relay(bot, fake, tmp_path_factory) -> Iterator[Relay]:
    """The relay in polling mode (the default), talking to the real bot."""
    running = Relay(fake, token(1), f"{bot.url}/webhooks/rest/webhook", tmp_path_factory.mktemp("tg") / "relay.log")
    running.start()
    yield running
    assert running.stop() == 0, running.log.read_text(errors="replace")[-3000:]  # SIGTERM: clean exit


def test_start_and_help_welcome_in_vietnamese(relay):
    assert relay.ask(101, "/start")[0]["text"] == WELCOME
    assert relay.ask(101, "/help")[0]["text"] == WELCOME
    commands = relay.fake.state(relay.token).commands
    assert [c["command"] for c in commands] == ["start", "help"]


def test_vneid_question_with_diacritics_gets_an_answer_with_buttons_after_typing(relay):
    chat = 102
    [reply] = relay.ask(chat, "Quên mật khẩu VNeID thì lấy lại thế nào?")
    assert "Nguồn: http" in reply["text"] and "mật khẩu" in reply["text"].lower()
    rows = keyboard(reply)
    assert ["Gặp người hỗ trợ"] in rows and ["👍 Hữu ích", "👎 Chưa đúng"] in rows
    assert reply.get("link_preview_options") == {"is_disabled": True} and "parse_mode" not in reply
    calls = [(c.method, c.params.get("action")) for c in relay.fake.calls(relay.token, chat_id=chat)]
    assert calls.index(("sendChatAction", "typing")) < calls.index(("sendMessage", None))


def test_vneid_question_without_diacritics(relay):
    reply = joined(relay.ask(103, "kich hoat tai khoan dinh danh dien tu"))
    assert "Nguồn: http" in reply and "kích hoạt" in reply.lower()


def test_e_invoice_question(relay):
    reply = joined(relay.ask(104, "tra cuu hoa don dien tu o dau"))
    assert "Nguồn: http" in reply and "hóa đơn" in reply.lower()


def test_out_of_scope_is_declined(relay):
    [reply] = relay.ask(105, "giá vàng SJC hôm nay bao nhiêu một lượng")
    assert reply["text"].startswith("Xin lỗi") and "Nguồn:" not in reply["text"]
    assert keyboard(reply) == [["Gặp người hỗ trợ"]]


def test_asking_for_a_person(relay):
    chat, fake = 106, relay.fake
    [question] = relay.ask(chat, "tôi muốn nói chuyện với người thật")
    assert "xã/phường nào" in question["text"] and ["Không rõ / nơi khác"] in keyboard(question)
    before = len(fake.sent_messages(relay.token, chat))
    fake.press_button(relay.token, chat, title="Không rõ / nơi khác")
    reply = joined(relay.replies(chat, before))
    assert "Tổ công nghệ số cộng đồng" in reply and "Công an xã/phường" in reply and "HT-" in reply


def test_button_presses_round_trip(relay):
    chat, fake = 107, relay.fake
    # an entry without steps: its spare button slots carry follow-up entries (one with steps has
    # "Hướng dẫn từng bước" instead)
    [answer] = relay.ask(chat, "VNeID là cái ứng dụng gì thế, dùng vào việc gì?")
    before = len(fake.sent_messages(relay.token, chat))
    fake.press_button(relay.token, chat, title="👍 Hữu ích")
    assert "Cảm ơn" in joined(relay.replies(chat, before))
    # a follow-up button asks for another entry: Rasa answers with that entry
    follow = next(
        b
        for row in answer["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("/ask_question")
    )
    before = len(fake.sent_messages(relay.token, chat))
    fake.press_button(relay.token, chat, data=follow["callback_data"])
    reply = joined(relay.replies(chat, before))
    assert "Nguồn: http" in reply and reply.startswith(follow["text"].rstrip("…"))
    queries = [q for q in fake.state(relay.token).callback_queries.values() if q["chat_id"] == chat]
    assert len(queries) == 2 and all(q["answered"] for q in queries)  # answerCallbackQuery for every press


def test_stickers_photos_voice_files_and_edits_get_a_note(relay):
    chat, fake = 108, relay.fake
    for send in (fake.send_sticker, fake.send_photo, fake.send_voice, fake.send_document):
        before = len(fake.sent_messages(relay.token, chat))
        send(relay.token, chat)
        assert relay.replies(chat, before)[0]["text"] == TEXT_ONLY
    before = len(fake.sent_messages(relay.token, chat))
    question = fake.send_text(relay.token, chat, "quen mat khau vneid")["message"]
    relay.replies(chat, before)
    before = len(fake.sent_messages(relay.token, chat))
    fake.edit_text(relay.token, chat, question["message_id"], "quen passcode vneid")
    assert [m["text"] for m in relay.replies(chat, before)] == [EDITED]


def test_groups_answer_only_when_addressed(relay):
    group, fake = -1001234, relay.fake
    fake.add_bot_to_group(relay.token, group)
    assert relay.replies(group, 0)[0]["text"] == GROUP_HINT.format(username=BOT_USERNAME)
    fake.send_text(relay.token, group, "mai họp tổ dân phố lúc 8 giờ nhé", chat_type="group", from_id=501)
    fake.send_sticker(relay.token, group, chat_type="group")
    asked = fake.send_text(relay.token, group, f"@{BOT_USERNAME} quen mat khau vneid", chat_type="group", from_id=502)
    [answer] = relay.replies(group, 1)
    assert "Nguồn: http" in answer["text"]
    assert answer["reply_parameters"]["message_id"] == asked["message"]["message_id"]  # quotes the asker
    # replying to the bot's answer counts as addressing it
    follow = fake.send_text(
        relay.token,
        group,
        "con passcode thi sao",
        chat_type="group",
        from_id=502,
        reply_to=fake.bot_messages(relay.token, group)[-1]["message_id"],
    )
    [second] = relay.replies(group, 2)
    assert second["reply_parameters"]["message_id"] == follow["message"]["message_id"]
    assert len(fake.sent_messages(relay.token, group)) == 3  # the chatter and the sticker got nothing


def test_personal_numbers_and_the_token_stay_out_of_the_relay_log(relay):
    relay.ask(109, "so cccd cua toi la 001234567890, sdt 0912345678, quen mat khau vneid")
    log = relay.log.read_text(errors="replace")
    assert "chars in" in log  # the turn was logged (at DEBUG, with its masked text)
    assert "001234567890" not in log and "0912345678" not in log and "[số định danh]" in log
    assert relay.token not in log and relay.token.split(":")[1] not in log


FIVE_QUESTIONS = five_questions()


@pytest.mark.parametrize("question", FIVE_QUESTIONS, ids=PARITY_IDS)
def test_same_answer_as_rest(bot, relay, question):
    chat = 200 + FIVE_QUESTIONS.index(question)
    rest = bot.say(question, f"rest-same-{chat}")
    telegram = relay.ask(chat, question, count=len(rest))
    assert joined(telegram) == joined(rest)
    assert [keyboard(m) and [b for row in keyboard(m) for b in row] for m in telegram] == [
        [b["title"] for b in m.get("buttons", [])] for m in rest
    ]
    if question == FIVE_QUESTIONS[-1]:
        assert joined(rest).startswith("Xin lỗi")


def test_webhook_mode_checks_the_secret(bot, fake, tmp_path):
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    relay = Relay(
        fake,
        token(2),
        f"{bot.url}/webhooks/rest/webhook",
        tmp_path / "webhook.log",
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL=hook,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_LISTEN="127.0.0.1",
        TELEGRAM_PORT=str(port),
    )
    relay.start()
    try:
        webhook = fake.state(relay.token).webhook
        assert webhook["url"] == hook and webhook["secret_token"] == SECRET
        # Telegram (the fake) delivers with the secret: accepted and answered
        answer = joined(relay.ask(301, "quen mat khau vneid"))
        assert "Nguồn: http" in answer
        assert fake.state(relay.token).deliveries[-1][1] == 200
        # anyone else: refused, and nothing reaches the chat
        update = {
            "update_id": 999,
            "message": {
                "message_id": 50,
                "date": int(time.time()),
                "text": "quen mk vneid",
                "chat": {"id": 301, "type": "private"},
                "from": {"id": 301, "is_bot": False, "first_name": "X"},
            },
        }
        before = len(fake.sent_messages(relay.token, 301))
        for headers in (
            {},
            {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret_0123456789"},
            {"X-Telegram-Bot-Api-Secret-Token": SECRET.upper()},
        ):
            r = requests.post(hook, json=update, headers=headers, timeout=10)
            assert r.status_code == 403, (headers, r.status_code)
        time.sleep(1.0)
        assert len(fake.sent_messages(relay.token, 301)) == before
        assert requests.get(hook, timeout=10).status_code == 405
        assert "quen mk vneid" not in relay.log.read_text(errors="replace")
    finally:
        assert relay.stop() == 0


def test_rasa_down_gets_an_apology_and_the_relay_keeps_going(fake, tmp_path):
    relay = Relay(fake, token(3), closed_port_url(), tmp_path / "down.log").start()
    try:
        assert [m["text"] for m in relay.ask(401, "quen mat khau vneid")] == [APOLOGY]
        assert [m["text"] for m in relay.ask(401, "tra cuu hoa don")] == [APOLOGY]  # the next update too
        assert relay.ask(401, "/help")[0]["text"] == WELCOME
        assert relay.alive
    finally:
        assert relay.stop() == 0


def test_slow_rasa_gets_an_apology_in_time_and_long_answers_are_split(fake, tmp_path):
    long_answer = "\n\n".join(f"Bước {i}: " + "làm theo hướng dẫn trên ứng dụng. " * 9 + "Xong." for i in range(1, 21))
    assert 6000 <= len(long_answer) < 8192

    def reply(sender: str, message: str) -> list[dict]:
        if message == "chậm":
            time.sleep(4)
            return [{"recipient_id": sender, "text": "muộn quá"}]
        return [
            {
                "recipient_id": sender,
                "text": long_answer,
                "buttons": [{"title": "Gặp người hỗ trợ", "payload": "/request_human"}],
            }
        ]

    with FakeRasa(reply) as rasa:
        relay = Relay(fake, token(4), rasa.url, tmp_path / "fake-rasa.log", TELEGRAM_RASA_TIMEOUT="1").start()
        try:
            parts = relay.ask(501, "hướng dẫn dài", count=2)
            assert len(parts) == 2 and all(tg_len(p["text"]) <= MAX_MESSAGE for p in parts)
            assert "\n\n".join(p["text"] for p in parts) == long_answer.strip()  # cut at a paragraph boundary
            assert [bool(keyboard(p)) for p in parts] == [False, True]  # buttons under the last part
            started = time.monotonic()
            assert [m["text"] for m in relay.ask(502, "chậm")] == [APOLOGY]
            assert time.monotonic() - started < 3.5  # the apology did not wait for Rasa
            assert rasa.requests[-1] == {"sender": "tg-502", "message": "chậm"}
        finally:
            assert relay.stop() == 0


def test_resident_walks_the_vneid_activation_guide_and_gets_a_person_when_stuck(relay):
    """The issue's acceptance path on Telegram: every step by button, a typed 'tiep' without diacritics,
    the finish with its source; then stuck at a step → that step's common problems → a person."""
    chat, fake = 110, relay.fake

    def press(title: str) -> list[dict]:
        before = len(fake.sent_messages(relay.token, chat))
        fake.press_button(relay.token, chat, title=title)
        return relay.replies(chat, before)

    [answer] = relay.ask(chat, "cách kích hoạt tài khoản định danh điện tử trên VNeID sau khi được duyệt")
    assert answer["text"].startswith("Kích hoạt") and ["Hướng dẫn từng bước"] in keyboard(answer)
    [step] = press("Hướng dẫn từng bước")
    total = int(step["text"].split("Bước 1/")[1].split(":")[0])
    assert total >= 3 and "Nguồn: http" in step["text"]
    [step] = relay.ask(chat, "tiep")  # typed, no diacritics
    assert "Bước 2/" in step["text"]
    for n in range(3, total + 1):
        [step] = press("Tiếp ▶")
        assert f"Bước {n}/{total}" in step["text"]
    [done] = press("Xong ✓")
    assert done["text"].startswith("Xong rồi!") and "Nguồn: http" in done["text"]

    [step] = press("Làm lại từ đầu")
    assert "Bước 1/" in step["text"]
    [step] = press("Tiếp ▶")
    [stuck] = press("Bị kẹt ở bước này")
    assert "Bước 2/" in stuck["text"] and "người ta hay gặp" in stuck["text"] and "12 số" in stuck["text"]
    [commune] = press("Gặp người hỗ trợ")
    assert "xã/phường nào" in commune["text"]
    reply = joined(press("Không rõ / nơi khác"))
    assert "HT-" in reply and "Tổ công nghệ số cộng đồng" in reply
