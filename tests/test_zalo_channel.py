"""The Zalo channel in the Rasa environment (Sanic 21, aiohttp), with a scripted agent instead of a trained model.

Covers what a real model cannot produce on demand (a 6,000-character answer, a failing or slow turn) and every
rejection at the HTTP level, in a few seconds. tests/test_zalo_e2e.py runs the same channel with the real bot.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.core.settings import ROOT
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tools.launch import free_port, wait_until

PY_RASA = ROOT / ".venv-rasa" / "bin" / "python"
APP_ID, OA_SECRET, APP_SECRET = "1234567890123456789", "oa-secret-for-tests", "app-secret-for-tests"
TURN_DEADLINE_S = 3.0  # above the slowest turn the tests expect an answer from ("slow 2")


@dataclass
class Stub:
    url: str
    fake: FakeZalo
    hook: ZaloWebhook
    log: Path
    token_file: Path

    def received(self) -> list[list[str]]:
        return requests.get(f"{self.url}/stub/received", timeout=5).json()

    def texts(self, user: str, count: int = 1, settle: float = 0.6) -> list[str]:
        return [m.text for m in self.fake.wait_for(user, count, timeout=15, settle=settle)]


@pytest.fixture(scope="module")
def stub(tmp_path_factory) -> Iterator[Stub]:
    tmp = tmp_path_factory.mktemp("zalo-channel")
    fake = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(fake).start()
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET,
        "ZALO_APP_SECRET": APP_SECRET, "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0",
        "ZALO_TOKEN_FILE": str(tmp / "tokens.json"), "ZALO_API_BASE_URL": server.url, "ZALO_OAUTH_BASE_URL": server.url,
        "BOT_TURN_DEADLINE_S": str(TURN_DEADLINE_S),
    }
    log = tmp / "stub.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([str(PY_RASA), "-m", "tests.fakes.zalo_channel_app", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/webhooks/zalo/", timeout=2).ok, "zalo stub", proc, log, timeout=60)
        yield Stub(url, fake, ZaloWebhook(f"{url}/webhooks/zalo/webhook", APP_ID, OA_SECRET), log, tmp / "tokens.json")
    finally:
        proc.terminate()
        proc.wait(20)
        server.stop()


def test_text_goes_to_the_agent_and_the_reply_to_zalo_in_one_piece(stub):
    r = stub.hook.post(stub.hook.text("1001", "xin chào"))
    assert r.status_code == 200
    assert stub.texts("1001") == ["echo: xin chào\n\nsecond paragraph"]  # not cut at the blank line
    assert ["zalo-1001", "xin chào"] in stub.received()


def test_a_6000_character_answer_arrives_in_parts_within_the_limit(stub):
    stub.hook.post(stub.hook.text("1002", "long 6k"))
    sent = stub.fake.wait_for("1002", 4, timeout=15)
    assert len(sent) >= 4 and all(len(m.text) <= 2000 for m in sent)
    from tests.fakes.zalo_channel_app import long_answer

    assert "\n\n".join(m.text for m in sent) == long_answer(6000)
    assert [bool(m.buttons) for m in sent] == [False] * (len(sent) - 1) + [True]


def test_buttons_become_five_short_hidden_queries(stub):
    stub.hook.post(stub.hook.text("1003", "buttons"))
    (message,) = stub.fake.wait_for("1003")
    assert len(message.buttons) == 5
    assert all(b["type"] == "oa.query.hide" and len(b["title"]) <= 20 for b in message.buttons)
    assert message.buttons[0]["payload"] == '/ask_question{"entry_id": "e0"}'


def test_answers_200_at_once_while_the_turn_is_slow_and_keeps_one_users_order(stub):
    started = time.monotonic()
    assert stub.hook.post(stub.hook.text("1004", "slow 2")).status_code == 200
    assert time.monotonic() - started < 1.0
    stub.hook.post(stub.hook.text("1004", "fast after slow"))
    texts = stub.texts("1004", 2)
    assert texts == ["slow done: slow 2", "echo: fast after slow\n\nsecond paragraph"]


def test_a_failed_or_silent_turn_gets_an_apology(stub):
    stub.hook.post(stub.hook.text("1005", "boom"))
    assert stub.texts("1005")[0].startswith("Xin lỗi, hệ thống đang bận")
    stub.hook.post(stub.hook.text("1006", "silent"))
    assert stub.texts("1006")[0].startswith("Xin lỗi, hệ thống đang bận")


def test_a_turn_still_running_at_the_deadline_gets_an_apology_in_time(stub):
    started = time.monotonic()
    stub.hook.post(stub.hook.text("1099", "slow 30"))  # a frozen action server, as Zalo's resident lives it
    (apology,) = stub.texts("1099", settle=0.1)
    assert apology.startswith("Xin lỗi, hệ thống đang bận")
    assert time.monotonic() - started < TURN_DEADLINE_S + 2


def test_follow_gets_the_bots_greeting(stub):
    assert stub.hook.post(stub.hook.follow("1007")).status_code == 200
    (message,) = stub.fake.wait_for("1007")
    assert message.text.startswith("Xin chào") and message.buttons
    assert ["zalo-1007", "/greet"] in stub.received()


@pytest.mark.parametrize("kind", ["image", "sticker", "location"])
def test_non_text_messages_get_please_type_without_asking_the_agent(stub, kind):
    user = {"image": "1008", "sticker": "1009", "location": "1010"}[kind]
    assert stub.hook.post(getattr(stub.hook, kind)(user)).status_code == 200
    assert "gõ câu hỏi" in stub.texts(user)[0]
    assert not [r for r in stub.received() if r[0] == f"zalo-{user}"]


def test_receipts_unfollow_and_the_oas_own_messages_are_ignored(stub):
    bodies = [stub.hook.receipt("1011"), stub.hook.receipt("1011", seen=True),
              {**stub.hook.follow("1011"), "event_name": "unfollow"},
              stub.hook.event("oa_send_text", "579745863508352884", {"text": "bot reply"})]
    attempts = len(stub.fake.send_attempts)
    for body in bodies:
        assert stub.hook.post(body).status_code == 200
    time.sleep(1.0)
    assert len(stub.fake.send_attempts) == attempts  # nothing sent to anyone
    assert not [r for r in stub.received() if "1011" in r[0] or "579745863508352884" in r[0]]


def test_a_replayed_event_is_answered_once(stub):
    body = stub.hook.text("1012", "hỏi một lần", msg_id="replayed-msg-1")
    for _ in range(3):
        assert stub.hook.post(body).status_code == 200
    assert stub.texts("1012", settle=1.5) == ["echo: hỏi một lần\n\nsecond paragraph"]
    assert stub.received().count(["zalo-1012", "hỏi một lần"]) == 1


def test_rejections_never_reach_the_agent(stub):
    body = stub.hook.text("1013", "không được tới agent")
    assert stub.hook.post(body, signature=None).status_code == 401
    assert stub.hook.post(body, secret="wrong-secret").status_code == 403
    assert stub.hook.post(body, signature="mac=" + "0" * 64).status_code == 403
    assert stub.hook.post(raw=b"{not json", signature="mac=00").status_code == 400
    assert stub.hook.post({**stub.hook.text("1013", "x" * 70_000)}).status_code == 413
    r = requests.post(stub.url + "/webhooks/zalo_unconfigured/webhook", data=stub.hook.encode(body),
                      headers={"X-ZEvent-Signature": stub.hook.sign(stub.hook.encode(body), body)}, timeout=5)
    assert r.status_code == 503
    time.sleep(0.5)
    assert not [r for r in stub.received() if r[0] == "zalo-1013"] and stub.fake.messages_to("1013") == []


def test_expired_token_is_refreshed_over_http_stored_and_the_reply_resent(stub):
    stub.fake.expire_access_token()
    stub.hook.post(stub.hook.text("1014", "after expiry"))
    (message,) = stub.fake.wait_for("1014")
    assert message.access_token == stub.fake.access_token != "access-0"
    stored = json.loads(stub.token_file.read_text())
    assert (stored["access_token"], stored["refresh_token"]) == (stub.fake.access_token, stub.fake.refresh_token)


def test_logs_hold_no_user_ids_texts_or_tokens(stub):
    stub.hook.post(stub.hook.text("2512523625412515", "boom"))
    stub.fake.wait_for("2512523625412515")
    stub.fake.fail_next(-213)
    stub.hook.post(stub.hook.text("2512523625412515", "số cccd 001234567890"))
    time.sleep(1.5)
    log = stub.log.read_text(errors="replace")
    assert "Rasa turn failed" in log and "error -213" in log  # the failures were logged...
    for secret in ("2512523625412515", "001234567890", OA_SECRET, APP_SECRET, "access-", "refresh-"):
        assert secret not in log  # ...without personal data or secrets
