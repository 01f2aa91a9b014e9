"""The accounting of bench/faults.py: what counts as a reply, an apology or an error, and how the tracker store's
events are checked against what the residents sent (lost, stored twice, left without a bot event)."""

from __future__ import annotations

from bench.faults import FOLLOW_UPS, Message, check_tracker, classify, conversation
from bot.core.copy import BUSY_APOLOGY
from bot.core.privacy import mask_incoming


def msg(sender: str, text: str, outcome: str = "reply") -> Message:
    return Message(sender, text, 0.0, 0.1, outcome)


def test_outcomes():
    assert classify(200, [{"text": "Bước 1/3"}]) == ("reply", None)
    assert classify(200, [{"text": BUSY_APOLOGY}]) == ("apology", None)
    assert classify(200, []) == ("error", "no reply")
    assert classify(502, None) == ("error", "HTTP 502")


def test_a_conversation_is_questions_with_their_follow_ups():
    pool = ["q0", "q1", "q2", "q3"]
    messages, next_question = conversation(pool, 3)
    assert messages[0] == "q3" and messages[1:3] == ["tiep", "tiep"] and messages[3] == "q0"
    assert len(messages) == len(FOLLOW_UPS) + 1 and next_question == 3 + 1 + FOLLOW_UPS.count(None)


def test_every_message_stored_and_answered():
    sent = [msg("a", "hello"), msg("a", "tiep"), msg("b", "số 0912345678")]
    masked = mask_incoming("số 0912345678")  # stored as the door masks it
    assert masked != "số 0912345678"
    events = {"web-a": [("user", "hello"), ("bot", "x"), ("user", "tiep"), ("bot", "y")],
              "web-b": [("user", masked), ("bot", "z")]}
    check = check_tracker(sent, events)
    assert (check["lost"], check["duplicated"], check["unanswered"]) == ([], [], [])
    assert check["user_events"] == 3 and check["conversations"] == 2


def test_lost_duplicated_and_unanswered_are_listed():
    sent = [msg("a", "hello"), msg("a", "tiep", "error"), msg("c", "one")]
    events = {"web-a": [("user", "hello"), ("bot", "x"), ("user", "hello")],
              "web-c": [("user", "one")]}
    check = check_tracker(sent, events)
    assert [(x["conversation"], x["text"], x["outcome"]) for x in check["lost"]] == [("web-a", "tiep", "error")]
    assert check["duplicated"] == [{"conversation": "web-a", "text": "hello", "times": 1}]
    assert {x["conversation"] for x in check["unanswered"]} == {"web-a", "web-c"}


def test_a_follow_up_sent_twice_and_stored_once_is_put_down_to_the_one_cut_off():
    sent = [msg("a", "q"), msg("a", "tiep"), msg("a", "tiep", "error"), msg("a", "q2")]
    check = check_tracker(sent, {"web-a": [("user", "q"), ("bot", "1"), ("user", "tiep"), ("bot", "2"),
                                           ("user", "q2"), ("bot", "3")]})
    assert [(x["text"], x["outcome"]) for x in check["lost"]] == [("tiep", "error")] and not check["duplicated"]
