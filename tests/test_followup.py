"""What a message means right after an answer (bot/replies/followup.py) and the follow-up answered within the last
answer's matter (bot/replies/answers.answer_follow_up)."""

import pytest

from bot.replies import followup
from bot.replies.answers import answer_follow_up
from bot.replies.followup import Kind
from bot.search.decide import Thresholds
from bot.search.hybrid import HybridSearcher
from bot.search.index import build_index, load_index
from tests.conftest import make_entry

ALWAYS = Thresholds(0.0, -1.0, -1.0)
NEVER = Thresholds(0.0, 9.0, 9.0)

WITH_STEPS = make_entry(
    "vneid-cap-lai", "Cấp lại thẻ căn cước khi bị mất", ["mất căn cước làm lại"],
    "Bạn làm trên ứng dụng VNeID. Lệ phí cấp lại là 70.000 đồng. Thẻ trả trong 7 ngày làm việc.",
    steps=("Mở VNeID, chọn Thủ tục hành chính.", "Chọn Cấp lại thẻ căn cước.", "Nộp lệ phí trực tuyến.",
           "Chờ nhận thẻ tại nhà."),
    problems=((2, ("Không thấy mục Cấp lại: cập nhật ứng dụng lên bản mới nhất.",)),),
)
NO_STEPS = make_entry("vneid-la-gi", "VNeID là gì", ["vneid là gì"])


@pytest.mark.parametrize("text", ["tiep", "tiếp", "Tiếp đi ạ", "bắt đầu", "lam theo", "ok", "oke nhé",
                                  "hướng dẫn từng bước", "chi toi tung buoc", "dạ làm sao ạ", "lam tung buoc"])
def test_go_on_words_start_the_guide_after_an_answer_with_steps(text):
    assert followup.read(text, WITH_STEPS) == followup.Reading(Kind.START_GUIDE)


@pytest.mark.parametrize("text", ["tiep", "ok", "bắt đầu"])
def test_go_on_words_mean_nothing_after_an_answer_without_steps(text):
    assert followup.read(text, NO_STEPS) is None


@pytest.mark.parametrize(("text", "step"), [
    ("kẹt ở bước 2 rồi", 2), ("bi ket o buoc 2", 2), ("bước 3 không được", 3), ("buoc 3 ko dc", 3),
    ("đến bước 4 thì báo lỗi", 4), ("bước hai bị lỗi", 2), ("bước cuối không được", 4),
    ("dạ bác làm đến bước 1 thì không thấy gì", 1),
])
def test_stuck_at_a_step_opens_that_step(text, step):
    assert followup.read(text, WITH_STEPS) == followup.Reading(Kind.STUCK, step=step)


@pytest.mark.parametrize("text", ["kẹt ở bước 9", "bước 2", "bước 0 lỗi"])
def test_a_step_that_does_not_exist_or_no_trouble_is_not_stuck(text):
    reading = followup.read(text, WITH_STEPS)
    assert reading is None or reading.kind is not Kind.STUCK


@pytest.mark.parametrize(("text", "aspect"), [
    ("ở đâu?", "where"), ("làm ở đâu vậy", "where"), ("mất bao lâu?", "how_long"), ("bao lau thi co", "how_long"),
    ("có mất phí không?", "fee"), ("co mat tien ko", "fee"), ("thế còn cho con tôi?", "someone_else"),
    ("Thế còn nếu tôi đã đổi số điện thoại?", "condition"), ("cần mang giấy tờ gì", "papers"),
])
def test_short_follow_ups_are_read_with_what_they_ask(text, aspect):
    assert followup.read(text, WITH_STEPS) == followup.Reading(Kind.FOLLOW_UP, aspect=aspect)


@pytest.mark.parametrize("text", [
    "hóa đơn điện tử tra cứu ở đâu",  # another topic: a new question
    "bhyt có mất phí không",
    "tôi muốn hỏi về việc đăng ký thường trú cho con ở quê thì cần những giấy tờ gì và làm ở đâu ạ",  # long
    "quên mật khẩu thì làm sao",  # no follow-up cue: a question of its own
    "/ask_question{\"entry_id\":\"x\"}",
])
def test_new_questions_are_not_dragged_back(text):
    reading = followup.read(text, WITH_STEPS)
    assert reading is None or reading.kind is not Kind.FOLLOW_UP


def test_nothing_is_read_without_a_last_answer():
    assert followup.read("tiep", None) is None and followup.read("ở đâu?", None) is None


@pytest.mark.parametrize(("text", "asks"), [
    ("chỉ tôi từng bước cài VNeID", True), ("huong dan cu the cach kich hoat", True),
    ("cách kích hoạt vneid", False),
])
def test_a_question_can_ask_to_be_walked_through(text, asks):
    assert followup.asks_for_steps(text) is asks


@pytest.fixture
def searcher(tmp_path, small_entries, fake_embedder):
    entries = [*small_entries, WITH_STEPS]
    index = load_index(build_index(entries, fake_embedder, "fake", tmp_path, progress=False))
    return HybridSearcher(index, fake_embedder)


def test_a_follow_up_on_an_aspect_quotes_the_last_entrys_own_sentences(searcher):
    reply = answer_follow_up("có mất phí không?", WITH_STEPS, searcher, NEVER, aspect="fee")
    assert reply.entry_id == WITH_STEPS.id and not reply.declined
    assert "70.000 đồng" in reply.text and "7 ngày" not in reply.text
    assert reply.text.startswith("Về “Cấp lại thẻ căn cước khi bị mất”") and "Nguồn:" in reply.text


def test_a_follow_up_matching_a_related_entry_answers_that_entry(searcher):
    last = searcher.by_id["vneid-quen-mat-khau"]
    reply = answer_follow_up("thế còn kích hoạt tài khoản?", last, searcher, ALWAYS, aspect="condition")
    assert reply.entry_id == "vneid-kich-hoat" and reply.reason == "follow_up"


def test_an_unanswerable_follow_up_asks_back_with_the_last_entry_and_a_person(searcher):
    last = searcher.by_id["vneid-quen-mat-khau"]
    reply = answer_follow_up("mất bao lâu?", last, searcher, NEVER, aspect="how_long")
    assert reply.declined and reply.reason == "follow_up_clarify"
    payloads = [b["payload"] for b in reply.buttons]
    assert any("vneid-quen-mat-khau" in p for p in payloads) and "/request_human" in payloads
