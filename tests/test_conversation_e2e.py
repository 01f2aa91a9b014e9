"""End to end over REST with the real model: the conversation follows the resident (issues 11 and 12). Typed
replies go through Rasa's NLU, so these check that every intent they may get reaches the right action."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import conversations
from tools.launch import Bot

pytestmark = pytest.mark.e2e


def joined(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:
    running = Bot(tmp_path_factory.mktemp("bot"))
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.mark.parametrize("go_on", ["tiep", "làm theo", "ok", "hướng dẫn từng bước"])
def test_go_on_after_an_answer_with_steps_walks_through_it(bot, go_on):
    sender = f"conv-go-{go_on}"
    assert "1. " in joined(bot.say("quen mat khau vneid thi lam the nao", sender))
    reply = joined(bot.say(go_on, sender))
    assert "Bước 1/" in reply, reply


def test_stuck_at_a_step_after_an_answer_gets_that_step(bot):
    sender = "conv-stuck"
    assert "1. " in joined(bot.say("quen mat khau vneid thi lam the nao", sender))
    reply = joined(bot.say("kẹt ở bước 2 rồi", sender))
    assert "Bước 2/" in reply and not reply.startswith("Xin lỗi, tôi chưa có thông tin"), reply


def test_a_bare_topic_word_gets_a_choice_of_tasks(bot):
    messages = bot.say("vneid", "conv-topic")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert "VNeID" in joined(messages) and sum("entry_id" in b["payload"] for b in buttons) >= 3
    reply = joined(bot.say("cái thứ 2", "conv-topic"))
    assert "Nguồn: http" in reply


@pytest.mark.parametrize("text", ["?", "😀"])
def test_nothing_to_read_gets_one_short_line(bot, text):
    messages = bot.say(text, f"conv-nothing-{ord(text[0])}")
    assert len(messages) == 1 and "\n" not in messages[0]["text"] and messages[0].get("buttons")


def test_a_second_alo_gets_one_line(bot):
    first = joined(bot.say("alo", "conv-alo"))
    second = bot.say("alo", "conv-alo")
    assert len(joined(second)) < len(first) and "\n" not in joined(second)


@pytest.mark.parametrize(("n", "ask"), [(1, "gặp người hỗ trợ"), (2, "gap can bo ho tro")])
def test_the_words_the_bot_tells_residents_to_type_bring_a_person(bot, n, ask):
    assert "xã/phường nào" in joined(bot.say(ask, f"conv-person-{n}"))


def test_a_commune_of_the_map_is_recognised_when_asking_for_a_person(bot):
    assert "xã/phường nào" in joined(bot.say("toi muon gap can bo ho tro", "conv-commune"))
    reply = joined(bot.say("phuong ba dinh ha noi", "conv-commune"))
    assert "Phường Ba Đình" in reply and "Mã yêu cầu của bạn: HT-" in reply, reply


# One of each: typed steps after an answer, a follow-up on it, a person reached from an old-style address.
FROM_THE_SET = ("cv-001", "cv-037", "cv-082")


@pytest.mark.parametrize("cid", FROM_THE_SET)
def test_conversations_of_the_eval_set_pass(bot, cid):
    conversation = next(c for c in conversations.load() if c["id"] == cid)
    played = conversations.play(conversation, lambda text: bot.say(text, f"conv-set-{cid}"))
    assert played.passed, conversations.failures([played])
