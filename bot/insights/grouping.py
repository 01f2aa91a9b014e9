"""Group the questions the bot could not answer, so admins see what residents ask most and can add it.

Questions are compared on their masked text, with placeholders such as "[mã số]" removed (every
masked message has them; they say nothing about the question), by two signals:
- words: the meaningful words they share, after expanding chat abbreviations ("ko dc"), dropping
  accents and filler words ("cho em hỏi", "làm sao", "ạ"); a weighted Jaccard where each word weighs
  its inverse document frequency in the log, so a word many questions share ("vneid", "thẻ") counts
  less than a rare one ("khai tử");
- meaning: the embedding model's cosine. multilingual-e5-small puts almost any two short Vietnamese
  questions above 0.8 ("quên mật khẩu VNeID" and "đổi mật khẩu VNeID" score 0.97, an accented
  question and its unaccented twin only 0.85), so the cosine alone cannot tell them apart: it only
  nudges the word score up or down around `model_centre`.

    score = words in common + model_weight * (cosine - model_centre)

Texts with the same meaningful words are one question from the start (however they are greeted,
accented or abbreviated). Then groups are merged, most similar first, while the average score between
their questions stays at or above the threshold (average-linkage clustering). A log of more than
MAX_AT_ONCE distinct questions is clustered in rounds (see _cluster), which keeps memory bounded.
The defaults were chosen on our own labelled set (tests/data/insights_questions.jsonl, "calibration"
half; the "check" half is held out) and on bench/insights.py's synthetic log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field as dc_field
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import squareform

from bot.core.localtime import as_utc, utcnow
from bot.core.text import deaccent, expand_abbreviations, is_accented, words
from bot.insights.records import field

Embed = Callable[[list[str]], np.ndarray]

# What bot.core.privacy.mask (and any later masking) puts in place of personal numbers: "[mã số]".
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,40}\]")
RECENT_DAYS = 7
EXAMPLES = 5
MAX_AT_ONCE = 2000  # distinct questions clustered exactly at once (2,000² scores = 16 MB)
_BLOCK = 512  # rows of a score matrix computed at once

# Filler words. A message typed with accents is read as typed (so "nhà", "đăng", "mã" stay meaningful
# while "nha", "đang", "mà" are dropped); in an unaccented message only the words that are filler
# under every accent are dropped ("dang" may be "đăng ký", "ma" may be "mã", "thi" may be "điểm thi").
FILLER_ACCENTED = frozenset(
    """à ạ á ak ơi nhé nhá nha nhỉ hả vậy thế nào sao gì đâu ở đây không chưa được rồi đã đang sẽ
    bị là thì mà và hay hoặc với của cho để khi nếu thôi luôn nữa cũng vẫn có tôi mình em anh chị
    bạn bác chú cô ad admin mọi ơi giúp hỏi làm muốn cần phải cách trên trong ra vào lên bao nhiêu""".split()
)
FILLER_PLAIN = frozenset(
    """a ak o oi nhe nhi the nao sao gi dau khong duoc roi da se bi la va hay hoac voi cua cho de
    khi neu luon nua co toi em ad admin giup hoi lam muon phai cach tren trong ra vao len nhieu""".split()
)
_TYPED_WITH_ACCENTS = 0.3  # share of accented syllables above which a message counts as typed with accents


@dataclass(frozen=True)
class Similarity:
    """How alike questions must be to share a group (defaults chosen for multilingual-e5-small)."""

    threshold: float = 0.25  # average score at or above which two groups merge
    model_weight: float = 1.0  # how much the model's cosine moves the word score
    model_centre: float = 0.9  # cosine that neither raises nor lowers the word score

    @property
    def top(self) -> float:
        """The score of a question with itself (all words shared, cosine 1)."""
        return 1.0 + self.model_weight * (1.0 - self.model_centre)


@dataclass(frozen=True)
class QuestionGroup:
    """Questions that ask the same thing, with what an admin needs to judge it."""

    representative: str  # the most central question of the group, as a resident typed it
    count: int  # how many times it was asked (every record, duplicates included)
    examples: tuple[str, ...]  # distinct ways it was asked, most central first (representative first)
    first_at: dt.datetime
    last_at: dt.datetime
    reasons: dict[str, int]  # why the bot did not answer ("declined", "clarify", ...) -> how often
    recent: int  # how many times in the RECENT_DAYS before `now`
    records: tuple[int, ...] = dc_field(repr=False)  # positions of its records in the input (to mark them resolved)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for the admin page."""
        return {
            "representative": self.representative,
            "count": self.count,
            "examples": list(self.examples),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "reasons": dict(self.reasons),
            "recent": self.recent,
        }


def strip_placeholders(text: str) -> str:
    """The text without masking placeholders, spaces tidied: 'mã [mã số] sai' -> 'mã sai'."""
    text = PLACEHOLDER.sub(" ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return " ".join(text.split())


def content_words(text: str) -> list[str]:
    """Meaningful words of a question, de-accented, abbreviations expanded, fillers and placeholders dropped."""
    tokens = expand_abbreviations(words(PLACEHOLDER.sub(" ", text)))
    if not tokens:
        return []
    accented = sum(map(is_accented, tokens)) / len(tokens) >= _TYPED_WITH_ACCENTS
    out: list[str] = []
    for tok in tokens:
        filler = tok in FILLER_ACCENTED if accented else deaccent(tok) in FILLER_PLAIN
        if not filler and deaccent(tok) not in out:
            out.append(deaccent(tok))
    return out


def duplicate_key(text: str) -> str:
    """Texts with the same key ask the same thing: the same meaningful words, whatever the case,
    accents, punctuation, abbreviations, fillers and word order. A text without meaningful words
    (only placeholders, a greeting) keeps its own key, so '[mã số]' and '[số điện thoại]' stay apart."""
    content = content_words(text)
    if content:
        return " ".join(sorted(content))
    parts = re.split(f"({PLACEHOLDER.pattern})", text)
    return "\0" + " ".join(
        part if PLACEHOLDER.fullmatch(part) else " ".join(deaccent(t) for t in expand_abbreviations(words(part)))
        for part in parts
    ).strip()


def _readability(form: str) -> tuple[bool, int]:
    """Typed with accents, then shorter (fewer greetings and particles): easier for an admin to read."""
    toks = words(form)
    return (bool(toks) and sum(map(is_accented, toks)) / len(toks) >= _TYPED_WITH_ACCENTS, -len(form))


def _shown_form(forms: Counter[str]) -> str:
    """The wording asked most often (case, accents and punctuation aside), in its most readable form."""
    wordings: dict[str, list[str]] = {}
    for form in forms:
        wordings.setdefault(" ".join(deaccent(w) for w in words(form)), []).append(form)
    best = max(wordings.values(), key=lambda fs: (sum(forms[f] for f in fs), max(map(_readability, fs))))
    return max(best, key=lambda f: (_readability(f), forms[f]))


@dataclass
class _Question:
    """One distinct question: the texts that share a duplicate_key."""

    forms: Counter[str] = dc_field(default_factory=Counter)
    reasons: Counter[str] = dc_field(default_factory=Counter)
    records: list[int] = dc_field(default_factory=list)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    recent: int = 0
    content: list[str] = dc_field(default_factory=list)  # its content_words
    text: str = ""  # how it is shown (_shown_form)

    @property
    def count(self) -> int:
        return len(self.records)

    def add(self, index: int, text: str, at: dt.datetime, reason: str, since: dt.datetime) -> None:
        self.forms[text] += 1
        self.reasons[reason] += 1
        self.records.append(index)
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        self.recent += at >= since


def _merge_duplicates(records: Iterable[Any], now: dt.datetime) -> list[_Question]:
    since = now - dt.timedelta(days=RECENT_DAYS)
    merged: dict[str, _Question] = {}
    for index, record in enumerate(records):
        text = " ".join(str(field(record, "text") or "").split())
        if not text:
            continue
        at = as_utc(field(record, "at"))
        reason = str(field(record, "reason") or field(record, "outcome") or "unknown")
        merged.setdefault(duplicate_key(text), _Question()).add(index, text, at, reason, since)
    for question in merged.values():
        question.text = _shown_form(question.forms)
        question.content = content_words(question.text)
    # Most asked first, then by key: the same input always gives the same groups in the same order.
    return [merged[k] for k in sorted(merged, key=lambda k: (-merged[k].count, k))]


def _model_text(question: _Question) -> str:
    """What the model reads: the words as typed, placeholders removed, abbreviations expanded."""
    return " ".join(expand_abbreviations(words(PLACEHOLDER.sub(" ", question.text))))


class _Scores:
    """Pairwise scores of the distinct questions: shared words (weighted Jaccard) nudged by the model's cosine."""

    def __init__(self, questions: Sequence[_Question], embed: Embed, rule: Similarity) -> None:
        self.rule = rule
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for i, q in enumerate(questions):
            for w in q.content:
                rows.append(i)
                cols.append(vocab.setdefault(w, len(vocab)))
        n = len(questions)
        self.has_word = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, max(len(vocab), 1)))
        asked_by = np.asarray(self.has_word.sum(axis=0), dtype=np.float32).ravel()
        # A word many questions share ("vneid", "thẻ") says less about what is asked than a rare one
        # ("khai tử"): each word weighs its inverse document frequency in this log.
        self.weighted = csr_matrix(self.has_word.multiply(np.log((n + 1) / (asked_by + 1)) + 1))
        self.sizes = np.asarray(self.weighted.sum(axis=1), dtype=np.float32).ravel()
        self.vectors = np.zeros((n, 1), np.float32)
        # A question sharing no word with any other can only be alone (a zero vector keeps it so):
        # embedding only the others saves time in the slowest step.
        linkable = np.flatnonzero(self.has_word @ (asked_by >= 2).astype(np.float32)).tolist()
        if linkable:
            vectors = np.asarray(embed([_model_text(questions[i]) for i in linkable]), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(linkable):
                raise ValueError(f"embed() returned shape {vectors.shape} for {len(linkable)} texts")
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self.vectors = np.zeros((n, vectors.shape[1]), np.float32)
            self.vectors[linkable] = vectors

    def block(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Scores of questions `a` (rows) against questions `b` (columns)."""
        shared = (self.weighted[a] @ self.has_word[b].T).toarray()
        union = self.sizes[a][:, None] + self.sizes[b][None, :] - shared
        score = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        score += self.rule.model_weight * (self.vectors[a] @ self.vectors[b].T - self.rule.model_centre)
        return score

    def averages(self, a: np.ndarray, clusters: list[np.ndarray]) -> np.ndarray:
        """Average score of each question in `a` with each cluster's questions (rows by columns)."""
        members = np.concatenate(clusters)
        which = np.repeat(np.arange(len(clusters)), [len(c) for c in clusters])
        onehot = csr_matrix((np.ones(len(members), np.float32), (np.arange(len(members)), which)))
        out = np.empty((len(a), len(clusters)), np.float32)
        for start in range(0, len(a), _BLOCK):
            out[start : start + _BLOCK] = onehot.T.dot(self.block(a[start : start + _BLOCK], members).T).T
        return out / np.array([len(c) for c in clusters], np.float32)


def _average_linkage(scores: np.ndarray, rule: Similarity) -> list[np.ndarray]:
    """Clusters (positions into `scores`) merged while their average score is at least the threshold."""
    if len(scores) == 1:
        return [np.array([0])]
    distance = np.maximum(rule.top - scores, 0.0)
    np.fill_diagonal(distance, 0.0)
    distance = np.maximum(distance, distance.T)  # exact symmetry, which squareform requires
    tree = linkage(squareform(distance, checks=False), method="average")
    label = fcluster(tree, t=rule.top - rule.threshold + 1e-6, criterion="distance")
    return [np.flatnonzero(label == k) for k in np.unique(label)]


def _cluster(scores: _Scores, n: int, rule: Similarity) -> list[np.ndarray]:
    """Average-linkage clusters of questions 0..n-1 (most asked first), at most MAX_AT_ONCE at a time.

    The most asked MAX_AT_ONCE questions are clustered exactly; each rarer one joins the cluster it
    is on average closest to, if that average reaches the threshold; the rest go to the next round.
    Memory stays bounded (MAX_AT_ONCE² scores) however long the log."""
    remaining = np.arange(n)
    clusters: list[np.ndarray] = []
    while len(remaining):
        head, tail = remaining[:MAX_AT_ONCE], remaining[MAX_AT_ONCE:]
        found = [head[c] for c in _average_linkage(scores.block(head, head), rule)]
        joined: list[list[int]] = [[] for _ in found]
        left: list[int] = []
        if len(tail):
            averages = scores.averages(tail, found)
            best = averages.argmax(axis=1)
            for i, k, ok in zip(tail, best, averages[np.arange(len(tail)), best] >= rule.threshold, strict=True):
                (joined[k] if ok else left).append(i)
        clusters += [np.concatenate([c, np.array(j, dtype=c.dtype)]) for c, j in zip(found, joined, strict=True)]
        remaining = np.array(left, dtype=remaining.dtype)
    return clusters


def _centrality(scores: _Scores, members: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """How close each member is to the group's questions, weighted by how often each was asked."""
    out = np.empty(len(members), np.float32)
    for start in range(0, len(members), _BLOCK):
        out[start : start + _BLOCK] = scores.block(members[start : start + _BLOCK], members) @ counts
    return out


def _group(questions: Sequence[_Question], members: np.ndarray, scores: _Scores, examples: int) -> QuestionGroup:
    group = [questions[i] for i in members]
    counts = np.array([q.count for q in group], dtype=np.float32)
    centrality = _centrality(scores, members, counts)
    order = sorted(range(len(group)), key=lambda i: (-centrality[i], -group[i].count, group[i].text))
    reasons: Counter[str] = Counter()
    for q in group:
        reasons.update(q.reasons)
    return QuestionGroup(
        representative=group[order[0]].text,
        count=int(counts.sum()),
        examples=tuple(group[i].text for i in order[:examples]),
        first_at=min(q.first_at for q in group),
        last_at=max(q.last_at for q in group),
        reasons=dict(reasons.most_common()),
        recent=sum(q.recent for q in group),
        records=tuple(sorted(i for q in group for i in q.records)),
    )


def group_unanswered(
    records: Iterable[Any],
    embed: Embed,
    now: dt.datetime | None = None,
    rule: Similarity = Similarity(),
    examples: int = EXAMPLES,
) -> list[QuestionGroup]:
    """Group unanswered questions (records with masked `text`, `at`, `reason`) that ask the same thing.

    `embed(texts)` returns unit vectors: E5Embedder.encode_queries in production, best through
    bot.search.embcache.EmbeddingCache so that a reload only embeds the questions asked since.
    Groups come most asked first, then most recently asked; `recent` counts the RECENT_DAYS before `now`."""
    questions = _merge_duplicates(records, as_utc(now) if now else utcnow())
    if not questions:
        return []
    scores = _Scores(questions, embed, rule)
    groups = [_group(questions, members, scores, examples) for members in _cluster(scores, len(questions), rule)]
    groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp(), g.representative))
    return groups
