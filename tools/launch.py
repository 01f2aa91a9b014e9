"""Start the bot's two processes (action server, Rasa) on free ports: for tests, benchmarks and eval.

Both listen on 127.0.0.1 only. The action server requires a fresh random token (Rasa sends it from the generated
endpoints file); Rasa's HTTP API is on, for the tests that read trackers, but only with a fresh random auth token
(`Bot.api`). The relay door gets RELAY_SECRET (`relay_secret()`: one per run unless the environment sets it).
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import requests

from bot.core.settings import ROOT
from bot.rasa_side.channels.validation import web_conversation_id
from tools.warmup import warm_up

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
ACTIONS_PY = ROOT / ".venv-actions" / "bin" / "python"
STARTUP_S = 240


def latest_model() -> Path:
    """The newest trained model (`make train` makes it)."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError("no trained model in models/: run 'make train'")
    return models[-1]


@functools.cache
def relay_secret() -> str:
    """The secret of Rasa's relay door for bots and relays started by this process: RELAY_SECRET, or a random one."""
    return os.environ.get("RELAY_SECRET", "").strip() or secrets.token_urlsafe(32)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, proc: subprocess.Popen, log: Path, timeout: float = STARTUP_S) -> None:
    """Poll `check` until it is true; fail with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{log.read_text(errors='replace')[-4000:]}")


SQLITE_TRACKER_STORE = "bot.rasa_side.tracker_store.SQLiteTrackerStore"  # as endpoints.yml


class Bot:
    """Rasa + action server processes on free ports, with their own tracker database."""

    def __init__(
        self, workdir: Path, credentials: Path | None = None, env: dict[str, str] | None = None,
        stores: str | None = None,
    ) -> None:
        """Processes will run with `workdir` for logs and data, Rasa with `credentials` (default:
        the checkout's credentials.yml), both with `env` added to the environment; `stores` is the
        endpoints YAML for the tracker and lock stores (default: SQLite in `workdir`)."""
        self.workdir = workdir
        self.credentials = credentials or ROOT / "credentials.yml"
        self.actions_port, self.rasa_port = free_port(), free_port()
        self.actions_token, self.api_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n  token: '{self.actions_token}'\n"
            + (stores or f"tracker_store:\n  type: {SQLITE_TRACKER_STORE}\n  db: {workdir / 'tracker.db'}\n"),
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "BOT_STORE_URL": f"sqlite:///{workdir / 'store.db'}",  # questions and feedback of this run only
            "RELAY_SECRET": relay_secret(),
            **(env or {}),
            "ACTION_SERVER_TOKEN": self.actions_token,
            # the endpoint above, for Rasa's pipeline too (bot/rasa_side/prefetch_sender.py), as scripts/run.sh sets it
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
        }
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("ab")
        return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def actions_command(self) -> list[str]:
        """The action server behind its token check, on 127.0.0.1 (bot/action_server.py)."""
        return [str(ACTIONS_PY), "-m", "bot.action_server", "--actions", "actions", "--port", str(self.actions_port)]

    def rasa_command(self) -> list[str]:
        """Rasa on 127.0.0.1, its HTTP API only with this run's auth token."""
        return [str(RASA), "run", "--model", str(latest_model()), "--endpoints", str(self.endpoints),
                "--credentials", str(self.credentials), "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                "--enable-api", f"--auth-token={self.api_token}"]  # a token may start with "-"

    def start_actions(self) -> None:
        self.actions = self._spawn("actions", self.actions_command())
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{self.actions_port}/health", timeout=2).ok,
            "action server", self.actions, self.workdir / "actions.log",
        )
        warm_up(f"http://127.0.0.1:{self.actions_port}/webhook", token=self.actions_token)

    def start_rasa(self) -> None:
        # Rasa only checks the store's migration (bot/store/schema_version.py): upgraded first, as scripts/run.sh does
        subprocess.run([str(ACTIONS_PY), "-m", "bot.store.migrate", "upgrade"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)
        self.rasa = self._spawn("rasa", self.rasa_command())
        wait_until(
            lambda: self.api("/status", timeout=2).json().get("model_file"),
            "rasa", self.rasa, self.workdir / "rasa.log",
        )

    def api(self, path: str, timeout: float = 30) -> requests.Response:
        """GET a path of Rasa's HTTP API with this run's auth token."""
        return requests.get(f"{self.url}{path}", params={"token": self.api_token}, timeout=timeout)

    def tracker(self, sender: str) -> dict:
        """The tracker of the conversation `say(..., sender)` speaks in (the REST door files it under web-…)."""
        r = self.api(f"/conversations/{web_conversation_id(sender)}/tracker")
        r.raise_for_status()
        return r.json()

    @staticmethod
    def _stop(proc: subprocess.Popen | None) -> None:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def stop_rasa(self) -> None:
        self._stop(self.rasa)

    def stop_actions(self) -> None:
        self._stop(self.actions)

    def say(self, text: str, sender: str = "user") -> list[dict]:
        """Send one message over the public REST door (as conversation web-<sender>) and return Rasa's messages."""
        r = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"REST answered {r.status_code}: {r.text[:200]}")
        return r.json()

    def start(self) -> Bot:
        """Start both processes and wait until Rasa has loaded its model."""
        self.start_actions()
        self.start_rasa()
        return self

    def stop(self) -> None:
        """Stop both processes."""
        self.stop_rasa()
        self.stop_actions()
