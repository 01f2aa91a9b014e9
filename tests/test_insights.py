"""Insights for admins: grouping unanswered questions, drafts for new entries, weekly charts, counts."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import matplotlib.image
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from bot.insights import (
    Similarity,
    draft_from_group,
    feedback_by_week,
    group_unanswered,
    grouping,
    guess_topic,
    plot_feedback,
    plot_topics,
    plot_unanswered,
    suggest_id,
    summary,
    topics_by_week,
    unanswered_by_week,
)
from bot.insights.charts import HELPFUL, NOT_HELPFUL, OTHER_TOPIC, REASONS
from bot.insights.grouping import content_words, strip_placeholders
from bot.knowledge.loader import check_entry
from bot.knowledge.model import TOPICS
from bot.search.embedder import E5Embedder
from tests.conftest import repo_path

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday, 19:00 in Vietnam
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def asked(text: str, days_ago: float = 1, reason: str = "declined") -> dict:
    return {"text": text, "at": NOW - dt.timedelta(days=days_ago), "reason": reason}


# Five things residents ask, each typed several ways (accents, abbreviations, fillers).
CHANGE_NAME = [
    "Làm sao đổi tên trên VNeID?",
    "lam sao doi ten tren vneid",
    "đổi tên vneid được không ạ",
    "cho em hoi doi ten tai khoan vneid",
]
BIRTH = ["xin giấy khai sinh online", "xin giay khai sinh online o dau vay", "cho hỏi cách xin giấy khai sinh online"]
PASSWORD = ["quên mật khẩu VNeID", "quen mk vneid"]
INSURANCE = ["gia hạn thẻ bảo hiểm y tế", "gia han the bhyt"]
GOLD = ["giá vàng hôm nay"]


# The fake embedder's cosines are not on e5's scale (the default rule's centre is e5's), so the tests
# with it judge the words part; test_the_model_moves_the_score and the real-model test judge the mix.
WORDS = Similarity(model_weight=0.0)


def groups_of(groups, records) -> set[frozenset[str]]:
    return {frozenset(records[i]["text"] for i in g.records) for g in groups}


# ------------------------------------------------------------------------------------------ grouping


def test_paraphrases_group_together_and_different_questions_stay_apart(fake_embedder):
    records = [asked(t) for t in CHANGE_NAME + BIRTH + PASSWORD + INSURANCE + GOLD]
    groups = group_unanswered(records, fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert groups_of(groups, records) == {frozenset(s) for s in (CHANGE_NAME, BIRTH, PASSWORD, INSURANCE, GOLD)}


def test_a_long_log_is_clustered_in_rounds(fake_embedder, monkeypatch):
    # Only the two most asked questions are clustered at once; the others join them or the next round.
    monkeypatch.setattr(grouping, "MAX_AT_ONCE", 2)
    records = [asked(t) for t in CHANGE_NAME + BIRTH + PASSWORD + INSURANCE + GOLD]
    groups = group_unanswered(records, fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert groups_of(groups, records) == {frozenset(s) for s in (CHANGE_NAME, BIRTH, PASSWORD, INSURANCE, GOLD)}


def test_counts_dates_reasons_examples_and_order(fake_embedder):
    records = [
        asked("Làm sao đổi tên trên VNeID?", days_ago=20),
        asked("làm sao đổi tên trên vneid", days_ago=3, reason="clarify"),  # the same question, other case
        asked("lam sao doi ten tren vneid?", days_ago=2),  # the same, without accents
        asked("đổi tên vneid được không ạ", days_ago=10, reason="low_confidence"),  # the same words, other fillers
        asked("đổi tên tài khoản vneid", days_ago=12),
        asked("xin giấy khai sinh online", days_ago=30),
        asked("xin giay khai sinh online o dau vay", days_ago=1),
        asked("gia hạn thẻ bảo hiểm y tế", days_ago=5),
        asked("gia han the bhyt", days_ago=40),
        asked("   "),  # nothing typed: not a question
    ]
    groups = group_unanswered(records, fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert [g.count for g in groups] == [5, 2, 2]
    name, birth, insurance = groups
    assert name.first_at == NOW - dt.timedelta(days=20) and name.last_at == NOW - dt.timedelta(days=2)
    assert name.reasons == {"declined": 3, "clarify": 1, "low_confidence": 1}
    assert name.recent == 2  # asked 3 and 2 days ago; 10, 12 and 20 days ago are older than a week
    assert name.records == (0, 1, 2, 3, 4)
    # The four ways of asking with the same words are one example (shown typed with accents), the
    # representative (the most asked, central one) comes first.
    assert name.examples == ("làm sao đổi tên trên vneid", "đổi tên tài khoản vneid")
    assert name.representative == name.examples[0]
    # Equal counts: the group asked most recently comes first.
    assert birth.representative.startswith("xin gi") and insurance.last_at < birth.last_at
    assert name.to_dict()["first_at"] == (NOW - dt.timedelta(days=20)).isoformat()


def test_examples_are_capped_and_distinct(fake_embedder):
    variants = [
        "đổi tên vneid", "doi ten vneid", "đổi tên tài khoản vneid", "doi ten tai khoan vneid the nao",
        "đổi tên vneid online", "đổi tên trên app vneid", "đổi tên vneid mất phí không", "đổi họ tên vneid",
        "đổi tên đệm vneid", "đổi tên vneid bao lâu",
    ]
    groups = group_unanswered([asked(v) for v in variants], fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert len(groups) == 1 and groups[0].count == len(variants)
    assert len(groups[0].examples) == 5 and len(set(groups[0].examples)) == 5


def test_placeholders_do_not_make_unrelated_questions_group(fake_embedder):
    # Two masked OTP messages about different things: the code never arrived / is this call a scam.
    records = [
        asked("mã [mã số] gửi về [số điện thoại] không nhận được"),
        asked("sđt [số điện thoại] mã [mã số] có phải lừa đảo"),
        asked("[mã số]"),
        asked("[mã số]"),  # the same lone code twice: one group of two
        asked("[số điện thoại]"),
    ]
    groups = group_unanswered(records, fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert sorted(g.count for g in groups) == [1, 1, 1, 2]
    assert {g.representative for g in groups if g.count == 2} == {"[mã số]"}


def test_placeholders_and_fillers_are_not_content():
    assert strip_placeholders("mã [mã số] gửi về [số điện thoại] , không nhận được") == "mã gửi về, không nhận được"
    assert content_words("mã [mã số] hết hạn rồi") == ["ma", "het", "han"]
    # Typed with accents: read as typed ("đăng" is a word, "đang" a filler).
    assert content_words("cho em hỏi đang đăng ký tạm trú ở đâu ạ") == ["dang", "ky", "tam", "tru"]
    # Without accents only words that are filler under every accent go: "dang" may be "đăng".
    assert content_words("cho em hoi dang ky tam tru o dau a") == ["dang", "ky", "tam", "tru"]
    assert content_words("ko nhan dc otp") == ["nhan", "otp"]


def test_the_model_moves_the_score():
    # Two questions sharing two of their seven words (weighted Jaccard 0.22, under the 0.25 threshold):
    # the model decides.
    records = [asked("đổi tên trên vneid"), asked("cách sửa họ tên khai sinh trên vneid")]

    def embed_as(cosine: float):
        return lambda texts: np.array([[1.0, 0.0], [cosine, (1 - cosine**2) ** 0.5]], np.float32)[: len(texts)]

    assert len(group_unanswered(records, embed_as(0.97), now=NOW)) == 1  # the model finds them alike
    assert len(group_unanswered(records, embed_as(0.85), now=NOW)) == 2  # e5's usual cosine for unrelated ones
    assert len(group_unanswered(records, embed_as(0.97), now=NOW, rule=WORDS)) == 2


def test_empty_input_gives_no_groups(fake_embedder):
    assert group_unanswered([], fake_embedder.encode_queries) == []
    assert group_unanswered([asked(""), {"text": None, "at": NOW}], fake_embedder.encode_queries) == []


@dataclass
class Row:
    text: str
    at: object
    outcome: str


def test_objects_iso_times_and_naive_times_are_read(fake_embedder):
    records = [
        Row("quên mật khẩu VNeID", "2026-11-18T08:00:00+00:00", "declined"),
        Row("quen mk vneid", dt.datetime(2026, 11, 19, 8), "clarify"),
    ]
    (group,) = group_unanswered(records, fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert group.first_at == dt.datetime(2026, 11, 18, 8, tzinfo=UTC)
    assert group.last_at == dt.datetime(2026, 11, 19, 8, tzinfo=UTC)
    assert group.reasons == {"declined": 1, "clarify": 1}


def test_bad_input_gets_a_clear_error(fake_embedder):
    with pytest.raises(ValueError, match="thời điểm không hợp lệ"):
        group_unanswered([{"text": "quên mật khẩu", "at": "hôm qua"}], fake_embedder.encode_queries)
    with pytest.raises(ValueError, match="embed"):
        group_unanswered([asked("quên mật khẩu"), asked("đổi mật khẩu")], lambda texts: np.ones((1, 8), np.float32))


@pytest.mark.model
def test_grouping_with_the_real_model_on_held_out_questions(base_model_dir):
    """Our own labelled set: the defaults were chosen on its 'calibration' half, this checks the other half.
    Grouping uses the base e5: the fine-tuned one pulls new questions toward the entries it was taught
    (measured: adjusted Rand 0.39 instead of over 0.6 on this set)."""
    lines = repo_path("tests", "data", "insights_questions.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    check = [r for r in rows if r["set"] == "check"]
    embed = E5Embedder(base_model_dir).encode_queries
    groups = group_unanswered([asked(r["q"]) for r in check], embed, now=NOW)
    predicted = {i: k for k, g in enumerate(groups) for i in g.records}
    truth = [r["group"] for r in check]
    assert adjusted_rand_score(truth, [predicted[i] for i in range(len(check))]) >= 0.6  # measured 0.75
    # Pairs put together are mostly right (a wrong merge hides a question from the admin).
    together = [(i, j) for g in groups for i in g.records for j in g.records if i < j]
    assert sum(truth[i] == truth[j] for i, j in together) / len(together) >= 0.85
    # An accented question and its unaccented twin always land together.
    twins = {
        "đổi số điện thoại trên VNeID": "doi so dien thoai vneid",
        "hủy hóa đơn điện tử đã xuất": "huy hoa don dien tu",
    }
    index = {r["q"]: i for i, r in enumerate(check)}
    assert all(predicted[index[a]] == predicted[index[b]] for a, b in twins.items())


# ------------------------------------------------------------------------------------------ drafts


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("doi ten tren vneid", "vneid"),
        ("làm lại căn cước bị mất", "vneid"),
        ("ko nhan dc otp vneid", "vneid"),  # "vneid" outweighs "otp"
        ("gia han the bhyt", "suc-khoe"),
        ("xem sổ sức khỏe ở đâu", "suc-khoe"),
        ("hủy hóa đơn đã xuất", "hoa-don"),
        ("tra cứu hồ sơ đã nộp", "dich-vu-cong"),
        ("nop ho so tren dvc", "dich-vu-cong"),
        ("có người gọi đòi mã otp có phải lừa đảo", "an-toan"),
        ("giá vàng hôm nay", None),
    ],
)
def test_guess_topic(text, topic):
    assert guess_topic(text) == topic


def test_draft_becomes_a_valid_entry_once_the_admin_fills_it(fake_embedder):
    texts = ["doi ten vneid", "doi ten vneid", "đổi tên tài khoản vneid", "doi ten vneid ma [mã số] khong ve"]
    (group,) = group_unanswered([asked(t) for t in texts], fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert group.representative == "doi ten vneid"  # asked most often
    draft = draft_from_group(group)
    assert draft["title"] == "Đổi tên tài khoản vneid"  # the way of asking typed with accents reads better
    assert draft["id"] == "vneid-doi-ten-tai-khoan"
    # One question per way of asking, placeholders removed.
    assert sorted(draft["questions"]) == ["doi ten vneid", "doi ten vneid ma khong ve", "đổi tên tài khoản vneid"]
    entry, problems = check_entry(draft, "vneid")
    assert entry is None and {p.field for p in problems} == {"answer", "source", "checked"}
    draft.update(answer="Mở VNeID, chọn Thủ tục hành chính.", source="https://vneid.gov.vn/", checked="2026-11-20")
    entry, problems = check_entry(draft, "vneid")
    assert problems == [] and entry.id == "vneid-doi-ten-tai-khoan" and entry.questions == tuple(draft["questions"])


def test_draft_without_a_topic_leaves_the_choice_to_the_admin(fake_embedder):
    (group,) = group_unanswered([asked("giá vàng hôm nay")], fake_embedder.encode_queries, now=NOW, rule=WORDS)
    assert draft_from_group(group)["id"] == "gia-vang-hom-nay"
    assert draft_from_group(group, topic="an-toan")["id"] == "an-toan-gia-vang-hom-nay"


def test_suggested_ids_are_valid_and_unused():
    assert suggest_id("Đổi tên trên VNeID", "vneid", taken={"vneid-doi-ten"}) == "vneid-doi-ten-2"
    assert suggest_id("Cho hỏi ạ", "vneid") == "vneid-cau-hoi-moi"
    assert suggest_id("Hóa đơn (điện tử) – xuất #2?", "hoa-don") == "hoa-don-dien-tu-xuat-2"


# ------------------------------------------------------------------------------------------ charts


def assert_png(data: bytes) -> np.ndarray:
    assert data[:8] == PNG_MAGIC
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.shape[:2] == (360, 800)
    return image


FEEDBACK = [{"at": NOW - dt.timedelta(days=d), "entry_id": "vneid-la-gi", "helpful": d % 3 != 0} for d in range(60)]
ANSWERED = [
    {"at": NOW - dt.timedelta(days=d / 2), "entry_id": e}
    for d in range(60)
    for e in ("vneid-la-gi", "hoa-don-tra-cuu", "cu-da-xoa")  # the last one's topic is unknown: "Khác"
]
UNANSWERED = [asked("x", days_ago=d / 2, reason=("declined", "clarify", "low_confidence")[d % 3]) for d in range(60)]


@pytest.mark.parametrize(
    ("plot", "records"), [(plot_feedback, FEEDBACK), (plot_topics, ANSWERED), (plot_unanswered, UNANSWERED)]
)
def test_charts_are_png_and_say_when_there_is_no_data(plot, records):
    drawn = plot(records, now=NOW)
    assert_png(drawn)
    empty = plot([], now=NOW)
    assert_png(empty)
    assert drawn != empty
    # Records older than the period: the same "no data" chart, not an empty axis or an error.
    old = [{**r, "at": r["at"] - dt.timedelta(weeks=52)} for r in records]
    assert plot(old, now=NOW) == empty
    assert_png(plot(records, weeks=52, now=NOW))


def test_weekly_counts_use_vietnam_weeks():
    # Sunday 18:00 UTC is already Monday 01:00 in Vietnam: it counts in the new week.
    sunday_evening = dt.datetime(2026, 11, 15, 18, 0, tzinfo=UTC)
    records = [
        {"at": sunday_evening, "helpful": True},
        {"at": sunday_evening - dt.timedelta(hours=2), "helpful": False},  # 23:00 Sunday in Vietnam
        {"at": NOW, "helpful": None},  # no judgement: not counted
    ]
    starts, series = feedback_by_week(records, weeks=2, now=NOW)
    assert starts == [dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
    assert series == {HELPFUL: [0, 1], NOT_HELPFUL: [1, 0]}


def test_weekly_topics_and_reasons():
    _, topics = topics_by_week(ANSWERED, weeks=12, now=NOW)
    assert set(topics) == {TOPICS["vneid"], TOPICS["hoa-don"], OTHER_TOPIC}
    assert sum(topics[TOPICS["vneid"]]) == 60
    _, reasons = unanswered_by_week([*UNANSWERED, {"at": NOW, "outcome": "declined"}], weeks=12, now=NOW)
    assert set(reasons) == set(REASONS.values()) and sum(map(sum, reasons.values())) == 61


# ------------------------------------------------------------------------------------------ summary


def test_summary_counts_today_week_and_month():
    midnight_vn = dt.datetime(2026, 11, 19, 17, 0, tzinfo=UTC)  # 00:00 on 20 November in Vietnam
    questions = [
        {"at": midnight_vn + dt.timedelta(hours=1), "outcome": "answered"},
        {"at": midnight_vn - dt.timedelta(hours=1), "outcome": "declined"},  # yesterday in Vietnam
        {"at": NOW - dt.timedelta(days=10), "outcome": "clarify"},
        {"at": NOW - dt.timedelta(days=40), "outcome": "answered"},
    ]
    feedback = [
        {"at": NOW - dt.timedelta(days=2), "helpful": True},
        {"at": NOW - dt.timedelta(days=20), "helpful": False},
    ]
    counts = summary(questions, feedback, now=NOW)
    assert counts["today"] == {
        "questions": 1, "answered": 1, "not_answered": 0, "declined": 0,
        "feedback": 0, "helpful": 0, "helpful_rate": None,
    }
    week = counts["7_days"]
    assert week["questions"] == 2 and week["declined"] == 1 and week["helpful_rate"] == 1.0
    assert counts["30_days"]["not_answered"] == 2 and counts["30_days"]["helpful_rate"] == 0.5
    assert summary([], now=NOW)["30_days"]["questions"] == 0
