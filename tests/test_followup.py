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
                                  "hướng dẫn từng bước", "chi toi tung buoc", "dạ làm sao ạ", "lam tung buoc",
                                  "lam the nao", "Làm thế nào ạ"])
def test_go_on_words_start_the_guide_after_an_answer_with_steps(text):
    assert followup.read(text, WITH_STEPS) == followup.Reading(Kind.START_GUIDE)


@pytest.mark.parametrize("text", ["tiep", "ok", "bắt đầu"])
def test_go_on_words_mean_nothing_after_an_answer_without_steps(text):
    assert followup.read(text, NO_STEPS) is None


@pytest.mark.parametrize(("text", "step"), [
    ("kẹt ở bước 2 rồi", 2), ("bi ket o buoc 2", 2), ("bước 3 không được", 3), ("buoc 3 ko dc", 3),
    ("đến bước 4 thì báo lỗi", 4), ("bước hai bị lỗi", 2), ("bước cuối không được", 4),
    ("dạ bác làm đến bước 1 thì không thấy gì", 1), ("buoc 2 may ko doc duoc the", 2),
    ("bước 2 nó báo không tìm thấy", 2), ("bước thứ tư chờ mãi ko có mã", 4),
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


def _examples(intent: str) -> list[str]:
    import yaml

    from bot.core.settings import ROOT

    data = yaml.safe_load((ROOT / "data" / "nlu" / "guide.yml").read_text(encoding="utf-8"))
    block = next(item for item in data["nlu"] if item["intent"] == intent)
    return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]


def test_a_bare_request_to_be_walked_through_names_no_task():
    examples = _examples("guide")
    assert len(examples) > 15 and [e for e in examples if followup.names_a_task(e)] == []


@pytest.mark.parametrize("text", ["chỉ tôi từng bước cài VNeID", "chi toi tung buoc cai ung dung vneid voi",
                                  "hướng dẫn cụ thể cách nộp thuế"])
def test_a_request_to_be_walked_through_something_names_it(text):
    assert followup.names_a_task(text)


@pytest.mark.parametrize(("text", "own"), [
    ("đăng ký thành lập doanh nghiệp online làm ở đâu", 7), ("thế nộp ở đâu", 0), ("mất mấy ngày", 0),
    ("có mất phí không?", 0), ("còn lý lịch tư pháp thì phí bao nhiêu", 4),
])
def test_the_words_of_a_follow_up_besides_its_cue(text, own):
    assert len(followup.own_words(text)) == own


FEE = make_entry("vneid-le-phi-tam-tru", "Lệ phí đăng ký tạm trú", ["lệ phí tạm trú bao nhiêu"],
                 "Lệ phí đăng ký tạm trú là 15.000 đồng, nộp trực tuyến 7.000 đồng.")
TAM_TRU = make_entry("vneid-dang-ky-tam-tru", "Đăng ký tạm trú trên VNeID", ["đăng ký tạm trú trên vneid"],
                     "Bạn đăng ký trên điện thoại.", steps=("Chọn Đăng ký tạm trú.", "Gửi hồ sơ và nộp lệ phí."),
                     related=("vneid-le-phi-tam-tru",))


def test_a_follow_up_the_last_entry_cannot_answer_gets_the_related_entry_named_for_it(tmp_path, fake_embedder):
    index = load_index(build_index([FEE, TAM_TRU], fake_embedder, "fake", tmp_path, progress=False))
    reply = answer_follow_up("co mat phi ko", TAM_TRU, HybridSearcher(index, fake_embedder), NEVER, aspect="fee")
    assert reply.entry_id == FEE.id and reply.reason == "follow_up" and "15.000 đồng" in reply.text


def test_a_follow_up_with_a_matter_of_its_own_in_another_topic_is_not_dragged_back(searcher):
    reply = answer_follow_up("kiểm tra hóa đơn thật giả ở đâu", WITH_STEPS, searcher, ALWAYS, aspect="where")
    assert reply.entry_id == "hoa-don-tra-cuu" and not reply.text.startswith("Về “")


def test_a_bare_cue_stays_with_the_last_entry_even_when_a_guess_elsewhere_is_sure(searcher):
    reply = answer_follow_up("ở đâu?", WITH_STEPS, searcher, ALWAYS, aspect="where")
    assert reply.entry_id == WITH_STEPS.id


@pytest.mark.parametrize(("text", "task"), [
    ("chi toi tung buoc cai ung dung vneid voi", "cai ung dung vneid voi"),
    ("Hướng dẫn cụ thể cách nộp thuế trên eTax", "cách nộp thuế trên etax"),
    ("cầm tay chỉ việc giúp bác liên kết tài khoản an sinh", "liên kết tài khoản an sinh"),
    ("làm thẻ căn cước cho con, chỉ tôi từng bước", "làm thẻ căn cước cho con"),
    ("quên mật khẩu vneid", "quên mật khẩu vneid"),  # not a request for steps: as typed
    ("hướng dẫn từng bước", "hướng dẫn từng bước"),  # nothing left to search: as typed
])
def test_a_request_for_steps_is_searched_for_its_task(text, task):
    assert followup.searched_task(text) == task
