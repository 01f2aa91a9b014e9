"""Grade replies to real residents' questions by which entry answered, not by phrases.

Each item of `tests/data/real_{dev,test}.jsonl` names the entries that answer it (`entries`), or is
`fallback` (out of scope: must be declined), or is `uncovered` (in scope, but no entry answers it yet:
a decline is the honest reply; reported apart from both). Every reply falls in exactly one outcome:

- right: answered with one of the expected entries;
- asked back: a question back whose buttons offer an expected entry (one tap from the answer);
- declined: an honest "I don't know" (for an answerable question: a miss, but not a harm);
- wrong: answered with another entry, a confident wrong answer (the outcome that harms residents).

`python -m bench.real tests/data/real_dev.jsonl` grades in process (search + decision, no Rasa); `--action` grades
through the whole action in process (the topic menus for bare topic words and vague problems included, as
bench/vague.py runs it); `--url` grades a running bot over REST, Rasa's NLU included.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

OUTCOMES = ("right", "asked back", "declined", "wrong")


@dataclass(frozen=True)
class Outcome:
    """One question's outcome and what the bot did."""

    id: str
    kind: str
    q: str
    outcome: str  # one of OUTCOMES; for fallback items: "declined" is right, anything answered is wrong
    got: str  # the entry answered, or the offered entries, or ""


def classify(item: dict, answered: str | None, offered: list[str]) -> str:
    """The outcome of one reply, from the entry answered and the entries offered as buttons."""
    expected = set(item.get("entries") or [])
    if item["kind"] in ("fallback", "uncovered"):
        return "wrong" if answered else "declined"
    if answered:
        return "right" if answered in expected else "wrong"
    if expected & set(offered):
        return "asked back"
    return "declined"


def load(path: Path) -> list[dict]:
    """Read a JSON-lines question file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarise(outcomes: list[Outcome]) -> dict:
    """Counts per outcome, for answerable and out-of-scope questions apart."""
    answerable = [o for o in outcomes if o.kind == "answer"]
    oos = [o for o in outcomes if o.kind == "fallback"]
    uncovered = [o for o in outcomes if o.kind == "uncovered"]
    counts = Counter(o.outcome for o in answerable)
    n = max(1, len(answerable))
    declined_oos = sum(o.outcome == "declined" for o in oos)
    correct = counts["right"] + counts["asked back"] + declined_oos
    graded = len(answerable) + len(oos)
    return {
        "total": graded,
        "answerable": len(answerable),
        **{k: counts[k] for k in OUTCOMES},
        "out_of_scope": len(oos),
        "out_of_scope_declined": declined_oos,
        "correct": correct,
        "correct_pct": round(100 * correct / max(1, graded), 1),
        "uncovered": len(uncovered),
        "uncovered_declined": sum(o.outcome == "declined" for o in uncovered),
        "right_pct": round(100 * counts["right"] / n, 1),
        "wrong_pct_of_answerable": round(100 * counts["wrong"] / n, 1),
        "oos_declined_pct": round(100 * declined_oos / max(1, len(oos)), 1),
    }


def in_process(items: list[dict]) -> list[Outcome]:
    """Grade with the search and decision of this checkout (the published index), without Rasa."""
    from bot.core.settings import Settings
    from bot.indexing.serving import search_service
    from bot.replies.answers import answer_question

    service = search_service(Settings.from_env())
    searcher = service.searcher()
    out = []
    for it in items:
        reply = answer_question(it["q"], searcher, service.thresholds)
        offered = [_button_entry(b) for b in reply.buttons]
        out.append(_outcome(it, reply.entry_id, [o for o in offered if o]))
    return out


def in_action(items: list[dict]) -> list[Outcome]:
    """Grade with ActionAnswerQuestion in process: what a resident gets once the action's handlers have had their say
    (a vague problem's menu replaces the search's answer), still without Rasa's NLU."""
    import asyncio

    from bench.vague import action_in_process
    from bot.store import offload

    async def grade() -> list[Outcome]:
        ask, out = action_in_process(), []
        for it in items:
            events, messages, _ = await ask(it["q"])
            answered = next((e["value"] for e in events if e.get("name") == "last_entry" and e.get("value")), None)
            offered = [e for m in messages for e in map(_button_entry, m.get("buttons") or []) if e]
            out.append(_outcome(it, answered, [] if answered else offered))
        offload.settle()
        return out

    return asyncio.run(grade())


def _button_entry(button: dict) -> str | None:
    payload = button.get("payload") or ""
    if not payload.startswith("/ask_question"):
        return None
    try:
        return json.loads(payload[len("/ask_question"):]).get("entry_id")
    except ValueError:
        return None


def _outcome(item: dict, answered: str | None, offered: list[str]) -> Outcome:
    got = answered or ",".join(offered)
    return Outcome(item["id"], item["kind"], item["q"], classify(item, answered, offered), got)


def over_rest(url: str, items: list[dict], titles: dict[str, str]) -> list[Outcome]:
    """Grade a running bot: the answered entry is the one whose title opens a reply message."""
    import requests

    out = []
    for it in items:
        resp = requests.post(url, json={"sender": "real-" + uuid.uuid4().hex[:12], "message": it["q"]}, timeout=60)
        resp.raise_for_status()
        answered, offered = None, []
        for message in resp.json():
            first = (message.get("text") or "").split("\n", 1)[0].strip()
            answered = answered or titles.get(first)
            offered += [e for e in map(_button_entry, message.get("buttons") or []) if e]
        out.append(_outcome(it, answered, offered if not answered else []))
    return out


def report_lines(name: str, s: dict) -> list[str]:
    """One markdown table row for a set."""
    return [
        f"| {name} | {s['correct']}/{s['total']} ({s['correct_pct']}%) | {s['right']} | {s['asked back']} | "
        f"{s['declined']} | {s['wrong']} ({s['wrong_pct_of_answerable']}% of {s['answerable']}) | "
        f"{s['out_of_scope_declined']}/{s['out_of_scope']} ({s['oos_declined_pct']}%) |"
    ]


def retrieval(searcher, items: list[dict]) -> dict:
    """Top-1/top-3 of e5 alone (the question as typed) and of the hybrid, on the answerable questions."""
    import numpy as np

    ids = [e.id for e in searcher.entries]
    labelled = [it for it in items if it["kind"] == "answer" and (it.get("entries") or it.get("entry"))]
    hits = {"e5": [0, 0], "hybrid": [0, 0]}
    for it in labelled:
        expected = set(it.get("entries") or [it.get("entry")])
        ranked = {
            "e5": [ids[i] for i in np.argsort(-searcher.cosines(it["q"]))[:3]],
            "hybrid": [h.entry.id for h in searcher.search(it["q"]).hits[:3]],
        }
        for method, top in ranked.items():
            hits[method][0] += bool(top[:1]) and top[0] in expected
            hits[method][1] += bool(expected & set(top))
    n = max(1, len(labelled))
    return {"questions": len(labelled),
            **{m: {"top1": round(t1 / n, 3), "top3": round(t3 / n, 3)} for m, (t1, t3) in hits.items()}}


TABLE_HEAD = [
    "| Set | Correct | Right answer | Asked back (right option) | Declined | Wrong answer | Out of scope declined |",
    "|---|---|---|---|---|---|---|",
]


def main(argv: list[str] | None = None) -> int:
    """CLI: grade a real-question file and print the outcomes and the misses."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path, nargs="+")
    ap.add_argument("--url", help="grade a running bot over REST instead of in process")
    ap.add_argument("--action", action="store_true", help="grade through the whole action in process")
    ap.add_argument("--misses", action="store_true", help="print every wrong answer and decline")
    args = ap.parse_args(argv)
    for path in args.questions:
        items = load(path)
        if args.url:
            from bot.core.settings import ROOT
            from bot.knowledge.loader import load_entries

            titles = {e.title: e.id for e in load_entries(ROOT / "knowledge")}
            outcomes = over_rest(args.url, items, titles)
        elif args.action:
            outcomes = in_action(items)
        else:
            outcomes = in_process(items)
        if args.misses:
            for o in outcomes:
                if o.outcome == "wrong" or (o.kind == "answer" and o.outcome == "declined"):
                    print(f"{o.outcome.upper():8s} {o.id} {o.q[:110]!r} -> {o.got}")
        s = summarise(outcomes)
        print(path.name, json.dumps(s, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

