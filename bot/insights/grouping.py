"""Group the questions the bot could not answer, so admins see what residents ask most and can add it.

Two questions are compared on their masked text, with placeholders such as "[mã số]" removed (every
masked message has them; they say nothing about the question):
- words: the share of meaningful words they have in common (Jaccard), after expanding chat
  abbreviations ("ko dc"), dropping accents and filler words ("cho em hỏi", "làm sao", "ạ");
- meaning: the embedding model's cosine. multilingual-e5-small puts almost any two short Vietnamese
  questions above 0.8 ("quên mật khẩu VNeID" and "đổi mật khẩu VNeID" score 0.97, an accented
  question and its unaccented twin only 0.85), so the cosine alone cannot tell them apart: it only
  nudges the word score up or down around MODEL_CENTRE.

    score = words in common + model_weight * (cosine - model_centre)

Identical questions (ignoring case, accents, punctuation and abbreviations) are merged first. Then
groups are merged, most similar first, while the average score between their questions stays at or
above the threshold (average-linkage clustering). Questions sharing no meaningful word can never
reach it, so only pairs that share a word are linked, and the clustering runs separately on each
connected set of linked questions: that keeps 10,000 questions to seconds (bench/insights.py).
The defaults were chosen on our own labelled set (tests/data/insights_questions.jsonl, "calibration").
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
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from bot.insights.records import as_utc, field, utcnow
from bot.text import deaccent, expand_abbreviations, is_accented, words

Embed = Callable[[list[str]], np.ndarray]

# What bot.privacy.mask (and any later masking) puts in place of personal numbers: "[mã số]".
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,40}\]")
RECENT_DAYS = 7
EXAMPLES = 5
_BLOCK = 512  # rows of the score matrix computed at once (512 x 10,000 floats = 20 MB per array)

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
    """Questions with the same key are the same question typed differently (case, accents, punctuation,
    abbreviations); placeholders are kept, so '[mã số]' and '[số điện thoại]' alone stay apart."""
    parts = re.split(f"({PLACEHOLDER.pattern})", text)
    return " ".join(
        part if PLACEHOLDER.fullmatch(part) else " ".join(deaccent(t) for t in expand_abbreviations(words(part)))
        for part in parts
    ).strip()


def _readability(form: str) -> tuple[int, int]:
    return (sum(map(is_accented, words(form))), -len(form))


@dataclass
class _Question:
    """One distinct question after merging exact duplicates."""

    forms: Counter[str] = dc_field(default_factory=Counter)
    reasons: Counter[str] = dc_field(default_factory=Counter)
    records: list[int] = dc_field(default_factory=list)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    recent: int = 0
    content: list[str] = dc_field(default_factory=list)  # its content_words, once all its forms are known

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def text(self) -> str:
        """The way it was typed most often; on a tie, the one with accents (easier to read)."""
        return max(self.forms.items(), key=lambda kv: (kv[1], *_readability(kv[0])))[0]

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
        merged.setdefault(duplicate_key(text) or text, _Question()).add(index, text, at, reason, since)
    for question in merged.values():
        question.content = content_words(question.text)
    # Most asked first, then by key: the same input always gives the same groups in the same order.
    return [merged[k] for k in sorted(merged, key=lambda k: (-merged[k].count, k))]


class _Scores:
    """Pairwise scores of the distinct questions: shared words (Jaccard) nudged by the model's cosine."""

    def __init__(self, questions: Sequence[_Question], embed: Embed, rule: Similarity) -> None:
        self.rule = rule
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for i, q in enumerate(questions):
            for w in q.content:
                rows.append(i)
                cols.append(vocab.setdefault(w, len(vocab)))
        n = len(questions)
        self.word_matrix = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, max(len(vocab), 1)))
        self.sizes = np.asarray(self.word_matrix.sum(axis=1), dtype=np.float32).ravel()
        self.vectors = np.zeros((n, 1), np.float32)
        # A question sharing no word with any other can only be alone (a zero vector keeps it so):
        # embedding only the others saves the slowest step.
        shared_words = np.asarray(self.word_matrix.sum(axis=0)).ravel() >= 2
        linkable = np.flatnonzero(self.word_matrix @ shared_words.astype(np.float32)).tolist()
        if linkable:
            vectors = np.asarray(embed([_model_text(questions[i]) for i in linkable]), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(linkable):
                raise ValueError(f"embed() returned shape {vectors.shape} for {len(linkable)} texts")
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self.vectors = np.zeros((n, vectors.shape[1]), np.float32)
            self.vectors[linkable] = vectors

    def block(self, a: np.ndarray | slice, b: np.ndarray | slice) -> np.ndarray:
        """Scores of questions `a` (rows) against questions `b` (columns)."""
        shared = (self.word_matrix[a] @ self.word_matrix[b].T).toarray()
        union = self.sizes[a][:, None] + self.sizes[b][None, :] - shared
        score = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        cosine = self.vectors[a] @ self.vectors[b].T
        score += self.rule.model_weight * (cosine - self.rule.model_centre)
        return score

    def linked_sets(self) -> list[np.ndarray]:
        """Sets of questions connected by pairs scoring at least the threshold (clusters never span two)."""
        n = len(self.sizes)
        rows, cols = [], []
        for start in range(0, n, _BLOCK):
            r, c = np.nonzero(self.block(slice(start, min(n, start + _BLOCK)), slice(0, n)) >= self.rule.threshold)
            rows.append(r + start)
            cols.append(c)
        r, c = np.concatenate(rows), np.concatenate(cols)
        graph = csr_matrix((np.ones(len(r), np.int8), (r, c)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        order = np.argsort(label, kind="stable")
        return np.split(order, np.flatnonzero(np.diff(label[order])) + 1)


def _model_text(question: _Question) -> str:
    """What the model reads: the words as typed, placeholders removed, abbreviations expanded."""
    return " ".join(expand_abbreviations(words(PLACEHOLDER.sub(" ", question.text))))


def _clusters(scores: np.ndarray, rule: Similarity) -> list[np.ndarray]:
    """Average-linkage clusters (positions into `scores`) whose average score is at least the threshold."""
    if len(scores) == 1:
        return [np.array([0])]
    distance = np.maximum(rule.top - scores, 0.0)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2  # exact symmetry, which squareform requires
    tree = linkage(squareform(distance, checks=False), method="average")
    label = fcluster(tree, t=rule.top - rule.threshold + 1e-9, criterion="distance")
    return [np.flatnonzero(label == k) for k in np.unique(label)]


def _group(members: list[_Question], scores: np.ndarray, examples: int) -> QuestionGroup:
    counts = np.array([q.count for q in members], dtype=np.float32)
    centrality = scores @ counts  # how close each question is to the group's questions, as often as asked
    order = sorted(range(len(members)), key=lambda i: (-centrality[i], -members[i].count, members[i].text))
    reasons: Counter[str] = Counter()
    for q in members:
        reasons.update(q.reasons)
    texts = [members[i].text for i in order]
    return QuestionGroup(
        representative=texts[0],
        count=int(counts.sum()),
        examples=tuple(dict.fromkeys(texts))[:examples],
        first_at=min(q.first_at for q in members),  # type: ignore[type-var]
        last_at=max(q.last_at for q in members),  # type: ignore[type-var]
        reasons=dict(reasons.most_common()),
        recent=sum(q.recent for q in members),
        records=tuple(sorted(i for q in members for i in q.records)),
    )


def group_unanswered(
    records: Iterable[Any],
    embed: Embed,
    now: dt.datetime | None = None,
    rule: Similarity = Similarity(),
    examples: int = EXAMPLES,
) -> list[QuestionGroup]:
    """Group unanswered questions (records with masked `text`, `at`, `reason`) that ask the same thing.

    `embed(texts)` returns unit vectors (E5Embedder.encode_queries in production). Groups come most
    asked first, then most recently asked; `recent` counts the RECENT_DAYS before `now`."""
    questions = _merge_duplicates(records, as_utc(now) if now else utcnow())
    if not questions:
        return []
    scores = _Scores(questions, embed, rule)
    groups: list[QuestionGroup] = []
    for linked in scores.linked_sets():
        block = scores.block(linked, linked)
        for cluster in _clusters(block, rule):
            members = [questions[i] for i in linked[cluster]]
            groups.append(_group(members, block[np.ix_(cluster, cluster)], examples))
    groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp(), g.representative))
    return groups
