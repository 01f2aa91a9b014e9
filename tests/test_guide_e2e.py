"""End to end over REST: guided mode and helper mode on the real Rasa model and action server."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
import requests

from tools.launch import Bot

pytestmark = pytest.mark.e2e

CODE = "TCN5739"  # letters glued to digits: channels mask a separate run of 4-8 digits as a personal code


def joined(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons", [])]


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:
    running = Bot(tmp_path_factory.mktemp("guide-bot"), env={"BOT_HELPER_CODES": f"{CODE},KHAC1"})
    running.env["BOT_PUBLIC_URL"] = running.url  # printable links point at this Rasa
    try:
        yield running.start()
    finally:
        running.stop()


def step_of(messages: list[dict]) -> tuple[int, int] | None:
    found = re.search(r"Bước (\d+)/(\d+):", joined(messages))
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_answer_button_opens_a_guide_walked_forward_back_restarted_and_abandoned(bot):
    s = "guide-walk"
    answer = bot.say("kích hoạt tài khoản định danh điện tử thế nào", s)
    guide_button = next(b for b in buttons(answer) if b["title"] == "Hướng dẫn từng bước")
    opened = bot.say(guide_button["payload"], s)
    assert step_of(opened) == (1, 7) and "Nguồn: http" in joined(opened)
    assert step_of(bot.say("tiep", s)) == (2, 7)
    assert step_of(bot.say("Tiếp", s)) == (3, 7)
    assert step_of(bot.say("quay lai", s)) == (2, 7)
    assert step_of(bot.say("/guide_command{\"guide_move\":\"next\"}", s)) == (3, 7)  # the button
    assert step_of(bot.say("lam lai tu dau", s)) == (1, 7)
    assert step_of(bot.say("tiếp đi", s)) == (2, 7)
    stopped = bot.say("thôi", s)
    assert "Đã dừng" in joined(stopped) and any(b["payload"].startswith("/guide{") for b in buttons(stopped))
    assert "chưa làm theo hướng dẫn nào" in joined(bot.say("tiep", s))  # after "thôi", not right after an answer


def test_short_words_that_nlu_files_elsewhere_still_move_the_guide(bot):
    s = "guide-words"
    bot.say('/guide{"entry_id":"vneid-quen-mat-khau"}', s)
    assert step_of(bot.say("ok", s)) == (2, 5)
    assert step_of(bot.say("xong roi", s)) == (3, 5)
    assert step_of(bot.say("được rồi", s)) == (4, 5)
    assert step_of(bot.say("dc roi", s)) == (5, 5)
    done = bot.say("xong", s)
    assert joined(done).startswith("Xong rồi!") and "Nguồn: http" in joined(done)
    assert any(b["payload"].startswith("/feedback") for b in buttons(done))


NEXT, BACK, RESTART, REPEAT = "Bước 4/7", "Bước 2/7", "Bước 1/7", "Bước 3/7"
STOP, STUCK = "Đã dừng", "người ta hay gặp"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tiếp", NEXT), ("tiep", NEXT), ("Tiếp đi ạ", NEXT), ("xong", NEXT), ("xong rồi", NEXT), ("xong roi", NEXT),
        ("ok", NEXT), ("được rồi", NEXT), ("duoc roi", NEXT),
        ("quay lại", BACK), ("quay lai", BACK), ("lai", BACK), ("truoc", BACK), ("bước trước", BACK),
        ("làm lại", RESTART), ("lam lai", RESTART), ("bắt đầu lại", RESTART), ("bat dau lai", RESTART),
        ("thôi", STOP), ("thoi", STOP), ("dừng", STOP), ("dung", STOP),
        ("bị kẹt", STUCK), ("bi ket", STUCK), ("ko dc", STUCK), ("không được", STUCK), ("khong duoc", STUCK),
        ("bị lỗi", STUCK), ("bi loi", STUCK), ("nhắc lại", REPEAT), ("nhac lai", REPEAT),
    ],
)
def test_every_typed_word_moves_the_guide_whatever_nlu_thinks(bot, text, expected):
    s = "guide-word-" + hashlib.sha256(text.encode()).hexdigest()[:12]  # the REST door takes ids, not typed words
    bot.say('/guide{"entry_id":"vneid-kich-hoat","step":3}', s)
    assert expected in joined(bot.say(text, s))


def test_stuck_offers_the_steps_problems_then_a_person(bot):
    s = "guide-stuck"
    bot.say('/guide{"entry_id":"vneid-kich-hoat","step":6}', s)  # nothing recorded for step 6
    plain = bot.say("bị kẹt", s)
    assert "chưa có ghi chú lỗi thường gặp" in joined(plain)
    assert "/request_human" in [b["payload"] for b in buttons(plain)]
    bot.say('/guide{"entry_id":"vneid-kich-hoat","step":2}', s)
    stuck = bot.say("ko dc", s)
    assert "Ở bước này, người ta hay gặp:" in joined(stuck) and "đổi số" in joined(stuck)
    assert step_of(bot.say("tiep", s)) == (3, 7)  # being stuck does not close the guide
    person = next(b for b in buttons(stuck) if b["payload"] == "/request_human")
    # the button brings in a person exactly as asking for one does (whatever that flow is)
    bot.say('/guide{"entry_id":"vneid-kich-hoat"}', "guide-stuck-other")
    assert joined(bot.say(person["payload"], s)) == joined(bot.say("/request_human", "guide-stuck-other"))


def test_a_new_question_during_a_guide_is_answered_and_leaves_it(bot):
    s = "guide-question"
    bot.say('/guide{"entry_id":"vneid-tich-hop-bhyt"}', s)
    answer = joined(bot.say("tra cứu hóa đơn điện tử ở đâu", s))
    assert "Nguồn: http" in answer and "hoadondientu" in answer
    # the old guide is left: "tiep" now walks through the answer just given, from its first step
    after = joined(bot.say("tiep", s))
    assert "Bước 1/" in after and "BHYT" not in after.split("\n")[0], after


def test_helper_mode_adds_notes_and_a_printable_page(bot):
    s = "guide-helper"
    assert "chưa đúng" in joined(bot.say("/helper SAI0000", s))
    assert "Ghi chú cho tổ công nghệ số" not in joined(bot.say("kích hoạt tài khoản định danh điện tử thế nào", s))
    assert "đã bật chế độ Tổ công nghệ số" in joined(bot.say(f"/helper {CODE}", s))
    answer = bot.say("kích hoạt tài khoản định danh điện tử thế nào", s)
    assert len(answer) >= 2 and "Ghi chú cho tổ công nghệ số:" in answer[-1]["text"]
    link = re.search(r"In hướng dẫn cho người dân: (\S+)", joined(answer)).group(1)
    assert link == f"{bot.url}/webhooks/webchat/guide/vneid-kich-hoat"
    page = requests.get(link, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Nhập số định danh cá nhân (12 số)" in page.text and page.text.count("<li>") == 7
    assert "<svg" in page.text and "Nguồn: https://dean06.hanam.gov.vn" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert link in joined(bot.say("in huong dan", s))
    missing = requests.get(f"{bot.url}/webhooks/webchat/guide/khong-co-muc-nay", timeout=30)
    assert missing.status_code == 404 and "Không tìm thấy hướng dẫn này" in missing.text
    assert "Đã tắt" in joined(bot.say("thoát chế độ tổ công nghệ số", s))
    assert "đã bật" in joined(bot.say(f"ma to cong nghe so {CODE.lower()}", s))
    assert "Đã tắt" in joined(bot.say("/helper_off", s))
    assert "Ghi chú cho tổ công nghệ số" not in joined(bot.say("kích hoạt tài khoản định danh điện tử thế nào", s))
    for log in ("rasa.log", "actions.log"):
        assert CODE not in (bot.workdir / log).read_text(errors="replace"), log


def test_the_place_in_a_guide_survives_a_restart(bot):
    s = "guide-restart"
    bot.say('/guide{"entry_id":"vneid-kich-hoat"}', s)
    bot.say("tiep", s)
    assert step_of(bot.say("tiep", s)) == (3, 7)
    bot.stop()
    bot.start()
    assert step_of(bot.say("tiep", s)) == (4, 7)
