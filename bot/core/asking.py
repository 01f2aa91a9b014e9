"""Find the ask inside a resident's message: the clause that asks, without greetings, stories and politeness.

Residents write "Cháu ơi, bà năm nay 70 tuổi, hôm trước con trai đưa lên công an xã ... Cho bà hỏi giờ
quên mật khẩu thì làm thế nào ạ?". Searched whole, the incidental words (the police station, the son, the
phone) outweigh the ask; and stock phrases such as "hiện nay được quy định thế nào" match whichever entry
happens to use them. This module splits the message into clauses, picks the asking one, and strips
the phrases that carry no topic, so search can weigh the ask most. Pure functions, no search imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import deaccent, nfc

# Phrases that carry no topic (matched on de-accented, lower-case text, as whole words): politeness,
# forms of address, legal-question boilerplate. Longest first, so "cho toi hoi" goes before "cho".
FILLER_PHRASES = sorted(
    {
        "xin chao", "chao ban", "chao em", "chao anh", "chao chi", "chao ad", "chao admin", "chao chau",
        "chau oi", "em oi", "anh oi", "chi oi", "ad oi", "admin oi", "ban oi", "co oi", "chu oi", "bac oi",
        "moi nguoi oi", "mn oi", "ca nha oi",
        "cho toi hoi", "cho em hoi", "cho chau hoi", "cho minh hoi", "cho bac hoi", "cho ba hoi", "cho ong hoi",
        "cho co hoi", "cho chu hoi", "cho chi hoi", "cho anh hoi", "cho hoi", "xin hoi", "xin duoc hoi",
        "toi muon hoi", "em muon hoi", "minh muon hoi", "toi xin hoi", "em xin hoi", "nho ban tu van",
        "mong duoc giai dap", "mong nhan duoc phan hoi", "mong duoc tu van", "nho tu van giup",
        "xin cam on", "cam on nhieu", "cam on ban", "cam on ad", "em cam on", "toi cam on", "chau cam on", "cam on",
        "xin tran trong cam on", "tran trong cam on",
        "hien nay", "hien tai", "theo quy dinh hien hanh", "theo quy dinh moi nhat", "theo quy dinh moi",
        "theo quy dinh cua phap luat", "theo quy dinh", "phap luat quy dinh", "duoc quy dinh nhu the nao",
        "duoc quy dinh the nao", "quy dinh nhu the nao", "quy dinh ra sao", "duoc quy dinh ra sao",
        "nhu the nao a", "vay a", "nhe", "a",
    },
    key=len,
    reverse=True,
)
_FILLER = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in FILLER_PHRASES) + r")\b")

# Words that mark a clause as asking (de-accented). "khong" alone is too common in stories ("không
# có thời gian") to count; it counts at the end of a clause ("... được không").
ASK_MARKERS = re.compile(
    r"\b(?:nhu the nao|the nao|ra sao|lam sao|sao|lam gi|gi|bao lau|bao nhieu|bao gio|khi nao|o dau|dau|"
    r"nao|co phai|phai khong|duoc khong|dc khong|dc ko|duoc ko|hay khong|hay chua|chua|khong a|ko a|k a|"
    r"co can|co duoc|co bi|co mat|can gi|lam the nao|lam ntn|ntn|the nao a|ai)\b"
)
ASK_LEADS = re.compile(
    r"\b(?:cho (?:toi|em|chau|minh|bac|ba|ong|co|chu|chi|anh) hoi|cho hoi|xin hoi|muon hoi|hoi la)\b"
)
_CLAUSES = re.compile(r"(?:(?<!\d)\.|\.(?!\d)|[?!;\n])+")  # "200.000 đồng" is one number, not two clauses
_QUESTION_END = re.compile(r"(?:\bkhong|\bko|\bk|\bchua|\bha|\ba)\s*$")
SHORT_WORDS = 14  # a message this short is its own ask


@dataclass(frozen=True)
class Ask:
    """The asking part of a message, and the message with stock phrases removed."""

    ask: str  # the clause that asks (as typed, fillers removed); the whole message when it is short
    cleaned: str  # the whole message, fillers removed
    long: bool  # the message was long enough that the ask is a part of it


def strip_fillers(text: str) -> str:
    """The text without politeness and boilerplate, as typed (accents kept) where words survive."""
    typed = nfc(text).split()
    plain = [deaccent(t).lower() for t in typed]
    joined = " ".join(re.sub(r"[^\w]", "", p) for p in plain)
    keep = [True] * len(typed)
    # map character offsets of `joined` back to word positions
    starts, pos = [], 0
    for word in joined.split(" "):
        starts.append(pos)
        pos += len(word) + 1
    for match in _FILLER.finditer(joined):
        for i, start in enumerate(starts):
            if match.start() <= start < match.end():
                keep[i] = False
    return " ".join(t for t, k in zip(typed, keep, strict=True) if k)


def _is_asking(clause: str) -> bool:
    plain = deaccent(clause).lower()
    return "?" in clause or bool(
        ASK_MARKERS.search(plain) or ASK_LEADS.search(plain) or _QUESTION_END.search(plain.strip(" ?.!"))
    )


def find_ask(text: str) -> Ask:
    """Split off the asking clause of a message (the last one that asks, or the one after "xin hỏi")."""
    cleaned = strip_fillers(text)
    if len(text.split()) <= SHORT_WORDS:
        return Ask(cleaned or text, cleaned or text, long=False)
    clauses = [c.strip() for c in _CLAUSES.split(text) if c.strip()]
    plain_clauses = [deaccent(c).lower() for c in clauses]
    # "... Xin hỏi: tôi có phải ...": the words after the lead are the ask, together with what follows
    for i in range(len(clauses) - 1, -1, -1):
        lead = ASK_LEADS.search(plain_clauses[i])
        if lead:
            after = clauses[i].split()[len(plain_clauses[i][: lead.end()].split()):]
            parts = [" ".join(after), *clauses[i + 1:]]
            ask = strip_fillers(" ".join(p for p in parts if p))
            if len(ask.split()) >= 3:
                return Ask(ask, cleaned, long=True)
    # every asking clause counts ("... có phải thi lại không? Đổi qua mạng cần gì?"): the story between
    # them does not
    asking = [i for i, c in enumerate(clauses) if _is_asking(c)] or [len(clauses) - 1]
    chosen = [clauses[i] for i in asking]
    if len(" ".join(chosen).split()) < 6 and asking[0] > 0:  # "Làm sao ạ?" alone says nothing: take the clause before
        chosen = [clauses[asking[0] - 1], *chosen]
    ask = strip_fillers(" ".join(chosen))
    return Ask(ask or cleaned, cleaned, long=True)


_JOINS = re.compile(
    r"\s*(?:\?|;|\bvà\b|\bva\b|\bvới lại\b|\bvoi lai\b|\bcòn\b|\bcon nua\b|\bcũng như\b)\s*", re.IGNORECASE
)


def split_asks(text: str) -> list[str]:
    """The separate asks of a message that joins two ("đổi số điện thoại và quên mật khẩu thì làm sao"):
    its parts around "và", "với lại", "còn", "?" that are at least two words each; [] for one ask."""
    if len(text.split()) > 2 * SHORT_WORDS:  # a long story is searched whole (find_ask), not cut in pieces
        return []
    parts = [p.strip(" ,.!") for p in _JOINS.split(text)]
    parts = [p for p in parts if len(p.split()) >= 2]
    return parts if len(parts) >= 2 else []
