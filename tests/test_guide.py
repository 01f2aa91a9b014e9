"""Guided mode, pure logic: the command parser and every move through a guide."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bot.core.settings import ROOT
from bot.core.text import deaccent
from bot.knowledge.model import MAX_ANSWER_CHARS, source_line
from bot.replies import answers
from bot.replies.guide import (
    Command,
    GuideState,
    apply,
    command_from_value,
    has_guide,
    no_guide,
    parse_command,
    resume_hint,
    start,
    start_button,
)
from tests.conftest import make_entry

ENTRY = make_entry(
    "vneid-kich-hoat",
    "Kích hoạt tài khoản định danh điện tử",
    ["kích hoạt VNeID", "kich hoat vneid", "cách kích hoạt", "kích hoạt thế nào"],
    "Khi có tin nhắn báo hồ sơ đã được duyệt, bạn tự kích hoạt:",
    steps=("Mở VNeID.", "Nhập số định danh và số điện thoại.", "Nhập mã OTP."),
    note="Không đọc mã OTP cho ai.",
    problems=((2, ("Đã đổi số điện thoại: đổi số với công an trước.", "Số định danh là 12 số trên thẻ.")),),
)
ONE_STEP = make_entry("hoa-don-x", "Một bước", ["a b", "c d", "e f", "g h"], steps=("Làm một việc.",))


@pytest.mark.parametrize(
    "text, command",
    [
        ("tiếp", Command.NEXT), ("tiep", Command.NEXT), ("Tiếp đi ạ", Command.NEXT), ("xong", Command.NEXT),
        ("xong roi", Command.NEXT), ("Xong rồi!", Command.NEXT), ("ok", Command.NEXT), ("OK", Command.NEXT),
        ("được rồi", Command.NEXT), ("dc roi", Command.NEXT), ("đc r", Command.NEXT),
        ("quay lại", Command.BACK), ("quay lai", Command.BACK), ("lai", Command.BACK), ("truoc", Command.BACK),
        ("bước trước", Command.BACK),
        ("làm lại", Command.RESTART), ("lam lai tu dau", Command.RESTART), ("bat dau lai", Command.RESTART),
        ("thôi", Command.STOP), ("thoi", Command.STOP), ("dừng", Command.STOP), ("dung lai", Command.STOP),
        ("bị kẹt", Command.STUCK), ("bi ket", Command.STUCK), ("ko dc", Command.STUCK), ("k đc", Command.STUCK),
        ("khong duoc", Command.STUCK), ("không được", Command.STUCK), ("bi loi", Command.STUCK),
        ("dạ bác bị kẹt rồi", Command.STUCK), ("nhắc lại", Command.REPEAT),
    ],
)
def test_typed_commands_with_and_without_diacritics(text, command):
    assert parse_command(text) is command
    assert parse_command(deaccent(text)) is command


@pytest.mark.parametrize(
    "text",
    [
        "vneid bi loi khi dang nhap", "quên mật khẩu VNeID", "kich hoat vneid ko dc thi lam sao", "thôi chào nhé",
        "ok cảm ơn", "", "   ", "😀", "/guide_command", "tiep " * 10, "lai xe can giay kham suc khoe",
    ],
)
def test_questions_and_other_messages_are_not_commands(text):
    assert parse_command(text) is None


@pytest.mark.parametrize("text", ["ko thấy mục đó đâu cả", "không thấy nút gửi", "khong thay gi het",
                                  "vẫn không vào được", "dạ vẫn không hiện"])
def test_saying_the_screen_is_not_as_described_is_stuck(text):
    assert parse_command(text) is Command.STUCK


def test_missing_something_named_by_its_topic_is_a_question():
    assert parse_command("không thấy mục BHYT trên VNeID") is None


def test_every_typed_guide_example_in_the_training_data_parses():
    """NLU and the rule-based reader agree: what NLU learns as guide_command, the guide understands."""
    data = yaml.safe_load((ROOT / "data" / "nlu" / "guide.yml").read_text(encoding="utf-8"))
    block = next(item for item in data["nlu"] if item["intent"] == "guide_command")
    examples = [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    assert len(examples) > 40
    assert [e for e in examples if parse_command(e) is None] == []


def test_guide_buttons_are_the_answers_buttons():
    from bot.replies import guide
    assert guide.HUMAN_BUTTON == answers.HUMAN_BUTTON and guide.FEEDBACK_BUTTONS == answers.FEEDBACK_BUTTONS


def test_button_values_map_to_commands():
    assert command_from_value("next") is Command.NEXT and command_from_value(" STUCK ") is Command.STUCK
    assert command_from_value("jump") is None and command_from_value(None) is None


def test_start_shows_the_first_step_how_to_move_on_and_the_source():
    reply = start(ENTRY)
    assert reply.state == GuideState("vneid-kich-hoat", 1)
    assert "Bước 1/3: Mở VNeID." in reply.text and source_line(ENTRY) in reply.text
    assert ENTRY.answer in reply.text and "“Tiếp”" in reply.text
    payloads = [b["payload"] for b in reply.buttons]
    assert payloads[0] == '/guide_command{"guide_move":"next"}'
    assert '/guide_command{"guide_move":"back"}' not in payloads  # nothing before step 1
    assert '/guide_command{"guide_move":"stuck"}' in payloads and '/guide_command{"guide_move":"stop"}' in payloads
    assert "\n\n" not in reply.text  # Rasa would split the message there


def test_start_at_a_given_step_and_clamps_out_of_range():
    assert start(ENTRY, 3).state == GuideState(ENTRY.id, 3)
    assert start(ENTRY, 99).state == GuideState(ENTRY.id, 3)
    assert start(ENTRY, 0).state == GuideState(ENTRY.id, 1)


def test_walk_forward_to_done():
    state = start(ENTRY).state
    reply = apply(ENTRY, state, Command.NEXT)
    assert reply.state == GuideState(ENTRY.id, 2) and reply.text.startswith("Bước 2/3: Nhập số định danh")
    assert len(reply.buttons) <= answers.MAX_BUTTONS
    reply = apply(ENTRY, reply.state, Command.NEXT)
    assert reply.state.step == 3 and "bước cuối" in reply.text
    assert reply.buttons[0]["title"].startswith("Xong")
    done = apply(ENTRY, reply.state, Command.NEXT)
    assert done.state is None
    assert done.text.startswith("Xong rồi!") and "3 bước" in done.text
    assert ENTRY.note in done.text and source_line(ENTRY) in done.text
    assert any(b["payload"] == '/guide{"entry_id":"vneid-kich-hoat"}' for b in done.buttons)  # start again
    assert any(b["payload"].startswith("/feedback") for b in done.buttons)


def test_back_restart_repeat():
    at3 = GuideState(ENTRY.id, 3)
    assert apply(ENTRY, at3, Command.BACK).state.step == 2
    first = apply(ENTRY, GuideState(ENTRY.id, 1), Command.BACK)
    assert first.state.step == 1 and "bước đầu tiên" in first.text
    restart = apply(ENTRY, at3, Command.RESTART)
    assert restart.state.step == 1 and "Bước 1/3" in restart.text
    repeat = apply(ENTRY, at3, Command.REPEAT)
    assert repeat.state == at3 and "Bước 3/3" in repeat.text


def test_stop_offers_to_come_back_to_the_same_step():
    reply = apply(ENTRY, GuideState(ENTRY.id, 2), Command.STOP)
    assert reply.state is None and "bước 2/3" in reply.text
    resume = next(b for b in reply.buttons if b["payload"].startswith("/guide{"))
    assert json.loads(resume["payload"][len("/guide"):]) == {"entry_id": ENTRY.id, "step": 2}
    assert {"title": "Gặp người hỗ trợ", "payload": "/request_human"} in reply.buttons


def test_stuck_lists_the_steps_problems_then_a_person():
    reply = apply(ENTRY, GuideState(ENTRY.id, 2), Command.STUCK)
    assert reply.state == GuideState(ENTRY.id, 2)  # still at the same step
    assert "- Đã đổi số điện thoại" in reply.text and "- Số định danh là 12 số" in reply.text
    assert "/request_human" in [b["payload"] for b in reply.buttons]


def test_stuck_without_recorded_problems_gives_a_plain_message_and_a_person():
    reply = apply(ENTRY, GuideState(ENTRY.id, 1), Command.STUCK)
    assert "chưa có ghi chú lỗi thường gặp" in reply.text and "Gặp người hỗ trợ" in reply.text
    assert "/request_human" in [b["payload"] for b in reply.buttons]


def test_a_shortened_entry_keeps_the_guide_in_range():
    reply = apply(ENTRY, GuideState(ENTRY.id, 9), Command.REPEAT)
    assert reply.state.step == 3
    assert apply(ENTRY, GuideState(ENTRY.id, 9), Command.NEXT).state is None  # past the end: done


def test_one_step_guide_finishes_on_next():
    reply = start(ONE_STEP)
    assert "Bước 1/1" in reply.text and "bước cuối" not in reply.text
    assert apply(ONE_STEP, reply.state, Command.NEXT).state is None


def test_entries_without_steps_have_no_guide():
    plain = make_entry("vneid-la-gi", "VNeID là gì", ["a", "b", "c", "d"])
    assert not has_guide(plain) and not has_guide(None)
    reply = start(plain)
    assert reply.state is None and "không có các bước" in reply.text
    assert apply(plain, GuideState(plain.id, 1), Command.NEXT).state is None


def test_no_guide_and_resume_hint():
    assert no_guide().state is None and "chưa làm theo hướng dẫn nào" in no_guide().text
    hint = resume_hint(ENTRY, GuideState(ENTRY.id, 2))
    assert hint.state == GuideState(ENTRY.id, 2) and "bước 2/3" in hint.text


def test_every_button_fits_every_channel():
    """Zalo: at most 5 buttons, short titles; Telegram: callback data of at most 64 bytes."""
    replies = [start(ENTRY)] + [apply(ENTRY, GuideState(ENTRY.id, s), c) for s in (1, 2, 3) for c in Command]
    for reply in replies:
        assert len(reply.buttons) <= answers.MAX_BUTTONS
        for b in reply.buttons:
            assert len(b["title"]) <= 20 and len(b["payload"].encode()) <= 64
            intent, _, entities = b["payload"].partition("{")
            assert re.fullmatch(r"/[a-z_]+", intent) and (not entities or json.loads("{" + entities))


def test_answer_to_an_entry_with_steps_offers_the_guide():
    by_id = {ENTRY.id: ENTRY}
    reply = answers.answer_entry(ENTRY, by_id)
    assert start_button(ENTRY) in reply.buttons and len(reply.buttons) <= answers.MAX_BUTTONS
    assert answers.HUMAN_BUTTON in reply.buttons
    plain = make_entry("vneid-la-gi", "VNeID là gì", ["a", "b", "c", "d"])
    assert not any(b["payload"].startswith("/guide") for b in answers.answer_entry(plain, by_id).buttons)


def test_a_short_querys_best_guess_keeps_a_way_to_the_other_guesses():
    reply = answers.answer_entry(ENTRY, {ENTRY.id: ENTRY}, alternatives=[ONE_STEP])
    payloads = [b["payload"] for b in reply.buttons]
    assert any(ONE_STEP.id in p and p.startswith("/ask_question") for p in payloads)


def test_guide_texts_stay_short_for_every_real_entry():
    from bot.knowledge.loader import load_entries

    for entry in load_entries(ROOT / "knowledge"):
        if not entry.steps:
            continue
        stuck = [apply(entry, GuideState(entry.id, s), Command.STUCK) for s in range(1, len(entry.steps) + 1)]
        replies = [start(entry), *stuck]
        replies.append(apply(entry, GuideState(entry.id, len(entry.steps)), Command.NEXT))
        for reply in replies:
            assert len(reply.text) <= MAX_ANSWER_CHARS + 200, (entry.id, len(reply.text))
            assert "\n\n" not in reply.text
