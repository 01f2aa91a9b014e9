"""Vague problems (bot/replies/vague.py): a topic and a trouble named, nothing left the base has rare words for."""

import pytest

from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.replies import vague
from bot.search.hybrid import entry_text
from bot.search.lexical import LexicalIndex


@pytest.fixture(scope="module")
def base() -> LexicalIndex:
    """The shipped knowledge base's vocabulary, as the search holds it."""
    return LexicalIndex([entry_text(e) for e in load_entries(ROOT / "knowledge")])


@pytest.mark.parametrize(("text", "topic"), [
    ("vneid cua toi bi loi roi", "vneid"),
    ("cái app vneid cứ hiện thông báo gì đó", "vneid"),
    ("vneid tren dt cua me toi khong dung duoc nua", "vneid"),  # "điện thoại": in a third of the entries
    ("tai khoan dinh danh cua toi co van de", "vneid"),
    ("the bhyt tren vneid co van de", "suc-khoe"),  # two topics named, the first leads
    ("vssid khong dung duoc", "suc-khoe"),
    ("app etax cua toi bi sao ay", "hoa-don"),
    ("mã số thuế của tôi bị làm sao ấy", "hoa-don"),
    ("cai hoa don dien tu nay kho qua, toi khong hieu", "hoa-don"),
    ("ho so tren dvc co van de", "dich-vu-cong"),
    ("Tôi già rồi, cái vụ dịch vụ công trên mạng tôi chịu không biết đường nào mà lần", "dich-vu-cong"),
])
def test_a_topic_and_a_trouble_with_no_task_is_vague(base, text, topic):
    assert vague.vague_topic(text, base.share) == topic


@pytest.mark.parametrize(("text", "task_term"), [
    ("vneid bi loi khong nhan duoc ma otp", "otp"),
    ("quen mat khau vneid roi, kho qua", "mat_khau"),
    ("the bhyt bi loi bao het han", "het_han"),
    ("thanh toan le phi tren dvc bi loi", "le_phi"),
    ("tra cuu ho so tren dich vu cong co van de", "tra_cuu"),
    ("hoa don cua em bi sai gi do", "sai"),
    ("gửi phản ánh lỗi ứng dụng vneid", "phan"),  # "phản ánh", though "anh" is also a pronoun
])
def test_a_trouble_with_a_task_the_base_has_words_for_is_not_vague(base, text, task_term):
    assert vague.troubled_topic(text) is not None
    assert task_term in vague.task_terms(text, base.share)
    assert vague.vague_topic(text, base.share) is None


@pytest.mark.parametrize("text", [
    "vao dvc khong duoc",  # failing at a task ("vào": log in) is no trouble word: the search answers it
    "không lấy được hóa đơn điện tử",
    "vneid là gì", "hôm nay trời mưa không vào được nhà", "cách tra cứu hóa đơn",
    "toi gia roi, khong lam vneid muc 2 thi co bi gi khong",  # asks about a consequence
    "phản ánh trên dịch vụ công bao lâu được trả lời",  # "trả lời" is no "lỗi"
    "không biết chọn thủ tục nào trên dịch vụ công",  # goes on to ask something
])
def test_no_trouble_or_no_topic_is_not_vague(base, text):
    assert vague.vague_topic(text, base.share) is None


def test_asking_for_a_fact_names_what_is_wanted(base):
    assert vague.troubled_topic("báo lỗi vneid ở đâu") == "vneid"
    assert vague.vague_topic("báo lỗi vneid ở đâu", base.share) is None
    assert vague.vague_topic("báo lỗi vneid", base.share) == "vneid"


def test_what_is_left_is_cut_at_the_topic_and_trouble_words_and_keeps_only_words_that_may_ask():
    assert vague.ask_terms("vneid tren dt cua me toi khong dung duoc nua") == ["dien", "thoai", "dien_thoai"]
    assert vague.ask_terms("cccd tren vneid bi sao ay") == []  # "căn cước công dân" goes whole, not "công dân"
    assert vague.ask_terms("etax mobile ko dung duoc") == []
    # pairs only side by side within one piece: "mật khẩu" is a pair, "khẩu [vneid] bị" is not
    assert vague.ask_terms("quen mat khau vneid bi loi") == ["quen", "mat", "khau", "quen_mat", "mat_khau"]


def test_the_decision_is_how_rare_the_rest_is_in_the_base_not_a_list_of_phrases():
    text = "vneid bi loi, khong vao duoc"  # "vào" is left: the base decides whether it names a task
    assert vague.ask_terms(text) == ["vao"]
    assert vague.vague_topic(text, lambda term: 0.40) == "vneid"  # in 40% of the entries: any question's word
    assert vague.vague_topic(text, lambda term: 0.05) is None  # in 5%: a task the base could match
    assert vague.vague_topic(text, lambda term: 0.0) == "vneid"  # a word the base never uses matches nothing


def test_the_bases_own_ways_of_asking_are_not_vague(base):
    """Every question an entry lists names that entry's task, trouble words or not."""
    questions = [q for e in load_entries(ROOT / "knowledge") for q in e.questions]
    troubled = [q for q in questions if vague.troubled_topic(q)]
    assert len(troubled) > 40  # the check means something
    assert [q for q in troubled if vague.vague_topic(q, base.share)] == []
