"""Actions with a fresh tracker each time, over a small real index (fake embedder)."""


import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.feedback import ActionFeedback
from actions.handoff import ActionHandoff, last_topic
from actions.questions import BUSY, ActionAnswerQuestion
from bot.core.settings import Settings
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.service import SearchService
from bot.store import offload
from bot.store.question_log import Events


def make_tracker(text="", intent="ask_question", entities=None, slots=None, sender="test-user") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def isolated(tmp_path, monkeypatch, small_entries, fake_embedder):
    """Settings pointing into tmp_path, and a search service over the small index."""
    base = Settings.from_env()
    settings = Settings(
        **{**base.__dict__, "index_dir": tmp_path / "index", "store_url": f"sqlite:///{tmp_path / 'store.db'}"}
    )
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: Events.open(settings.store_url))
    build_index(small_entries, fake_embedder, "fake", settings.index_dir, progress=False)
    service = SearchService(settings.index_dir, fake_embedder, Thresholds(0.0, 0.5, 0.9))
    return settings, lambda: service


async def test_answer_action_replies_and_sets_slot(isolated):
    _, service = isolated
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion(service).run(dispatcher, make_tracker("quen mk vneid"), {})
    assert events == [{"event": "slot", "timestamp": None, "name": "last_entry", "value": "vneid-quen-mat-khau"}]
    assert "Nguồn:" in dispatcher.messages[0]["text"] and dispatcher.messages[0]["buttons"]


async def test_button_press_answers_the_named_entry(isolated):
    _, service = isolated
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/ask_question{"entry_id":"hoa-don-tra-cuu"}',
                           entities=[{"entity": "entry_id", "value": "hoa-don-tra-cuu"}])
    await ActionAnswerQuestion(service).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("Tra cứu hóa đơn điện tử")


async def test_declined_question_is_recorded_without_personal_numbers(isolated):
    settings, service = isolated
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion(service).run(dispatcher, make_tracker("so cccd 001234567890 cua toi la gi zzz"), {})
    assert dispatcher.messages[0]["text"].startswith("Xin lỗi")
    assert offload.settle(10)  # the question log is written off the reply's path
    (logged,) = Events.open(settings.store_url).unanswered()
    assert logged.outcome == "declined" and "001234567890" not in logged.text and "cccd" in logged.text


async def test_search_failure_gives_a_polite_reply(isolated):
    def broken():
        raise FileNotFoundError("no index")

    dispatcher = CollectingDispatcher()
    assert await ActionAnswerQuestion(broken).run(dispatcher, make_tracker("quen mk"), {}) == []
    assert dispatcher.messages[0]["text"] == BUSY


async def test_handoff_uses_topic_of_last_answer(isolated):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("gap can bo", "request_human", slots={"last_entry": "dich-vu-cong-x"})
    await ActionHandoff().run(dispatcher, tracker, {})
    assert "dichvucong.gov.vn" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    "slot, topic", [("vneid-kich-hoat", "vneid"), ("to-cong-nghe-so-x", "to-cong-nghe-so"), (None, None)]
)
def test_last_topic(slot, topic):
    assert last_topic(make_tracker(slots={"last_entry": slot})) == topic


@pytest.mark.parametrize(
    "text, entities, helpful",
    [
        ("", [{"entity": "helpful", "value": "no"}], False),
        ("", [{"entity": "helpful", "value": "yes"}], True),
        ("sai rồi", [], False),
        ("lam theo khong duoc", [], False),
        ("hữu ích lắm", [], True),
    ],
)
async def test_feedback_is_recorded_and_answered(isolated, text, entities, helpful):
    settings, _ = isolated
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "feedback", entities, slots={"last_entry": "vneid-kich-hoat"})
    await ActionFeedback().run(dispatcher, tracker, {})
    assert offload.settle(10)  # feedback is written off the reply's path
    record = Events.open(settings.store_url).feedback()[-1]
    assert record.helpful is helpful and record.entry_id == "vneid-kich-hoat"
    assert ("Xin lỗi" in dispatcher.messages[0]["text"]) is (not helpful)


def test_action_server_exposes_every_domain_action():
    import yaml
    from rasa_sdk.executor import ActionExecutor

    from bot.core.settings import ROOT

    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["actions"]) <= set(executor.actions)
