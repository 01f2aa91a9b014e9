"""The shared measuring stick (../shared/eval) must never leak into training data, knowledge or tests."""

import json
import re

import pytest

from bot.core.settings import ROOT
from bot.core.text import deaccent

EVAL = ROOT.parent / "shared" / "eval" / "questions.jsonl"
SUFFIXES = {".yml", ".yaml", ".md", ".json", ".jsonl", ".txt", ".csv", ".py"}


def plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", deaccent(text).lower()).split())


@pytest.mark.skipif(not EVAL.exists(), reason="no ../shared/eval beside this checkout")
def test_no_eval_question_appears_in_the_repo():
    questions = [plain(json.loads(line)["q"]) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = {
        str(p.relative_to(ROOT)): plain(p.read_text(encoding="utf-8", errors="ignore"))
        for folder in ("data", "knowledge", "tests", "bot", "actions", "bench", "docs")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in SUFFIXES
    }
    leaks = [(q, path) for q in questions if len(q) > 8 for path, text in corpus.items() if q in text]
    assert not leaks, leaks
