"""The real index (built by `make index` from knowledge/ with the real e5 model): quality floors."""

import json

import pytest

from bot.core.settings import ROOT, Settings
from bot.core.text import deaccent
from bot.indexing.calibrate import carries
from bot.indexing.serving import search_service
from bot.search.decide import decide

pytestmark = pytest.mark.model
QUESTIONS = [json.loads(line) for line in (ROOT / "tests/data/questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]


@pytest.fixture(scope="module")
def service(real_model_dir):
    return search_service(Settings.from_env())


def test_index_covers_the_shipped_knowledge_base(service):
    from bot.knowledge.loader import load_entries

    assert {e.id for e in service.searcher().entries} == {e.id for e in load_entries(ROOT / "knowledge")}


@pytest.mark.parametrize("transform", [str, deaccent], ids=["as-typed", "no-diacritics"])
def test_retrieval_top3_floor(service, transform):
    searcher = service.searcher()
    labelled = [q for q in QUESTIONS if q.get("entry")]
    found = sum(q["entry"] in [h.entry.id for h in searcher.search(transform(q["q"])).hits[:3]] for q in labelled)
    assert found / len(labelled) >= 0.9, f"top-3 {found}/{len(labelled)}"


def test_calibrated_decision_declines_every_off_topic_question(service):
    searcher = service.searcher()
    answered = [q["q"] for q in QUESTIONS
                if q["kind"] == "fallback" and decide(searcher.search(q["q"]), service.thresholds).answer]
    assert answered == []


def test_answers_given_are_mostly_right(service):
    from bot.knowledge.model import render_answer

    searcher = service.searcher()
    right = wrong = 0
    for q in (q for q in QUESTIONS if q.get("entry")):
        result = searcher.search(q["q"])
        if decide(result, service.thresholds).answer:
            top = result.top.entry
            ok = top.id == q["entry"] or carries(render_answer(top), q.get("must", []))
            right, wrong = right + ok, wrong + (not ok)
    assert right / (right + wrong) >= 0.9, (right, wrong)
