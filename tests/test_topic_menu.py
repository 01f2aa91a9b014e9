"""Topic menus for residents who cannot name their problem (bot/replies/topic_menu.py)."""

import dataclasses
from pathlib import Path

import pytest

from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.replies import topic_menu
from tests.conftest import make_entry

ENTRIES = {e.id: e for e in [
    make_entry("vneid-kich-hoat", "Kích hoạt tài khoản VNeID", ["kich hoat"]),
    make_entry("vneid-quen-mat-khau", "Quên mật khẩu VNeID", ["quen mk"]),
    make_entry("vneid-khong-nhan-otp", "Không nhận được mã OTP", ["otp"]),
    make_entry("vneid-la-gi", "VNeID là gì", ["vneid la gi"]),
    make_entry("vneid-mat-dien-thoai", "Mất điện thoại", ["mat may"]),
    make_entry("hoa-don-tra-cuu", "Tra cứu hóa đơn", ["tra cuu"]),
]}
DEFAULTS = ["vneid-kich-hoat", "vneid-quen-mat-khau", "vneid-khong-nhan-otp"]


@pytest.mark.parametrize(("text", "topic"), [
    ("vneid", "vneid"), ("VNeID", "vneid"), ("app vneid", "vneid"), ("cái vneid á", "vneid"), ("bhyt", "suc-khoe"),
    ("BHYT sao", "suc-khoe"), ("hóa đơn điện tử", "hoa-don"), ("hddt", "hoa-don"), ("dịch vụ công", "dich-vu-cong"),
])
def test_a_bare_topic_word_is_recognised(text, topic):
    assert topic_menu.bare_topic(text) == topic


@pytest.mark.parametrize("text", ["quên mật khẩu vneid", "vneid không nhận được otp", "giá vàng", "alo",
                                  "vneid là gì", "bhyt la gi", "hóa đơn điện tử là gì"])
def test_a_topic_with_a_task_or_no_topic_is_not_bare(text):
    assert topic_menu.bare_topic(text) is None


@pytest.mark.parametrize(("text", "nothing"), [("?", True), ("???", True), ("😀", True), ("👍👍", True), ("...", True),
                                               ("[sticker]", False), ("alo", False)])
def test_nothing_to_read(text, nothing):
    assert topic_menu.has_nothing_to_read(text) is nothing


def test_menu_order_is_pins_then_most_asked_then_defaults():
    tasks = topic_menu.ranked_tasks("vneid", ENTRIES, DEFAULTS, asked={"vneid-mat-dien-thoai": 5,
                                                                       "vneid-khong-nhan-otp": 2})
    assert [e.id for e in tasks] == ["vneid-mat-dien-thoai", "vneid-khong-nhan-otp", "vneid-kich-hoat",
                                     "vneid-quen-mat-khau"]
    pinned = topic_menu.ranked_tasks("vneid", ENTRIES, DEFAULTS, asked={"vneid-mat-dien-thoai": 5},
                                     pinned=["vneid-quen-mat-khau", "hoa-don-tra-cuu", "no-such-entry"])
    assert [e.id for e in pinned][:2] == ["vneid-quen-mat-khau", "vneid-mat-dien-thoai"]
    assert all(e.topic == "vneid" for e in pinned)


NARROW = {e.id: e for e in [
    make_entry("hoa-don-tra-cuu", "Tra cứu hóa đơn", ["tra cứu hóa đơn"]),
    make_entry("hoa-don-la-gi", "Hóa đơn điện tử là gì", ["hddt la gi"]),
    make_entry("hoa-don-etax-cai-dat", "Cài ứng dụng eTax Mobile", ["tải etax ở đâu"]),
    make_entry("hoa-don-etax-nop-thue", "Nộp thuế trên eTax Mobile", ["nop thue etax"]),
    make_entry("hoa-don-etax-dang-nhap-vneid", "Đăng nhập eTax Mobile bằng VNeID", ["etax dang nhap vneid"]),
    make_entry("suc-khoe-kiem-tra-han-the", "Kiểm tra hạn thẻ BHYT", ["the bhyt con han khong"]),
    make_entry("suc-khoe-cap-nhat-the-bhyt", "Cập nhật thẻ BHYT trên VNeID", ["the bhyt tren vneid sai"]),
    make_entry("vneid-tich-hop-bhyt", "Tích hợp thẻ BHYT vào VNeID", ["tich hop bhyt vao vneid"]),
    make_entry("vneid-quen-mat-khau", "Quên mật khẩu VNeID", ["quen mk vneid"]),
]}


def test_a_subject_named_narrows_the_menu_to_its_entries_in_the_menus_order_then_by_closeness():
    ranked = topic_menu.ranked_tasks("hoa-don", NARROW, ["hoa-don-tra-cuu", "hoa-don-la-gi",
                                                         "hoa-don-etax-dang-nhap-vneid"], asked={})
    closeness = {"hoa-don-etax-nop-thue": 2.0, "hoa-don-etax-cai-dat": 5.0}
    tasks = topic_menu.narrowed("hoa-don", "app etax của tôi bị sao ấy", NARROW, ranked, closeness)
    assert [e.id for e in tasks] == ["hoa-don-etax-dang-nhap-vneid", "hoa-don-etax-cai-dat", "hoa-don-etax-nop-thue",
                                     "hoa-don-tra-cuu", "hoa-don-la-gi"]
    assert topic_menu.subject_named("app etax của tôi bị sao ấy") == "eTax Mobile"
    assert topic_menu.narrowed("hoa-don", "hóa đơn bị lỗi", NARROW, ranked, closeness) == ranked  # the topic alone


def test_a_second_topic_named_narrows_the_menu_to_entries_naming_both():
    ranked = topic_menu.ranked_tasks("suc-khoe", NARROW, ["suc-khoe-kiem-tra-han-the"], asked={})
    tasks = topic_menu.narrowed("suc-khoe", "thẻ bhyt trên vneid có vấn đề", NARROW, ranked, {})
    assert [e.id for e in tasks] == ["suc-khoe-cap-nhat-the-bhyt", "vneid-tich-hop-bhyt", "suc-khoe-kiem-tra-han-the"]
    assert topic_menu.subject_named("thẻ bhyt trên vneid có vấn đề") == ""


def test_the_vague_menu_names_the_subject():
    shown = topic_menu.menu("hoa-don", [NARROW["hoa-don-etax-cai-dat"]], vague=True, about="eTax Mobile")
    assert shown.text.startswith("Bạn đang gặp vấn đề với eTax Mobile phải không?")


def test_before_any_log_the_default_order_is_used():
    assert [e.id for e in topic_menu.ranked_tasks("vneid", ENTRIES, DEFAULTS, asked={})] == DEFAULTS


def test_the_menu_asks_back_with_tasks_and_a_person():
    tasks = topic_menu.ranked_tasks("vneid", ENTRIES, DEFAULTS, asked={})
    shown = topic_menu.menu("vneid", tasks, vague=True)
    assert "phải không" in shown.text and shown.offered == DEFAULTS
    assert [b["title"] for b in shown.buttons][-1] == "Gặp người hỗ trợ" and len(shown.buttons) <= 5
    assert '"entry_id":"vneid-kich-hoat"' in shown.buttons[0]["payload"]


def test_nothing_to_read_gets_one_line_and_the_main_topics():
    shown = topic_menu.nothing_to_read_reply()
    assert "\n" not in shown.text and len(shown.text) < 80
    # each topic button sends the topic's name, which opens that topic's menu
    assert [topic_menu.bare_topic(b["payload"]) for b in shown.buttons[:4]] == list(topic_menu.MAIN_TOPICS)


@pytest.mark.parametrize(("text", "picked"), [
    ("cái thứ 2", "b"), ("cai thu 2", "b"), ("số 3", "c"), ("mục đầu tiên", "a"), ("cái thứ hai ạ", "b"),
    ("cái cuối", "c"), ("cái thứ 7", None), ("tôi có 2 con, cái thứ 2 học lớp mấy thì phải làm căn cước", None),
])
def test_a_typed_choice_picks_an_offered_entry(text, picked):
    assert topic_menu.picked(text, ["a", "b", "c"]) == picked


def test_the_default_menus_name_real_entries_of_their_topic():
    entries = {e.id: e for e in load_entries(ROOT / "knowledge")}
    defaults = topic_menu.load_defaults(Path(ROOT / "knowledge" / "menus" / "topic_tasks.yml"))
    assert set(topic_menu.MAIN_TOPICS) <= set(defaults)
    for topic, ids in defaults.items():
        assert len(ids) >= topic_menu.MENU_SIZE
        assert [i for i in ids if i not in entries or entries[i].topic != topic] == []


def test_every_first_aid_entry_is_of_its_topic_and_has_steps():
    entries = {e.id: e for e in load_entries(ROOT / "knowledge")}
    first_aid = topic_menu.load_first_aid(ROOT / "knowledge" / "menus" / "first_aid.yml")
    assert first_aid  # at least VNeID's
    for topic, entry_id in first_aid.items():
        assert entry_id in entries and entries[entry_id].topic == topic and entries[entry_id].steps


def test_a_vague_app_problem_leads_with_the_first_aid_steps_and_their_source_then_asks_back():
    aid = dataclasses.replace(make_entry("vneid-bao-tri", "VNeID quay mãi không vào được", ["vneid bao tri"]),
                              steps=["Thử lại sau.", "Gọi tổng đài 1900 0368."])
    tasks = topic_menu.ranked_tasks("vneid", ENTRIES, DEFAULTS, asked={})
    shown = topic_menu.menu("vneid", tasks, vague=True, first_aid=aid)
    first, _, rest = shown.text.partition("\n")
    assert "Thử lại sau. Gọi tổng đài 1900 0368." in first and "Nguồn:" in rest and "phải không" in rest
    assert shown.offered == DEFAULTS  # the menu itself is unchanged
    assert topic_menu.menu("vneid", tasks, vague=False, first_aid=aid).text.startswith("Về ")  # a bare topic: none


@pytest.mark.parametrize(("text", "app"), [
    ("app vneid cứ báo lỗi", True), ("vneid ko vao dc", True), ("vneid mo mai khong duoc", True),
    ("vneid bị treo", True), ("thẻ bhyt trên vneid có vấn đề", False), ("vneid của tôi có chuyện rồi", False),
])
def test_app_trouble_is_the_app_misbehaving_not_any_problem(text, app):
    from bot.replies import vague
    assert vague.app_trouble(text) is app


def test_two_asks_share_the_topic_one_of_them_names(tmp_path, fake_embedder):
    """'đổi số điện thoại và quên mật khẩu vneid': the first ask is searched as about VNeID too."""
    from bot.replies.answers import answer_question
    from bot.search.decide import Thresholds
    from bot.search.hybrid import HybridSearcher
    from bot.search.index import build_index, load_index

    entries = [make_entry("vneid-doi-so", "Đổi số điện thoại VNeID", ["đổi số điện thoại vneid"]),
               make_entry("hoa-don-doi-so", "Đổi số điện thoại hóa đơn", ["đổi số điện thoại hóa đơn"]),
               make_entry("vneid-quen-mk", "Quên mật khẩu VNeID", ["quên mật khẩu vneid"])]
    searcher = HybridSearcher(load_index(build_index(entries, fake_embedder, "fake", tmp_path, progress=False)),
                              fake_embedder)
    searched: list[str] = []
    search = searcher.search
    searcher.search = lambda q, k=5: searched.append(q) or search(q, k)  # type: ignore[method-assign]
    reply = answer_question("đổi số điện thoại và quên mật khẩu vneid", searcher, Thresholds(0.0, -1.0, -1.0))
    assert "đổi số điện thoại VNeID" in searched
    assert reply.entry_id == "vneid-doi-so" and "vneid-quen-mk" in reply.buttons[0]["payload"]
