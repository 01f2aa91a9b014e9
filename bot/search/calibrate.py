"""`python -m bot.search.calibrate QUESTIONS.jsonl...`: choose the answer/decline thresholds.

Questions with an expected `entry` are positives; `fallback` questions must be declined. An answer
is right when it is the expected entry or carries every `must` phrase group (several entries can
answer one question). A grid search scores each threshold set: +1 for a right answer, -1 for a
wrong one, -3 for answering a question that should be declined (a wrong answer about a procedure
harms more than an honest "I don't know"). Ties go to the stricter thresholds.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge.model import render_answer
from bot.search.decide import Thresholds, decide
from bot.search.hybrid import HybridSearcher, SearchResult
from bot.search.service import SearchService
from bot.settings import Settings
from bot.text import plain

WRONG_ANSWER_COST = 1.0
FALSE_ANSWER_COST = 3.0


@dataclass(frozen=True)
class Labelled:
    """A question, its search result, and what should happen."""

    question: str
    expected: str | None  # entry id, or None when the bot must decline
    result: SearchResult
    top_is_right: bool  # answering with the top hit would be correct


def carries(text: str, must: list[list[str]]) -> bool:
    """Every group has one phrase in the text (accents, case and spacing ignored)."""
    seen = plain(text)
    return bool(must) and all(any(plain(p) in seen for p in g) for g in must)


def load_questions(path: Path) -> list[dict]:
    """Questions with a label: an expected entry or `must` phrases, or a required decline."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [q for q in items if q.get("entry") or q.get("must") and q["kind"] in ("answer", "safety") or q["kind"] == "fallback"]


def label(questions: list[dict], searcher: HybridSearcher) -> list[Labelled]:
    """Search every question once (thresholds do not change the search)."""
    out = []
    for q in questions:
        result = searcher.search(q["q"])
        top = result.top.entry if result.top else None
        right = top is not None and (top.id == q.get("entry") or carries(render_answer(top), q.get("must", [])))
        expected = None if q["kind"] == "fallback" else q.get("entry", "any entry carrying the must phrases")
        out.append(Labelled(q["q"], expected, result, right))
    return out


def score(items: list[Labelled], thresholds: Thresholds) -> dict[str, float]:
    """Outcome counts and the objective for one threshold set."""
    right = wrong = false = declined_pos = 0
    for it in items:
        answered = decide(it.result, thresholds).answer
        if it.expected is None:
            false += answered
        elif not answered:
            declined_pos += 1
        elif it.top_is_right:
            right += 1
        else:
            wrong += 1
    objective = right - WRONG_ANSWER_COST * wrong - FALSE_ANSWER_COST * false
    return {"right": right, "wrong": wrong, "false_answers": false, "declined": declined_pos, "objective": objective}


OUT_OF_SCOPE_MARGIN = 0.04  # NLU said off-topic: demand this much more confidence


def grid() -> list[Thresholds]:
    """Candidate threshold sets."""
    return [
        Thresholds(round(float(w), 3), round(float(t), 4), round(float(t) + OUT_OF_SCOPE_MARGIN, 4))
        for w, t in itertools.product(np.arange(0.0, 0.201, 0.01), np.arange(0.86, 1.0, 0.0025))
    ]


def calibrate(items: list[Labelled]) -> tuple[Thresholds, dict[str, float]]:
    """The best threshold set and its outcome counts."""
    best = max(grid(), key=lambda t: (score(items, t)["objective"], t.min_confidence, -t.coverage_weight))
    return best, score(items, best)


def main(argv: list[str] | None = None) -> int:
    """Calibrate on a question file and write the thresholds file."""
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or [Path("tests/data/questions.jsonl"), Path("tests/data/questions_fresh.jsonl")]
    settings = Settings.from_env()
    searcher = SearchService.from_settings(settings).searcher()
    items = label([q for path in paths for q in load_questions(path)], searcher)
    best, outcome = calibrate(items)
    positives = sum(it.expected is not None for it in items)
    report = {
        "thresholds": best.to_dict(),
        "calibrated_on": [str(p) for p in paths],
        "positives": positives,
        "negatives": len(items) - positives,
        "outcome": outcome,
        "index": searcher.built.meta["key"][:16],
    }
    settings.calibration_file.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
