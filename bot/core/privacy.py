"""Remove personal data (ID, phone, card and account numbers, OTPs, passports, e-mail, plates, passwords, helper
codes) from what residents type, before it is logged, stored or shown to anyone else.

Text is read the way residents type it: digit groups joined by spaces, dots, commas or dashes are one number
("482 913", "001.234.567.890", "4-8-2-9-1-3"); what the number is comes from its length and shape and from the
words of its own clause ("mã otp", "cccd", "lệ phí", "mã hồ sơ"), with and without diacritics. Dossier codes, amounts,
dates, years, house numbers, invoice and legal-document numbers, office landlines and public hotlines are not
personal and stay readable. The choices (and what was measured) are in docs/security.md; the labelled set is
tests/data/masking_set.jsonl (`python -m bench.masking` prints the leak and over-mask rates).

Standard library only: the channels (Rasa, Python 3.10) and Rasa's NLU component import it.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass

from bot.core.text import deaccent

# What each kind of data becomes. Channels mask a resident's message before Rasa sees it, so these
# placeholders are what the tracker store, the logs and the actions read (bot/replies/safety.py reacts to them).
CARD = "[số thẻ]"
ID_NUMBER = "[số định danh]"
PHONE = "[số điện thoại]"
LONG_NUMBER = "[dãy số]"  # 10-15 digits that are no phone: a bank account, a BHYT, BHXH or tax number
OLD_ID = "[số CMND]"
CODE = "[mã số]"  # an OTP, passcode or PIN (or another short code: bot/replies/safety.py looks at the words around it)
PASSPORT = "[số hộ chiếu]"
EMAIL = "[địa chỉ email]"
PLATE = "[biển số xe]"
PASSWORD = "[mật khẩu]"
HELPER_CODE = "[mã tổ]"  # a community-technology-team code (bot/team/mode.py); see mask_incoming
PLACEHOLDERS = (CARD, ID_NUMBER, PHONE, LONG_NUMBER, OLD_ID, CODE, PASSPORT, EMAIL, PLATE, PASSWORD, HELPER_CODE)
_PLACEHOLDER = re.compile("|".join(re.escape(deaccent(p).lower()) for p in PLACEHOLDERS))

# --- words around a number (without diacritics, lower case) ---------------------------------------------------------
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


# --- what a run of digits is ---------------------------------------------------------------------------------------
_SEP = r"(?:[ \u00a0]{1,2}|[.,-])"
_RUN = re.compile(
    r"(?:(?<!\d)(?P<prefix>\(\s?\+?\s?84\s?\)\s?|\+\s?84[ .-]?|\(0\d{1,3}\)\s?)|(?<![\w+]))"
    r"(?:\(0\)\s?)?"
    rf"\d+(?:{_SEP}\d+)*"
)
# A date typed before another number ("2026-12-06 07:55", "12.05.2024 0912..."): the date ends the run.
_DATE_HEAD = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?=[ T]\d)|\d{1,2}([./-])\d{1,2}\1\d{4}(?= \d)")
_DATE_SEPARATORS = re.compile(r"[./ -]")


def _groups(run: str) -> list[str]:
    return re.findall(r"\d+", run)


def _digits(run: str) -> str:
    return "".join(_groups(run))


def _is_date(groups: list[str], run: str) -> bool:
    """12.05.2024, 12-05-2024, 12 05 1950, 2024-05-12, 05.2024 (day and month in range, a 19xx/20xx year)."""
    seps = {s for s in re.findall(r"\D+", run)}
    if len(seps) != 1 or not _DATE_SEPARATORS.fullmatch(next(iter(seps)).strip() or " "):
        return False
    sizes = [len(g) for g in groups]
    nums = [int(g) for g in groups]

    def year(g: str) -> bool:
        return len(g) == 4 and g[:2] in ("19", "20")

    if len(groups) == 3 and sizes[2] == 4 and year(groups[2]) and max(sizes[:2]) <= 2:
        return 1 <= nums[0] <= 31 and 1 <= nums[1] <= 12
    if len(groups) == 3 and year(groups[0]) and max(sizes[1:]) <= 2:
        return 1 <= nums[1] <= 12 and 1 <= nums[2] <= 31
    if len(groups) == 2 and sizes[0] <= 2 and year(groups[1]):
        return 1 <= nums[0] <= 12
    return False


def _amount_shaped(groups: list[str], run: str) -> bool:
    """1.500.000 / 30,000: thousands separated by dots or commas."""
    return (
        len(groups) >= 2
        and 1 <= len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
        and set(re.findall(r"\D+", run)) <= {".", ","}
        and len(set(re.findall(r"\D+", run))) == 1
    )


def _next_word(plain: str, end: int) -> str:
    rest = plain[end:end + 20].lstrip(" /")
    match = re.match(r"[^\W_]+|[%$]", rest)
    return match.group() if match else ""


def _kind_of_long(
    digits: str, cue: str | None, has_country_code: bool, context: _Context, cue_word: str = ""
) -> str | None:
    """A number of 9 or more digits: which placeholder, or None for an office landline."""
    n = len(digits)
    if has_country_code:
        local = digits[2:].lstrip("0") if digits.startswith("84") else digits
        if len(local) == 10 and local.startswith("2") and not context.own():
            return None  # +84 24 3823 4567: an office landline
        return PHONE
    if n == 11 and digits.startswith("02") and not context.own():
        return None  # 024 3823 4567, 0236 3822 123: landlines (02x + 8 digits); see docs/security.md
    if 16 <= n <= 19 and cue_word not in _ACCOUNT_WORDS:
        return CARD  # "thẻ", "atm", "ngân hàng" or nothing: a card
    if cue == ACCOUNT:
        return LONG_NUMBER
    if n == 12:
        return ID_NUMBER
    if n == 9:
        return PHONE if cue == PHONE_CUE else OLD_ID
    if n == 10 and digits[0] == "0" and digits[1] in "35789":
        return PHONE
    if n == 11 and (digits.startswith(("01", "02")) or digits[:3] in ("843", "845", "847", "848", "849")):
        return PHONE
    return LONG_NUMBER


def _classify(run: str, prefix: str, text: str, plain: str, start: int, end: int) -> str | None:
    """The placeholder for one run of digits, or None to keep it."""
    groups = _groups(run[len(prefix):]) if prefix else _groups(run)
    digits = "".join(_groups(run))
    n = len(digits)
    context = _context(plain, start, end)
    cue, cue_word = context.cue()
    after = _next_word(plain, end)
    if digits[:4] in ("1900", "1800") and n in (8, 10) and not prefix:
        return None  # public hotlines (1900 0368): residents ask whether one is real
    if prefix and "84" in prefix:
        return _kind_of_long(digits, cue, True, context, cue_word)
    if after in _CURRENCY and (len(groups) == 1 or _amount_shaped(groups, run)):
        return None  # 150000 đồng, 1.500.000 đ
    amount = _amount_shaped(groups, run) and cue not in (SECRET, ID_CUE)
    if n >= 9:
        if amount and digits.endswith("000"):
            return None  # 1.200.000.000: an amount
        if cue_word in _RECEIPTS and n <= 11 and digits[0] != "0":
            return None  # biên nhận 2501150023: a receipt number, not a person's
        return _kind_of_long(digits, cue, False, context, cue_word)
    if n == 3 and {"cvv", "cvc"} & set(context.before):
        return CODE  # the three digits on the back of a card
    if cue == SECRET or (cue is None and context.secret_after()):
        return CODE if n >= 4 else None
    if amount and (len(groups) >= 3 or digits.endswith("000") or context.mentions(AMOUNT)):
        return None  # 150.000, 1.263.600
    if plain[end:end + 1] == "/" or (start and plain[start - 1] == "/"):
        return None  # 45/12, 70/2025, 3/2025: addresses, document numbers, dates
    if re.match(r":\d", plain[end:end + 2]) or re.fullmatch(r"\d:", plain[max(0, start - 2):start]):
        return None  # 07:55:35,123: a time
    if after in _UNITS or after in _ADDRESS_AFTER or _next_word(text[end:end + 20].lower(), 0) in _ACCENTED_UNITS:
        return None  # 75 tuổi, 120 m2, 2500 hộ
    if _is_date(groups, run):
        return None
    if cue in (PUBLIC, AMOUNT, DATE):
        return None  # mã hồ sơ 730914, hóa đơn số 0001234, lệ phí 100000, sinh năm 1955
    if len(groups) == 2 and max(len(g) for g in groups) <= 2:
        return None  # 15.07, 8.5
    if len(groups) == 1 and n == 4 and digits[:2] in ("19", "20"):
        return None  # a year
    return CODE if n >= 4 else None


# --- words and codes that hold digits ---------------------------------------------------------------------------------
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vehicle plates: 29A-123.45, 29-B1 234.56, 51G12345, 30K 678.90, 59X1-123.45
_PLATE = re.compile(
    r"(?<![\w./-])(?:\d{2}[ -]?[A-Z]{1,2}\d?[ -]?(?:\d{3}\.\d{2}|\d{4,5})|\d{2}[a-z]\d?\d{4,5})(?![\w/]|[.,-]\d)"
)
_PASSPORT = re.compile(r"(?<![\w./-])[A-Za-z]\d{7}(?![\w/]|[.,-]\d)")
# A word with letters and digits: a code ("H26", "1C25TAA", "KM482"), a legal reference ("70/2025/NĐ-CP"), a
# glued amount ("150.000đ") or a cue glued to its number ("sdt0912345678").
_CHUNK = re.compile(r"(?<![\w@])[^\W_]+(?:[./-][^\W_]+)*")
_GLUED_CUES = {"sdt", "dt", "cccd", "cmnd", "cmt", "otp", "mk", "pin", "stk", "tk", "mst", "so", "ma", "pass",
               "code", "id", "zalo", "tel"}
_LONG_DIGITS = re.compile(r"\d{9,}")


def _mixed(part: str) -> bool:
    return any(c.isdigit() for c in part) and any(c.isalpha() for c in part)


def _is_code_chunk(chunk: str) -> bool:
    """Letters and digits in one part ("H26-240101-0001"), a slash reference with letters ("70/2025/NĐ-CP"), or words
    and numbers joined by dashes ("muc-huong-80-100", "TCN-5739"). Not "xong.482913": a missing space, not a code."""
    parts = re.split(r"[./-]", chunk)
    if any(_mixed(p) for p in parts) or ("/" in chunk and any(p.isalpha() for p in parts)):
        return True
    return bool(re.search(r"[^\W\d_]-\d|\d-[^\W\d_]", chunk))


def _mask_chunk(chunk: str, plain_chunk: str) -> str:
    """A code word: kept, except a cue glued to its number and any run of 9+ digits inside it."""
    lead = re.match(r"[^\W\d_]+", plain_chunk)
    if lead and lead.group() in _GLUED_CUES:
        rest = chunk[lead.end():]
        if re.fullmatch(rf"[:.=-]?\d+(?:{_SEP}\d+)*", rest) and len("".join(_groups(rest))) >= 4:
            cue_text = plain_chunk[: lead.end()] + " "
            digits = rest.lstrip(":.=-")
            synthetic = cue_text + digits
            placeholder = _classify(digits, "", synthetic, synthetic, len(cue_text), len(synthetic))
            if placeholder:
                return chunk[: len(chunk) - len(digits)] + placeholder
            return chunk
    trailing = re.fullmatch(r"(\d{4,8})([^\W\d_]+)", chunk)
    if trailing and _plain(trailing.group(2)) not in _CURRENCY | _UNITS | {"h"}:
        return CODE + trailing.group(2)  # "482913la": a number glued to the next word
    return _LONG_DIGITS.sub(lambda m: _kind_of_long(m.group(), None, False, _Context([], [], "")) or m.group(), chunk)


# --- helper codes and passwords typed in words -----------------------------------------------------------------------
_HELPER_CUE = re.compile(r"(?:^|(?<=\s))/?helper\b|\bto cong nghe\b|\bto cns\b|\btcns\b|\bho tro vien\b|\bto cntt\b")
_HELPER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}")
_PASSWORD_CUE = re.compile(r"\b(?:mat khau|mk|pass|password|pw)\b")


def _token_spans(text: str, start: int, limit: int) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"\S+", text[start:start + 400]):
        raw = m.group()
        left = len(raw) - len(raw.lstrip("\"'“”‘’(:"))
        right = len(raw.rstrip("\"'“”‘’).,:;!?"))
        if right > left:
            spans.append((start + m.start() + left, start + m.start() + right))
        if len(spans) >= limit:
            break
    return spans


def _looks_like_a_helper_code(token: str) -> bool:
    """Letters with digits ("TCN5739", "EU5ADKPUXUHV"), or a long run of capitals (a generated code without digits)."""
    if not _HELPER_TOKEN.fullmatch(token):
        return False
    has_digit, has_letter = any(c.isdigit() for c in token), any(c.isalpha() for c in token)
    return (has_digit and has_letter) or (token.isupper() and token.isalpha() and len(token) >= 8)


def _helper_code_spans(text: str, plain: str) -> list[tuple[int, int]]:
    """The code after "mã tổ công nghệ số", "tcns"... (the first word that looks like one), the word right after
    "/helper", and every configured code (BOT_HELPER_CODES) wherever it appears."""
    spans = []
    for cue in _HELPER_CUE.finditer(plain):
        tokens = _token_spans(text, cue.end(), 8)
        if plain[cue.start()] == "/" and tokens and _HELPER_TOKEN.fullmatch(text[slice(*tokens[0])]):
            spans.append(tokens[0])  # "/helper CODE": whatever follows is a code
            continue
        for a, b in tokens:
            if _looks_like_a_helper_code(text[a:b]):
                spans.append((a, b))
                break
    for code in _configured_helper_codes():
        for m in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text, re.IGNORECASE):
            spans.append((m.start(), m.end()))
    return spans


def _configured_helper_codes() -> list[str]:
    return [c.strip() for c in os.environ.get("BOT_HELPER_CODES", "").split(",") if len(c.strip()) >= 4]


def _password_spans(text: str, plain: str) -> list[tuple[int, int]]:
    """A password typed after its word ("mật khẩu của tôi là Lan@1955"): letters with digits or symbols."""
    spans = []
    for cue in _PASSWORD_CUE.finditer(plain):
        if plain[cue.start() - 1:cue.start()] == "[":
            continue  # the placeholder itself: "[mật khẩu]"
        clause_end = _CLAUSE_END.search(plain, cue.end(), cue.end() + _LOOK)
        stop = clause_end.start() if clause_end else len(text)
        for a, b in _token_spans(text, cue.end(), 5):
            if a >= stop:
                break
            token = text[a:b]
            if (len(token) >= 4 and any(c.isalpha() for c in token)
                    and any(c.isdigit() or not c.isalnum() for c in token) and not {"[", "]"} & set(token)):
                spans.append((a, b))
                break
    return spans


# --- putting it together ----------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    rf"(?P<email>{_EMAIL.pattern})"
    rf"|(?P<plate>{_PLATE.pattern})"
    rf"|(?P<passport>{_PASSPORT.pattern})"
    rf"|(?P<chunk>{_CHUNK.pattern})"
)


def _mask(text: str, helper_codes: bool) -> str:
    """Helper codes and passwords first (they are found by the words before them), then everything else."""
    text = unicodedata.normalize("NFC", text)
    plain = _plain(text)
    fixed: list[tuple[int, int, str]] = []  # spans replaced by a placeholder (helper codes, passwords)
    if helper_codes:
        fixed += [(a, b, HELPER_CODE) for a, b in _helper_code_spans(text, plain)]
    fixed += [(a, b, PASSWORD) for a, b in _password_spans(text, plain)]
    out: list[str] = []
    pos = 0
    for a, b, placeholder in _merge(fixed):
        out.append(_mask_span(text, plain, pos, a))
        out.append(placeholder)
        pos = b
    out.append(_mask_span(text, plain, pos, len(text)))
    return "".join(out)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for a, b, p in sorted(spans):
        if merged and a < merged[-1][1]:
            continue
        merged.append((a, b, p))
    return merged


def _mask_span(text: str, plain: str, start: int, end: int) -> str:
    """Mask one stretch of text (between fixed spans): e-mail, plates, passports, code words, then digit runs."""
    out: list[str] = []
    pos = start
    for m in _TOKEN.finditer(text, start, end):
        if m.lastgroup == "chunk":
            chunk = m.group()
            if not _is_code_chunk(chunk):
                continue
            replacement = _mask_chunk(chunk, plain[m.start():m.end()])
        else:
            replacement = {"email": EMAIL, "plate": PLATE, "passport": PASSPORT}[m.lastgroup or ""]
        out.append(_mask_runs(text, plain, pos, m.start()))
        out.append(replacement)
        pos = m.end()
    out.append(_mask_runs(text, plain, pos, end))
    return "".join(out)


def _mask_runs(text: str, plain: str, start: int, end: int) -> str:
    runs = _numbers(text, list(_RUN.finditer(text, start, end)))
    out: list[str] = []
    pos = start
    for a, b, prefix in runs:
        placeholder = _classify(text[a:b], prefix, text, plain, a, b)
        if placeholder is None:
            continue
        out += [text[pos:a], placeholder]
        pos = b
    out.append(text[pos:end])
    return "".join(out)


def _numbers(text: str, runs: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """The numbers in digit runs, as (start, end, prefix): a date ends its run ("2026-12-06 07:55"); "482 - 913" is
    one number, "4.000.000 - 6.000.000" and "1990 - 2000" are two."""
    spans: list[tuple[int, int, str]] = []
    for m in runs:
        head = None if m.group("prefix") else _DATE_HEAD.match(text, m.start(), m.end())
        if head and _is_date(_groups(head.group()), head.group()):
            rest = re.compile(r"\d").search(text, head.end(), m.end())
            spans += [(m.start(), head.end(), "")] + ([(rest.start(), m.end(), "")] if rest else [])
        else:
            spans.append((m.start(), m.end(), m.group("prefix") or ""))
    joined: list[tuple[int, int, str]] = []
    for a, b, prefix in spans:
        if joined:
            pa, pb, pprefix = joined[-1]
            between = text[pb:a]
            left, right = text[pa:pb], text[a:b]
            if (re.fullmatch(r" ?[-–] ?", between) and all(2 <= len(_digits(s)) <= 4 for s in (left, right))
                    and not any(re.fullmatch(r"(?:19|20)\d\d", s) for s in (left, right))
                    and len(_digits(left + right)) >= 4):
                joined[-1] = (pa, b, pprefix)
                continue
        joined.append((a, b, prefix))
    return joined


def mask(text: str) -> str:
    """Replace personal data with placeholders: for everything logged, stored or shown to staff and teams."""
    return _mask(text, helper_codes=True)


def mask_incoming(text: str) -> str:
    """What the channels pass to Rasa: `mask`, except a helper's team code, which the helper action must read to
    turn helper mode on (bot/team/mode.py). Tickets, team notices, the question log and logs use `mask`."""
    return _mask(text, helper_codes=False)


def placeholders_in(text: str) -> list[str]:
    """The placeholders a masked text contains, in PLACEHOLDERS order."""
    return [p for p in PLACEHOLDERS if p in text]


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask it, and drop the arguments."""
        record.msg = mask(record.getMessage())
        record.args = None
        return True


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
