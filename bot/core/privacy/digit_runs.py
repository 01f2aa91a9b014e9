"""What a run of digits is: digit groups joined by spaces, dots, commas or dashes read as one number ("482 913",
"001.234.567.890", "4-8-2-9-1-3"), split where a date ends it, and classified by its length, its shape and the words
of its clause (cues.py) into a placeholder, or kept (amounts, dates, years, house numbers, dossier and receipt
numbers, office landlines, public hotlines). Standard library only (see bot/core/privacy/__init__.py).
"""

from __future__ import annotations

import re

from bot.core.privacy.cues import (
    _ACCENTED_UNITS,
    _ACCOUNT_WORDS,
    _ADDRESS_AFTER,
    _CURRENCY,
    _RECEIPTS,
    _UNITS,
    ACCOUNT,
    AMOUNT,
    DATE,
    ID_CUE,
    PHONE_CUE,
    PUBLIC,
    SECRET,
    _Context,
    _context,
)
from bot.core.privacy.placeholders import CARD, CODE, ID_NUMBER, LONG_NUMBER, OLD_ID, PHONE

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
