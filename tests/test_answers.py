"""Reply building: answer with source and buttons, clarify, decline, handoff text."""

import json

import pytest

from bot.core.settings import ROOT
from bot.handoff.replies import Contacts, handoff_text
from bot.replies.answers import MAX_BUTTONS, answer_entry, answer_question, decline
from bot.search.decide import Thresholds
from bot.search.hybrid import HybridSearcher
from bot.search.index import build_index, load_index

ALWAYS = Thresholds(0.0, -1.0, -1.0)
NEVER = Thresholds(0.0, 9.0, 9.0)


@pytest.fixture
def searcher(tmp_path, small_entries, fake_embedder):
    index = load_index(build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False))
    return HybridSearcher(index, fake_embedder)


def test_answer_has_title_steps_source_and_buttons(searcher):
    reply = answer_question("quen mk vneid", searcher, ALWAYS, "ask_question")
    assert reply.entry_id == "vneid-quen-mat-khau" and not reply.declined
    assert reply.text.startswith("Quên mật khẩu VNeID\n")
    assert "1. Bấm Quên mật khẩu." in reply.text and "Nguồn: https://vneid.gov.vn/" in reply.text
    payloads = [b["payload"] for b in reply.buttons]
    assert '/ask_question{"entry_id":"vneid-kich-hoat"}' in payloads
    assert "/request_human" in payloads and len(reply.buttons) <= MAX_BUTTONS


def test_button_payloads_are_valid_rasa_intents_with_json(searcher):
    for button in answer_entry(searcher.by_id["vneid-quen-mat-khau"], searcher.by_id).buttons:
        intent, _, entities = button["payload"].partition("{")
        assert intent.startswith("/")
        if entities:
            json.loads("{" + entities)


def test_weak_match_declines_plainly_and_offers_a_person(searcher):
    reply = answer_question("giá vàng hôm nay", searcher, NEVER, "ask_question")
    assert reply.declined and reply.entry_id is None
    assert reply.text.startswith("Xin lỗi") and "VNeID" in reply.text
    assert reply.buttons == [{"title": "Gặp người hỗ trợ", "payload": "/request_human"}]


def test_in_domain_but_unsure_offers_choices(searcher):
    reply = answer_question("mat khau vneid", searcher, NEVER, "ask_question")
    assert reply.reason == "clarify" and reply.declined
    assert any("vneid-quen-mat-khau" in b["payload"] for b in reply.buttons)


def test_out_of_scope_intent_never_clarifies(searcher):
    reply = answer_question("mat khau vneid", searcher, NEVER, "out_of_scope")
    assert reply.reason != "clarify" and reply.declined


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "??? 123", "x" * 0])
def test_input_without_words_is_declined(searcher, text):
    assert answer_question(text, searcher, ALWAYS).declined


def test_long_input_is_answered_or_declined_without_error(searcher):
    reply = answer_question("quên mật khẩu " * 700, searcher, ALWAYS)
    assert reply.text


def test_decline_reason_is_kept():
    assert decline("weak match").reason == "weak match"


def test_handoff_names_team_police_and_topic_hotline():
    contacts = Contacts.load(ROOT / "contacts.yml")
    text = handoff_text(contacts, "vneid")
    assert "Tổ công nghệ số cộng đồng" in text and "Công an xã/phường" in text
    assert "1900 0368" in text
    assert "dichvucong.gov.vn" in handoff_text(contacts, "dich-vu-cong")
    assert "1900 0368" in handoff_text(contacts, None)  # default hotline


def test_handoff_contacts_are_configurable(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("commune: xã Tân Lập\npeople:\n  - {name: Tổ CNS thôn 3, how: gọi anh Bình}\n"
                    "hotlines: {default: '111'}\n")
    text = handoff_text(Contacts.load(path), "hoa-don")
    assert "xã Tân Lập" in text and "Tổ CNS thôn 3: gọi anh Bình" in text and "111" in text


def test_short_query_offers_the_next_best_entries_as_buttons(searcher):
    reply = answer_question("hoa don", searcher, ALWAYS, "ask_question")
    payloads = " ".join(b["payload"] for b in reply.buttons)
    assert reply.entry_id == "hoa-don-tra-cuu"
    assert "vneid-" in payloads  # the other entries, not only the answered one's related list


def test_two_asks_answer_the_first_and_offer_the_second(searcher):
    reply = answer_question("quên mật khẩu vneid và tra cứu hóa đơn điện tử", searcher, ALWAYS)
    assert reply.entry_id == "vneid-quen-mat-khau"
    assert reply.buttons[0]["payload"] == '/ask_question{"entry_id":"hoa-don-tra-cuu"}'
    assert "Tra cứu hóa đơn điện tử" in reply.text.split("Nguồn:")[-1]  # named after the answer


def test_one_ask_with_and_is_answered_as_usual(searcher):
    reply = answer_question("quên mật khẩu vneid và lấy lại mật khẩu", searcher, ALWAYS)
    assert reply.entry_id == "vneid-quen-mat-khau" and "Bạn còn hỏi" not in reply.text
