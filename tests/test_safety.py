"""The safety notice for typed secrets (bot/replies/safety.py) and the reply built around it
(bot/replies/safe_reply.py)."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.core.privacy import mask
from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.replies.answers import FEEDBACK_BUTTONS, HUMAN_BUTTON, Reply, ask_button, decline
from bot.replies.safe_reply import ASK_OR_PERSON, SAFETY_ENTRY_ID, safe_reply
from bot.replies.safety import PERSONAL_NOTE, SECRET_WARNING, Level, asks_something, notice_for, question_part
from tests.conftest import make_entry

SAFETY_ENTRY = make_entry(
    SAFETY_ENTRY_ID,
    "Không đưa mã OTP cho ai",
    ["có nên đưa mã otp", "người lạ xin otp", "cong an xin ma", "đọc mã cho người ta"],
    "Không đưa mã cho ai.",
    steps=("Gọi 1900 0368.",),
)
BY_ID = {SAFETY_ENTRY.id: SAFETY_ENTRY}


class FakeSearch:
    """Stands in for answer_question: records what it was asked, answers or declines."""

    def __init__(self, declines: bool = False) -> None:
        self.asked: list[str] = []
        self.declines = declines

    def __call__(self, text: str) -> Reply:
        self.asked.append(text)
        if self.declines:
            return decline("weak")
        return Reply(f"Trả lời: {text}", [HUMAN_BUTTON], entry_id="vneid-quen-mat-khau", reason="answer",
                     confidence=0.9)


@pytest.mark.parametrize(
    "typed",
    [
        "012345678912",
        "cccd cua toi 0123 4567 8912",
        "số CMND 123456789 có dùng được không",
        "the ngan hang 9704 0000 1111 2222",
        "mã otp của tôi là 573019",
        "passcode 573019 co an toan ko",
        "mat khau cua toi la 5730",
        "573019",
        "mã đây 573019",
        "ma otp cua toi la 482 913",
        "001.234.567.890",
        "CMND 123.456.789",
        "4-8-2-9-1-3",
        "hộ chiếu C1234567",
        "mat khau la Lan@1955",
    ],
)
def test_ids_cards_and_codes_get_the_firm_warning(typed):
    masked = mask(typed)
    notice = notice_for(masked)
    assert notice is not None and notice.level is Level.SECRET and notice.text == SECRET_WARNING
    assert "công an" in notice.text and "OTP" in notice.text


@pytest.mark.parametrize(
    "typed",
    ["sdt cua toi 0912 345 678", "+84912345678", "(+84) 912 345 678", "stk 1903456789012", "email hoa123@gmail.com",
     "biển số 29A-123.45 bị phạt"],
)
def test_phone_account_numbers_and_amounts_get_a_gentle_note(typed):
    notice = notice_for(mask(typed))
    assert notice is not None and notice.level is Level.PERSONAL and notice.text == PERSONAL_NOTE


@pytest.mark.parametrize(
    "typed",
    [
        "quên mật khẩu vneid", "từ 1/7/2025 mức 2", "gọi 1900 0368 có phải thật không", "nộp phí 50000 đồng ở đâu",
        "mã hồ sơ 000.00.12.H26-240101-0001 đến đâu rồi", "lệ phí 150.000đ", "gọi 024 3823 4567 không ai nghe",
        "ký hiệu 1C25TAA số 0000123", "Nghị định 70/2025/NĐ-CP", "số nhà 12 ngõ 45", "mã hồ sơ 730914",
    ],
)
def test_nothing_masked_means_no_notice(typed):
    assert notice_for(mask(typed)) is None


def test_only_the_words_are_left_for_the_search():
    masked = mask("quên mật khẩu vneid, số định danh 012345678912")
    assert question_part(masked) == "quên mật khẩu vneid, số định danh"
    assert asks_something(masked)
    assert not asks_something(mask("Mã OTP của tôi là 573019 nhé"))
    assert not asks_something(mask("so cccd cua minh day 012345678912"))


def test_a_secret_with_a_question_warns_then_answers_the_words():
    search = FakeSearch()
    reply = safe_reply(mask("quên mật khẩu vneid, cccd 012345678912"), search, BY_ID)
    assert search.asked == ["quên mật khẩu vneid, cccd"]
    assert reply.text.startswith(SECRET_WARNING + "\n\n") and "Trả lời: quên mật khẩu vneid" in reply.text
    assert reply.entry_id == "vneid-quen-mat-khau" and reply.confidence == 0.9


def test_a_bare_secret_gets_the_warning_and_the_safety_entry_with_its_source():
    search = FakeSearch()
    reply = safe_reply(mask("ma otp cua toi la 573019"), search, BY_ID)
    assert search.asked == []
    assert reply.text.startswith(SECRET_WARNING)
    assert "1900 0368" in reply.text and "Nguồn: https://" in reply.text
    assert reply.entry_id == SAFETY_ENTRY_ID and not reply.declined


def test_a_secret_whose_question_is_declined_still_gets_the_safety_entry():
    reply = safe_reply(mask("passcode 573019 abc xyz"), FakeSearch(declines=True), BY_ID)
    assert reply.text.startswith(SECRET_WARNING) and reply.entry_id == SAFETY_ENTRY_ID
    assert reply.declined and reply.reason == "weak"  # still on the admins' list of unanswered questions


def test_without_the_safety_entry_the_warning_stands_alone_with_a_person_button():
    reply = safe_reply(mask("012345678912"), FakeSearch(), {})
    assert reply.text == SECRET_WARNING and reply.buttons == [HUMAN_BUTTON]


def test_a_bare_phone_number_gets_the_note_and_an_invitation():
    reply = safe_reply(mask("0912345678"), FakeSearch(), BY_ID)
    assert reply.text == f"{PERSONAL_NOTE}\n\n{ASK_OR_PERSON}" and reply.buttons == [HUMAN_BUTTON]


def test_a_phone_number_with_an_unanswerable_question_keeps_the_normal_decline():
    reply = safe_reply(mask("gia vang hom nay, sdt 0912345678"), FakeSearch(declines=True), BY_ID)
    assert reply.text.startswith(PERSONAL_NOTE) and reply.declined and "Xin lỗi" in reply.text


def test_a_clean_message_is_answered_as_it_is():
    search = FakeSearch()
    reply = safe_reply("quên mật khẩu vneid", search, BY_ID)
    assert search.asked == ["quên mật khẩu vneid"] and reply.text == "Trả lời: quên mật khẩu vneid"


def test_the_safety_entry_exists_in_the_knowledge_base():
    entries = {e.id: e for e in load_entries(ROOT / "knowledge")}
    entry = entries[SAFETY_ENTRY_ID]
    assert entry.topic == "an-toan" and "OTP" in entry.answer and entry.source.startswith("https://")


def _domain_payloads() -> list[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        b["payload"]
        for variants in domain.get("responses", {}).values()
        for v in variants
        for b in v.get("buttons", [])
    ]


def test_masking_at_the_channels_leaves_every_button_payload_intact():
    entries = load_entries(ROOT / "knowledge")
    payloads = [ask_button(e)["payload"] for e in entries] + [b["payload"] for b in FEEDBACK_BUTTONS]
    payloads += [p.replace("{{", "{").replace("}}", "}") for p in _domain_payloads()]
    assert len(payloads) > len(entries)
    for payload in payloads:
        assert mask(payload) == payload
    json.loads(mask('/ask_question{"entry_id":"012345678912"}').removeprefix("/ask_question"))  # still JSON


def test_a_code_called_mine_is_a_secret_but_a_dossier_code_is_not_masked_at_all():
    assert notice_for(mask("cảm ơn nhé, mã của tôi 730914")).level is Level.SECRET
    assert notice_for(mask("nộp phí cho mã hồ sơ 730914 ở đâu")) is None


def test_a_dossier_code_is_answered_without_the_secret_warning():
    search = FakeSearch()
    typed = "mã hồ sơ 000.00.12.H26-240101-0001 đến đâu rồi"
    reply = safe_reply(mask(typed), search, BY_ID)
    assert search.asked == [typed] and not reply.text.startswith(SECRET_WARNING)
    reply = safe_reply(mask("hồ sơ 000.00.12.H26-240101-0001, sđt 0912345678"), FakeSearch(), BY_ID)
    assert reply.text.startswith(PERSONAL_NOTE)  # the phone number, gently; never the secret warning


def test_the_helpers_placeholders_are_words_the_search_never_sees():
    masked = mask("quên mật khẩu, hộ chiếu C1234567, mail hoa@gmail.com, mật khẩu là Lan@1955")
    assert question_part(masked).split() == "quên mật khẩu, hộ chiếu , mail , mật khẩu là".split()
