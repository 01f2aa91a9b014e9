"""Guided mode and helper mode actions, with a fresh tracker each time, over a small real index."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.guide import ActionGuide
from actions.helper import ActionHelperLogin, ActionHelperLogout, ActionPrintGuide
from actions.questions import ActionAnswerQuestion
from bot.core.settings import Settings
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.service import SearchService
from bot.store.question_log import Events
from bot.team.mode import NOTES_HEADING, WELCOME, WRONG_CODE
from tests.conftest import make_entry

CODE = "TCN-4821"
GUIDE = make_entry(
    "vneid-quen-mat-khau",
    "Quên mật khẩu VNeID",
    ["Quên mật khẩu VNeID", "lấy lại mật khẩu", "quen mk vneid", "không nhớ mật khẩu đăng nhập"],
    "Bạn lấy lại mật khẩu ngay trên ứng dụng:",
    steps=("Bấm Quên mật khẩu.", "Nhập mã OTP gửi về điện thoại.", "Đặt mật khẩu mới."),
    problems=((2, ("Chờ mãi không có OTP: xem sim có đúng số đã đăng ký không.",)),),
    helper_notes=("Kiểm tra sim trong máy đúng số đã đăng ký.",),
)
OTHER = make_entry(
    "hoa-don-tra-cuu",
    "Tra cứu hóa đơn điện tử",
    ["tra cứu hóa đơn điện tử", "kiểm tra hóa đơn thật giả", "tra cuu hddt", "xem hóa đơn ở đâu"],
)


def tracker(text="", intent="ask_question", entities=None, slots=None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    return Tracker("guide-user", slots or {}, latest, [], False, None, {}, "action_listen")


def at_step(step: int, **more) -> dict:
    return {"guide_entry": GUIDE.id, "guide_step": float(step), "last_entry": GUIDE.id, **more}


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def service(tmp_path, monkeypatch, fake_embedder):
    """Settings pointing into tmp_path (one helper code, a public address), a service over two entries."""
    settings = dataclasses.replace(
        Settings.from_env(), index_dir=tmp_path / "index", store_url=f"sqlite:///{tmp_path / 'store.db'}",
        helper_codes=(CODE,), public_url="https://tro-ly.example.vn",
    )
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "events", lambda: Events.open(settings.store_url))
    build_index([GUIDE, OTHER], fake_embedder, "fake", settings.index_dir, progress=False)
    running = SearchService(settings.index_dir, fake_embedder, Thresholds(0.0, 0.5, 0.9))
    return lambda: running


async def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


async def test_button_opens_the_guide_at_step_one(service):
    messages, events = await run(ActionGuide(service), tracker(
        '/guide{"entry_id":"vneid-quen-mat-khau"}', "guide", [{"entity": "entry_id", "value": GUIDE.id}]))
    assert "Bước 1/3: Bấm Quên mật khẩu." in messages[0]["text"] and "Nguồn:" in messages[0]["text"]
    assert slots(events) == {"guide_entry": GUIDE.id, "guide_step": 1.0, "last_entry": GUIDE.id}


async def test_resume_button_opens_at_its_step(service):
    entities = [{"entity": "entry_id", "value": GUIDE.id}, {"entity": "step", "value": 2}]
    messages, events = await run(ActionGuide(service), tracker("/guide", "guide", entities))
    assert "Bước 2/3" in messages[0]["text"] and slots(events)["guide_step"] == 2.0


async def test_typed_request_opens_the_guide_of_the_last_answer(service):
    typed = tracker("huong dan tung buoc", "guide", slots={"last_entry": GUIDE.id})
    messages, events = await run(ActionGuide(service), typed)
    assert "Bước 1/3" in messages[0]["text"] and slots(events)["guide_entry"] == GUIDE.id
    messages, events = await run(ActionGuide(service), tracker("huong dan tung buoc", "guide"))
    assert "muốn được hướng dẫn từng bước việc gì" in messages[0]["text"] and events == []


async def test_unknown_or_stepless_entries_get_a_polite_reply(service):
    for entry_id in ("vneid-khong-co", OTHER.id):
        pressed = tracker("/guide", "guide", [{"entity": "entry_id", "value": entry_id}])
        messages, events = await run(ActionGuide(service), pressed)
        assert messages[0]["text"] and events == []


@pytest.mark.parametrize(
    "text, entities, step, expected",
    [
        ("/guide_command", [{"entity": "guide_move", "value": "next"}], 1, "Bước 2/3"),
        ("tiếp", [], 1, "Bước 2/3"),
        ("quay lai", [], 2, "Bước 1/3"),
        ("bat dau lai", [], 3, "Bước 1/3"),
        ("bi ket", [], 2, "Chờ mãi không có OTP"),
        ("nhắc lại", [], 3, "Bước 3/3"),
    ],
)
async def test_commands_move_through_the_guide(service, text, entities, step, expected):
    messages, events = await run(ActionGuide(service), tracker(text, "guide_command", entities, at_step(step)))
    assert expected in messages[0]["text"]
    assert slots(events)["guide_entry"] == GUIDE.id


@pytest.mark.parametrize("intent", ["guide_command", "ask_question", "nlu_fallback"])
@pytest.mark.parametrize("typed", ["ket o buoc 2", "kẹt ở bước 2 rồi", "bước 2 không được", "bi ket buoc hai"])
async def test_stuck_at_a_named_step_while_the_guide_is_elsewhere_opens_that_steps_problems(service, typed, intent):
    action = ActionGuide(service) if intent == "guide_command" else ActionAnswerQuestion(service)
    messages, events = await run(action, tracker(typed, intent, slots=at_step(3)))
    assert "Bước 2/3" in messages[0]["text"] and "Chờ mãi không có OTP" in messages[0]["text"], typed
    assert slots(events) == {"guide_entry": GUIDE.id, "guide_step": 2.0}


async def test_a_step_the_guide_does_not_have_is_no_stuck_step(service):
    messages, events = await run(ActionGuide(service), tracker("ket o buoc 9", "guide_command", slots=at_step(1)))
    assert "Chờ mãi không có OTP" not in messages[0]["text"]
    assert slots(events).get("guide_step") in (None, 1.0)


async def test_last_step_done_and_stop_close_the_guide(service):
    messages, events = await run(ActionGuide(service), tracker("xong", "guide_command", slots=at_step(3)))
    assert messages[0]["text"].startswith("Xong rồi!") and "Nguồn:" in messages[0]["text"]
    assert slots(events) == {"guide_entry": None, "guide_step": None}
    messages, events = await run(ActionGuide(service), tracker("dừng", "guide_command", slots=at_step(2)))
    assert "Đã dừng" in messages[0]["text"] and slots(events)["guide_entry"] is None


async def test_command_without_an_open_guide(service):
    messages, events = await run(ActionGuide(service), tracker("tiep", "guide_command"))
    assert "chưa làm theo hướng dẫn nào" in messages[0]["text"] and events == []


async def test_a_guide_whose_entry_disappeared(service):
    messages, events = await run(ActionGuide(service), tracker(
        "tiep", "guide_command", slots={"guide_entry": "vneid-da-xoa", "guide_step": 2.0}))
    assert "cập nhật hoặc không còn" in messages[0]["text"] and slots(events)["guide_entry"] is None


@pytest.mark.parametrize("intent", ["ask_question", "nlu_fallback", "out_of_scope"])
async def test_misclassified_guide_words_still_drive_the_guide(service, intent):
    messages, events = await run(ActionAnswerQuestion(service), tracker("tiep", intent, slots=at_step(1)))
    assert messages[0]["text"].startswith("Bước 2/3") and slots(events)["guide_step"] == 2.0
    messages, events = await run(ActionAnswerQuestion(service), tracker("ko dc", intent, slots=at_step(2)))
    assert "Chờ mãi không có OTP" in messages[0]["text"]


async def test_a_new_question_during_a_guide_is_answered_and_leaves_the_guide(service):
    messages, events = await run(ActionAnswerQuestion(service), tracker("tra cuu hddt", slots=at_step(2)))
    assert messages[0]["text"].startswith("Tra cứu hóa đơn điện tử")
    assert slots(events) == {"last_entry": OTHER.id, "guide_entry": None, "guide_step": None}


async def test_an_unclear_message_during_a_guide_keeps_it_open(service):
    messages, events = await run(ActionAnswerQuestion(service), tracker("zzz qqq xxx", slots=at_step(2)))
    assert messages[0]["text"].startswith("Xin lỗi")
    assert "bước 2/3" in messages[1]["text"] and events == []


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("xong roi", "feedback", "Bước 3/3"),
        ("ok", "thank", "Bước 3/3"),
        ("thôi", "goodbye", "Đã dừng"),
        ("khong duoc", "feedback", "Chờ mãi không có OTP"),
    ],
)
async def test_guide_words_filed_under_small_talk_drive_the_guide(service, text, intent, expected):
    messages, _ = await run(ActionGuide(service), tracker(text, intent, slots=at_step(2)))
    assert expected in messages[0]["text"]


async def test_real_small_talk_during_a_guide_gets_its_usual_reply(service):
    messages, events = await run(ActionGuide(service), tracker("cảm ơn cháu nhiều", "thank", slots=at_step(2)))
    assert messages[0]["response"] == "utter_thank" and events == []
    bye = tracker("chào cháu, bác đi chợ đây", "goodbye", slots=at_step(2))
    messages, events = await run(ActionGuide(service), bye)
    assert messages[0]["response"] == "utter_goodbye" and slots(events)["guide_entry"] is None
    messages, _ = await run(ActionGuide(service), tracker("sai bét rồi", "feedback", slots=at_step(2)))
    assert messages[0]["text"].startswith("Xin lỗi")  # negative feedback reply, a person offered
    messages, _ = await run(ActionGuide(service), tracker("tra cuu hddt", "guide_command", slots=at_step(2)))
    assert messages[0]["text"].startswith("Tra cứu hóa đơn điện tử")  # a question taken for a guide word


async def test_helper_login_with_a_configured_code(service, caplog):
    caplog.set_level(logging.DEBUG)
    messages, events = await run(ActionHelperLogin(service), tracker(f"/helper {CODE.lower()}", "helper_login"))
    assert messages[0]["text"] == WELCOME and slots(events) == {"helper_mode": True}
    messages, events = await run(ActionHelperLogin(service), tracker("ma to cong nghe SAI999", "helper_login"))
    assert messages[0]["text"] == WRONG_CODE and events == []
    assert CODE not in caplog.text and CODE.lower() not in caplog.text and "SAI999" not in caplog.text


async def test_helper_login_typed_as_a_question_still_logs_in(service):
    messages, events = await run(ActionAnswerQuestion(service), tracker(f"ma to cong nghe {CODE}", "nlu_fallback"))
    assert messages[0]["text"] == WELCOME and slots(events) == {"helper_mode": True}


async def test_helper_login_intent_on_a_question_answers_it(service):
    messages, _events = await run(ActionHelperLogin(service), tracker("quen mk vneid", "helper_login"))
    assert messages[0]["text"].startswith("Quên mật khẩu VNeID")


async def test_helper_mode_adds_notes_and_the_printable_link(service):
    messages, _ = await run(ActionAnswerQuestion(service), tracker("quen mk vneid", slots={"helper_mode": True}))
    assert len(messages) == 2 and messages[1]["text"].startswith(NOTES_HEADING)
    assert "https://tro-ly.example.vn/webhooks/webchat/guide/vneid-quen-mat-khau" in messages[1]["text"]
    messages, _ = await run(ActionAnswerQuestion(service), tracker("quen mk vneid", slots={"helper_mode": False}))
    assert len(messages) == 1 and NOTES_HEADING not in messages[0]["text"]


async def test_helper_logout(service):
    on = {"helper_mode": True}
    messages, events = await run(ActionHelperLogout(), tracker("thoat che do to cong nghe", "helper_logout", slots=on))
    assert "Đã tắt" in messages[0]["text"] and slots(events) == {"helper_mode": False}
    messages, events = await run(ActionAnswerQuestion(service), tracker("thoat che do to cong nghe so", slots=on))
    assert slots(events) == {"helper_mode": False}


async def test_print_link_for_the_open_guide_or_the_last_answer(service):
    messages, _ = await run(ActionPrintGuide(service), tracker("in huong dan", "guide_print", slots=at_step(2)))
    assert "https://tro-ly.example.vn/webhooks/webchat/guide/vneid-quen-mat-khau" in messages[0]["text"]
    after_other = tracker("in huong dan", "guide_print", slots={"last_entry": OTHER.id})
    messages, _ = await run(ActionPrintGuide(service), after_other)
    assert "không có các bước" in messages[0]["text"]
    messages, _ = await run(ActionPrintGuide(service), tracker("in huong dan", "guide_print"))
    assert "hỏi một việc trước" in messages[0]["text"]


async def test_search_failure_is_polite(service):
    def broken():
        raise FileNotFoundError("no index")

    messages, events = await run(ActionGuide(broken), tracker("tiep", "guide_command", slots=at_step(1)))
    assert messages[0]["text"].startswith("Xin lỗi") and events == []
