"""Vietnamese text handling: normalisation, de-accenting, abbreviations, accent restoration.

Residents often type without diacritics ("quen mk vneid") and with chat abbreviations ("ko dc").
Lexical search works on de-accented syllables; the embedding model works best on accented text,
so the query is also given its accents back from the knowledge base's own vocabulary.
Also the shaping every messenger needs: long replies split to a platform's limit, button titles shortened.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Chat abbreviations -> their accented expansion. Keys are de-accented, lower-case tokens.
ABBREVIATIONS: dict[str, str] = {
    "ko": "không", "k": "không", "kh": "không", "khg": "không", "hok": "không", "hong": "không",
    "dc": "được", "dk": "được", "duoc": "được",
    "mk": "mật khẩu", "pass": "mật khẩu", "password": "mật khẩu",
    "sdt": "số điện thoại", "dt": "điện thoại",
    "cccd": "căn cước công dân", "cmnd": "chứng minh nhân dân",
    "bhyt": "bảo hiểm y tế", "bhxh": "bảo hiểm xã hội",
    "hddt": "hóa đơn điện tử",
    "dvc": "dịch vụ công", "dvcqg": "dịch vụ công quốc gia",
    "tk": "tài khoản", "mst": "mã số thuế", "lltp": "lý lịch tư pháp",
    "gplx": "giấy phép lái xe", "ddcn": "định danh cá nhân", "sskdt": "sổ sức khỏe điện tử",
    "ntn": "như thế nào", "lm": "làm", "j": "gì", "gi": "gì", "r": "rồi", "vs": "với",
    "mn": "mọi người", "ad": "admin", "dky": "đăng ký", "dki": "đăng ký",
}


def nfc(text: str) -> str:
    """Unicode NFC: the same letter typed with combining or precomposed marks compares equal."""
    return unicodedata.normalize("NFC", text)


def deaccent(text: str) -> str:
    """Remove Vietnamese diacritics: 'Đăng ký' -> 'Dang ky'.

    A word is de-accented again by every step that reads a message (abbreviations, BM25 terms, the topic words, the
    ask), about 1,600 calls per real question, and a few thousand syllables make up nearly all text: short texts come
    from a cache. Longer ones (whole messages) do not, so residents' texts neither crowd the words out nor pile up."""
    return _deaccent_word(text) if len(text) <= CACHED_CHARS else _deaccent(text)


CACHED_CHARS = 24  # longer than any syllable or abbreviation; most messages are longer (they are masked anyway)


def _deaccent(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


_deaccent_word = functools.lru_cache(maxsize=65536)(_deaccent)


def plain(text: str) -> str:
    """Text compared with accents, case and spacing ignored: ' Quên  MK ' -> 'quen mk'."""
    return " ".join(deaccent(text).lower().split())


def words(text: str) -> list[str]:
    """Lower-case syllables/words of a text, punctuation and emoji dropped."""
    return _WORD.findall(nfc(text).lower())


def is_accented(token: str) -> bool:
    """True if the token carries any Vietnamese diacritic."""
    return deaccent(token) != token


# Words residents type in two pieces: "pass code" is the passcode, not a password ("pass") and a code.
SPLIT_WORDS: dict[tuple[str, str], str] = {("pass", "code"): "passcode"}


def expand_abbreviations(tokens: Iterable[str]) -> list[str]:
    """Replace chat abbreviations ('ko', 'đc', 'cccd') with their words, keeping other tokens."""
    toks = list(tokens)
    out: list[str] = []
    i = 0
    while i < len(toks):
        joined = SPLIT_WORDS.get((deaccent(toks[i]), deaccent(toks[i + 1]))) if i + 1 < len(toks) else None
        if joined:
            out.append(joined)
            i += 2
            continue
        expansion = ABBREVIATIONS.get(deaccent(toks[i]))
        out.extend(expansion.split() if expansion else [toks[i]])
        i += 1
    return out


def search_terms(text: str) -> list[str]:
    """Lexical terms for BM25: de-accented syllables after abbreviation expansion, plus bigrams."""
    syllables = [deaccent(t) for t in expand_abbreviations(words(text))]
    return syllables + [f"{a}_{b}" for a, b in itertools.pairwise(syllables)]


class AccentRestorer:
    """Puts diacritics back on unaccented syllables, using n-grams seen in the knowledge base.

    For each de-accented n-gram (up to ``max_n`` syllables) the most frequent written form wins
    (which may itself be unaccented, like 'gia' in 'quốc gia'); longer matches take precedence, so
    'mat khau' becomes 'mật khẩu' even though 'mat' alone is ambiguous. A message mostly typed with
    diacritics is left as typed: its plain syllables are plain on purpose. Unknown tokens are kept.
    """

    TYPED_WITH_ACCENTS = 0.5  # share of accented syllables above which nothing is restored

    def __init__(self, table: dict[str, str], max_n: int = 3) -> None:
        self.table = table
        self.max_n = max_n

    @classmethod
    def learn(cls, texts: Iterable[str], max_n: int = 3) -> AccentRestorer:
        """Learn the n-gram table from accented texts (titles, questions, answers)."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            toks = words(text)
            if not toks or sum(map(is_accented, toks)) / len(toks) < cls.TYPED_WITH_ACCENTS:
                continue  # a question typed without diacritics teaches nothing about them
            for n in range(1, max_n + 1):
                for i in range(len(toks) - n + 1):
                    gram = " ".join(toks[i : i + n])
                    counts[deaccent(gram)][gram] += 1
        table = {key: forms.most_common(1)[0][0] for key, forms in counts.items()}
        return cls(table, max_n)

    def restore(self, text: str) -> str:
        """Return the text's words with accents restored where the knowledge base knows them."""
        toks = expand_abbreviations(words(text))
        if toks and sum(map(is_accented, toks)) / len(toks) >= self.TYPED_WITH_ACCENTS:
            return " ".join(toks)
        out: list[str] = []
        i = 0
        while i < len(toks):
            for n in range(min(self.max_n, len(toks) - i), 0, -1):
                window = toks[i : i + n]
                if any(is_accented(t) for t in window):
                    continue
                form = self.table.get(" ".join(window))
                if form:
                    out.append(form)
                    i += n
                    break
            else:
                out.append(toks[i])
                i += 1
        return " ".join(out)


# --- shaping replies for a messenger (Telegram: bot/messengers/telegram_format.py, Zalo: zalo_events.py) ----------

SEPARATORS = ("\n\n", "\n", " ")  # where a long text may be cut, best first


def _hard_cut(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """Cut a text with no usable separator into pieces of at most `limit` units, never inside a character."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        width = size(ch)
        if used + width > limit:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += width
    if current:
        pieces.append("".join(current))
    return pieces


def _split(text: str, limit: int, level: int, size: Callable[[str], int]) -> list[str]:
    if size(text) <= limit:
        return [text]
    if level == len(SEPARATORS):
        return _hard_cut(text, limit, size)
    sep = SEPARATORS[level]
    chunks: list[str] = []
    current = ""
    for part in text.split(sep):
        if size(part) > limit:  # this part alone is too long: cut it at a finer separator
            if current:
                chunks.append(current)
            *done, current = _split(part, limit, level + 1, size)
            chunks.extend(done)
            continue
        candidate = f"{current}{sep}{part}" if current else part
        if size(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Split `text` into messages of at most `limit` units as `size` counts them (characters by default): at blank
    lines if possible, else at line breaks, else between words, and only as a last resort inside a word. Pieces are
    packed greedily and stripped; none is empty."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces = (chunk.strip() for chunk in _split(text.strip(), limit, 0, size))
    return [piece for piece in pieces if piece]


def short_title(title: str, limit: int) -> str:
    """A button title of at most `limit` characters, cut at a word where possible, with an ellipsis."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    if " " in head and not title[limit - 1].isspace():
        head = head[: head.rfind(" ")]
    return head.rstrip(" ,.;:-") + "…"
