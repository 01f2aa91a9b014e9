"""Helper mode (team-member login, notes) and the printable guide page, pure logic."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import threading

import pytest

from bot.core.limits import Limiter, MemoryCounters
from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.replies import printable
from bot.search.index import entry_to_json
from bot.team import mode as helper
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
    from bot.core.privacy import mask_incoming  # what the channels pass to Rasa

    attempt = helper.login_attempt(mask_incoming("/helper TCN 5739"))
    assert attempt == helper.LoginAttempt(None, masked=True)
    assert helper.login_attempt(mask_incoming("/helper TCN5739")) == helper.LoginAttempt("TCN5739")  # glued: kept
    assert helper.login_attempt(mask_incoming("/helper TCN-5739")) == helper.LoginAttempt("TCN-5739")


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


# ------------------------------------------------------------------------------------- guessing codes
def _limiter(clock=None) -> Limiter:
    return Limiter(MemoryCounters(clock or (lambda: 1000.0)))


def test_wrong_codes_lock_the_sender_out_and_the_right_code_is_not_counted():
    now = [1000.0]
    limiter = _limiter(lambda: now[0])

    def reply(code, sender="web-a"):
        return helper.limited_login_reply(helper.LoginAttempt(code), CODES, limiter, sender)

    assert reply("MA123") == (helper.WELCOME, True)  # right codes give their count back: members log in freely
    assert [reply(f"XX{n}")[0] for n in range(5)] == [helper.WRONG_CODE] * 5
    locked, ok = reply("MA123")  # even the right code waits: it is not compared at all
    assert not ok and locked == helper.LOCKED.format(minutes=60) and "MA123" not in locked
    assert reply("MA123", "tg-77") == (helper.WELCOME, True)  # another sender is not locked
    now[0] += 3601
    assert reply("MA123") == (helper.WELCOME, True)


def test_an_address_is_locked_across_the_senders_it_makes_up():
    limiter = _limiter()
    results = [helper.limited_login_reply(helper.LoginAttempt("NOPE1"), CODES, limiter, f"web-{n}", "198.51.100.9")
               for n in range(21)]
    assert [text for text, _ in results[:20]] == [helper.WRONG_CODE] * 20
    assert results[20][0].startswith("Bạn đã nhập sai")
    elsewhere = helper.limited_login_reply(helper.LoginAttempt("MA123"), CODES, limiter, "web-99", "198.51.100.10")
    assert elsewhere == (helper.WELCOME, True)


def test_asking_for_the_code_is_not_a_wrong_code():
    limiter = _limiter()
    for _ in range(10):
        reply = helper.limited_login_reply(helper.LoginAttempt(None), CODES, limiter, "web-a")
        assert reply == (helper.ASK_CODE, False)
    assert helper.limited_login_reply(helper.LoginAttempt("MA123"), CODES, limiter, "web-a")[1]


def test_concurrent_guesses_cannot_pass_the_lock_out():
    limiter, compared = _limiter(), []
    real_check = helper.is_valid_code
    start = threading.Barrier(16)

    def counting_check(code, codes):
        compared.append(code)
        return real_check(code, codes)

    def guess(n: int) -> None:
        start.wait()
        helper.limited_login_reply(helper.LoginAttempt(f"GUESS{n}"), CODES, limiter, "tg-1")

    helper_module_check = helper.is_valid_code
    helper.is_valid_code = counting_check
    try:
        threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        helper.is_valid_code = helper_module_check
    assert len(compared) == helper.WRONG_CODES_PER_SENDER.limit


def test_the_login_action_counts_per_sender_and_per_address(monkeypatch):
    from dataclasses import replace

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import services
    from actions.helper import ActionHelperLogin
    from bot.core.settings import Settings

    monkeypatch.setattr(services, "settings", lambda: replace(Settings.from_env(), helper_codes=CODES))

    def login(code: str, sender: str, address: str | None = None) -> tuple[str, list]:
        metadata = {"client_address": address} if address else {}
        latest = {"text": f"/helper {code}", "intent": {"name": "helper_login"}, "entities": [], "metadata": metadata}
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionHelperLogin().run(
            dispatcher, Tracker(sender, {}, latest, [], False, None, {}, "action_listen"), {}))
        return dispatcher.messages[0]["text"], events

    assert [login(f"BAD{n}", "tg-5")[0] for n in range(5)] == [helper.WRONG_CODE] * 5
    text, events = login("MA123", "tg-5")
    assert text.startswith("Bạn đã nhập sai") and events == []
    assert login("MA123", "tg-6")[1] == [{"event": "slot", "timestamp": None, "name": "helper_mode", "value": True}]
    for n in range(20):  # new web senders each time, one address: the address is what is locked
        login(f"BAD{n}", f"web-{n:024x}", "203.0.113.5")
    assert login("MA123", "web-" + "f" * 24, "203.0.113.5")[0].startswith("Bạn đã nhập sai")


# ------------------------------------------------------------------------------------- code strength
def test_new_codes_are_strong_readable_and_survive_masking():
    from bot.core.privacy import mask, mask_incoming

    codes = {helper.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    alphabet = set(helper.CODE_LETTERS + helper.CODE_DIGITS)
    for code in codes:
        assert len(code) == helper.NEW_CODE_LENGTH and set(code) <= alphabet and not re.search(r"\d{3}", code)
        assert helper.login_attempt(mask_incoming(f"/helper {code}")) == helper.LoginAttempt(code)  # reaches the action
        assert code not in mask(f"/helper {code}")  # but never a ticket, a team notice or a log
        assert helper.code_bits(code) >= helper.MIN_CODE_BITS
    assert not set("IOBSGZ01") & alphabet
    assert helper.new_code_bits() == pytest.approx(53.83, abs=0.01) and helper.new_code_bits() >= helper.MIN_CODE_BITS
    assert helper.new_code_bits(3) == pytest.approx(math.log2(23 ** 3 - 8 ** 3))  # only "ddd" is left out


def test_weak_configured_codes_are_found_by_position():
    assert helper.weak_codes(("MA123", "TCN-07", "KM4XTAP7RD2H", "AAAAAAAAAAAA1", "km4xtap7rd2h")) == [1, 2, 4]
    assert helper.code_bits("ABCDEFGHIJK") == pytest.approx(11 * math.log2(26))


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
