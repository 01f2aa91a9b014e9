"""The search's head start: Rasa's pipeline sends each typed message to the action server's /search/warm
(bot/rasa_side/prefetch_sender.py), which searches it as the question action would (actions/warm_route.py), so the
action a moment later embeds nothing new."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import services, warm_route
from actions.questions import ActionAnswerQuestion
from bot.core.settings import Settings
from bot.rasa_side.prefetch_sender import PrefetchSender, warm_url, worth_warming
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.query_cache import CachedQueryEmbedder
from bot.search.service import SearchService
from bot.store.question_log import Events
from tests.test_actions import make_tracker


def test_the_warm_url_sits_beside_the_webhook_with_the_token():
    assert warm_url("http://127.0.0.1:5055/webhook", "s3cret") == "http://127.0.0.1:5055/search/warm?token=s3cret"
    assert warm_url("http://actions:8080/webhook") == "http://actions:8080/search/warm"
    assert warm_url("http://lb:9000/") == "http://lb:9000/search/warm"


@pytest.mark.parametrize(("text", "worth"), [
    ("quen mk vneid", True), ('/ask_question{"entry_id":"x"}', False), ("   ", False), ("???", False),
    ("a" * 2001, False),
])
def test_only_typed_words_are_sent(text, worth):
    assert worth_warming(text) is worth


class Receiver(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Receiver.got.append((self.path, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_sender_posts_each_text_with_the_token_and_never_waits():
    Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sender = PrefetchSender(warm_url(f"http://127.0.0.1:{server.server_port}/webhook", "tok"))
        assert sender.send("quên mật khẩu vneid") and sender.send("cấp lại thẻ bhyt")
        assert not sender.send("/greet")
        deadline = time.monotonic() + 10
        while len(Receiver.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Receiver.got == [("/search/warm?token=tok", {"text": "quên mật khẩu vneid"}),
                                ("/search/warm?token=tok", {"text": "cấp lại thẻ bhyt"})]
    finally:
        server.shutdown()


def test_a_text_sent_moments_ago_is_not_sent_again():
    """The REST doors send a message first, the pipeline's component after them: one warm-up, not two."""
    sender = PrefetchSender("http://127.0.0.1:9/search/warm")
    assert sender.send("quen mk vneid") and not sender.send("quen mk vneid") and sender.send("cap lai the bhyt")


def test_a_stuck_action_server_never_holds_the_caller_the_overflow_is_dropped():
    """An action server that accepts and never answers: the sender's thread waits on it, the caller never does;
    what does not fit the queue is dropped, not waited for."""
    import socket

    from bot.rasa_side.prefetch_sender import QUEUE_SIZE

    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(64)  # accepts connections (the kernel does), never reads or answers
    try:
        sender = PrefetchSender(f"http://127.0.0.1:{stuck.getsockname()[1]}/search/warm")
        sent = [sender.send(f"cau hoi so {i} ve vneid") for i in range(QUEUE_SIZE + 2)]
        assert sent[:QUEUE_SIZE] == [True] * QUEUE_SIZE and sent[-1] is False
    finally:
        stuck.close()


class Counted:
    """An embedder that records the query texts it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.embedded = inner, []

    def encode_queries(self, texts, progress=False):
        self.embedded.extend(texts)
        return self.inner.encode_queries(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def counted(tmp_path, monkeypatch, small_entries, fake_embedder):
    """The actions' search service over the small index, its query embedder counted behind the query cache."""
    base = Settings.from_env()
    settings = Settings(**{**base.__dict__, "index_dir": tmp_path / "index",
                           "store_url": f"sqlite:///{tmp_path / 'store.db'}"})
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: Events.open(settings.store_url))
    build_index(small_entries, fake_embedder, "fake", settings.index_dir, progress=False)
    inner = Counted(fake_embedder)
    service = SearchService(settings.index_dir, CachedQueryEmbedder(inner, size=100), Thresholds(0.0, 0.5, 0.9))
    monkeypatch.setattr(services, "search_service", lambda: service)
    return inner, service


class Body:
    """Sanic's streamed request, as read_bounded reads it."""

    def __init__(self, raw: bytes) -> None:
        self.headers = {"content-length": str(len(raw))}
        chunks = [raw]
        self.stream = SimpleNamespace(read=self._reader(chunks))

    @staticmethod
    def _reader(chunks):
        async def read():
            return chunks.pop() if chunks else None
        return read


async def test_after_the_warm_up_the_action_embeds_nothing_new_and_answers_the_same(counted):
    inner, service = counted
    text = "Cháu ơi bà quên mật khẩu vneid rồi, giờ bà phải làm sao để lấy lại mật khẩu hả cháu, bà cảm ơn nhiều nhé"
    reply = await warm_route.handle(Body(json.dumps({"text": text}).encode()))
    assert reply.status == 204 and inner.embedded
    warmed = list(inner.embedded)
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion(lambda: service).run(dispatcher, make_tracker(text), {})
    assert inner.embedded == warmed  # every vector the action needed was cached by the warm-up
    assert dispatcher.messages and dispatcher.messages[0]["text"]


@pytest.mark.parametrize(("raw", "status"), [
    (b"not json", 400), (b'{"text": 5}', 400), (b'{"text": "   "}', 400), (b"[1]", 400),
    (json.dumps({"text": "a" * 2001}).encode(), 400), (b"x" * (warm_route.MAX_BYTES + 1), 413),
])
async def test_bad_bodies_get_a_4xx(counted, raw, status):
    inner, _ = counted
    assert (await warm_route.handle(Body(raw))).status == status
    assert inner.embedded == []


RASA_SIDE = """
import time
from rasa.shared.nlu.training_data.message import Message
from bot.rasa_side.nlu.prefetch import SearchPrefetcher
component = SearchPrefetcher.create({}, None, None, None)
messages = [Message(data={"text": "vneid bao loi khong vao duoc"}), Message(data={"text": "/greet"})]
assert component.process(messages) == messages
deadline = time.monotonic() + 10
while component.sender._queue.unfinished_tasks and time.monotonic() < deadline:
    time.sleep(0.02)
time.sleep(0.3)
"""


def test_the_rasa_pipeline_component_sends_typed_messages_to_the_action_server():
    import os
    import subprocess

    from tests.conftest import repo_path
    from tests.rasa_env import RASA

    Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "PYTHONPATH": str(repo_path()), "ACTION_SERVER_TOKEN": "tok",
               "ACTION_SERVER_URL": f"http://127.0.0.1:{server.server_port}/webhook"}
        done = subprocess.run([str(RASA.parent / "python"), "-c", RASA_SIDE], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert Receiver.got == [("/search/warm?token=tok", {"text": "vneid bao loi khong vao duoc"})]
    finally:
        server.shutdown()
