"""Rasa's own starter bot (`rasa init`'s moodbot) as a floor for load tests: the least any Rasa bot costs.

Built with the project's Rasa environment in a temporary folder and trained once per Rasa version (the trained
model is kept under .cache/moodbot/<version>/, so later runs skip training). It runs with Rasa's defaults: an
in-memory tracker store, no action server, and only the REST channel; no HTTP API, so no token to guard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from bot.core.settings import ROOT
from tools.launch import RASA, Bot, free_port, wait_until

CACHE = ROOT / ".cache" / "moodbot"
TRAIN_TIMEOUT_S = 900
# Its own kind of messages, in the order of its stories (greet, mood, cheer-up answered yes or no, "are you a bot?",
# goodbye), so every one of them gets a reply: a message without one counts as an error in the load test.
MESSAGES = (
    "hi", "very sad", "not really",
    "hello", "I am sad", "yes", "are you a bot?", "bye",
    "good morning", "I am great", "am I talking to a human?", "goodbye",
    "hey there", "so sad", "indeed", "see you later",
    "hey", "perfect", "of course", "bye",
)
QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def rasa_version() -> str:
    """The Rasa version of the project's Rasa environment (read from its metadata: no Rasa import, fast)."""
    python = RASA.parent / "python"
    out = subprocess.run([str(python), "-c", "from importlib.metadata import version; print(version('rasa'))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def trained_model(cache: Path = CACHE) -> Path:
    """The moodbot's trained model for this Rasa version: from the cache, or `rasa init --no-prompt` + training
    in a temporary folder (a few minutes on two cores), then cached."""
    target = cache / f"rasa-{rasa_version()}" / "moodbot.tar.gz"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="moodbot-") as tmp:
        # `rasa init` creates the project and, with --no-prompt, trains it into ./models of the working folder
        done = subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", tmp], cwd=tmp,
                              env={**os.environ, **QUIET_ENV}, capture_output=True, text=True,
                              timeout=TRAIN_TIMEOUT_S)
        models = sorted(Path(tmp, "models").glob("*.tar.gz"))
        if done.returncode != 0 or not models:
            raise RuntimeError(f"rasa init failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(models[-1], partial)
        partial.replace(target)  # never a half-copied model under the cached name
    return target


class MoodBot:
    """The moodbot's Rasa server on a free 127.0.0.1 port, REST channel only, no HTTP API."""

    def __init__(self, workdir: Path, model: Path) -> None:
        self.workdir, self.model = workdir, model
        self.port = free_port()
        self.credentials = workdir / "credentials.yml"
        self.credentials.write_text("rest:\n", encoding="utf-8")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def command(self) -> list[str]:
        # run from workdir, which has no endpoints.yml: Rasa's defaults (in-memory trackers, no action server)
        return [str(RASA), "run", "--model", str(self.model), "--credentials", str(self.credentials),
                "--interface", "127.0.0.1", "--port", str(self.port)]

    def spawn(self) -> None:
        """Start the process and return at once (its model loads while the other bot starts)."""
        log = (self.workdir / "moodbot.log").open("ab")
        self.process = subprocess.Popen(self.command(), cwd=self.workdir, env={**os.environ, **QUIET_ENV},
                                        stdout=log, stderr=subprocess.STDOUT)

    def replies(self) -> bool:
        """Whether the bot answers a greeting over REST (Rasa opens its port only once the model is loaded)."""
        r = requests.post(self.webhook, json={"sender": "ready-check", "message": "hi"}, timeout=30)
        return r.ok and bool(r.json())

    def wait_ready(self) -> None:
        assert self.process is not None, "spawn() first"
        wait_until(self.replies, "moodbot", self.process, self.workdir / "moodbot.log")

    def stop(self) -> None:
        Bot._stop(self.process)


if __name__ == "__main__":  # make moodbot: train it now (once per Rasa version), not inside a timed test or bench
    print(trained_model())
