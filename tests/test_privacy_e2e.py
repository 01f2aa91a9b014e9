"""Acceptance: an OTP, an ID number and a card number typed into the chat (REST, Zalo and Telegram, each through
its fake platform) get the warning, and the raw numbers are in no log line, no tracker event and no question record.

The real bot runs with Rasa at DEBUG (its most talkative logging); after the conversations every file the bot
and the Telegram relay wrote in their working folder is searched: rasa.log, actions.log, the relay's log, the
SQLite tracker and question stores. The same turns are then checked against the PostgreSQL tracker store."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.replies.safety import PERSONAL_NOTE, SECRET_WARNING
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tests.telegram_support import Relay, token
from tools.launch import Bot

pytestmark = pytest.mark.e2e

APP_ID, OA_SECRET, APP_SECRET = "360846524940903967", "oa-secret-privacy", "app-secret-privacy"
CREDENTIALS = """\
bot.rasa_side.channels.rest.ValidatedRestInput:
bot.rasa_side.channels.relay.RelayInput:
bot.rasa_side.channels.zalo.ZaloInput:
  app_id: ${ZALO_APP_ID}
  oa_secret_key: ${ZALO_OA_SECRET_KEY}
  app_secret: ${ZALO_APP_SECRET}
"""
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc"]

# Numbers used nowhere else, one set per channel, so a hit can only be a leak.
REST = {"otp": "583027", "id": "012345678912", "card": "9704 3196 2285 4471", "cmnd": "174203958",
        "phone": "0913572846"}
ZALO = {"otp": "649381", "id": "079204518736", "card": "4532 8817 0926 3345"}
TELEGRAM = {"otp": "702569", "id": "038195027461", "card": "5216 7730 4418 9052"}
POSTGRES = {"otp": "815046", "id": "056318927403", "card": "9704 5528 1937 6604"}
# The issue's own examples (issue 9, item 3), typed as residents type them; every form counts as a leak.
ISSUE = {"otp": "482 913", "id": "001.234.567.890", "id_plain": "001234567890"}
ISSUE_TURNS = [
    "ma otp cua toi la 482 913",
    "001.234.567.890",
    "giá vàng hôm nay bao nhiêu, cccd 001.234.567.890",  # declined: its text is kept (masked) in the question log
    "mã hồ sơ 000.00.12.H26-240101-0001 đến đâu rồi",  # a dossier code: neither masked nor a secret
]
DOSSIER = "000.00.12.H26-240101-0001"


def secret_turns(n: dict[str, str]) -> list[str]:
    """What a resident might type: a bare code, an ID with a question, a card inside small talk."""
    return [
        f"ma otp cua toi la {n['otp']}",
        f"số căn cước của tôi là {n['id']}, quên mật khẩu vneid thì làm sao",
        f"cảm ơn nhé, thẻ ngân hàng của tôi {n['card']}",
    ]


def leaks(text: str, numbers: dict[str, str]) -> list[str]:
    """The numbers found in `text`, spaced or not, not as part of a longer number (timestamps)."""
    found = []
    for raw in numbers.values():
        for form in {raw, raw.replace(" ", "")}:
            if re.search(rf"(?<!\d){re.escape(form)}(?!\d)", text):
                found.append(form)
    return found


def joined(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@dataclass
class Run:
    workdir: Path
    replies: dict[str, list[str]] = field(default_factory=dict)  # channel -> reply text per turn


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[Run]:
    """One bot with REST and Zalo, the Telegram relay beside it; every turn, then everything stopped (logs flushed)."""
    workdir = tmp_path_factory.mktemp("privacy")
    zalo = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    zalo_server = FakeZaloServer(zalo).start()
    credentials = workdir / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    env = {
        "LOG_LEVEL": "DEBUG",  # Rasa logs every message, parse result and event at this level
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0",
        "ZALO_TOKEN_FILE": str(workdir / "tokens.json"),
        "ZALO_API_BASE_URL": zalo_server.url, "ZALO_OAUTH_BASE_URL": zalo_server.url,
    }
    bot = Bot(workdir, credentials=credentials, env=env)
    result = Run(workdir)
    try:
        with FakeTelegram() as telegram:
            bot.start()
            relay = Relay(telegram, token(77), f"{bot.url}/webhooks/rest/webhook", workdir / "relay.log").start()
            try:
                rest_turns = [*secret_turns(REST), f"cmnd {REST['cmnd']}",
                              f"giá vàng hôm nay bao nhiêu, sđt tôi {REST['phone']}"]
                result.replies["rest"] = [joined(bot.say(t, "privacy-rest")) for t in rest_turns]
                result.replies["issue"] = [joined(bot.say(t, "privacy-issue")) for t in ISSUE_TURNS]
                hook = ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET)
                result.replies["zalo"] = []
                for i, turn in enumerate(secret_turns(ZALO)):
                    user = f"77{i}"
                    assert hook.post(hook.text(user, turn)).status_code == 200
                    result.replies["zalo"].append("\n\n".join(m.text for m in zalo.wait_for(user, timeout=60)))
                result.replies["telegram"] = [joined(relay.ask(8801, t, timeout=60)) for t in secret_turns(TELEGRAM)]
            finally:
                assert relay.stop() == 0
                bot.stop()
        yield result
    finally:
        bot.stop()
        zalo_server.stop()


@pytest.mark.parametrize("channel", ["rest", "zalo", "telegram"])
def test_every_secret_gets_the_warning_first(run, channel):
    replies = run.replies[channel][:3]
    assert len(replies) == 3 and all(r.startswith(SECRET_WARNING) for r in replies), replies
    bare, with_question, in_small_talk = replies
    assert "1900 0368" in bare and "Nguồn: http" in bare  # the official channel, with its source
    assert "mật khẩu" in with_question.lower() and "Nguồn: http" in with_question  # and the question is answered
    assert "Nguồn: http" in in_small_talk


def test_an_old_id_warns_and_a_phone_number_gets_the_gentle_note(run):
    cmnd, phone = run.replies["rest"][3:]
    assert cmnd.startswith(SECRET_WARNING)
    assert phone.startswith(PERSONAL_NOTE) and "Xin lỗi" in phone  # off-topic: declined, as without the number


def test_no_raw_number_in_any_log_tracker_or_question_record(run):
    files = sorted(p for p in run.workdir.rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {"rasa.log", "actions.log", "relay.log", "tracker.db"} <= names, names
    rasa_log = (run.workdir / "rasa.log").read_text(errors="replace")
    # Rasa did log the messages (masked; its structured log escapes non-ASCII letters)
    assert "processor.message.parse" in rasa_log and json.dumps("[số định danh]")[1:-1] in rasa_log
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for numbers in (REST, ZALO, TELEGRAM, ISSUE):
            assert not leaks(text, numbers), f"{path.name} holds {leaks(text, numbers)}"


def test_the_tracker_store_holds_the_masked_messages(run):
    with sqlite3.connect(run.workdir / "tracker.db") as db:
        rows = db.execute("select sender_id, data from events where type_name = 'user'").fetchall()
    texts = {(sender, json.loads(data)["text"]) for sender, data in rows}
    assert ("web-privacy-rest", "ma otp cua toi la [mã số]") in texts  # the public door files it under web-
    assert ("zalo-770", "ma otp cua toi la [mã số]") in texts
    assert ("tg-8801", "cảm ơn nhé, thẻ ngân hàng của tôi [số thẻ]") in texts
    assert all(json.loads(data)["parse_data"]["text"] == json.loads(data)["text"] for _, data in rows)


def test_the_issues_examples_are_masked_in_the_tracker_and_the_question_log_but_a_dossier_code_is_not(run):
    otp, bare_id, declined, dossier = run.replies["issue"]
    assert otp.startswith(SECRET_WARNING) and bare_id.startswith(SECRET_WARNING) and declined.startswith(SECRET_WARNING)
    assert not dossier.startswith((SECRET_WARNING, PERSONAL_NOTE)), dossier  # answered as it is
    with sqlite3.connect(run.workdir / "tracker.db") as db:
        rows = db.execute("select data from events where type_name = 'user' and sender_id = 'web-privacy-issue'")
        texts = [json.loads(data)["text"] for (data,) in rows.fetchall()]
    assert texts == ["ma otp cua toi la [mã số]", "[số định danh]", "giá vàng hôm nay bao nhiêu, cccd [số định danh]",
                     f"mã hồ sơ {DOSSIER} đến đâu rồi"]
    with sqlite3.connect(run.workdir / "store.db") as db:
        kept = [text for (text,) in db.execute("select text from question_log where text is not null")]
    assert "giá vàng hôm nay bao nhiêu, cccd [số định danh]" in kept, kept
    assert not any(leaks(text, ISSUE) for text in kept)


def psql(sql: str) -> str:
    return subprocess.run([*PG, sql], capture_output=True, text=True, check=True).stdout


def test_the_postgresql_tracker_store_holds_no_raw_number(tmp_path):
    stores = (
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
        "  db: test\n  username: postgres\n  password: ''\n"
    )
    sender = "web-privacy-pg-" + uuid.uuid4().hex[:10]  # web-: the public door's namespace, as stored
    psql("select 1")  # PostgreSQL must be there: fail, never skip
    bot = Bot(tmp_path, stores=stores, env={"LOG_LEVEL": "DEBUG"})
    try:
        bot.start()
        replies = [joined(bot.say(turn, sender)) for turn in secret_turns(POSTGRES)]
        assert all(r.startswith(SECRET_WARNING) for r in replies)
        events = psql(f"select data from events where sender_id = '{sender}'")
        assert "ma otp cua toi la [m" in events and not leaks(events, POSTGRES)
    finally:
        bot.stop()
        psql(f"delete from events where sender_id = '{sender}'")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert not leaks(path.read_bytes().decode("utf-8", errors="replace"), POSTGRES), path.name
