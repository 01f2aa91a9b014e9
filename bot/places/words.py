"""How a resident's words about a place become comparable tokens.

Residents type "P.15, Q.Tân Bình, tp hcm", "tt La Hà", "xa ngu hiep" or "Phường Hoàn-Kiếm": case, diacritics,
punctuation and the usual abbreviations of the type words are folded away here, so that "p15" and "Phường 15"
give the same tokens. Lookups then join a run of tokens without spaces ("hoan kiem" -> "hoankiem"), the form the
package's own alias keywords use, which also matches a name typed as one word ("hoankiem", "tphcm").
"""

from __future__ import annotations

import re

from bot.core.text import deaccent, nfc

# Abbreviated type words -> the plain words they stand for. Only as whole tokens: "p" in "p.15" or "p hoan kiem".
TYPE_ABBREVIATIONS: dict[str, str] = {
    "p": "phuong", "f": "phuong",  # "f15" is how Saigon residents write phường 15
    "x": "xa",
    "tt": "thi tran", "ttr": "thi tran",
    "q": "quan",
    "h": "huyen",
    "tx": "thi xa",
    "tp": "thanh pho",
}  # not "dk": in chat it means "được" far more often than "đặc khu" (bot/core/text.py)

# Type words, plain and space-less, as they open a unit's name. Longest first so "thanhpho" is tried before "thi".
COMMUNE_TYPES = ("dackhu", "thitran", "phuong", "xa")
DISTRICT_TYPES = ("thanhpho", "thixa", "huyen", "quan")
PROVINCE_TYPES = ("thanhpho", "thudo", "tinh")

_NUMBERED = re.compile(r"^(p|f|q|x|h)(\d+)$")  # "p15", "q1"
_TOKEN = re.compile(r"[a-z0-9]+")
_BREAK = re.compile(r"[,;:()\[\]\n]+")  # where one part of an address ends; not "." (P.15) nor "-" (Bà Rịa - Vũng Tàu)
# Old-style tone marks on a final "oa", "oe", "uy" ("Hoà", "Thuỷ") -> the style of the official lists ("Hòa").
_OLD_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe",
              "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}
_OLD_TONE = re.compile("(" + "|".join(_OLD_TONES) + r")(?!\w)")


def parts(text: str) -> list[list[str]]:
    """The tokens of each comma-separated part of a text: a name never runs across a comma, so in
    "xã Tân An, thành phố Hải Phòng" the "thành" cannot end the name of an old "Xã Tân An Thạnh"."""
    return [found for part in _BREAK.split(str(text or "")) if (found := tokens(part))]


def tokens(text: str) -> list[str]:
    """Plain tokens of a text with the type abbreviations spelt out: "P.15, Q.1, TP.HCM" ->
    ["phuong", "15", "quan", "1", "thanh", "pho", "hcm"]. Numbers lose their leading zeros ("phường 05")."""
    out: list[str] = []
    for raw in _TOKEN.findall(deaccent(nfc(str(text or ""))).lower()):
        numbered = _NUMBERED.match(raw)
        if numbered:
            out.extend((*TYPE_ABBREVIATIONS[numbered.group(1)].split(), numbered.group(2).lstrip("0") or "0"))
        elif raw in TYPE_ABBREVIATIONS:
            out.extend(TYPE_ABBREVIATIONS[raw].split())
        elif raw.isdigit():
            out.append(raw.lstrip("0") or "0")
        else:
            out.append(raw)
    return out


def key(text: str) -> str:
    """The space-less plain form of a name, the way lookups compare it: "Phường Hoàn Kiếm" -> "phuonghoankiem"."""
    return "".join(tokens(text))


def spelling(text: str) -> str:
    """Lower case with diacritics, letters and digits only, tone marks in one style: "Văn Lăng" -> "vănlăng".
    Tells apart names that differ only by their marks (Xã Văn Lang and Xã Văn Lăng, both in Thái Nguyên) when the
    resident typed the marks."""
    lowered = _OLD_TONE.sub(lambda m: _OLD_TONES[m.group(1)], nfc(str(text or "")).lower())
    return "".join(re.findall(r"[^\W_]+", lowered))


def without_type(plain_key: str, types: tuple[str, ...]) -> str:
    """A key without the type word it starts with ("phuonghoankiem" -> "hoankiem"), or "" if it has none."""
    for word in types:
        if plain_key.startswith(word) and len(plain_key) > len(word):
            return plain_key[len(word):]
    return ""


_SYLLABLE = re.compile(r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]+(ng|nh|ch|[cmnpt])?$")


def is_syllable(token: str) -> bool:
    """Whether a plain token can be one Vietnamese syllable ("thanh", "lang") rather than a glued name ("hoankiem",
    "pleiku"). A one-syllable name is too common a word to match without its type word ("xã Láng", not "lang")."""
    return bool(_SYLLABLE.match(token))
