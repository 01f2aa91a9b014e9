"""Closed internal ports (issue 9, item 2): the action server (bot/action_server.py) binds 127.0.0.1 unless told
otherwise and, with ACTION_SERVER_TOKEN set, serves nobody without it; no process the project starts opens Rasa's
HTTP API without a token. The action server runs for real here (a few seconds each, no model loaded)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.action_server import is_loopback, problem, token_accepted
from bot.core.settings import ROOT
from tools import launch
from tools.launch import ACTIONS_PY, Bot, free_port, wait_until

TOKEN = "action-token-for-tests_0123456789abcdef"
# What Rasa posts to /webhook; a forged one opened tickets and helper mode for any sender before.
FORGED_CALL = {
    "next_action": "action_listen_for_nothing", "sender_id": "tg-777000111", "domain": {},
    "tracker": {"sender_id": "tg-777000111", "slots": {}, "latest_message": {}, "events": [], "paused": False,
                "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
}


def start(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp_path / f"actions-{port}.log"
    clean = {k: v for k, v in os.environ.items() if k not in ("ACTIONS_HOST", "ACTION_SERVER_TOKEN", "SANIC_HOST")}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(ACTIONS_PY), "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
            cwd=ROOT, env={**clean, "PYTHONPATH": str(ROOT), **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}", log


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def with_token(tmp_path_factory) -> Iterator[str]:
    proc, url, log = start(tmp_path_factory.mktemp("actions"), ACTION_SERVER_TOKEN=TOKEN)
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, "action server", proc, log, timeout=120)
        yield url
    finally:
        stop(proc)


@pytest.mark.parametrize(
    "query", [{}, {"token": ""}, {"token": "wrong"}, {"token": TOKEN[:-1]}, {"token": TOKEN + "x"}]
)
def test_with_a_token_nothing_is_listed_or_run_without_it(with_token, query):
    assert requests.get(f"{with_token}/actions", params=query, timeout=10).status_code == 401
    assert requests.post(f"{with_token}/webhook", params=query, json=FORGED_CALL, timeout=10).status_code == 401
    # the search's head start (actions/warm_route.py) is behind the same door
    warm = requests.post(f"{with_token}/search/warm", params=query, json={"text": "quen mk"}, timeout=10)
    assert warm.status_code == 401


def test_with_the_right_token_rasa_is_served(with_token):
    r = requests.get(f"{with_token}/actions", params={"token": TOKEN}, timeout=10)
    assert r.status_code == 200 and {"name": "action_answer_question"} in r.json()
    # The token opens the door; the call itself is then rasa_sdk's business (an unknown action: 404, not 401).
    r = requests.post(f"{with_token}/webhook", params={"token": TOKEN}, json=FORGED_CALL, timeout=30)
    assert r.status_code == 404
    r = requests.post(f"{with_token}/search/warm", params={"token": TOKEN}, data=b"not json", timeout=30)
    assert r.status_code == 400


def test_health_stays_open_for_probes(with_token):
    assert requests.get(f"{with_token}/health", timeout=10).json() == {"status": "ok"}


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port` (Linux /proc/net/tcp and tcp6, state 0A)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_without_configuration_it_listens_on_loopback_only(tmp_path):
    proc, url, log = start(tmp_path)
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, "action server", proc, log, timeout=120)
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1, nothing else
        assert requests.get(f"{url}/actions", timeout=10).status_code == 200  # one machine, no token: Rasa beside it
    finally:
        stop(proc)


def test_it_refuses_to_open_to_other_machines_without_a_token(tmp_path):
    proc, _, log = start(tmp_path, ACTIONS_HOST="0.0.0.0")
    assert proc.wait(60) == 2
    assert "ACTION_SERVER_TOKEN" in log.read_text()


@pytest.mark.parametrize("host, token, refused", [
    ("127.0.0.1", "", False), ("::1", "", False), ("localhost", "", False), ("0.0.0.0", "", True),
    ("10.0.0.5", "", True), ("10.0.0.5", TOKEN, False), ("127.0.0.1", "short", True),
])
def test_settings_that_would_open_the_port_are_refused(host, token, refused):
    assert (problem(host, token) is not None) == refused
    assert is_loopback(host) == (host in ("127.0.0.1", "::1", "localhost"))


def test_the_token_compare_takes_any_text():
    assert token_accepted(TOKEN, TOKEN) and not token_accepted(None, TOKEN) and not token_accepted("ü\udcff", TOKEN)


# --- what the project starts ---------------------------------------------------------------------------------

def test_the_launcher_never_opens_rasas_api_without_a_token(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "latest_model", lambda: tmp_path / "model.tar.gz")
    bot = Bot(tmp_path)
    cmd = bot.rasa_command()
    assert "--enable-api" not in cmd or f"--auth-token={bot.api_token}" in cmd  # one argument: it may start with "-"
    assert len(bot.api_token) >= 32 and cmd[cmd.index("--interface") + 1] == "127.0.0.1"
    assert "bot.action_server" in bot.actions_command()
    assert bot.env["ACTION_SERVER_TOKEN"] == bot.actions_token
    assert f"token: '{bot.actions_token}'" in bot.endpoints.read_text()
    assert Bot(tmp_path).api_token != bot.api_token  # fresh per run


def test_run_sh_opens_rasas_api_only_with_a_token_and_starts_the_guarded_action_server():
    script = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert all("--auth-token" in line for line in script.splitlines() if "--enable-api" in line)
    assert "-m bot.action_server" in script and "-m rasa_sdk" not in script
    assert re.search(r"export ACTION_SERVER_TOKEN", script) and "--interface" in script


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.scaled.yml"])
def test_endpoints_send_the_action_servers_token(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "url: ${ACTION_SERVER_URL}" in text and "token: ${ACTION_SERVER_TOKEN}" in text
