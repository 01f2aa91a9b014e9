"""Helper mode (team-member login, notes) and the printable guide page, pure logic."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bot import helper, printable
from bot.knowledge.loader import load_entries
from bot.settings import ROOT
from bot.search.index import entry_to_json
from tests.conftest import make_entry

CODES = ("MA123", "tcn-07")
ENTRY = make_entry(
    "vneid-kich-hoat",
    "Kích hoạt <VNeID> & tài khoản",
    ["a b", "c d", "e f", "g h"],
    "Khi có tin nhắn \"đã duyệt\":",
    steps=("Mở VNeID <script>alert(1)</script>.", "Nhập số định danh & số điện thoại."),
    note="Không đọc mã OTP cho ai.",
    helper_notes=("Kiểm tra sim đúng số đã đăng ký.", "Dặn mang thẻ căn cước."),
)


@pytest.mark.parametrize(
    "text, code",
    [
        ("/helper MA123", "MA123"), ("/helper  ma123 ", "ma123"), ("helper AB12", "AB12"),
        ("ma to cong nghe MA123", "MA123"), ("mã tổ công nghệ số: TCN-07", "TCN-07"),
        ("Tôi là thành viên tổ công nghệ số, mã HN045", "HN045"), ("ma tcns XY9", "XY9"),
        ("/helper", None), ("bật chế độ tổ công nghệ số", None),
    ],
)
def test_login_messages(text, code):
    attempt = helper.login_attempt(text)
    assert attempt is not None and attempt.code == code


@pytest.mark.parametrize(
    "text",
    [
        "mã tổ công nghệ số là gì?", "tổ công nghệ số hỗ trợ gì", "quên mật khẩu vneid",
        "làm sao liên hệ tổ công nghệ số để được hướng dẫn mã OTP", "thoát chế độ tổ công nghệ số", "",
    ],
)
def test_questions_about_the_team_are_not_logins(text):
    assert helper.login_attempt(text) is None


@pytest.mark.parametrize(
    "text, out",
    [
        ("thoát chế độ tổ công nghệ số", True), ("thoat che do to cong nghe", True), ("/helper_off", True),
        ("tắt chế độ hỗ trợ viên", True), ("thoát", False), ("tổ công nghệ số là gì", False),
    ],
)
def test_logout_messages(text, out):
    assert helper.is_logout(text) is out


def test_a_code_masked_by_the_channel_is_explained():
    from bot.privacy import mask

    attempt = helper.login_attempt(mask("/helper TCN-5739"))
    assert attempt == helper.LoginAttempt(None, masked=True)
    assert helper.login_attempt(mask("/helper TCN5739")) == helper.LoginAttempt("TCN5739")  # glued: kept


def test_codes_are_checked_case_insensitively_and_only_configured_ones_pass():
    assert helper.is_valid_code("ma123", CODES) and helper.is_valid_code("TCN-07", CODES)
    assert not helper.is_valid_code("MA124", CODES) and not helper.is_valid_code("", CODES)
    assert not helper.is_valid_code(None, CODES) and not helper.is_valid_code("MA123", ())


def test_login_replies():
    assert helper.login_reply(helper.LoginAttempt("ma123"), CODES) == (helper.WELCOME, True)
    assert helper.login_reply(helper.LoginAttempt("nope"), CODES) == (helper.WRONG_CODE, False)
    assert helper.login_reply(helper.LoginAttempt(None), CODES) == (helper.ASK_CODE, False)
    assert helper.login_reply(helper.LoginAttempt("MA123"), ()) == (helper.NOT_CONFIGURED, False)
    assert helper.login_reply(helper.LoginAttempt(None, masked=True), CODES) == (helper.MASKED_CODE, False)
    for text in (helper.WELCOME, helper.WRONG_CODE, helper.ASK_CODE):
        assert "MA123" not in text  # a reply never repeats a code


def test_notes_message_has_heading_notes_and_printable_link():
    text = helper.notes_message(ENTRY, "https://bot.example.vn/")
    assert text.startswith(helper.NOTES_HEADING)
    assert "- Kiểm tra sim đúng số đã đăng ký." in text
    assert "In hướng dẫn cho người dân: https://bot.example.vn/webhooks/webchat/guide/vneid-kich-hoat" in text
    no_steps = make_entry("vneid-la-gi", "VNeID là gì", ["a", "b", "c", "d"])
    assert helper.notes_message(no_steps, "http://x") is None
    steps_only = make_entry("vneid-y", "Y", ["a", "b", "c", "d"], steps=("s",))
    assert "Ghi chú" not in helper.notes_message(steps_only, "http://x")


def test_notes_of_every_real_entry_fit_a_zalo_message():
    for entry in load_entries(ROOT / "knowledge"):
        text = helper.notes_message(entry, "https://tro-ly.xa-tan-lap.gov.vn")
        assert text is None or len(text) <= 1500, (entry.id, len(text))


def test_print_reply():
    assert "/webhooks/webchat/guide/vneid-kich-hoat" in helper.print_reply(ENTRY, "http://h:5005")
    assert "không có các bước" in helper.print_reply(make_entry("vneid-la-gi", "X", ["a", "b", "c", "d"]), "http://h")
    assert "hỏi một việc trước" in helper.print_reply(None, "http://h")


def test_printable_page_escapes_and_shows_steps_source_date_and_qr():
    page = printable.render_guide(ENTRY, "http://h/webhooks/webchat/guide/vneid-kich-hoat", dt.date(2026, 12, 1))
    assert "<script>" not in page and "&lt;script&gt;" in page and "Kích hoạt &lt;VNeID&gt; &amp; tài khoản" in page
    assert page.count("<li>") == 2 and "Nhập số định danh &amp; số điện thoại." in page
    assert "Nguồn: https://vneid.gov.vn/" in page and "20/11/2026" in page and "In ngày 01/12/2026" in page
    assert re.search(r"<svg[^>]*viewBox", page) and "<path" in page
    assert 'lang="vi"' in page and "font-size: 22pt" in page


def test_qr_code_encodes_the_url():
    # the same URL gives the same code, another URL another one
    assert printable.qr_svg("http://a/1") == printable.qr_svg("http://a/1") != printable.qr_svg("http://a/2")


def test_not_found_page_is_polite():
    page = printable.render_not_found()
    assert "Không tìm thấy hướng dẫn này" in page and "Tổ công nghệ số" in page


def test_guide_page_reads_the_current_index_snapshot(tmp_path):
    index = tmp_path / "index"
    (index / "abc").mkdir(parents=True)
    no_steps = make_entry("vneid-la-gi", "VNeID là gì", ["a", "b", "c", "d"])
    (index / "abc" / "entries.json").write_text(json.dumps([entry_to_json(ENTRY), entry_to_json(no_steps)]), "utf-8")
    assert printable.guide_page(index, ENTRY.id, "http://h")[0] == 404  # nothing published yet
    (index / "CURRENT").write_text("abc\n", encoding="utf-8")
    status, page = printable.guide_page(index, ENTRY.id, "http://h")
    assert status == 200 and "Mở VNeID" in page
    assert printable.guide_page(index, "vneid-la-gi", "http://h")[0] == 404  # no steps, nothing to print
    assert printable.guide_page(index, "../../etc/passwd", "http://h")[0] == 404
