"""The real-question corpus: split by source page, labels that point at real entries, no leaks."""

import json

from bench.real import Outcome, classify, summarise
from bench.real_corpus import DEV, RAW, TEST, page_key, records, split
from bot.knowledge.loader import load_entries
from tests.conftest import repo_path


def test_page_key_ignores_scheme_www_query_and_trailing_slash():
    assert page_key("https://www.example.vn/a/b/?x=1#y") == page_key("http://example.vn/a/b") == "example.vn/a/b"


def test_split_keeps_every_page_on_one_side_and_fills_the_test_share():
    items = [{"id": str(i), "kind": "fallback" if i % 5 == 0 else "answer", "q": "q", "entries": ["x"],
              "url": f"https://site{i % 37}.vn/p{i % 11}"} for i in range(400)]
    dev, test = split(items, share=0.4, fixed={})
    assert {page_key(i["url"]) for i in dev}.isdisjoint({page_key(i["url"]) for i in test})
    assert len(dev) + len(test) == 400 and 0.3 <= len(test) / 400 <= 0.45
    assert split(items, share=0.4, fixed={}) == (dev, test)  # deterministic


def test_a_relabelled_question_stays_on_its_fixed_side():
    items = [{"id": f"q{n}", "kind": "uncovered" if n % 3 else "answer", "q": "x", "entries": [], "url": f"https://p{n}.vn/a"}
             for n in range(30)]
    dev, test = split(items, share=0.4, fixed={})
    sides = {page_key(i["url"]): "test" for i in test} | {page_key(i["url"]): "dev" for i in dev}
    relabelled = [{**i, "kind": "answer"} for i in items]  # a new entry answers every "uncovered" question
    dev2, test2 = split(relabelled, share=0.4, fixed=sides)
    assert [i["id"] for i in test2] == [i["id"] for i in test] and [i["id"] for i in dev2] == [i["id"] for i in dev]


def test_shipped_split_matches_the_raw_corpus_and_is_large_enough():
    dev, test = split(records(RAW))
    assert [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()] == dev
    assert [json.loads(line) for line in TEST.read_text(encoding="utf-8").splitlines()] == test
    assert sum(it["kind"] == "answer" for it in test) + sum(it["kind"] == "fallback" for it in test) >= 150
    assert sum(it["kind"] == "fallback" for it in test) >= 30


def test_labels_name_existing_entries():
    ids = {e.id for e in load_entries(repo_path("knowledge"))}
    unknown = {e for it in records(RAW) for e in it["entries"]} - ids
    assert not unknown, unknown


def test_held_out_questions_never_reach_entries_or_training_data():
    """No real_test question is a way of asking in the knowledge base or an NLU example."""
    from bot.core.text import plain

    test_qs = {plain(it["q"]) for it in records(RAW) if it in split(records(RAW))[1]}
    entry_texts = {plain(q) for e in load_entries(repo_path("knowledge")) for q in (e.title, *e.questions)}
    nlu = plain(" ".join(p.read_text(encoding="utf-8") for p in repo_path("data").rglob("*.yml")))
    assert not test_qs & entry_texts
    assert not [q for q in test_qs if q in nlu]


def test_the_fresh_held_out_set_shares_no_page_with_the_corpus_and_no_text_with_entries():
    from bot.core.text import plain

    fresh = [json.loads(line) for line in (RAW.parent / "real_fresh.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(fresh) >= 75
    assert not {page_key(it["url"]) for it in fresh} & {page_key(it["url"]) for it in records(RAW)}
    ids = {e.id for e in load_entries(repo_path("knowledge"))}
    assert {e for it in fresh for e in it["entries"]} <= ids
    entry_texts = {plain(q) for e in load_entries(repo_path("knowledge")) for q in (e.title, *e.questions)}
    assert not {plain(it["q"]) for it in fresh} & entry_texts


def test_outcomes_separate_wrong_answers_from_declines():
    answer = {"kind": "answer", "entries": ["a", "b"]}
    assert classify(answer, "b", []) == "right"
    assert classify(answer, "c", []) == "wrong"
    assert classify(answer, None, ["c", "a"]) == "asked back"
    assert classify(answer, None, ["c"]) == "declined"
    assert classify({"kind": "fallback"}, "a", []) == "wrong"
    assert classify({"kind": "uncovered"}, None, []) == "declined"
    s = summarise([Outcome("1", "answer", "q", "wrong", "c"), Outcome("2", "answer", "q", "declined", ""),
                   Outcome("3", "fallback", "q", "declined", ""), Outcome("4", "uncovered", "q", "declined", "")])
    assert (s["wrong"], s["declined"], s["out_of_scope_declined"], s["total"], s["correct"]) == (1, 1, 1, 3, 1)


def test_the_short_sets_keep_pages_apart_and_the_held_out_half_out_of_entries_and_nlu():
    """The short chat-style questions: split by page, sides agree with the corpus's, labels name entries, and no
    held-out question is an entry's way of asking or an NLU example."""
    from bench.real_corpus import fixed_sides
    from bot.core.text import plain

    short = {side: [json.loads(line) for line in (RAW.parent / f"real_short_{side}.jsonl").read_text(
        encoding="utf-8").splitlines()] for side in ("dev", "dev2", "test")}
    pages = {side: {page_key(it["url"]) for it in items} for side, items in short.items()}
    pages["dev"] |= pages.pop("dev2")
    assert not pages["dev"] & pages["test"]
    corpus_sides = fixed_sides()
    assert all(corpus_sides.get(p, "dev") == "dev" for p in pages["dev"])
    assert all(corpus_sides.get(p, "test") == "test" for p in pages["test"])
    entries = load_entries(repo_path("knowledge"))
    assert {e for items in short.values() for it in items for e in it["entries"]} <= {e.id for e in entries}
    held_out = {plain(it["q"]) for it in short["test"]}
    entry_texts = {plain(q) for e in entries for q in (e.title, *e.questions)}
    nlu = plain(" ".join(p.read_text(encoding="utf-8") for p in repo_path("data").rglob("*.yml")))
    assert not held_out & entry_texts and not [q for q in held_out if q in nlu]
    assert all(len(it["q"].split()) <= 16 for items in short.values() for it in items)
