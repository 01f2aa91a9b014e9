"""The calibrated decision: a logistic confidence over search signals, and a question back between the bars."""

import json
import random

from bot.indexing.finetune import batches, pairs_for
from bot.replies.answers import answer_question
from bot.search.decide import FEATURES, Thresholds, confidence, decide, features
from bot.search.hybrid import Hit, HybridSearcher, SearchResult
from bot.search.index import build_index, load_index
from tests.conftest import make_entry


def result(cos1=0.9, cos2=0.8, same_topic=True, agree=True) -> SearchResult:
    a = make_entry("vneid-a", "A", ["a1", "a2", "a3", "a4"])
    b = make_entry("vneid-b" if same_topic else "hoa-don-b", "B", ["b1", "b2", "b3", "b4"])
    hits = [Hit(a, 0.9, cos1, 5.0), Hit(b, 0.5, cos2, 4.0)]
    return SearchResult("q", "q", hits, 0.8, top_by_cosine="vneid-a" if agree else b.id, top_by_bm25="vneid-a")


def test_features_read_the_signals_in_order():
    f = features(result(same_topic=False, agree=False))
    assert len(f) == len(FEATURES)
    values = dict(zip(FEATURES, f, strict=True))
    assert abs(values["cosine_gap"] - 0.1) < 1e-9 and values["bm25_lead"] == 1.0
    assert values["agree_e5"] == 0.0 and values["agree_bm25"] == 1.0 and values["same_topic"] == 0.0


def test_fitted_weights_give_a_probability_and_three_outcomes():
    weights = tuple(10.0 if name == "cosine" else 0.0 for name in FEATURES)
    t = Thresholds(weights=weights, bias=-8.5, min_confidence=0.7, min_confidence_out_of_scope=0.9, clarify_at=0.3)
    sure, close, far = result(cos1=0.95), result(cos1=0.82), result(cos1=0.6)
    assert 0.0 < confidence(close, t) < confidence(sure, t) < 1.0
    assert decide(sure, t).answer
    assert decide(close, t).clarify and not decide(close, t).answer
    assert not decide(far, t).answer and not decide(far, t).clarify
    assert not decide(close, t, out_of_scope=True).clarify  # NLU said off-topic: never ask back


def test_thresholds_file_round_trip(tmp_path):
    t = Thresholds(weights=(1.0,) * len(FEATURES), bias=-2.0, clarify_at=0.25, min_confidence=0.6)
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"thresholds": t.to_dict()}))
    assert Thresholds.load(path) == t


def test_question_back_offers_the_close_entries(tmp_path, small_entries, fake_embedder):
    built = load_index(build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False))
    searcher = HybridSearcher(built, fake_embedder)
    always_ask = Thresholds(weights=(0.0,) * len(FEATURES), bias=0.0, min_confidence=0.9, clarify_at=0.1)
    reply = answer_question("quen mk vneid", searcher, always_ask)
    assert reply.reason == "clarify" and reply.declined
    assert any("vneid-quen-mat-khau" in b["payload"] for b in reply.buttons)


def test_finetune_batches_never_hold_two_pairs_of_one_entry(small_entries):
    pairs = pairs_for(small_entries)
    owner = {a: eid for eid, rows in pairs.items() for a, _ in rows}
    plan = batches(pairs, 3, random.Random(0))
    assert plan and all(len({owner[a] for a, _ in b}) == len(b) > 1 for b in plan)
    assert batches(pairs, 3, random.Random(0)) == plan


def test_bars_are_chosen_on_out_of_fold_confidences_with_pages_held_out_together():
    from bot.indexing.calibrate import Labelled, fold_of, out_of_fold

    rng = random.Random(3)
    items = []
    for n in range(200):
        right = rng.random() < 0.6
        cos1 = (0.85 if right else 0.75) + rng.uniform(-0.08, 0.08)
        items.append(Labelled(f"q{n}", True, False, result(cos1=cos1), right, True, group=f"page{n // 2}"))
    # a page's two questions always share a fold, so neither is scored by a model that saw the other
    assert all(fold_of(items[2 * k]) == fold_of(items[2 * k + 1]) for k in range(100))
    conf = out_of_fold(items)
    assert len(conf) == len(items) and all(0.0 < c < 1.0 for c in conf.values())
    right_conf = [conf[i] for i, it in enumerate(items) if it.top_is_right]
    wrong_conf = [conf[i] for i, it in enumerate(items) if not it.top_is_right]
    assert sum(right_conf) / len(right_conf) > sum(wrong_conf) / len(wrong_conf)  # held-out models still separate them


def test_calibration_raises_a_bar_above_every_own_off_topic_question_but_not_for_real_ones():
    from bot.indexing.calibrate import Labelled, _declining_own_off_topic

    weights = tuple(10.0 if name == "cosine" else 0.0 for name in FEATURES)
    model = Thresholds(weights=weights, bias=-8.5, min_confidence=0.6, min_confidence_out_of_scope=0.7, clarify_at=0.3)
    off_topic = result(cos1=0.95)  # confidence about 0.73: above the fitted bar 0.6
    own = Labelled("hóa đơn tiền điện của tôi bao nhiêu", False, True, off_topic, False, False)
    real = Labelled("a real resident's off-topic question", True, True, off_topic, False, False)
    raised = _declining_own_off_topic([own], model, long=False)
    assert raised.min_confidence > confidence(off_topic, model) and not decide(off_topic, raised).answer
    assert raised.min_confidence_out_of_scope >= raised.min_confidence
    assert _declining_own_off_topic([real], model, long=False) == model  # real ones stay priced by the objective
    assert _declining_own_off_topic([own], model, long=True).long_answer_at > confidence(off_topic, model)
