"""Where each process the project starts writes its log: one rotating file per process, personal data masked.

Used by the action server, Rasa (through logging.yml), the admin page and the Telegram relay. Imported by both
interpreters (Rasa's 3.10 and the action server's 3.11): the standard library and bot.core.privacy only.

- BOT_LOG_DIR unset: stderr (tests, a foreground `make telegram`). Set (scripts/run.sh sets .cache/logs):
  <BOT_LOG_DIR>/<name>.log, rotated at BOT_LOG_MAX_BYTES (10 MB) keeping BOT_LOG_BACKUPS (5) older files.
- Every line is masked whole (bot.core.privacy.mask), the traceback included: `privacy.MaskingFilter` sees the
  message only, and an exception's text can quote what a resident typed.
- One writer per file: two processes rotating the same file lose lines, so a server with several worker
  processes gives each its own name (`worker_log_name`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.core.privacy import mask

DIR_ENV, MAX_BYTES_ENV, BACKUPS_ENV = "BOT_LOG_DIR", "BOT_LOG_MAX_BYTES", "BOT_LOG_BACKUPS"
DEFAULT_DIR = ".cache/logs"  # for Rasa's logging.yml when BOT_LOG_DIR is unset: relative to the repo root
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_bot_log_name"  # set on the handlers made here, so configuring twice in one process adds nothing


class MaskingFormatter(logging.Formatter):
    """Masks personal data in the whole formatted line, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        """The masked line."""
        return mask(super().format(record))


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number from the environment; a typo falls back to the default rather than stopping a server."""
    try:
        value = int(env.get(name, "").strip() or default)
    except ValueError:
        print(f"logs: {name}={env.get(name)!r} is not a whole number; using {default}", file=sys.stderr)
        return default
    return max(value, 0)


def file_handler(name: str, env: Mapping[str, str] | None = None) -> logging.Handler:
    """A rotating file `<name>.log` under BOT_LOG_DIR (default .cache/logs), masked. Rasa's logging.yml calls it."""
    env = os.environ if env is None else env
    folder = Path(env.get(DIR_ENV, "").strip() or DEFAULT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / f"{name}.log",
        maxBytes=_count(env, MAX_BYTES_ENV, DEFAULT_MAX_BYTES),
        backupCount=_count(env, BACKUPS_ENV, DEFAULT_BACKUPS),
        encoding="utf-8",
    )
    handler.setFormatter(MaskingFormatter(FORMAT))
    setattr(handler, _MARK, name)
    return handler


def handler(
    name: str, env: Mapping[str, str] | None = None, formatter: logging.Formatter | None = None
) -> logging.Handler:
    """The handler for process `name`: its rotating file when BOT_LOG_DIR is set, else stderr; masked either way
    (`formatter`, when given, must mask: the relay's also hides its secrets)."""
    env = os.environ if env is None else env
    chosen = file_handler(name, env) if env.get(DIR_ENV, "").strip() else logging.StreamHandler()
    chosen.setFormatter(formatter or MaskingFormatter(FORMAT))
    setattr(chosen, _MARK, name)
    return chosen


def configure(
    name: str,
    level: int | str = logging.INFO,
    env: Mapping[str, str] | None = None,
    formatter: logging.Formatter | None = None,
) -> logging.Handler:
    """Send the root logger, and Python's warnings, to `handler(name)` alone; a second call changes nothing."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, _MARK, None) == name:
            return existing
    chosen = handler(name, env, formatter)
    for old in root.handlers[:]:  # e.g. coloredlogs' unmasked stderr handler
        root.removeHandler(old)
    root.addHandler(chosen)
    root.setLevel(level)
    logging.captureWarnings(True)
    return chosen


def worker_log_name(base: str, worker: str | None) -> str | None:
    """The log name of a Sanic process: `base` for the first server worker ("Sanic-Server-0-0"), `base-N` for
    server N, None for the main process (worker unset), which keeps its few start-up lines on stderr."""
    if not worker:
        return None
    parts = worker.split("-")
    number = parts[2] if len(parts) > 2 and worker.startswith("Sanic-Server-") else worker
    return base if number == "0" else f"{base}-{number}"
