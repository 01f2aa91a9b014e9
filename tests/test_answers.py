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


def _result(query: str, top_id: str, by_e5: str):
    from bot.search.hybrid import Hit, SearchResult
    from tests.conftest import make_entry

    hits = [Hit(make_entry(top_id, "Top", ["q"]), 1.0, 0.5, 10.0), Hit(make_entry(by_e5, "E5", ["q"]), 0.8, 0.8, 5.0)]
    return SearchResult(query, query, hits, 1.0, top_by_cosine=by_e5, top_by_bm25=top_id)


@pytest.mark.parametrize(("query", "top_id", "by_e5", "disagree"), [
    # names VNeID; BM25's words pulled in the portal's hotline while e5 prefers VNeID's: a guess
    ("số tổng đài vneid là bao nhiêu", "dich-vu-cong-tong-dai", "vneid-hotline", True),
    ("tài khoản mức 2 làm được những việc gì", "to-cong-nghe-so-ho-tro-gi", "vneid-muc-1-muc-2", True),
    ("số tổng đài vneid là bao nhiêu", "vneid-hotline", "vneid-hotline", False),  # they agree
    ("số tổng đài là bao nhiêu", "dich-vu-cong-tong-dai", "vneid-hotline", False),  # no topic named
    ("thẻ bhyt trên vneid", "hoa-don-la-gi", "vneid-tich-hop-bhyt", False),  # two topics named: no call to make
    ("số tổng đài vneid", "dich-vu-cong-tong-dai", "suc-khoe-tong-dai-bhxh", False),  # e5 is off the topic too
])
def test_topics_disagree_when_the_top_leaves_the_named_topic_that_e5_keeps(query, top_id, by_e5, disagree):
    from bot.replies.answers import topics_disagree

    assert topics_disagree(query, _result(query, top_id, by_e5)) is disagree


def test_clarify_leads_with_the_entry_given():
    from bot.replies.answers import clarify
    from tests.conftest import make_entry

    result = _result("số tổng đài vneid", "dich-vu-cong-tong-dai", "vneid-hotline")
    first = make_entry("vneid-hotline", "Tổng đài VNeID", ["q"])
    reply = clarify(result, first)
    payloads = [b["payload"] for b in reply.buttons]
    assert '"entry_id":"vneid-hotline"' in payloads[0] and '"entry_id":"dich-vu-cong-tong-dai"' in payloads[1]
    assert len([p for p in payloads if "entry_id" in p]) == 2 and reply.reason == "clarify"


class _OneResult:
    """A searcher that finds one prepared result (the rule under test reads only the result)."""

    def __init__(self, result) -> None:
        self.result = result
        self.by_id = {h.entry.id: h.entry for h in result.hits}

    def search(self, text: str):
        return self.result


@pytest.mark.parametrize(("intent", "e5_cosine", "asked_back"), [
    ("ask_question", 0.8, True),  # the named topic's entry, close to e5: offered first instead of a bare decline
    ("ask_question", 0.6, False),  # e5 is not close either: declined as before
    ("out_of_scope", 0.8, False),  # NLU judged it off-topic: never a question back
])
def test_a_weak_match_that_leaves_the_named_topic_asks_back_with_its_entry(intent, e5_cosine, asked_back):
    from bot.search.hybrid import Hit, SearchResult
    from tests.conftest import make_entry

    query = "xin số tổng đài hỗ trợ bên vneid"
    hits = [Hit(make_entry("dich-vu-cong-tong-dai", "Tổng đài DVC", ["q"]), 1.0, 0.6, 6.0),
            Hit(make_entry("vneid-hotline", "Tổng đài VNeID", ["q"]), 0.9, e5_cosine, 5.0)]
    result = SearchResult(query, query, hits, 0.7, top_by_cosine="vneid-hotline", top_by_bm25="dich-vu-cong-tong-dai")
    reply = answer_question(query, _OneResult(result), NEVER, intent)
    assert reply.declined
    if asked_back:
        assert reply.reason == "clarify" and '"entry_id":"vneid-hotline"' in reply.buttons[0]["payload"]
    else:
        assert reply.reason != "clarify" and not any("entry_id" in b["payload"] for b in reply.buttons)


@pytest.mark.parametrize(("text", "entry_words", "another"), [
    ("vssid nhập sai mật khẩu mấy lần bị khóa", "Tài khoản VNeID bị khóa do nhập sai", True),  # the wrong app
    ("vssid nhập sai mật khẩu mấy lần bị khóa", "VssID bị khóa: dùng Quên mật khẩu", False),
    ("vssid bị khóa", "Đăng nhập VssID bằng tài khoản VNeID", False),  # names the asked app too
    ("quên mật khẩu", "Quên mật khẩu VNeID", False),  # no app named: nothing to compare
    ("vneid và vssid đều bị khóa", "Quên mật khẩu VNeID", False),  # two apps named
    ("app etax bị lỗi", "Không có tên ứng dụng", False),  # the entry names no app
])
def test_an_answer_about_another_app_is_recognised(text, entry_words, another):
    from bot.replies.answers import names_another_app
    from tests.conftest import make_entry

    assert names_another_app(text, make_entry("x-1", entry_words, ["q"], answer=entry_words)) is another
