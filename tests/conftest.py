"""Shared fixtures: a deterministic fake embedder, small knowledge bases, fresh trackers."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from bot.core.settings import ROOT, Settings
from bot.core.text import deaccent, words
from bot.knowledge.model import Entry, topic_of

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class FakeEmbedder:
    """Bag of de-accented character trigrams, hashed: similar spellings give similar vectors."""

    name = "fake"
    dim = 256

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in words(deaccent(text)):
            padded = f" {w} "
            for i in range(len(padded) - 2):
                h = int(hashlib.md5(padded[i : i + 3].encode()).hexdigest(), 16)
                v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)


def make_entry(eid: str, title: str, questions: list[str], answer: str = "Trả lời.", **kw) -> Entry:
    """An entry with sensible defaults for tests."""
    return Entry(
        id=eid,
        topic=topic_of(eid),
        title=title,
        questions=tuple(questions),
        answer=answer,
        **{"source": "https://vneid.gov.vn/", "checked": dt.date(2026, 11, 20), **kw},
    )


@pytest.fixture
def small_entries() -> list[Entry]:
    """Three entries with distinct vocabulary."""
    return [
        make_entry(
            "vneid-quen-mat-khau",
            "Quên mật khẩu VNeID",
            ["Quên mật khẩu VNeID", "lấy lại mật khẩu", "quen mk vneid", "không nhớ mật khẩu đăng nhập"],
            "Bạn lấy lại mật khẩu ngay trên ứng dụng:",
            steps=("Bấm Quên mật khẩu.", "Nhập mã OTP gửi về điện thoại."),
            related=("vneid-kich-hoat",),
        ),
        make_entry(
            "vneid-kich-hoat",
            "Kích hoạt tài khoản định danh điện tử",
            ["kích hoạt tài khoản VNeID", "kich hoat vneid", "cách kích hoạt định danh", "mới được duyệt mức 2"],
        ),
        make_entry(
            "hoa-don-tra-cuu",
            "Tra cứu hóa đơn điện tử",
            ["tra cứu hóa đơn điện tử", "kiểm tra hóa đơn thật giả", "tra cuu hddt", "xem hóa đơn ở đâu"],
        ),
    ]


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    """Each test starts with empty rate-limit counters (bot.core.limits): one test's tickets or wrong codes must not
    lock out the next one's."""
    from bot.core import limits
    monkeypatch.setattr(limits, "_shared", None)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The checkout's real settings (model, knowledge base)."""
    return Settings.from_env()


@pytest.fixture(scope="session")
def real_model_dir(settings: Settings) -> Path:
    """The converted e5 model; `make test` builds it during set-up."""
    if not (settings.model_dir / "modules.json").exists():
        pytest.fail(f"no e5 model at {settings.model_dir}: run 'make setup' first")
    return settings.model_dir


@pytest.fixture(scope="session")
def base_model_dir(settings: Settings) -> Path:
    """multilingual-e5-small as converted, before the fine-tune (grouping unanswered questions uses it)."""
    if not (settings.base_model_dir / "modules.json").exists():
        pytest.fail(f"no e5 model at {settings.base_model_dir}: run 'make setup' first")
    return settings.base_model_dir


def repo_path(*parts: str) -> Path:
    return ROOT.joinpath(*parts)


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> str:
    """A fresh, empty PostgreSQL database on the machine's server (dropped afterwards). No skip: the
    multi-server set-up is part of the product, so a missing server fails the test."""
    import uuid

    import psycopg

    name = "bot_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    yield url
    from bot.store import schema

    engine = schema._engines.pop(url, None)
    if engine is not None:
        engine.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """The store's URL: a SQLite file (the default) and a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")
