"""The grading of make eval-conversations (bench/conversations.py) and its data set, without a bot."""

import json
from pathlib import Path

import pytest

from bench import conversations as conv
from bot.core.settings import ROOT
from bot.core.text import plain

ANSWER = "Quên mật khẩu VNeID\nQuên mật khẩu, bạn lấy lại ngay trên ứng dụng VNeID:\n1. Ở màn hình đăng nhập…\n" \
         "Nguồn: https://vneid.gov.vn/ (cập nhật 20/11/2026)"
STEP_2 = "Bước 2/5: Nhập số định danh cá nhân và số điện thoại.\nTiếp ▶\nDừng"
DECLINE = "Xin lỗi, tôi chưa có thông tin chính thức để trả lời câu hỏi này.\nGặp người hỗ trợ"
ASK_BACK = "Xin lỗi, tôi chưa chắc bạn muốn hỏi điều nào. Bạn chọn một mục dưới đây."


def test_phrases_are_compared_without_accents_case_or_spacing():
    turn = {"say": "x", "must": [["QUÊN  mật khẩu"], ["otp", "màn hình đăng nhập"]]}
    assert conv.grade_turn(turn, ANSWER) == []


def test_every_missing_group_and_every_forbidden_phrase_is_reported():
    turn = {"say": "x", "must": [["quen mat khau"], ["passcode", "otp"]], "must_not": ["Nguồn:", "hoá đơn"]}
    assert conv.grade_turn(turn, ANSWER) == ["missing passcode / otp", "must not say Nguồn:"]


@pytest.mark.parametrize(("kind", "reply", "ok"), [
    ("answer", ANSWER, True), ("answer", DECLINE, False), ("answer", STEP_2, False),
    ("decline", DECLINE, True), ("decline", ANSWER, False), ("decline", "Tạm biệt bạn!", False),
    ("ask_back", ASK_BACK, True), ("ask_back", ANSWER, False), ("ask_back", "Bạn ở xã/phường nào của Hà Nội?", True),
    ("handoff", "Bạn cho biết bạn ở xã/phường nào để chuyển tới cán bộ hỗ trợ?", True), ("handoff", ANSWER, False),
    ("guide", STEP_2, True), ("guide", ANSWER, False),
])
def test_kinds(kind, reply, ok):
    assert (conv.grade_turn({"say": "x", "kind": kind}, reply) == []) is ok


def test_a_guide_turn_with_a_step_needs_that_step():
    assert conv.grade_turn({"say": "tiep", "kind": "guide", "step": 2}, STEP_2) == []
    assert conv.grade_turn({"say": "tiep", "kind": "guide", "step": 3}, STEP_2) == ["not step 3 of a guide"]
    assert conv.grade_turn({"say": "tiep", "kind": "guide", "step": 1}, "Bước 12/14: …") == ["not step 1 of a guide"]


def test_empty_and_overlong_replies_fail():
    assert conv.grade_turn({"say": "x", "kind": "answer"}, "  ") == ["empty reply"]
    long_answer = ANSWER + "\n" + "chữ " * conv.MAX_CHARS
    assert conv.grade_turn({"say": "x", "kind": "answer"}, long_answer) == [f"longer than {conv.MAX_CHARS} characters"]


def test_a_button_is_found_by_part_of_its_title():
    messages = [{"text": "a"}, {"text": "b", "buttons": [{"title": "Quên passcode VNeID", "payload": "/p1"},
                                                          {"title": "Gặp người hỗ trợ", "payload": "/request_human"}]}]
    assert conv.find_button(messages, "quen PASSCODE") == "/p1"
    assert conv.find_button(messages, "Không rõ") is None


def test_play_sends_typed_text_and_pressed_payloads_and_grades_every_turn():
    said = []
    replies = iter([
        [{"text": ANSWER, "buttons": [{"title": "Hướng dẫn từng bước", "payload": "/guide{\"entry_id\":\"v\"}"}]}],
        [{"text": STEP_2}],
        [{"text": DECLINE}],
    ])

    def send(text):
        said.append(text)
        return next(replies)

    conversation = {"id": "c1", "category": "typed_guide", "turns": [
        {"say": "mã tổ {helper_code}", "kind": "answer"},
        {"press": "từng bước", "kind": "guide", "step": 1},  # the reply shows step 2: this turn fails
        {"say": "abc", "kind": "decline"},  # and the conversation goes on
        {"press": "không có nút này"},
    ]}
    played = conv.play(conversation, send, helper_code="CODE7")
    assert said == ["mã tổ CODE7", "/guide{\"entry_id\":\"v\"}", "abc"]
    assert [t.problems for t in played.turns] == [[], ["not step 1 of a guide"], [], ["no button “không có nút này”"]]
    assert not played.passed


def test_a_turn_without_a_reply_fails_and_the_conversation_goes_on():
    def send(text):
        if text == "boom":
            raise conv.requests.ConnectionError("refused")
        return [{"text": ANSWER}]

    played = conv.play({"id": "c", "category": "x", "turns": [{"say": "boom", "kind": "answer"},
                                                              {"say": "ok", "kind": "answer"}]}, send)
    assert [t.problems for t in played.turns] == [["no reply"], []]


@pytest.mark.parametrize("bad", [
    {"id": "a", "category": "x", "turns": []},
    {"id": "a", "category": "x", "turns": [{"say": "x", "press": "y", "kind": "answer"}]},
    {"id": "a", "category": "x", "turns": [{"say": "x", "kind": "answr"}]},
    {"id": "a", "category": "x", "turns": [{"say": "x", "kind": "answer", "step": 2}]},
    {"id": "a", "category": "x", "turns": [{"say": "x", "must": ["not a group"]}]},
    {"id": "a", "category": "x", "turns": [{"say": "x"}]},
])
def test_malformed_conversations_are_refused(bad):
    with pytest.raises(ValueError):
        conv.check([bad])


def test_repeated_ids_are_refused():
    one = {"id": "a", "category": "x", "turns": [{"say": "x", "kind": "answer"}]}
    with pytest.raises(ValueError, match="repeated"):
        conv.check([one, dict(one)])


def played(cid, category, ok):
    return conv.Played(cid, category, "note", [conv.TurnResult("tiep", "Xin lỗi…", [] if ok else ["no guide"], 0.1)])


def test_the_report_has_a_rate_per_category_and_mode_and_lists_failures():
    runs = {
        "with context": [played("c1", "typed_guide", True), played("c2", "typed_guide", True),
                         played("c3", "handoff", False)],
        "without context": [played("c1", "typed_guide", False), played("c2", "typed_guide", True),
                            played("c3", "handoff", False)],
    }
    text = conv.report(runs)
    assert "| typed_guide | 2 | 2/2 (100%) | 1/2 (50%) |" in text
    assert "| **all** | 3 | **2/3 (67%)** | **1/3 (33%)** |" in text
    assert "Pass only with context: 1; pass only without: 0." in text
    with_part, without_part = text.split("## Failures without context")
    assert "**c3**" in with_part and "no guide" in with_part and "**c1**" not in with_part
    assert "**c1**" in without_part and "**c3**" in without_part


def test_the_bench_bot_runs_with_or_without_context_and_reads_addresses_from_the_proxy_header():
    assert conv.bot_env(False)["BOT_CONVERSATION_CONTEXT"] == "off"
    assert conv.bot_env(True)["BOT_CONVERSATION_CONTEXT"] == "on"
    assert conv.bot_env(True)["SANIC_REAL_IP_HEADER"] == "x-real-ip"
    assert len({conv.resident_address(n) for n in range(1, 300)}) == 299


# ---- the data set ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data() -> list[dict]:
    return conv.load()


def test_the_set_has_at_least_90_conversations_of_every_kind_the_issue_names(data):
    assert len(data) >= 90
    counts: dict[str, int] = {}
    for c in data:
        counts[c["category"]] = counts.get(c["category"], 0) + 1
    assert set(counts) == {"typed_guide", "stuck", "follow_up", "topic_switch", "two_asks", "handoff", "team"}
    assert min(counts.values()) >= 6
    assert all(len(c["turns"]) >= 2 for c in data)


def test_team_members_speak_in_some_conversations(data):
    assert sum(c["who"] == "team" for c in data) >= 6


def _asked(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {plain(json.loads(line)["q"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_no_message_is_copied_from_the_eval_or_real_question_sets(data):
    held = set()
    ours = ROOT / "tests" / "data"
    for path in [*ours.glob("real_*.jsonl"), ours / "questions.jsonl", ours / "questions_fresh.jsonl",
                 ROOT.parent / "shared" / "eval" / "questions.jsonl"]:
        held |= _asked(path)
    assert len(held) > 100  # the repository's own sets at least
    said = {plain(t["say"]) for c in data for t in c["turns"] if "say" in t}
    assert not said & held
