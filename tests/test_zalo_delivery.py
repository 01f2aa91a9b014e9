"""The Zalo channel in the Rasa environment (tests/fakes/zalo_channel_app.py), as processes: answers survive a Zalo
outage and a restart (SQLite and PostgreSQL stores), a replay reaching a second server is answered once (real Redis),
and the webhook's doors over HTTP: stale events, deep nesting, oversized bodies, no client metadata."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from bot.core.settings import ROOT
from bot.store.outbox import Outbox
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tools.launch import free_port, wait_until

PY_RASA = ROOT / ".venv-rasa" / "bin" / "python"
APP_ID, OA_SECRET, APP_SECRET = "1234567890123456789", "oa-secret-for-tests", "app-secret-for-tests"


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again: connection refused


@contextmanager
def channel(tmp: Path, api_url: str, store_url: str, **extra: str) -> Iterator[tuple[str, ZaloWebhook, Path]]:
    """One Rasa-environment process serving the Zalo channel with the scripted agent."""
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET,
        "ZALO_APP_SECRET": APP_SECRET, "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0",
        "ZALO_TOKEN_FILE": str(tmp / "tokens.json"), "ZALO_API_BASE_URL": api_url, "ZALO_OAUTH_BASE_URL": api_url,
        "ZALO_RETRY_BASE_S": "0.3", "ZALO_RETRY_MAX_S": "1", "BOT_STORE_URL": store_url, **extra,
    }
    env.pop("REDIS_HOST", None) if "REDIS_HOST" not in extra else None
    log = tmp / f"channel-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([str(PY_RASA), "-m", "tests.fakes.zalo_channel_app", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/webhooks/zalo/", timeout=2).ok, "zalo channel", proc, log, timeout=60)
        yield url, ZaloWebhook(f"{url}/webhooks/zalo/webhook", APP_ID, OA_SECRET), log
    finally:
        proc.terminate()
        proc.wait(20)


def wait_pending(store_url: str, count: int, timeout: float = 20.0) -> list:
    box = Outbox.open(store_url, "zalo")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = box.pending()
        if len(pending) >= count:
            return pending
        time.sleep(0.2)
    return box.pending()


@pytest.fixture
def fake() -> Iterator[tuple[FakeZalo, FakeZaloServer]]:
    zalo = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(zalo).start()
    yield zalo, server
    server.stop()


def test_answers_survive_a_zalo_outage_and_a_restart(tmp_path, store_url, fake):
    zalo, server = fake
    Outbox.open(store_url, "zalo")  # the store upgraded here first, as scripts/run.sh does before Rasa
    with channel(tmp_path, dead_url(), store_url) as (_, hook, log):  # Zalo unreachable
        assert hook.post(hook.text("3001", "three")).status_code == 200
        assert hook.post(hook.text("3002", "số cccd 001234567890")).status_code == 200
        wait_pending(store_url, 4)
        box = Outbox.open(store_url, "zalo")
        assert [p.message["text"] for p in box.pending("3001")] == ["phần một", "phần hai", "phần ba"]
        (kept,) = box.pending("3002")
        assert "001234567890" not in kept.message["text"]  # the resident's number was masked before Rasa
        time.sleep(1.5)
        assert box.head("3001").attempts >= 2 and box.head("3002").attempts >= 2  # the loop retried meanwhile
    # the server stopped with the answers undelivered; a new one (Zalo is back) delivers them
    with channel(tmp_path, server.url, store_url):
        got = [m.text for m in zalo.wait_for("3001", 3, timeout=20, settle=1.5)]
        assert got == ["phần một", "phần hai", "phần ba"]  # once each, in order
        assert len(zalo.wait_for("3002", 1, timeout=10)) == 1
    assert Outbox.open(store_url, "zalo").pending() == []
    assert "001234567890" not in log.read_text(errors="replace")


def test_an_outage_of_a_few_attempts_loses_nothing_and_sends_once(tmp_path, fake):
    zalo, server = fake
    zalo.fail_next(-32, times=3)  # rate-limited three times (a -216 would be refreshed; this must be retried)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with channel(tmp_path, server.url, store_url) as (_, hook, log):
        assert hook.post(hook.text("3003", "xin chào")).status_code == 200
        got = zalo.wait_for("3003", 1, timeout=20, settle=2.0)
        assert [m.text for m in got] == ["echo: xin chào\n\nsecond paragraph"]
        assert [a["error"] for a in zalo.send_attempts] == [-32, -32, -32, 0]
    assert Outbox.open(store_url, "zalo").pending() == []
    assert "retry in" in log.read_text()


def test_a_replay_reaching_a_second_server_is_answered_once(tmp_path, fake):
    zalo, server = fake
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    redis = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379"}  # the real server; no skip
    user = str(4_000_000 + uuid.uuid4().int % 1_000_000)
    with channel(tmp_path, server.url, store_url, **redis) as (url_a, hook_a, _), \
            channel(tmp_path, server.url, store_url, **redis) as (url_b, hook_b, _):
        body = hook_a.text(user, "hỏi một lần", msg_id="replay-" + uuid.uuid4().hex)
        assert hook_a.post(body).status_code == 200
        time.sleep(0.3)
        assert hook_b.post(body).json() == {"status": "duplicate"}  # the second server knows it through Redis
        assert len(zalo.wait_for(user, 1, timeout=15, settle=1.5)) == 1
        asked = [r for u in (url_a, url_b) for r in requests.get(f"{u}/stub/received", timeout=5).json()]
        assert asked.count([f"zalo-{user}", "hỏi một lần"]) == 1


# --- the door over HTTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def door(tmp_path_factory) -> Iterator[tuple[str, ZaloWebhook, FakeZalo]]:
    tmp = tmp_path_factory.mktemp("zalo-door")
    zalo = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(zalo).start()
    try:
        with channel(tmp, server.url, f"sqlite:///{tmp / 'store.db'}") as (url, hook, _):
            yield url, hook, zalo
    finally:
        server.stop()


def test_a_signed_event_from_2020_is_refused(door):
    _url, hook, zalo = door
    body = {**hook.text("3101", "cũ rồi"), "timestamp": "1590000000000"}
    r = hook.post(body)
    assert r.status_code == 403 and "stale" in r.json()["error"]
    time.sleep(0.5)
    assert zalo.messages_to("3101") == []


@pytest.mark.parametrize("signature", [None, "mac=" + "0" * 64])
def test_deep_nesting_is_refused_not_a_server_error(door, signature):
    _, hook, _ = door
    r = hook.post(raw=b"[" * 60000, signature=signature)
    assert r.status_code == (401 if signature is None else 400)


def raw_request(url: str, head: str, body_parts: list[bytes], timeout: float = 3.0) -> bytes:
    """Send a request by hand (the body possibly unfinished) and return what the server answered within `timeout`."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            sock.sendall(part)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def test_an_oversized_body_is_refused_before_it_is_read(door):
    url, _, _ = door
    head = ("POST /webhooks/zalo/webhook HTTP/1.1\r\nHost: x\r\nX-ZEvent-Signature: mac=00\r\n"
            "Content-Type: application/json\r\n")
    # declared 10 MB, 1 KB sent: the answer comes without waiting for the rest
    answer = raw_request(url, head + "Content-Length: 10000000\r\n\r\n", [b" " * 1024])
    assert answer.startswith(b"HTTP/1.1 413")
    # chunked, no length: refused once 64 KB arrived, although the body never ends
    chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
    answer = raw_request(url, head + "Transfer-Encoding: chunked\r\n\r\n", [chunk] * 70)
    assert answer.startswith(b"HTTP/1.1 413")


def test_no_client_metadata_reaches_the_tracker(door):
    url, hook, zalo = door
    body = {**hook.text("3102", "xin chào"), "metadata": {"x": "y" * 1000}, "input_channel": "telegram"}
    assert hook.post(body).status_code == 200
    zalo.wait_for("3102", 1, timeout=10)
    received = requests.get(f"{url}/stub/received", timeout=5).json()
    metadata = requests.get(f"{url}/stub/metadata", timeout=5).json()
    (i,) = [n for n, (sender, _) in enumerate(received) if sender == "zalo-3102"]
    assert metadata[i] is None
    assert json.dumps(metadata).count("y" * 100) == 0
