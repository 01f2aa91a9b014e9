"""Pure ticket rules (bot/handoff/tickets.py) and the routing back to the bot when a ticket was closed
(bot/handoff/rule_routes.py),
checked against the real domain and rules files."""

from __future__ import annotations

import pytest
import yaml

from bot.core.limits import Limiter, MemoryCounters
from bot.core.settings import ROOT
from bot.handoff import rule_routes
from bot.handoff.tickets import (
    BUSY_TEAM,
    BUTTON_PRESSED,
    TICKETS_PER_HOUR,
    TOO_MANY_TICKETS,
    Reach,
    channel_of,
    conversation,
    reach,
    resident_words,
    team_notice,
    ticket_refusal,
    wants_the_bot_back,
)

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("sender, channel, where", [
    ("tg-12345", "telegram", Reach("telegram", "12345")),
    ("tg--100987", "telegram", Reach("telegram", "-100987")),
    ("zalo-8841200", "zalo", Reach("zalo", "8841200")),
    ("web-0123456789abcdef01234567", "webchat", Reach("webchat", None)),
    ("web-guessable", "webchat", Reach("webchat", None)),
    ("web-tg-777000111", "webchat", Reach("webchat", None)),  # tg- over the public door: never a Telegram chat
    ("eval-1234", "rest", Reach("rest", None)),
])
def test_where_a_resident_is_reached(sender, channel, where):
    assert channel_of(sender) == channel and reach(sender) == where


@pytest.mark.parametrize("text", ["/leave_ticket", "Quay lại trợ lý ảo", "quay lai tro ly ao", "tro ve bot",
                                  "thôi không cần cán bộ nữa", "ko can nguoi ho tro nua", "hủy yêu cầu",
                                  "cho tôi nói chuyện với trợ lý ảo"])
def test_ways_back_to_the_assistant(text):
    assert wants_the_bot_back(text)


@pytest.mark.parametrize("text", ["tôi đã hỏi trợ lý ảo rồi mà không được", "quay lại bước 2", "cán bộ ơi",
                                  "cháu quay lại trợ lý ảo mấy lần rồi mà nó không trả lời đúng cái cháu cần hỏi",
                                  "không cần", ""])
def test_messages_for_the_staff_are_not_taken_for_leaving(text):
    assert not wants_the_bot_back(text)


def test_the_kept_conversation_is_recent_masked_and_readable():
    events = [{"event": "action", "name": "action_listen"}]
    for i in range(8):
        events += [{"event": "user", "text": f"câu {i}, sdt 0912345678"}, {"event": "bot", "text": f"đáp {i}"}]
    events += [{"event": "user", "text": "/request_human"}, {"event": "bot", "text": None},
               {"event": "bot", "text": "Bạn ở xã/phường nào?"}, {"event": "slot", "name": "x", "value": 1}]
    kept = conversation(events)
    assert len(kept) == 10 and kept[-2:] == [("resident", BUTTON_PRESSED), ("bot", "Bạn ở xã/phường nào?")]
    assert kept[0] == ("resident", "câu 4, sdt [số điện thoại]") and kept[1] == ("bot", "đáp 4")
    assert "0912345678" not in str(kept)
    assert resident_words(kept, count=2) == "câu 6, sdt [số điện thoại] · câu 7, sdt [số điện thoại]"


def test_team_notice_is_masked_and_links_the_ticket():
    text = team_notice("HT-KM482", "", "vneid", "telegram", "otp 482913, goi 0912345678", "https://qt.xa.gov.vn/")
    assert "HT-KM482" in text and "chưa rõ" in text and "Telegram" in text
    assert "482913" not in text and "0912345678" not in text
    assert text.endswith("https://qt.xa.gov.vn/tickets/HT-KM482")


def test_every_intent_has_a_ticket_rule():
    """A new intent without its `ticket_open` rule would let the bot talk over the staff."""
    routed = {r["steps"][0]["intent"] for r in RULES["rules"]
              if any("ticket_open" in str(c) for c in r.get("condition") or [])
              and r["steps"][1].get("action") == "action_relay_to_staff"}
    intents = {i if isinstance(i, str) else next(iter(i)) for i in DOMAIN["intents"]} | {"nlu_fallback"}
    assert intents - {"leave_ticket"} <= routed


@pytest.mark.parametrize("intent, slots, action", [
    ("ask_question", {}, "action_answer_question"),
    ("greet", {}, "action_greet"),
    ("thank", {}, "utter_thank"),
    ("thank", {"guide_entry": "vneid-kich-hoat"}, "action_guide"),  # the guide's rule, not the ticket's
    ("feedback", {"guide_entry": None}, "action_feedback"),
    ("request_human", {}, "handoff_form"),
    ("nlu_fallback", {}, "action_answer_question"),
    ("leave_ticket", {}, "action_leave_ticket"),
    ("no_such_intent", {}, "action_answer_question"),
])
def test_closed_ticket_follows_up_with_the_action_the_rules_choose(intent, slots, action):
    assert rule_routes.action_for(intent, {"ticket_open": False, **slots}) == action


def test_routes_ignore_ticket_and_form_rules_and_survive_a_missing_file(tmp_path):
    routes = rule_routes.routes(RULES)
    assert all(r.action != "action_relay_to_staff" for r in routes)
    assert rule_routes.action_for("greet", {}, tmp_path / "missing.yml") == rule_routes.FALLBACK_ACTION


def test_tickets_are_capped_per_sender_per_day_per_address_and_for_everyone_per_hour():
    now = [0.0]
    limiter = Limiter(MemoryCounters(lambda: now[0]))
    assert [ticket_refusal(limiter, "tg-1") for _ in range(4)] == [None, None, None, TOO_MANY_TICKETS]
    assert ticket_refusal(limiter, "tg-2") is None  # another resident is not affected
    now[0] += 24 * 3600
    assert ticket_refusal(limiter, "tg-1") is None  # a new day
    # the web page mints a new sender per visit: the address is what counts there
    refused = [ticket_refusal(limiter, f"web-{n:024x}", "198.51.100.4") for n in range(11)]
    assert refused == [None] * 10 + [TOO_MANY_TICKETS]
    # a flood of made-up senders from everywhere: the team's group gets at most 60 new tickets an hour
    now[0] += 24 * 3600
    results = [ticket_refusal(limiter, f"flood-{n}", f"203.0.113.{n % 250}") for n in range(TICKETS_PER_HOUR.limit + 1)]
    assert results[:-1] == [None] * TICKETS_PER_HOUR.limit and results[-1] == BUSY_TEAM
    assert ticket_refusal(limiter, "tg-9") == BUSY_TEAM
    now[0] += 3600
    assert ticket_refusal(limiter, "tg-9") is None
