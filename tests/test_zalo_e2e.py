"""End to end over Zalo: the trained model and the action server, started for real with the Zalo channel, talking to
the local fake Zalo (signed webhooks in, the OA send-message and token endpoints out)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, Sent, ZaloWebhook
from tests.parity import IDS as PARITY_IDS, five_questions
from tools.launch import Bot

pytestmark = pytest.mark.e2e

APP_ID, OA_SECRET, APP_SECRET = "360846524940903967", "oa-secret-e2e", "app-secret-e2e"
CREDENTIALS = """\
bot.rasa_side.channels.rest.ValidatedRestInput:
bot.rasa_side.channels.zalo.ZaloInput:
  app_id: ${ZALO_APP_ID}
  oa_secret_key: ${ZALO_OA_SECRET_KEY}
  app_secret: ${ZALO_APP_SECRET}
"""


@dataclass
class ZaloBot:
    bot: Bot
    fake: FakeZalo
    hook: ZaloWebhook
    token_file: Path

    def ask(self, user: str, text: str, count: int = 1) -> list[Sent]:
        """Send a text as Zalo would and return what the OA answered."""
        r = self.hook.post(self.hook.text(user, text))
        assert r.status_code == 200, r.text
        return self.fake.wait_for(user, count, timeout=60, settle=0.6)

    def user_turns(self, user: str) -> list[str]:
        tracker = self.bot.api(f"/conversations/zalo-{user}/tracker").json()  # Rasa's API, with the run's token
        return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def joined(sent: list[Sent]) -> str:
    return "\n\n".join(m.text for m in sent)


@pytest.fixture(scope="module")
def zb(tmp_path_factory) -> Iterator[ZaloBot]:
    tmp = tmp_path_factory.mktemp("zalo-bot")
    fake = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(fake).start()
    credentials = tmp / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    env = {
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0", "ZALO_TOKEN_FILE": str(tmp / "tokens.json"),
        "ZALO_API_BASE_URL": server.url, "ZALO_OAUTH_BASE_URL": server.url,
    }
    bot = Bot(tmp, credentials=credentials, env=env)
    try:
        bot.start()
        hook = ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET)
        yield ZaloBot(bot, fake, hook, tmp / "tokens.json")
    finally:
        bot.stop()
        server.stop()


def assert_zalo_buttons(message: Sent) -> None:
    assert 1 <= len(message.buttons) <= 5
    assert all(b["type"] == "oa.query.hide" and 0 < len(b["title"]) <= 20 and b["payload"] for b in message.buttons)


def test_vneid_question_with_diacritics(zb):
    sent = zb.ask("3001", "Làm thế nào để kích hoạt tài khoản định danh điện tử?")
    reply = joined(sent)
    assert "Nguồn: http" in reply and "kích hoạt" in reply.lower()
    assert all(len(m.text) <= 2000 for m in sent)
    assert_zalo_buttons(sent[-1])
    assert any(b["payload"] == "/request_human" for b in sent[-1].buttons)


def test_vneid_question_without_diacritics(zb):
    reply = joined(zb.ask("3002", "quen mk vneid thi lam sao"))
    assert "Nguồn: http" in reply and "mật khẩu" in reply.lower()


def test_e_invoice_question_and_pressing_a_button(zb):
    sent = zb.ask("3003", "tra cuu hoa don dien tu o dau")
    assert "Nguồn: http" in joined(sent) and "hóa đơn" in joined(sent).lower()
    assert_zalo_buttons(sent[-1])
    follow = next((b for b in sent[-1].buttons if "entry_id" in b["payload"]), None)
    if follow:  # Zalo sends an oa.query.hide button's payload back as the user's text
        after = zb.ask("3003", follow["payload"], count=len(sent) + 1)[len(sent):]
        assert "Nguồn: http" in joined(after)


def test_out_of_scope_is_declined(zb):
    reply = joined(zb.ask("3004", "hôm nay giá vàng SJC bao nhiêu một lượng"))
    assert reply.startswith("Xin lỗi") and "Nguồn:" not in reply


def test_request_for_a_person(zb):
    (question,) = zb.ask("3005", "toi muon gap nguoi that ho tro")
    assert "xã/phường nào" in question.text and "Không rõ / nơi khác" in [b["title"] for b in question.buttons]
    reply = joined(zb.ask("3005", "không rõ", count=2)[1:])
    assert "Tổ công nghệ số cộng đồng" in reply and "Công an xã/phường" in reply and "HT-" in reply
    # the ticket is open: one short "passed on" note, then the bot stays quiet (no apology for the silence)
    assert "Đã chuyển tin nhắn của bạn tới cán bộ" in zb.ask("3005", "alo", count=3)[-1].text
    assert zb.hook.post(zb.hook.text("3005", "cán bộ ơi")).status_code == 200
    time.sleep(3)
    assert len(zb.fake.messages_to("3005")) == 3


def test_follow_gets_a_welcome(zb):
    assert zb.hook.post(zb.hook.follow("3006")).status_code == 200
    (message,) = zb.fake.wait_for("3006", timeout=60)
    assert message.text.startswith("Xin chào")
    assert_zalo_buttons(message)


@pytest.mark.parametrize("kind", ["sticker", "image"])
def test_sticker_and_image_get_please_type(zb, kind):
    user = {"sticker": "3007", "image": "3008"}[kind]
    assert zb.hook.post(getattr(zb.hook, kind)(user)).status_code == 200
    (message,) = zb.fake.wait_for(user, timeout=30)
    # The launcher names the action server (ACTION_SERVER_URL, as make run does), so a picture goes to its screen
    # reader, which cannot read the fake image and asks for the screen's words; a sticker has nothing to read.
    assert {"sticker": "gõ câu hỏi", "image": "gõ chữ trên màn hình"}[kind] in message.text
    assert zb.user_turns(user) == []  # nothing for Rasa to misunderstand


@pytest.mark.parametrize(
    "signature, status", [(None, 401), ("mac=" + "0" * 64, 403), ("wrong-secret", 403)],
    ids=["missing", "garbage", "wrong-secret"],
)
def test_bad_signatures_are_refused_and_never_reach_rasa(zb, signature, status):
    body = zb.hook.text("3009", "quen mk vneid")
    if signature == "wrong-secret":
        r = zb.hook.post(body, secret="not-the-oa-secret")
    else:
        r = zb.hook.post(body, signature=signature)
    assert r.status_code == status
    assert zb.fake.wait_for("3009", timeout=1.5) == []
    assert zb.user_turns("3009") == []


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"app_id": "1"}'], ids=["not-json", "array", "no-timestamp"])
def test_malformed_bodies_are_400(zb, raw):
    r = requests.post(zb.hook.url, data=raw, headers={"X-ZEvent-Signature": "mac=" + "0" * 64}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]


def test_a_replayed_event_is_answered_once(zb):
    body = zb.hook.text("3010", "quen passcode vneid", msg_id="e2e-replayed-1")
    for _ in range(3):
        assert zb.hook.post(body).status_code == 200
    sent = zb.fake.wait_for("3010", timeout=60, settle=2.0)
    assert len(sent) == 1
    assert zb.user_turns("3010") == ["quen passcode vneid"]


def test_an_expired_token_is_refreshed_stored_and_the_reply_resent(zb):
    old = zb.fake.access_token
    zb.fake.expire_access_token()
    sent = zb.ask("3011", "quen mat khau vneid")
    assert len(sent) == 1 and "Nguồn: http" in sent[0].text
    assert sent[0].access_token == zb.fake.access_token != old
    stored = json.loads(zb.token_file.read_text())
    assert (stored["access_token"], stored["refresh_token"]) == (zb.fake.access_token, zb.fake.refresh_token)
    failed = [a for a in zb.fake.send_attempts if a["error"] == -216]
    assert failed and failed[-1]["token"] == old


PARITY = five_questions()


@pytest.mark.parametrize("i, question", list(enumerate(PARITY)), ids=PARITY_IDS)
def test_zalo_says_what_rest_says(zb, i, question):
    rest = zb.bot.say(question, f"parity-rest-{i}")
    zalo = zb.ask(f"40{i}", question)
    assert joined(zalo) == "\n\n".join(m["text"] for m in rest if m.get("text"))
    rest_payloads = [b["payload"] for m in rest for b in m.get("buttons", [])][:5]
    assert [b["payload"] for m in zalo for b in m.buttons] == rest_payloads
    if i == len(PARITY) - 1:
        assert joined(zalo).startswith("Xin lỗi")


def test_personal_numbers_stay_out_of_the_logs(zb):
    zb.ask("2512523625412515", "so cccd cua toi la 001234567890 thi xem gia vang o dau")
    for name in ("rasa.log", "actions.log"):
        log = (zb.bot.workdir / name).read_text(errors="replace")
        assert "001234567890" not in log and OA_SECRET not in log and APP_SECRET not in log
        assert "refresh-0" not in log and "access-0" not in log
