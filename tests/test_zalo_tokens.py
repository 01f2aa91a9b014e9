"""The Zalo token store: durable, atomic writes (a crash never loses the pair) and which pair wins at start-up."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from bot.core.settings import ROOT
from bot.messengers.zalo_tokens import TokenPair, TokenStore, fingerprint, write_json_atomic

OLD = TokenPair("access-old", "refresh-old", 1_900_000_000.0, fingerprint("refresh-seed"))
NEW = TokenPair("access-new", "refresh-new", 1_900_090_000.0, fingerprint("refresh-seed"))


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_save_then_load_round_trips_privately(tmp_path):
    store = TokenStore(tmp_path / "zalo" / "tokens.json", "access-seed", "refresh-seed")
    store.save(OLD)
    assert store.load() == OLD
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600  # tokens are secrets
    assert leftovers(store.path.parent) == []


def test_seed_from_the_environment_when_there_is_no_file(tmp_path):
    pair = TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed").load()
    assert (pair.access_token, pair.refresh_token) == ("access-seed", "refresh-seed")
    assert pair.seed == fingerprint("refresh-seed")
    assert TokenStore(tmp_path / "t.json").load() is None


def test_seed_may_be_a_refresh_token_alone_or_an_access_token_alone(tmp_path):
    assert TokenStore(tmp_path / "t.json", "", "r").load().access_token == ""
    assert TokenStore(tmp_path / "t.json", "a", "").load().refresh_token == ""


def test_a_rotated_pair_survives_a_restart_with_the_same_environment(tmp_path):
    TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed").save(NEW)
    assert TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed").load() == NEW  # the spent seed is not reused


def test_a_new_pair_in_the_environment_replaces_the_file(tmp_path):
    TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed").save(NEW)
    pair = TokenStore(tmp_path / "t.json", "access-reauthorised", "refresh-reauthorised").load()
    assert pair.access_token == "access-reauthorised"


def test_the_file_never_holds_the_seed_token_itself(tmp_path):
    store = TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed")
    store.save(NEW)
    assert "refresh-seed" not in store.path.read_text()


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"access_token": "a"}', '{"access_token": "", "refresh_token": "r"}']
)
def test_an_unreadable_file_falls_back_to_the_environment(tmp_path, caplog, content):
    (tmp_path / "t.json").write_text(content)
    with caplog.at_level(logging.WARNING):
        pair = TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed").load()
    assert pair.access_token == "access-seed"
    assert "unreadable" in caplog.text and "refresh-seed" not in caplog.text


def test_a_failure_mid_write_leaves_the_old_pair(tmp_path, monkeypatch):
    store = TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed")
    store.save(OLD)

    def torn_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", torn_fsync)
    with pytest.raises(OSError):
        store.save(NEW)
    monkeypatch.undo()
    assert store.load() == OLD
    assert leftovers(tmp_path) == []  # the half-written temp file is removed


def test_a_failed_rename_leaves_the_old_pair(tmp_path, monkeypatch):
    store = TokenStore(tmp_path / "t.json")
    store.save(OLD)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("EIO")))
    with pytest.raises(OSError):
        store.save(NEW)
    monkeypatch.undo()
    assert store.load() == OLD and leftovers(tmp_path) == []


CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from bot.messengers import zalo_tokens as zt
    real_fdopen = os.fdopen

    class Torn:  # writes half of what it is given, then the process dies: power cut, OOM kill
        def __init__(self, f): self.f = f
        def __enter__(self): return self
        def __exit__(self, *a): return False
        def write(self, s):
            self.f.write(s[: len(s) // 2]); self.f.flush(); os.fsync(self.f.fileno()); os._exit(9)

    os.fdopen = lambda fd, *a, **k: Torn(real_fdopen(fd, *a, **k))
    zt.TokenStore(Path(sys.argv[1])).save(zt.TokenPair("access-new", "refresh-new"))
    """
)


def test_a_crash_mid_write_leaves_the_old_pair_intact(tmp_path):
    store = TokenStore(tmp_path / "t.json", "access-seed", "refresh-seed")
    store.save(OLD)
    before = store.path.read_bytes()
    child = subprocess.run(
        [sys.executable, "-c", CRASH, str(store.path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )
    assert child.returncode == 9, child.stderr
    torn = leftovers(tmp_path)
    assert len(torn) == 1 and 0 < len((tmp_path / torn[0]).read_text()) < len(before)  # it really died mid-write
    assert store.path.read_bytes() == before
    assert store.load() == OLD
    store.save(NEW)  # the next save is not disturbed by the debris
    assert store.load() == NEW


def test_write_json_atomic_replaces_whole_files(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": "1" * 10_000})
    write_json_atomic(path, {"a": "2"})
    assert json.loads(path.read_text()) == {"a": "2"}


def test_the_lock_excludes_another_holder(tmp_path):
    store = TokenStore(tmp_path / "t.json")
    order: list[str] = []

    def second() -> None:
        with store.locked():
            order.append("second")

    with store.locked():
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.2)
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]
