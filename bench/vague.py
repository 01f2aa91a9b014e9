"""`python -m bench.vague`: vague in-scope problems and bare topic words get a question back with the right task
(issue 12).

Each message of tests/data/vague.jsonl ("vneid", "bhyt của tôi bị sao ấy", "trang dịch vụ công bị lỗi") is run through
ActionAnswerQuestion in process: the serving search service of this checkout, a fresh tracker per message (intent
ask_question), the question log and menu counts in a throwaway store (so menus show the default order of
knowledge/menus/topic_tasks.yml, as before a log exists). Every reply falls in one outcome:

- asked back, right task: no confident answer, and a button asks for an entry listed in the message's `tasks`;
- answered (right entry) / answered (other entry): a confident answer (the action set `last_entry`);
- asked back, wrong tasks: buttons with entries, none of them in `tasks`;
- declined: no entry buttons at all (the "out of scope" reply or a bare handoff).

Three kinds, by the id's first letter: `b` a bare topic word and `v` a vague problem (topic and trouble named, no task:
right = asked back with a right task), `t` a message that does name a task besides a trouble word ("vao dvc khong
duoc", "vneid bi loi khong nhan duoc otp": right = the right entry answered, or asked back with it). The goal is on
`b` and `v` together. Writes bench/vague.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core.settings import ROOT, Settings

DATA = ROOT / "tests" / "data" / "vague.jsonl"
OUT = ROOT / "bench" / "vague.md"
OUTCOMES = ("asked back, right task", "answered (right entry)", "answered (other entry)", "asked back, wrong tasks",
            "declined")
GOAL = 0.9
KINDS = {"b": "bare topic words", "v": "vague problems", "t": "trouble with a named task"}
RIGHT = {"b": {OUTCOMES[0]}, "v": {OUTCOMES[0]}, "t": {OUTCOMES[0], OUTCOMES[1]}}


def is_right(row: dict) -> bool:
    """Whether a reply is what its kind needs (see the module's docstring)."""
    return row["outcome"] in RIGHT[row["id"][0]]


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tracker(text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "ask_question", "confidence": 0.9}, "entities": []}
    event = {"event": "user", "text": text, "parse_data": {"intent": {"name": "ask_question"}}}
    return Tracker("bench-vague", {}, latest, [event], False, None, {}, "action_listen")


def button_entries(messages: list[dict]) -> list[str]:
    """Entry ids the reply's buttons ask for (`/ask_question{"entry_id": ...}`), in order."""
    out = []
    for message in messages:
        for button in message.get("buttons") or []:
            payload = str(button.get("payload", ""))
            if payload.startswith("/ask_question{"):
                out.append(json.loads(payload[len("/ask_question"):]).get("entry_id"))
    return out


def classify(item: dict, events: list[dict], messages: list[dict]) -> tuple[str, str]:
    """The outcome, and what the bot offered or answered (for the misses)."""
    answered = next((e["value"] for e in events if e.get("name") == "last_entry" and e.get("value")), None)
    if answered:
        return ("answered (right entry)" if answered in item["tasks"] else "answered (other entry)"), answered
    offered = button_entries(messages)
    if not offered:
        return "declined", (messages[0].get("text", "") if messages else "")[:70].replace("\n", " ")
    right = any(e in item["tasks"] for e in offered)
    return ("asked back, right task" if right else "asked back, wrong tasks"), ", ".join(offered)


def action_in_process():
    """ActionAnswerQuestion over this checkout's serving search, with a throwaway store for the question log, menu
    counts and pins (menus in their default order), and the search's reason for each reply: an async function
    text -> (events, messages, reason)."""
    from actions import services
    from actions.questions import ActionAnswerQuestion
    from bot.indexing.serving import search_service
    from bot.store.question_log import Events

    settings = Settings.from_env()
    service = search_service(settings)  # the published index and the calibrated bars, read from the real store
    scratch = tempfile.mkdtemp(prefix="bench-vague-")
    local = replace(settings, store_url=f"sqlite:///{scratch}/store.db")  # question log, menu counts and pins
    services.settings = lambda: local
    events_store = Events.open(local.store_url)
    services.events = lambda: events_store
    action = ActionAnswerQuestion(lambda: service)
    reasons: list[str] = []  # the action logs "question intent=... -> <entry or declined> (<reason>)" once a search ran

    class Reasons(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg.startswith("question intent="):
                reasons.append(str(record.args[2]))

    logging.getLogger("actions.questions").addHandler(Reasons())
    logging.getLogger("actions.questions").setLevel(logging.INFO)

    async def ask(text: str) -> tuple[list[dict], list[dict], str]:
        dispatcher, reasons[:] = CollectingDispatcher(), []
        events = await action.run(dispatcher, tracker(text), {})
        return events, dispatcher.messages, reasons[-1] if reasons else "menu"

    return ask


async def run(items: list[dict]) -> list[dict]:
    from bot.store import offload

    ask = action_in_process()
    rows = []
    for item in items:
        events, messages, reason = await ask(item["q"])
        outcome, detail = classify(item, events, messages)
        rows.append({**item, "outcome": outcome, "detail": detail, "reason": reason})
    offload.settle()
    return rows


def report(rows: list[dict]) -> list[str]:
    kinds = {name: [r for r in rows if r["id"][0] == k] for k, name in KINDS.items()}
    kinds["bare and vague (the goal)"] = [r for r in rows if r["id"][0] in "bv"]
    kinds["all"] = rows
    lines = ["# Vague problems and bare topic words (issue 12)", "",
             f"`python -m bench.vague` over tests/data/vague.jsonl ({len(rows)} messages). Goal: at least "
             f"{GOAL:.0%} of the bare topic words and vague problems asked back with a button for a right task, none "
             "declined. Messages naming a task are right when answered with a right entry or asked back with one.", "",
             "| Messages | n | right | " + " | ".join(OUTCOMES) + " |", "|---|---|---|" + "---|" * len(OUTCOMES)]
    for name, subset in kinds.items():
        c, n = Counter(r["outcome"] for r in subset), max(1, len(subset))
        good = sum(map(is_right, subset))
        lines.append(f"| {name} | {len(subset)} | {good} ({100 * good / n:.0f}%) | "
                     + " | ".join(f"{c[o]} ({100 * c[o] / n:.0f}%)" for o in OUTCOMES) + " |")
    misses = [r for r in rows if not is_right(r)]
    lines += ["", f"## Misses ({len(misses)})", ""]
    if misses:
        lines += ["| id | message | outcome | search's reason | offered / answered |", "|---|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['q']} | {r['outcome']} | {r['reason']} | {r['detail']} |" for r in misses]
    else:
        lines.append("None.")
    return lines


def main() -> int:
    rows = asyncio.run(run(load()))
    lines = report(rows)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    goal = [r for r in rows if r["id"][0] in "bv"]
    right = sum(map(is_right, goal)) / max(1, len(goal))
    declined = sum(r["outcome"] == "declined" for r in rows)
    return 0 if right >= GOAL and declined == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
