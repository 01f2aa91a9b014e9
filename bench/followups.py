"""`make bench-followups`: short follow-ups answered with and without the last answer as context (issue 11).

Each conversation of tests/data/followups.jsonl is a resident's first question (answered by `first_entry`) and a
short follow-up ("ở đâu?", "có mất phí không?", "thế còn cho con tôi?"). The follow-up is answered twice, in process
(search + decision, no Rasa): without context (answer_question, as a fresh question) and with context (the true
first entry as `last_entry`: followup.read, then answer_follow_up for a FOLLOW_UP reading, else answer_question,
as actions/questions.py does). Every reply falls in one outcome:

- right: answered with the expected entry (or one listed in `also`) and the reply holds `expect_text`;
- asked back: a question back or an honest decline (reply.declined); the right outcome when `expect` is null;
- wrong: a confident answer that is not right (the outcome that harms residents).

Writes bench/followups.md and bench/followups.png (when matplotlib is installed).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from bot.core.settings import ROOT, Settings
from bot.knowledge.model import topic_of
from bot.replies import followup
from bot.replies.answers import Reply, answer_follow_up, answer_question

DATA = ROOT / "tests" / "data" / "followups.jsonl"
OUT = ROOT / "bench"
OUTCOMES = ("right", "asked back", "wrong")
MODES = ("without context", "with context")


def load(path: Path = DATA) -> list[dict]:
    """The conversations, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def group(item: dict) -> str:
    """What the follow-up needs: the first entry itself, a nearby entry of its topic, another topic, or nothing."""
    expect = item["expect"]
    if expect is None:
        return "no entry answers it"
    if expect == item["first_entry"]:
        return "the first entry"
    return "same topic" if topic_of(expect) == topic_of(item["first_entry"]) else "another topic"


def score(item: dict, reply: Reply) -> str:
    """right, asked back or wrong (for an unanswerable follow-up, any confident answer is wrong)."""
    if reply.declined:
        return "asked back"
    accepted = {item["expect"], *item.get("also", [])} - {None}
    phrase = item["expect_text"].casefold()
    return "right" if reply.entry_id in accepted and phrase in reply.text.casefold() else "wrong"


def run(items: list[dict]) -> list[dict]:
    """Answer every conversation's first question, then its follow-up without and with context."""
    service = search_service_for_bench()
    searcher, thresholds = service.searcher(), service.thresholds
    rows = []
    for item in items:
        first = answer_question(item["first"], searcher, thresholds)
        last = searcher.by_id[item["first_entry"]]
        alone = answer_question(item["follow"], searcher, thresholds)
        reading = followup.read(item["follow"], last)
        if reading is not None and reading.kind is followup.Kind.FOLLOW_UP:
            within = answer_follow_up(item["follow"], last, searcher, thresholds, reading.aspect)
        else:
            within = answer_question(item["follow"], searcher, thresholds)
        rows.append({
            **item, "group": group(item), "first_matched": first.entry_id == item["first_entry"],
            "reading": f"{reading.kind.value}:{reading.aspect}" if reading else "none",
            "without context": score(item, alone), "with context": score(item, within),
            "got_without": alone.entry_id or alone.reason, "got_with": within.entry_id or within.reason,
            "reason_with": within.reason,
        })
    return rows


def search_service_for_bench():
    """The serving search service of this checkout (published index, calibrated bars), as bench/real.py loads it."""
    from bot.indexing.serving import search_service

    return search_service(Settings.from_env())


def counts(rows: list[dict], mode: str) -> Counter:
    return Counter(r[mode] for r in rows)


def table(rows: list[dict]) -> list[str]:
    """Markdown: outcomes per mode, over answerable follow-ups, unanswerable ones, and per group and aspect."""
    answerable = [r for r in rows if r["expect"] is not None]
    unanswerable = [r for r in rows if r["expect"] is None]
    lines = ["| Follow-ups | Context | Right | Asked back / declined | Wrong |", "|---|---|---|---|---|"]

    def add(name: str, subset: list[dict]) -> None:
        for mode in MODES:
            c, n = counts(subset, mode), max(1, len(subset))
            cells = " | ".join(f"{c[o]} ({100 * c[o] / n:.0f}%)" for o in OUTCOMES)
            lines.append(f"| {name} ({len(subset)}) | {mode} | {cells} |")

    add("answerable", answerable)
    add("no entry answers it: asking back is right", unanswerable)
    lines += ["", "| Group / aspect | n | Right without | Right with | Wrong without | Wrong with |",
              "|---|---|---|---|---|---|"]
    keys = [("group", g) for g in sorted({r["group"] for r in rows})]
    keys += [("aspect", a) for a in sorted({r["aspect"] for r in answerable})]
    for key, value in keys:
        subset = [r for r in rows if r[key] == value and (key == "group" or r["expect"] is not None)]
        good = "asked back" if value == "no entry answers it" else "right"
        w, c = counts(subset, MODES[0]), counts(subset, MODES[1])
        lines.append(f"| {key}: {value}{' (asked back counted)' if good != 'right' else ''} | {len(subset)} | "
                     f"{w[good]} | {c[good]} | {w['wrong']} | {c['wrong']} |")
    return lines


def worst(rows: list[dict], n: int = 5) -> list[dict]:
    """Failures with context, confident wrong answers first, then those context made worse."""
    failed = [r for r in rows if r["with context"] != ("asked back" if r["expect"] is None else "right")]
    before = {"right": 0, "asked back": 1, "wrong": 2}  # a right answer lost to context is the worst
    return sorted(failed, key=lambda r: (r["with context"] != "wrong", before[r["without context"]]))[:n]


def report(rows: list[dict]) -> str:
    matched = sum(r["first_matched"] for r in rows)
    readings = Counter(r["reading"].split(":")[0] for r in rows)
    lines = [
        "# Follow-ups with and without context",
        "",
        f"{len(rows)} two-turn conversations (tests/data/followups.jsonl), answered in process with this checkout's "
        "search and calibrated bars (no Rasa). With context, the true first entry is the last answer.",
        f"First questions answered with their expected entry: {matched}/{len(rows)}. "
        f"Follow-ups read as FOLLOW_UP: {readings['follow_up']}/{len(rows)} (the rest searched as new questions).",
        "Changed by context: " + (", ".join(f"{w} → {c}: {k}" for (w, c), k in sorted(
            Counter((r["without context"], r["with context"]) for r in rows
                    if r["without context"] != r["with context"]).items())) or "nothing") + ".",
        "",
        *table(rows),
        "",
        "![follow-ups](followups.png)",
        "",
        "## Worst failures with context",
        "",
        "| id | last answer | follow-up | reading | expected | without | with |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in worst(rows):
        lines.append(f"| {r['id']} | {r['first_entry']} | {r['follow']} | {r['reading']} | "
                     f"{r['expect'] or '(ask back)'} {r['expect_text']!r} | {r['without context']}: "
                     f"{r['got_without']} | {r['with context']}: {r['got_with']} ({r['reason_with']}) |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> bool:
    """Stacked bars of the outcomes with and without context; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.4))
    colours = {"right": "#2e7d32", "asked back": "#f9a825", "wrong": "#c62828"}
    for i, mode in enumerate(MODES):
        c, left = counts(rows, mode), 0
        # an unanswerable follow-up asked back is a right outcome: plot it as right
        fixed = Counter({"right": sum(r[mode] == ("asked back" if r["expect"] is None else "right") for r in rows),
                         "wrong": c["wrong"]})
        fixed["asked back"] = len(rows) - fixed["right"] - fixed["wrong"]
        for outcome in OUTCOMES:
            ax.barh(i, fixed[outcome], left=left, color=colours[outcome], label=outcome if i == 0 else None)
            left += fixed[outcome]
    ax.set_yticks(range(len(MODES)), MODES)
    ax.invert_yaxis()
    ax.set_xlabel(f"follow-ups (of {len(rows)}; unanswerable asked back counted right)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.2), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> int:
    """Run, print the tables, write bench/followups.md and bench/followups.png."""
    rows = run(load())
    text = report(rows)
    if not plot(rows, OUT / "followups.png"):
        text = text.replace("![follow-ups](followups.png)\n", "(no chart: matplotlib is not installed)\n")
    (OUT / "followups.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
