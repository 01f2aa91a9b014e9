"""The conversation follows the resident (issues 11 and 12) at the actions: typed steps right after an answer,
follow-ups, topic menus, "?" and a second greeting. A small real index with a fake embedder."""

import time
from collections import Counter

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import menus, services
from actions.greet import ActionGreet
from actions.guide import ActionGuide
from actions.questions import ActionAnswerQuestion
from bot.core.settings import Settings
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.service import SearchService
from bot.store import offload
from bot.store.menus import MenuPins
from bot.store.question_log import Events
from tests.conftest import make_entry

CAP_LAI = make_entry(
    "vneid-cap-lai", "Cấp lại thẻ căn cước khi bị mất", ["mất thẻ căn cước làm lại", "cap lai can cuoc bi mat"],
    "Bạn làm trên ứng dụng VNeID. Lệ phí cấp lại là 70.000 đồng.",
    steps=("Mở VNeID, chọn Thủ tục hành chính.", "Chọn Cấp lại thẻ căn cước.", "Nộp lệ phí trực tuyến."),
    problems=((2, ("Không thấy mục Cấp lại: cập nhật ứng dụng lên bản mới nhất.",)),),
)


def user(text: str, intent: str = "ask_question") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


def tracker(text: str, intent: str = "ask_question", slots=None, history=(), entities=None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    events = [*history, user(text, intent)]
    return Tracker("ctx-user", slots or {}, latest, events, False, None, {}, "action_listen")


ANSWERED = (user("mất thẻ căn cước làm lại thế nào"), slot("last_entry", "vneid-cap-lai"))
LONG_AGO = (*ANSWERED, user("cảm ơn", "thank"))


@pytest.fixture
def service(tmp_path, monkeypatch, small_entries, fake_embedder):
    base = Settings.from_env()
    settings = Settings(
        **{**base.__dict__, "index_dir": tmp_path / "index", "store_url": f"sqlite:///{tmp_path / 'store.db'}"}
    )
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: Events.open(settings.store_url))
    monkeypatch.setattr(menus, "defaults", lambda: {"vneid": ["vneid-kich-hoat", "vneid-quen-mat-khau",
                                                              "vneid-cap-lai"]})
    # the menus' counts and pins are process-wide: start every test with none, read just now (another test's
    # background recount of its own question log must not order this test's menu)
    offload.settle()
    for cached, empty in ((menus._counts, Counter()), (menus._pins, {})):
        monkeypatch.setattr(cached, "value", empty)
        monkeypatch.setattr(cached, "read_at", time.monotonic())
    build_index([*small_entries, CAP_LAI], fake_embedder, "fake", settings.index_dir, progress=False)
    searcher = SearchService(settings.index_dir, fake_embedder, Thresholds(0.0, 0.5, 0.9))
    return lambda: searcher


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, dispatcher.messages


@pytest.mark.parametrize("action", [ActionGuide, ActionAnswerQuestion])
async def test_go_on_right_after_an_answer_starts_its_guide(service, action):
    events, messages = await run(action(service), tracker("tiep", "guide_command",
                                                          {"last_entry": "vneid-cap-lai"}, ANSWERED))
    assert "Bước 1/3" in messages[0]["text"] and "Mở VNeID" in messages[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "guide_entry", "value": "vneid-cap-lai"} in events


async def test_go_on_long_after_an_answer_starts_nothing(service):
    _, messages = await run(ActionGuide(service), tracker("tiep", "guide_command",
                                                          {"last_entry": "vneid-cap-lai"}, LONG_AGO))
    assert "Bước 1" not in messages[0]["text"]


async def test_stuck_at_a_step_after_an_answer_opens_that_steps_problems(service):
    events, messages = await run(ActionAnswerQuestion(service),
                                 tracker("kẹt ở bước 2 rồi", "ask_question", {"last_entry": "vneid-cap-lai"},
                                         ANSWERED))
    assert "Không thấy mục Cấp lại" in messages[0]["text"] and not messages[0]["text"].startswith("Xin lỗi")
    assert {"event": "slot", "timestamp": None, "name": "guide_step", "value": 2.0} in events


async def test_a_question_asking_for_steps_starts_the_guide(service):
    _, messages = await run(ActionAnswerQuestion(service), tracker("chỉ tôi từng bước cấp lại căn cước bị mất"))
    assert len(messages) == 1 and "Bước 1/3" in messages[0]["text"]


async def test_a_follow_up_is_answered_from_the_last_entry(service):
    _, messages = await run(ActionAnswerQuestion(service),
                            tracker("có mất phí không?", slots={"last_entry": "vneid-cap-lai"}, history=ANSWERED))
    assert "70.000 đồng" in messages[0]["text"] and "Nguồn:" in messages[0]["text"]


async def test_a_bare_topic_word_gets_its_menu_and_a_typed_choice_picks_from_it(service):
    events, messages = await run(ActionAnswerQuestion(service), tracker("vneid"))
    assert "VNeID" in messages[0]["text"] and len(messages[0]["buttons"]) == 4  # three tasks and a person
    offered = next(e["value"] for e in events if e["name"] == "offered")
    assert offered == ["vneid-kich-hoat", "vneid-quen-mat-khau", "vneid-cap-lai"]
    _, messages = await run(ActionAnswerQuestion(service), tracker("cái thứ 2", slots={"offered": offered}))
    assert messages[0]["text"].startswith("Quên mật khẩu VNeID")


async def test_a_pinned_order_leads_the_menu_once_read_in_the_background(service, monkeypatch):
    monkeypatch.setattr(menus._pins, "value", {})  # nothing read yet in this process
    monkeypatch.setattr(menus._pins, "read_at", float("-inf"))
    MenuPins.open(services.settings().store_url).set_pins("vneid", ["vneid-cap-lai", "vneid-quen-mat-khau"], "admin")
    events, _ = await run(ActionAnswerQuestion(service), tracker("vneid"))
    offered = next(e["value"] for e in events if e["name"] == "offered")
    assert offered == ["vneid-kich-hoat", "vneid-quen-mat-khau", "vneid-cap-lai"]  # the reply did not wait for it
    assert offload.settle()
    events, messages = await run(ActionAnswerQuestion(service), tracker("app vneid á"))
    offered = next(e["value"] for e in events if e["name"] == "offered")
    assert offered == ["vneid-cap-lai", "vneid-quen-mat-khau", "vneid-kich-hoat"]
    assert messages[0]["buttons"][0]["title"].startswith("Cấp lại thẻ căn cước")


async def test_a_vague_problem_gets_the_menu_as_a_question_back(service):
    events, messages = await run(ActionAnswerQuestion(service),
                                 tracker("cái vneid cứ hiện thông báo gì đó rồi không cho vào"))
    assert "phải không" in messages[0]["text"] and not messages[0]["text"].startswith("Xin lỗi, tôi chưa có")
    assert any(e["name"] == "offered" and e["value"] for e in events)


@pytest.mark.parametrize("text", ["?", "😀", "..."])
async def test_nothing_to_read_gets_one_short_line(service, text):
    _, messages = await run(ActionAnswerQuestion(service), tracker(text))
    assert len(messages) == 1 and "\n" not in messages[0]["text"] and len(messages[0]["buttons"]) == 5


async def test_a_second_greeting_in_a_row_gets_one_line():
    _, first = await run(ActionGreet(), tracker("alo", "greet"))
    assert first == [{"response": "utter_greet", **{k: v for k, v in first[0].items() if k != "response"}}]
    _, second = await run(ActionGreet(), tracker("alo", "greet", history=(user("alo", "greet"),)))
    assert "\n" not in second[0]["text"] and second[0]["buttons"]


def test_a_turn_is_a_chain_of_handlers_each_leaving_what_is_not_its_own(service):
    from actions.questions import CHAIN, Turn

    assert [h.__name__ for h in CHAIN] == ["screenshot_turn", "guide_turn", "after_answer_turn", "button_turn",
                                           "menu_turn", "follow_up_turn", "vague_turn", "question_turn"]
    action = ActionAnswerQuestion(service)
    bare = Turn(CollectingDispatcher(), tracker("vneid"), service(), "vneid", "ask_question")
    assert [h(action, bare) is None for h in CHAIN[:4]] == [True] * 4 and action.follow_up_turn(bare) is None
    assert action.menu_turn(bare) is not None and "VNeID" in bare.dispatcher.messages[0]["text"]
    stuck = Turn(CollectingDispatcher(), tracker("kẹt ở bước 2 rồi", slots={"last_entry": "vneid-cap-lai"},
                                                  history=ANSWERED), service(), "kẹt ở bước 2 rồi", "ask_question")
    assert action.guide_turn(stuck) is None and action.after_answer_turn(stuck) is not None
    fee = Turn(CollectingDispatcher(), tracker("có mất phí không?", slots={"last_entry": "vneid-cap-lai"}),
               service(), "có mất phí không?", "ask_question")
    assert action.menu_turn(fee) is None and action.follow_up_turn(fee) is not None


@pytest.fixture
def no_context(service, monkeypatch):
    """The same bot with BOT_CONVERSATION_CONTEXT=off (make eval-conversations' second run)."""
    settings = services.settings()
    monkeypatch.setattr(services, "settings", lambda: Settings(**{**settings.__dict__, "conversation_context": False}))
    return service


def test_the_context_switch_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("BOT_CONVERSATION_CONTEXT", raising=False)
    assert Settings.from_env().conversation_context
    for off in ("off", "0", "FALSE", " no "):
        monkeypatch.setenv("BOT_CONVERSATION_CONTEXT", off)
        assert not Settings.from_env().conversation_context
    monkeypatch.setenv("BOT_CONVERSATION_CONTEXT", "on")
    assert Settings.from_env().conversation_context


@pytest.mark.parametrize("action", [ActionGuide, ActionAnswerQuestion])
async def test_without_context_go_on_after_an_answer_starts_nothing(no_context, action):
    events, messages = await run(action(no_context), tracker("tiep", "guide_command",
                                                             {"last_entry": "vneid-cap-lai"}, ANSWERED))
    assert "Bước 1" not in messages[0]["text"] and not any(e.get("name") == "guide_entry" for e in events)


async def test_without_context_stuck_at_a_step_and_a_follow_up_are_questions_of_their_own(no_context):
    _, messages = await run(ActionAnswerQuestion(no_context),
                            tracker("kẹt ở bước 2 rồi", slots={"last_entry": "vneid-cap-lai"}, history=ANSWERED))
    assert "Không thấy mục Cấp lại" not in messages[0]["text"]
    _, messages = await run(ActionAnswerQuestion(no_context),
                            tracker("có mất phí không?", slots={"last_entry": "vneid-cap-lai"}, history=ANSWERED))
    assert "70.000 đồng" not in messages[0]["text"]


async def test_without_context_a_question_asking_for_steps_still_starts_its_guide(no_context):
    _, messages = await run(ActionAnswerQuestion(no_context), tracker("chỉ tôi từng bước cấp lại căn cước bị mất"))
    assert "Bước 1/3" in messages[0]["text"]


async def test_a_request_to_be_walked_through_a_named_task_walks_through_that_task(service):
    typed = tracker("chỉ tôi từng bước cấp lại căn cước bị mất", "guide", slots={"last_entry": "vneid-quen-mat-khau"})
    _, messages = await run(ActionGuide(service), typed)
    assert "Bước 1/3" in messages[0]["text"] and "Cấp lại thẻ căn cước" in messages[0]["text"]
