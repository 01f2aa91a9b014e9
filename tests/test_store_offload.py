"""A locked or unreachable store never freezes the action server (issue 9, item 7).

Real timing, no mocked clocks: the SQLite write lock is held by another connection (BEGIN EXCLUSIVE), PostgreSQL is
a closed port or a local socket that accepts and never answers. A watcher coroutine on the same event loop measures
the longest stall while the actions run; every action must reply within 2 s with the loop kept free.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import threading
import time
from dataclasses import replace

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from actions import services
from actions.feedback import ActionFeedback
from actions.handoff import ActionHandoff
from actions.help_records import ActionRecordHelp
from actions.questions import ActionAnswerQuestion
from actions.tickets import ActionLeaveTicket, ActionRelayToStaff
from bot.core.settings import Settings
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.service import SearchService
from bot.store import offload
from bot.store.knowledge import KnowledgeStore
from bot.store.question_log import Events
from bot.store.tickets import Tickets
from bot.team import records as help_records

REPLY_WITHIN_S = 2.0
MAX_STALL_S = 0.25  # the loop may pause for the search itself (fake embedder, a few ms), never for the store
SECRET_WORD = "zzqxv"  # in the question text: must not reach the logs when the question log write fails
CODES = ("TCN01",)
LOGIN = [{"event": "user", "text": "/helper TCN01"}, {"event": "slot", "name": "helper_mode", "value": True}]


class LoopWatch:
    """A coroutine that only sleeps 10 ms at a time: the longest gap between its wake-ups is how long the event
    loop was frozen."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.worst = max(self.worst, now - last - 0.01)
            last = now

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *_exc) -> None:
        await asyncio.sleep(0.02)  # a stall that ended with the action still counts
        self._task.cancel()


def tracker(text="", intent="ask_question", slots=None, events=None, sender="web-0123456789abcdef01234567") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(sender, slots or {}, latest, events or [], False, None, {}, "action_listen")


async def timed(action, track: Tracker, events: list | None = None) -> tuple[float, float, list[str]]:
    """(seconds to reply, worst loop stall, texts said) for one action run; its events added to `events`."""
    dispatcher = CollectingDispatcher()
    async with LoopWatch() as watch:
        start = time.monotonic()
        returned = await action.run(dispatcher, track, {})
        took = time.monotonic() - start
    (events if events is not None else []).extend(returned)
    return took, watch.worst, [m.get("text") or "" for m in dispatcher.messages]


def use_store(monkeypatch, tmp_path, small_entries, fake_embedder, store_url: str):
    """Settings on this store; a search service over a small index on disk (it needs no store)."""
    settings = replace(Settings.from_env(), index_dir=tmp_path / "index", store_url=store_url, helper_codes=CODES)
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: Events.open(store_url))
    build_index(small_entries, fake_embedder, "fake", settings.index_dir, progress=False)
    service = SearchService(settings.index_dir, fake_embedder, Thresholds(0.0, 0.5, 0.9))
    service.searcher()  # the index is loaded before the clock starts: only the store's part is measured
    return lambda: service


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Events.open(url)  # the schema exists before the lock is taken
    return url


@pytest.fixture
def write_lock(sqlite_url):
    """Another connection holds the SQLite write lock for the whole test."""
    holder = sqlite3.connect(sqlite_url[len("sqlite:///"):], isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.rollback()
    holder.close()
    offload.settle(10)


def check(took: float, stall: float) -> None:
    print(f"reply in {took:.2f} s, event loop stalled at most {stall * 1000:.0f} ms")  # shown by pytest -rP
    assert took < REPLY_WITHIN_S, f"the action took {took:.2f} s"
    assert stall < MAX_STALL_S, f"the event loop was frozen for {stall:.2f} s"


# --- the SQLite write lock is held ---------------------------------------------------------------------------

async def test_question_log_under_a_held_write_lock(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url,
                                                    write_lock, caplog):
    service = use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    caplog.set_level(logging.INFO)
    took, stall, said = await timed(ActionAnswerQuestion(service), tracker(f"{SECRET_WORD} khong lien quan gi ca"))
    check(took, stall)
    assert said[0].startswith("Xin lỗi")  # declined, as without the lock: the answer does not need the store
    assert offload.settle(10)
    assert "question log" in caplog.text  # the lost write is logged ...
    assert SECRET_WORD not in caplog.text  # ... without what the resident wrote


async def test_an_answer_is_not_held_up_by_the_question_log(monkeypatch, tmp_path, small_entries, fake_embedder,
                                                            sqlite_url, write_lock):
    service = use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    took, stall, said = await timed(ActionAnswerQuestion(service), tracker("quen mk vneid"))
    check(took, stall)
    assert "Nguồn:" in said[0]


async def test_feedback_under_a_held_write_lock(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url,
                                                write_lock):
    use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    took, stall, said = await timed(ActionFeedback(), tracker("cam on", "feedback", {"last_entry": "vneid-x"}))
    check(took, stall)
    assert said and said[0]


async def test_handoff_under_a_held_write_lock_gives_the_contacts(monkeypatch, tmp_path, small_entries, fake_embedder,
                                                                  sqlite_url, write_lock):
    use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    took, stall, said = await timed(ActionHandoff(), tracker("gap can bo", "request_human"))
    check(took, stall)
    assert said[0].startswith("Bạn cần người hỗ trợ trực tiếp?")  # the contacts, without a ticket


async def test_relay_and_leave_under_a_held_write_lock(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url):
    use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    sender = "web-00112233445566778899aabb"
    Tickets.open(sqlite_url).create(sender, "webchat", "", "vneid", [])
    holder = sqlite3.connect(sqlite_url[len("sqlite:///"):], isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        events = []
        took, stall, _ = await timed(ActionRelayToStaff(), tracker("toi van chua dang nhap duoc", "ask_question",
                                                                   {"ticket_open": True}, sender=sender), events)
        check(took, stall)
        assert {"event": "followup", "timestamp": None, "name": "action_answer_question"} in events  # the assistant

        took, stall, said = await timed(ActionLeaveTicket(), tracker("quay lai tro ly", "leave_ticket",
                                                                     {"ticket_open": True}, sender=sender))
        check(took, stall)
        assert said and said[0]
    finally:
        holder.rollback()
        holder.close()
        offload.settle(10)


async def test_help_record_under_a_held_write_lock(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url,
                                                   write_lock):
    use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    took, stall, said = await timed(ActionRecordHelp(), tracker("ghi nhận: giúp bà Lan kích hoạt VNeID", "record_help",
                                                                {"helper_mode": True}, LOGIN))
    check(took, stall)
    assert said == [help_records.UNAVAILABLE]


async def test_other_residents_are_answered_while_one_waits_on_the_lock(monkeypatch, tmp_path, small_entries,
                                                                        fake_embedder, sqlite_url, write_lock):
    """A handoff waiting on the store does not hold up a question asked at the same moment."""
    service = use_store(monkeypatch, tmp_path, small_entries, fake_embedder, sqlite_url)
    handoff = asyncio.create_task(timed(ActionHandoff(), tracker("gap can bo", "request_human")))
    await asyncio.sleep(0.05)
    other = tracker("quen mk vneid", sender="web-ffeeddccbbaa998877665544")
    took, stall, said = await timed(ActionAnswerQuestion(service), other)
    assert took < 0.5 and stall < MAX_STALL_S and "Nguồn:" in said[0]
    check(*(await handoff)[:2])


def test_the_store_gives_up_on_a_held_lock_within_its_timeout(sqlite_url, write_lock):
    """Off the loop too, a worker thread is not held for long: SQLite's busy timeout is short."""
    start = time.monotonic()
    with pytest.raises(OperationalError):
        Events.open(sqlite_url).record_feedback("x", True)
    assert time.monotonic() - start < 3.0


# --- PostgreSQL is unreachable -------------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def blackhole():
    """A port that completes TCP connections and never says a word. Closed after 6 s, so that a client without a
    timeout fails this test instead of hanging the suite."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)  # never accept(): the kernel still completes the handshakes
    timer = threading.Timer(6.0, server.close)
    timer.start()
    yield server.getsockname()[1]
    timer.cancel()
    server.close()
    offload.settle(10)


@pytest.fixture(params=["closed", "blackhole"])
def unreachable_pg(request):
    if request.param == "closed":
        yield f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
        offload.settle(10)
    else:
        yield f"postgresql://postgres@127.0.0.1:{request.getfixturevalue('blackhole')}/test"


async def test_every_store_action_replies_in_time_without_postgres(monkeypatch, tmp_path, small_entries, fake_embedder,
                                                                   unreachable_pg):
    service = use_store(monkeypatch, tmp_path, small_entries, fake_embedder, unreachable_pg)
    runs = [
        (ActionAnswerQuestion(service), tracker("quen mk vneid")),
        (ActionAnswerQuestion(service), tracker(f"{SECRET_WORD} khong lien quan gi ca")),
        (ActionFeedback(), tracker("cam on", "feedback", {"last_entry": "vneid-x"})),
        (ActionHandoff(), tracker("gap can bo", "request_human")),
        (ActionRelayToStaff(), tracker("toi van chua duoc", "ask_question", {"ticket_open": True})),
        (ActionLeaveTicket(), tracker("quay lai tro ly", "leave_ticket", {"ticket_open": True})),
        (ActionRecordHelp(), tracker("ghi nhận: giúp bà Lan", "record_help", {"helper_mode": True}, LOGIN)),
    ]
    for action, track in runs:
        events = []
        took, stall, said = await timed(action, track, events)
        check(took, stall)
        assert (said and said[0]) or any(e["event"] == "followup" for e in events), action.name()


async def test_handoff_without_postgres_gives_the_contacts(monkeypatch, tmp_path, small_entries, fake_embedder,
                                                           unreachable_pg):
    use_store(monkeypatch, tmp_path, small_entries, fake_embedder, unreachable_pg)
    took, stall, said = await timed(ActionHandoff(), tracker("gap can bo", "request_human"))
    check(took, stall)
    assert said[0].startswith("Bạn cần người hỗ trợ trực tiếp?")


def test_opening_the_knowledge_store_does_not_wait_for_the_database(blackhole):
    """The search service follows releases in a background thread: opening its store must not connect (a store
    that is down must not stop the bot answering from the index on disk)."""
    start = time.monotonic()
    store = KnowledgeStore.open(f"postgresql://postgres@127.0.0.1:{blackhole}/test")
    assert time.monotonic() - start < 0.5
    start = time.monotonic()
    with pytest.raises(OperationalError):
        store.live_release()
    assert time.monotonic() - start < 4.0  # the connect timeout, not the operating system's minutes


def test_a_blackholed_postgres_fails_within_the_connect_timeout(blackhole):
    start = time.monotonic()
    with pytest.raises(OperationalError):
        Events.open(f"postgresql://postgres@127.0.0.1:{blackhole}/test").record_feedback("x", True)
    assert time.monotonic() - start < 4.0
