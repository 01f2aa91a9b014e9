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

Writes bench/vague.md.
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


async def run(items: list[dict]) -> list[dict]:
    from actions import services
    from actions.questions import ActionAnswerQuestion
    from bot.indexing.serving import search_service
    from bot.store import offload
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
    rows = []
    for item in items:
        dispatcher, reasons[:] = CollectingDispatcher(), []
        events = await action.run(dispatcher, tracker(item["q"]), {})
        outcome, detail = classify(item, events, dispatcher.messages)
        rows.append({**item, "outcome": outcome, "detail": detail, "reason": reasons[-1] if reasons else "menu"})
    offload.settle()
    return rows


def report(rows: list[dict]) -> list[str]:
    kinds = {"bare topic words": [r for r in rows if r["id"].startswith("b")],
             "vague problems": [r for r in rows if r["id"].startswith("v")], "all": rows}
    lines = ["# Vague problems and bare topic words (issue 12)", "",
             f"`python -m bench.vague` over tests/data/vague.jsonl ({len(rows)} messages). Goal: at least "
             f"{GOAL:.0%} asked back with a button for a right task, none declined.", "",
             "| Messages | n | " + " | ".join(OUTCOMES) + " |", "|---|---|" + "---|" * len(OUTCOMES)]
    for name, subset in kinds.items():
        c, n = Counter(r["outcome"] for r in subset), max(1, len(subset))
        lines.append(f"| {name} | {len(subset)} | " + " | ".join(f"{c[o]} ({100 * c[o] / n:.0f}%)" for o in OUTCOMES)
                     + " |")
    misses = [r for r in rows if r["outcome"] != OUTCOMES[0]]
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
    right = sum(r["outcome"] == OUTCOMES[0] for r in rows) / max(1, len(rows))
    declined = sum(r["outcome"] == "declined" for r in rows)
    return 0 if right >= GOAL and declined == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
