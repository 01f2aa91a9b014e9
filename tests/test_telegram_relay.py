"""The relay's glue without Rasa: webhook secret check, Rasa client failures, per-chat ordering, log
redaction, and how the process starts and refuses to start. Fast: no model, no Rasa server."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import subprocess
import sys

import httpx
import pytest
from telegram.error import BadRequest, RetryAfter

import bot.relay.webhook as relay_module
from bot.core.settings import ROOT, TelegramSettings
from bot.messengers.telegram_api import send
from bot.messengers.telegram_format import Button, Outgoing
from bot.relay.client import RasaClient, RasaUnavailable
from bot.relay.handlers import RELAY, ChatLocks, build_application
from bot.relay.main import RedactingFormatter
from bot.relay.webhook import webhook_server
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import SECRET, token
from tools.launch import free_port

UPDATE = {
    "update_id": 7001,
    "message": {
        "message_id": 5,
        "date": 1_760_000_000,
        "text": "quen mk vneid",
        "chat": {"id": 42, "type": "private", "first_name": "Lan"},
        "from": {"id": 42, "is_bot": False, "first_name": "Lan"},
    },
}
BAD_SECRETS = [
    {},
    {"X-Telegram-Bot-Api-Secret-Token": ""},
    {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret_123456"},
    {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
    {"X-Telegram-Bot-Api-Secret-Token": SECRET.upper()},
]


def webhook_settings(port: int) -> TelegramSettings:
    return TelegramSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": token(50),
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.gov.vn/telegram/hook",
            "TELEGRAM_PORT": str(port),
            "RELAY_SECRET": "relay-secret-for-tests_0123456789",
        }
    )


@pytest.fixture
async def webhook():
    """Our webhook server on a free port, feeding a PTB application's queue (no Telegram, no Rasa)."""
    port = free_port()
    settings = webhook_settings(port)
    application = build_application(settings, polling=False)
    server = webhook_server(application, settings)
    server.listen(port, "127.0.0.1")
    yield application, f"http://127.0.0.1:{port}{settings.webhook_path}"
    server.stop()
    await application.bot_data[RELAY].rasa.aclose()


async def assert_refused(application, url: str) -> None:
    """Every request without the right secret gets 403 and queues nothing."""
    async with httpx.AsyncClient() as client:
        statuses = [(await client.post(url, json=UPDATE, headers=h)).status_code for h in BAD_SECRETS]
    assert statuses == [403] * len(BAD_SECRETS)
    assert application.update_queue.empty()


async def test_webhook_accepts_the_right_secret(webhook):
    application, url = webhook
    async with httpx.AsyncClient() as client:
        r = await client.post(url, json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert r.status_code == 200
    update = application.update_queue.get_nowait()
    assert update.update_id == 7001 and update.message.text == "quen mk vneid"


async def test_webhook_refuses_a_missing_or_wrong_secret(webhook):
    await assert_refused(*webhook)


async def test_the_refusal_check_fails_if_the_secret_check_is_removed(webhook, monkeypatch):
    """Mutation check: with the comparison made permissive, the test above must fail."""
    monkeypatch.setattr(relay_module, "secret_matches", lambda given, expected: True)
    with pytest.raises(AssertionError):
        await assert_refused(*webhook)


async def test_webhook_refuses_bodies_that_are_not_updates(webhook):
    application, url = webhook
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, content=b"{not json", headers=right)).status_code == 400
        assert (await client.post(url, json=[1, 2], headers=right)).status_code == 400
        assert (await client.get(url)).status_code == 405
        try:  # over the 1 MiB limit: tornado refuses it (or just hangs up) without reading it
            status = (await client.post(url, content=b"x" * (2 << 20), headers=right)).status_code
        except httpx.HTTPError:
            status = None
    assert status in (400, 413, None)
    assert application.update_queue.empty()


# --- Rasa client ----------------------------------------------------------------------------------


def client_answering(handler, secret: str = "") -> RasaClient:
    return RasaClient(
        "http://rasa/webhooks/relay/webhook", 0.5, httpx.AsyncClient(transport=httpx.MockTransport(handler)), secret
    )


async def test_rasa_client_returns_the_messages_and_posts_sender_and_text():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"recipient_id": "tg-1", "text": "Xin chào"}, "junk"])

    client = client_answering(handler, secret="relay-secret-for-tests_0123456789")
    assert await client.ask("tg-1", "xin chào") == [{"recipient_id": "tg-1", "text": "Xin chào"}]
    assert b'"sender": "tg-1"' in seen[0].content or b'"sender":"tg-1"' in seen[0].content
    assert seen[0].headers["x-relay-secret"] == "relay-secret-for-tests_0123456789"


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx.Response(500, text="boom"),
        lambda r: httpx.Response(400, json={"error": "bad"}),
        lambda r: httpx.Response(200, text="<html>"),
        lambda r: httpx.Response(200, json={"text": "not a list"}),
    ],
    ids=["500", "400", "not-json", "not-a-list"],
)
async def test_rasa_client_failures_are_rasa_unavailable(handler):
    with pytest.raises(RasaUnavailable):
        await client_answering(handler).ask("tg-1", "x")


async def test_rasa_client_connection_refused_and_timeout():
    with pytest.raises(RasaUnavailable):
        await RasaClient(f"http://127.0.0.1:{free_port()}/webhooks/rest/webhook", 2).ask("tg-1", "x")

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3)
        return httpx.Response(200, json=[])

    started = asyncio.get_running_loop().time()
    with pytest.raises(RasaUnavailable, match="no answer within"):
        await client_answering(slow).ask("tg-1", "x")
    assert asyncio.get_running_loop().time() - started < 1.5


async def test_rasa_client_sends_a_turn_cut_before_any_answer_once_more():
    """A real TCP server that drops the first connection after reading the request (as a killed Rasa server does),
    then answers: the turn is sent once more and answered; dropped twice, it is RasaUnavailable."""
    requests_seen: list[bytes] = []
    drops = {"left": 1}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
        requests_seen.append(await reader.readexactly(length))
        if drops["left"] > 0:
            drops["left"] -= 1
            writer.transport.abort()  # reset, no answer
            return
        body = '[{"recipient_id": "tg-1", "text": "Xin chào"}]'.encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                     % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = RasaClient(f"http://127.0.0.1:{port}/webhooks/relay/webhook", 5)
        assert await client.ask("tg-1", "quen mk vneid") == [{"recipient_id": "tg-1", "text": "Xin chào"}]
        assert len(requests_seen) == 2 and requests_seen[0] == requests_seen[1]
        drops["left"] = 2
        with pytest.raises(RasaUnavailable):
            await client.ask("tg-1", "quen mk vneid")
        assert len(requests_seen) == 4
        await client.aclose()
    finally:
        server.close()
        await server.wait_closed()


# --- ordering, logs -------------------------------------------------------------------------------


async def test_chat_locks_keep_one_chats_turns_in_order_and_let_others_through():
    locks, events = ChatLocks(), []

    async def turn(chat: int, name: str, delay: float) -> None:
        async with locks.hold(chat):
            events.append(f"start {name}")
            await asyncio.sleep(delay)
            events.append(f"end {name}")

    await asyncio.gather(turn(1, "a1", 0.2), turn(1, "a2", 0.0), turn(2, "b1", 0.05))
    assert events.index("end a1") < events.index("start a2")  # same chat: in order
    assert events.index("end b1") < events.index("end a1")  # other chat: not held up
    assert len(locks) == 0  # nothing left behind


def test_log_lines_are_masked_and_secrets_redacted():
    tok = token(51)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s", [tok, SECRET]))
    log = logging.getLogger("test-telegram-redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("asked %r with %s", "cccd 001234567890 sdt 0912345678", f"https://api/bot{tok}/getMe")
        log.warning("settings: port 45678, secret %s", SECRET, extra={"trusted": True})
        try:
            raise ValueError(f"otp 123456 for {tok}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    for leak in ("001234567890", "0912345678", tok, SECRET, "123456 "):
        assert leak not in out
    assert "[số định danh]" in out and "port 45678" in out and "<secret>" in out


# --- starting the process -------------------------------------------------------------------------


def run_relay(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "RASA_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.relay"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(ROOT), "RELAY_SECRET": "relay-secret-for-tests_0123456789", **env},
        timeout=timeout,
    )


def test_missing_token_is_a_clear_error_and_exit_code_2():
    done = run_relay({})
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in done.stderr and "@BotFather" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_webhook_mode_without_a_secret_refuses_to_start():
    done = run_relay(
        {
            "TELEGRAM_BOT_TOKEN": token(52),
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.gov.vn/telegram",
        }
    )
    assert done.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr and "Traceback" not in done.stderr


def test_a_token_telegram_rejects_is_a_clear_error_and_exit_code_1():
    with FakeTelegram() as fake:  # the fake knows no bot: 401 Unauthorized, as Telegram answers
        done = run_relay({"TELEGRAM_BOT_TOKEN": token(53), "TELEGRAM_API_BASE_URL": fake.url})
    assert done.returncode == 1
    assert "rejected TELEGRAM_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert token(53) not in done.stderr


def test_unreachable_telegram_is_a_clear_error_and_exit_code_1():
    done = run_relay({"TELEGRAM_BOT_TOKEN": token(54), "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    assert done.returncode == 1
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr


# --- sending --------------------------------------------------------------------------------------


class StubBot:
    """Records send_message calls; raises the queued errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.sent = list(errors), []

    async def send_message(self, chat_id: int, text: str, **kwargs) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((chat_id, text, kwargs))


async def test_send_keeps_order_and_quotes_only_the_first_message():
    stub = StubBot()
    keyboard = ((Button("Gặp người hỗ trợ", callback_data="/request_human"),),)
    await send(stub, 7, [Outgoing("một"), Outgoing("hai", keyboard)], reply_to=99)
    assert [t for _, t, _ in stub.sent] == ["một", "hai"]
    assert stub.sent[0][2]["reply_parameters"].message_id == 99 and "reply_parameters" not in stub.sent[1][2]
    assert stub.sent[0][2]["reply_markup"] is None
    assert stub.sent[1][2]["reply_markup"].inline_keyboard[0][0].callback_data == "/request_human"


async def test_send_waits_out_flood_control_once_and_drops_refused_buttons():
    stub = StubBot(RetryAfter(0), BadRequest("BUTTON_DATA_INVALID"))
    keyboard = ((Button("x", callback_data="/x"),),)
    await send(stub, 7, [Outgoing("câu trả lời", keyboard)])
    assert [(t, kw["reply_markup"]) for _, t, kw in stub.sent] == [("câu trả lời", None)]
    with pytest.raises(BadRequest):  # a text Telegram refuses is not retried forever
        await send(StubBot(BadRequest("message is too long")), 7, [Outgoing("y")])
