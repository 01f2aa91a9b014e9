"""Process logs (bot/core/logs.py): each process's file rotates at BOT_LOG_MAX_BYTES keeping BOT_LOG_BACKUPS, and no
line, traceback included, carries personal data. The action server and Rasa's logging.yml are checked for real."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.core import logs
from bot.core.settings import ROOT
from tests.test_doors_action_server import FORGED_CALL, start, stop
from tools.launch import RASA, wait_until

PHONE = "0912345678"
CCCD = "001203004567"


@pytest.fixture
def clean_root() -> Iterator[None]:
    """Give the root logger back as it was (pytest's own capture handlers included)."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    for h in root.handlers[:]:
        if h not in saved:
            h.close()
    root.handlers[:] = saved
    root.setLevel(level)
    logging.captureWarnings(False)


def log_files(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.log*"))


def test_a_process_log_rotates_at_the_size_limit_and_keeps_the_backups(tmp_path, clean_root):
    env = {logs.DIR_ENV: str(tmp_path), logs.MAX_BYTES_ENV: "2000", logs.BACKUPS_ENV: "2"}
    logs.configure("relay", env=env)
    for i in range(200):
        logging.getLogger("bot.test").info("line %03d %s", i, "x" * 40)
    files = log_files(tmp_path, "relay")
    assert [f.name for f in files] == ["relay.log", "relay.log.1", "relay.log.2"]
    assert all(f.stat().st_size <= 2000 for f in files)
    assert "line 199" in files[0].read_text(encoding="utf-8")  # the newest lines stay in the live file


def test_every_line_is_masked_traceback_included(tmp_path, clean_root):
    logs.configure("admin", env={logs.DIR_ENV: str(tmp_path)})
    log = logging.getLogger("bot.test")
    log.warning("resident %s asked", PHONE)
    try:
        raise ValueError(f"bad number {CCCD}")
    except ValueError:
        log.exception("failed")
    text = (tmp_path / "admin.log").read_text(encoding="utf-8")
    assert PHONE not in text and CCCD not in text
    assert "ValueError: bad number [" in text and "resident [" in text


def test_without_a_log_folder_the_process_logs_masked_to_stderr(capsys, clean_root):
    logs.configure("telegram", env={})
    logging.getLogger("bot.test").warning("call %s", PHONE)
    err = capsys.readouterr().err
    assert "call [" in err and PHONE not in err


def test_configuring_twice_adds_no_second_handler(tmp_path, clean_root):
    env = {logs.DIR_ENV: str(tmp_path)}
    first = logs.configure("actions", env=env)
    assert logs.configure("actions", env=env) is first
    assert logging.getLogger().handlers == [first]


def test_python_warnings_go_to_the_log_masked(tmp_path, clean_root):
    import warnings

    logs.configure("actions", env={logs.DIR_ENV: str(tmp_path)})
    warnings.warn(f"odd input {PHONE}", UserWarning, stacklevel=1)
    text = (tmp_path / "actions.log").read_text(encoding="utf-8")
    assert "odd input [" in text and PHONE not in text


@pytest.mark.parametrize("value", ["", "ten", "-5"])
def test_a_bad_size_falls_back_instead_of_stopping_the_server(tmp_path, value):
    h = logs.file_handler("x", {logs.DIR_ENV: str(tmp_path), logs.MAX_BYTES_ENV: value})
    assert h.maxBytes == (0 if value == "-5" else logs.DEFAULT_MAX_BYTES)
    h.close()


def test_each_sanic_process_gets_its_own_file():
    assert logs.worker_log_name("actions", None) is None  # the main process: stderr
    assert logs.worker_log_name("actions", "Sanic-Server-0-0") == "actions"
    assert logs.worker_log_name("actions", "Sanic-Server-1-0") == "actions-1"


def test_the_action_server_worker_logs_masked_to_its_rotating_file(tmp_path):
    """Before: Sanic's spawned worker had no handler at all, so an error naming a phone number reached stderr
    unmasked through Python's last-resort handler, and nothing was rotated."""
    folder = tmp_path / "logs"
    proc, url, out = start(tmp_path, BOT_LOG_DIR=str(folder), BOT_LOG_MAX_BYTES="1500", BOT_LOG_BACKUPS="2")
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, "action server", proc, out, timeout=120)
        for i in range(30):  # rasa_sdk logs each unknown action's name at ERROR
            call = {**FORGED_CALL, "next_action": f"goi {PHONE} lan {i}"}
            assert requests.post(f"{url}/webhook", json=call, timeout=10).status_code == 404
    finally:
        stop(proc)
    files = log_files(folder, "actions")
    assert [f.name for f in files] == ["actions.log", "actions.log.1", "actions.log.2"]
    text = "".join(f.read_text(encoding="utf-8") for f in files) + out.read_text(errors="replace")
    assert "lan 29" in text and PHONE not in text


@pytest.mark.skipif(not RASA.exists(), reason="Rasa's environment is not set up")
def test_rasa_applies_logging_yml_with_its_own_loader(tmp_path):
    """Rasa swallows a logging config it cannot apply (a debug line, nothing else): apply logging.yml exactly as
    `rasa run --logging-config-file` does, in Rasa's interpreter, and look at the file it writes."""
    code = (
        "import logging; from rasa.utils.common import configure_logging_from_file as c; c('logging.yml');"
        f"[logging.getLogger('rasa.core').info('sender %s line %d', '{PHONE}', i) for i in range(100)]"
    )
    env = {"PYTHONPATH": str(ROOT), "BOT_LOG_DIR": str(tmp_path), "BOT_LOG_MAX_BYTES": "2000",
           "BOT_LOG_BACKUPS": "1", "PATH": "/usr/bin:/bin"}
    python = RASA.parent / "python"
    result = subprocess.run([str(python), "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    files = log_files(tmp_path, "rasa")
    assert [f.name for f in files] == ["rasa.log", "rasa.log.1"]
    text = files[0].read_text(encoding="utf-8")
    assert "line 99" in text and PHONE not in text


def test_the_telegram_relay_logs_to_its_rotating_file_secrets_hidden(tmp_path, monkeypatch, clean_root):
    """The relay keeps its own formatter (it also hides the bot token) and gains the rotating file."""
    from bot.relay.main import configure_logging
    from tests.test_telegram_relay import webhook_settings

    monkeypatch.setenv(logs.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(logs.MAX_BYTES_ENV, "1000")
    settings = webhook_settings(8443)
    configure_logging(settings)
    for i in range(40):
        logging.getLogger("bot.relay.telegram").warning("chat %s: url bot%s/send %d", PHONE, settings.token, i)
    files = log_files(tmp_path, "telegram")
    assert len(files) > 1 and all(f.stat().st_size <= 1000 for f in files)
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    assert "<secret>" in text and settings.token not in text and PHONE not in text
