"""The words around a number (read without diacritics, in lower case): which clause it sits in, which cue words come
before and after it, and the word lists that say what a number is ("mã otp", "cccd", "lệ phí", "mã hồ sơ", "75 tuổi").

digit_runs.py and codes.py decide with them; `_plain` gives the lower-case, unaccented copy of a text that all the
package reads (position for position). Standard library only (see bot/core/privacy/__init__.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.privacy.placeholders import _PLACEHOLDER
from bot.core.text import deaccent

SECRET, ID_CUE, PHONE_CUE, ACCOUNT = "secret", "id", "phone", "account"
PUBLIC, AMOUNT, DATE = "public", "amount", "date"
# Personal cues count anywhere in the last few words of the clause; public ones only right before the number
# ("mã hồ sơ 730914"), so "nộp hồ sơ xong nó gửi 482913" is still an OTP.
_STRONG = (SECRET, ID_CUE, PHONE_CUE, ACCOUNT)
# Multi-word cues (longest first when reading back from a number).
_PHRASES: dict[tuple[str, ...], str] = {
    tuple(p.split()): k
    for k, ps in {
        SECRET: ["mat khau", "ma xac nhan", "xac nhan", "xac thuc", "kich hoat", "dang nhap", "bao mat", "mat ma",
                 "ma giao dich", "ma pin", "ma otp"],
        ID_CUE: ["can cuoc", "dinh danh", "chung minh", "giay phep lai xe", "ho chieu"],
        PHONE_CUE: ["so dien thoai", "dien thoai", "thue bao", "lien he"],
        ACCOUNT: ["tai khoan", "so tk", "ngan hang", "ma so thue", "so so", "bao hiem"],
        PUBLIC: ["ho so", "ma ho so", "bien nhan", "hoa don", "ky hieu", "so hieu", "van ban", "quyet dinh",
                 "nghi dinh", "nghi quyet", "thong tu", "cong van", "so nha", "nha so", "buu chinh", "buu dien",
                 "tong dai", "duong day nong", "to khai", "so thu tu", "ma loi", "don hang", "van don", "ma tra cuu",
                 "tra cuu", "phien ban", "xe buyt", "can ho", "to dan pho", "khu pho", "ma buu chinh"],
        AMOUNT: ["le phi", "so tien", "luong huu", "tro cap", "thanh toan", "chi phi", "muc huong", "muc dong"],
        DATE: ["ngay sinh", "nam sinh"],
    }.items()
    for p in ps
}
_WORD_CUES: dict[str, str] = {
    "otp": SECRET, "passcode": SECRET, "pass": SECRET, "password": SECRET, "mk": SECRET, "pin": SECRET,
    "cvv": SECRET, "cvc": SECRET, "code": SECRET, "ma": SECRET,
    "cccd": ID_CUE, "cmnd": ID_CUE, "cmt": ID_CUE, "cc": ID_CUE, "gplx": ID_CUE, "passport": ID_CUE,
    "sdt": PHONE_CUE, "dt": PHONE_CUE, "zalo": PHONE_CUE, "sim": PHONE_CUE, "goi": PHONE_CUE, "tel": PHONE_CUE,
    "stk": ACCOUNT, "tk": ACCOUNT, "the": ACCOUNT, "atm": ACCOUNT, "mst": ACCOUNT, "bhxh": ACCOUNT, "bhyt": ACCOUNT,
    "hd": PUBLIC, "seri": PUBLIC, "serial": PUBLIC, "dieu": PUBLIC, "khoan": PUBLIC, "muc": PUBLIC, "buoc": PUBLIC,
    "cau": PUBLIC, "trang": PUBLIC, "nha": PUBLIC, "ngo": PUBLIC, "ngach": PUBLIC, "hem": PUBLIC, "kiet": PUBLIC,
    "duong": PUBLIC, "pho": PUBLIC, "to": PUBLIC, "thon": PUBLIC, "xom": PUBLIC, "ap": PUBLIC, "phong": PUBLIC,
    "tang": PUBLIC, "lo": PUBLIC, "thua": PUBLIC, "hotline": PUBLIC, "mau": PUBLIC, "stt": PUBLIC, "loi": PUBLIC,
    "luat": PUBLIC, "tuyen": PUBLIC, "phuong": PUBLIC, "quan": PUBLIC,
    "phi": AMOUNT, "tien": AMOUNT, "gia": AMOUNT, "luong": AMOUNT, "nop": AMOUNT, "dong": AMOUNT, "thu": AMOUNT,
    "phat": AMOUNT, "tra": AMOUNT,
    "nam": DATE, "sinh": DATE, "ngay": DATE, "thang": DATE, "quy": DATE,
}
_MAX_PHRASE = max(len(p) for p in _PHRASES)
# A bare "mã" is a code only right before the number ("mã 4829", "mã: 4829"); "mã đơn 3457" says nothing.
_NEAR_ONLY = {"ma"}
# Words that may stand between a public cue and its number ("hóa đơn số 0001234", "nhà tôi số 12").
_SKIPPABLE = {"so", "la", "ma", "thu", "cua", "toi", "minh", "em", "o", "tai", "nay", "do", "cu", "moi"}
# Cues of dossiers and receipts: a number of up to 11 digits after them is theirs (phones start with 0).
_RECEIPTS = {"ho so", "ma ho so", "bien nhan", "hoa don", "hd", "ma tra cuu", "tra cuu", "van don", "don hang", "seri",
             "serial", "ky hieu", "so hieu"}
_ACCOUNT_WORDS = {"stk", "tk", "tai khoan", "so tk"}
_WINDOW = 6  # words of the clause read before a number
_LOOK = 120  # characters read on either side of a number (more than six words): long messages stay linear
# Not the dots of "a@b.vn", "1.500" or "H26.22", nor the dash of "482 - 913".
_CLAUSE_END = re.compile(r"[;!?\n]|[,.](?=\s|$)|(?<!\d)\s[-–]\s|\s[-–]\s(?!\d)")
# Words after a number that say it counts something ("75 tuổi", "120 m2"). Without diacritics only the words that
# cannot be read otherwise: "482913 ban oi" is "bạn", not "bản".
_UNITS = set(
    "tuoi thang ngay gio phut giay nguoi chiec trang buoc diem m m2 km kg g ha cm mm lit % phan tram xa phuong".split()
)
_ADDRESS_AFTER = set("toa duong pho ngo ngach hem kiet khu thon xom".split())  # "số 1208 tòa CT2"
_ACCENTED_UNITS = set("năm lần hộ bản con cái bộ số chữ ký tờ thửa căn".split())
_CURRENCY = {"dong", "d", "vnd", "nghin", "ngan", "trieu", "ty", "usd", "$", "dola"}
# "của tôi", "nhà mình", "gọi cho bà": the landline belongs to the resident, not to an office.
_OWN = re.compile(
    r"\b(?:cua|nha|ban nha|so) (?:toi|minh|em|ba|ong|bo|me|chau|con|tui|tao)\b"
    r"|\bgoi (?:lai )?cho (?:toi|minh|em|ba|ong|chau|tui)\b|\bnha rieng\b"
)


@dataclass(frozen=True)
class _Context:
    """The words of a number's clause: the last few before it (nearest last) and the first few after it."""

    before: list[str]
    after: list[str]
    clause: str

    def cue(self) -> tuple[str | None, str]:
        """The nearest cue before the number: its kind and its word(s)."""
        words = self.before
        skipped = 0
        kind: str | None
        for end in range(len(words), 0, -1):
            for size in range(min(_MAX_PHRASE, end), 1, -1):
                phrase = tuple(words[end - size:end])
                if phrase in _PHRASES:
                    kind = _PHRASES[phrase]
                    if kind in _STRONG or skipped <= 2:
                        return kind, " ".join(phrase)
            word = words[end - 1]
            kind = _WORD_CUES.get(word)
            if kind and ((kind in _STRONG and word not in _NEAR_ONLY) or skipped <= 2):
                return kind, word
            if word in _SKIPPABLE or word == "#":
                skipped += 1
            else:
                skipped += 3  # an ordinary word: public cues further back no longer describe the number
        return None, ""

    def mentions(self, kind: str) -> bool:
        """Any word of this kind among the words before the number ("giá vé 12.500")."""
        return any(_WORD_CUES.get(w) == kind for w in self.before) or any(
            tuple(self.before[i:i + len(p)]) == p
            for p, k in _PHRASES.items() if k == kind for i in range(len(self.before))
        )

    def secret_after(self) -> bool:
        """A secret word just after the number ("2024 là mã otp")."""
        after = self.after[:4]
        pairs = {" ".join(after[i:i + 2]) for i in range(len(after))}
        return any(_WORD_CUES.get(w) == SECRET and w not in _NEAR_ONLY for w in after) or bool(
            pairs & {" ".join(p) for p, k in _PHRASES.items() if k == SECRET}
        )

    def own(self) -> bool:
        """The clause says the number is the resident's own ("nhà tôi", "gọi cho bà")."""
        return bool(_OWN.search(self.clause))


def _plain(text: str) -> str:
    """Lower case without diacritics, one character for one character (positions stay valid); placeholders of an
    earlier pass become one neutral word, so "[mã số]" is not read as the cue "mã" when text is masked again."""
    out = []
    for ch in text:
        low = deaccent(ch).lower()
        out.append(low if len(low) == 1 else ch)
    return _PLACEHOLDER.sub(lambda m: "§" * len(m.group()), "".join(out))


def _tokens(plain: str) -> list[str]:
    """The words of a stretch of plain text; numbers, codes and placeholders next to each other count as one "#", so
    "482 913" and "[mã số]" look the same when a text is masked again."""
    out: list[str] = []
    for tok in plain.split():
        tok = tok.strip("\"'“”‘’()[]{}<>.,:;!?*=")
        if tok and not tok.isalpha():
            tok = "#"
        if tok and not (tok == "#" and out[-1:] == ["#"]):
            out.append(tok)
    return out


def _context(plain: str, start: int, end: int) -> _Context:
    low = max(0, start - _LOOK)
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(plain, low, start)), default=low)
    after_end = _CLAUSE_END.search(plain, end, end + _LOOK)
    clause_end = after_end.start() if after_end else min(len(plain), end + _LOOK)
    before = _tokens(plain[clause_start:start])[-_WINDOW:]
    after = _tokens(plain[end:clause_end])
    return _Context(before, after, plain[clause_start:clause_end])
