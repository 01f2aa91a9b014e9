"""Running the Telegram relay (`python -m bot.relay`) as a real process against the fake API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.core.settings import ROOT
from tests.fakes.telegram_api import FakeTelegram
from tools.launch import free_port, relay_secret

SECRET = "test-webhook-secret_0123456789abcdef"


def token(n: int) -> str:
    """A distinct, well-formed bot token per relay (the number is also the bot's user id)."""
    return f"{7_000_000 + n}:AAF-fake_token_for_tests_{n:04d}xyz"


def closed_port_url() -> str:
    """A Rasa URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/webhooks/rest/webhook"


class Relay:
    """One relay process with its own token, log file and environment."""

    def __init__(self, fake: FakeTelegram, tok: str, rasa_url: str, log: Path, **env: str) -> None:
        self.fake, self.token, self.log = fake, tok, log
        fake.add_bot(tok)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": tok,
            "TELEGRAM_API_BASE_URL": fake.url,
            "RASA_REST_URL": rasa_url,
            "RELAY_SECRET": relay_secret(),  # the same as the Bots this test process starts (tools/launch.py)
            "TELEGRAM_LOG_LEVEL": "DEBUG",
            **env,
        }
        self.webhook = self.env.get("TELEGRAM_MODE") == "webhook"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Relay:
        """Start the process and wait until it polls (or has set its webhook)."""
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.relay"],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        method = "setWebhook" if self.webhook else "getUpdates"
        try:
            self.fake.wait_for(self.token, lambda f: f.calls(self.token, method) or self.proc.poll() is not None, 30)
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"relay exited with {self.proc.returncode}:\n{self.log.read_text(errors='replace')[-3000:]}"
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, as systemd or docker would; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.fake.sent_messages(self.token, chat_id)]

    def replies(
        self, chat_id: int, after: int, count: int = 1, timeout: float = 30.0, quiet: float = 0.3
    ) -> list[dict]:
        """Wait for at least `count` bot messages in the chat beyond the first `after`, then until no more
        come for `quiet` seconds (a turn may send several); return them."""
        self.fake.wait_for_messages(self.token, chat_id, count, timeout, after=after)
        seen = -1
        while True:
            sent = self.fake.sent_messages(self.token, chat_id)[after:]
            if len(sent) == seen:
                return sent
            seen = len(sent)
            time.sleep(quiet)

    def ask(self, chat_id: int, text: str, count: int = 1, timeout: float = 30.0, **kw) -> list[dict]:
        """Send a text as a user and return the bot's messages for it."""
        before = len(self.fake.sent_messages(self.token, chat_id))
        self.fake.send_text(self.token, chat_id, text, **kw)
        return self.replies(chat_id, before, count, timeout)
