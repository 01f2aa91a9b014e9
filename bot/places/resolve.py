"""From a resident's free text ("tôi ở xã Ngũ Hiệp, huyện Thanh Trì, HN ạ") to a commune of the current map.

1. Every run of tokens that names something is found: a current commune, an old (pre-7/2025) commune, an old
   district, a province (current or old). A run may name several kinds ("tân bình": a phường of Hồ Chí Minh, an old
   quận, old communes elsewhere); a type word typed before it ("phường", "quận", "tỉnh") narrows it down.
   A run never crosses a comma.
2. Each run that can be a commune is tried as the commune; the longest runs that do not overlap it (nor each
   other) are read as its district and province ("huyện Thanh Trì" is a district, not the new Xã Thanh Trì). A named
   province is a hard filter; a named old district keeps only the old communes of that district.
3. The candidates are ranked: the reading that explains more of the text first ("tỉnh Hải Dương" is a province,
   not the old Phường Tĩnh Hải), then an old address that fits its district and old province, then a type word that
   fits, then the name spelt with the diacritics typed, then a current name over an old one, then the longer run.
   The best tier is the answer: one commune, or several (ask the resident, best first).
4. When no commune reading explains as much as the plain one (longest runs, no commune), the text named no commune:
   an old district gives the communes its area is in now, a province alone the province (ask for the commune).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.text import deaccent
from bot.places.model import Commune, OldCommune, OldDistrict, OldProvince, Province
from bot.places.tables import Gazetteer, gazetteer
from bot.places.words import is_syllable, parts, spelling

MAX_CHARS = 300  # a pasted paragraph is cut here: the commune is named early, and the time stays bounded

# Type words as tokens, with the plain type they stand for.
_COMMUNE_WORDS = {("dac", "khu"): "dackhu", ("thi", "tran"): "thitran", ("phuong",): "phuong", ("xa",): "xa"}
_DISTRICT_WORDS = {("thanh", "pho"): "thanhpho", ("thi", "xa"): "thixa", ("huyen",): "huyen", ("quan",): "quan"}
_PROVINCE_WORDS = {("thanh", "pho"): "thanhpho", ("thu", "do"): "thudo", ("tinh",): "tinh"}
_NOT_COMMUNE = set(_DISTRICT_WORDS) | set(_PROVINCE_WORDS)
_TWO_WORD_TYPES = {words for words in (*_COMMUNE_WORDS, *_NOT_COMMUNE) if len(words) == 2}


@dataclass(frozen=True)
class Resolution:
    """What a resident's words name.

    `communes`: one (found), several (ask back with buttons, best first), or none. `province`: the province the text
    named or all candidates share (with no commune: ask which commune of it). `old_names`: the pre-7/2025 units the
    answer was reached through, to tell the resident "xã Ngũ Hiệp cũ nay thuộc Xã Thanh Trì".
    """

    communes: tuple[Commune, ...] = ()
    province: Province | None = None
    old_names: tuple[str, ...] = field(default=())

    @property
    def commune(self) -> Commune | None:
        """The commune, when exactly one fits."""
        return self.communes[0] if len(self.communes) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.communes) > 1


@dataclass
class _Run:
    """A run of tokens and everything it may name."""

    start: int
    end: int
    communes: list[tuple[Commune, str]] = field(default_factory=list)  # (commune, type word typed or "")
    old_communes: list[tuple[OldCommune, str]] = field(default_factory=list)
    districts: list[tuple[OldDistrict, str]] = field(default_factory=list)  # (district, type word typed or "")
    provinces: list[Province] = field(default_factory=list)
    old_provinces: list[OldProvince] = field(default_factory=list)

    def names_something(self) -> bool:
        return bool(self.communes or self.old_communes or self.districts or self.provinces or self.old_provinces)

    def overlaps(self, other: _Run) -> bool:
        return self.start < other.end and other.start < self.end


def _split_type(words: tuple[str, ...], types: dict[tuple[str, ...], str]) -> tuple[str, str] | None:
    """(type, space-less name) when the run starts with one of these type words and has a name after it."""
    for prefix, kind in types.items():
        if words[: len(prefix)] == prefix and len(words) > len(prefix):
            return kind, "".join(words[len(prefix):])
    return None


def _bare_ok(name: str) -> bool:
    """A name typed without its type word must be more than one ordinary syllable and not a bare number."""
    return not name.isdigit() and not is_syllable(name)


def _run(table: Gazetteer, words: tuple[str, ...], start: int) -> _Run:
    run = _Run(start, start + len(words))
    bare = "".join(words)
    typed = _split_type(words, _COMMUNE_WORDS)
    for kind, name in ([typed] if typed else []) + ([("", bare)] if _bare_ok(bare) else []):
        run.communes += [(c, kind) for c in table.commune_names.get(name, ())]
        run.old_communes += [(c, kind) for c in table.old_commune_names.get(name, ())]
    district = _split_type(words, _DISTRICT_WORDS)
    for kind, name in ([district] if district else []) + ([("", bare)] if _bare_ok(bare) else []):
        run.districts += [(d, kind) for d in table.district_names.get(name, ())]
    province = _split_type(words, _PROVINCE_WORDS)
    for name in ([province[1]] if province else []) + [bare]:
        run.provinces += table.province_names.get(name, ())
        run.old_provinces += table.old_province_names.get(name, ())
    if (run.provinces or run.old_provinces) and not typed:
        run.communes, run.old_communes = [], []  # "sài gòn", "huế" alone name the province, not the phường
    return run


def _runs(table: Gazetteer, text_parts: list[list[str]]) -> list[_Run]:
    """Every run of tokens (within one comma-separated part) that names something, longest first."""
    found: list[_Run] = []
    offset = 0
    for words in text_parts:
        for start in range(len(words)):
            if tuple(words[max(0, start - 1): start + 1]) in _TWO_WORD_TYPES:
                continue  # "xã" of "thị xã" is no commune's type word
            after_type = any(tuple(words[max(0, start - n): start]) in _NOT_COMMUNE for n in (1, 2))
            for end in range(start + 1, min(len(words), start + table.longest_name) + 1):
                run = _run(table, tuple(words[start:end]), offset + start)
                if after_type:  # "huyện Thanh Trì", "thị xã Nghĩa Lộ": the type word says it is no commune
                    run.communes, run.old_communes = [], []
                if run.names_something():
                    found.append(run)
        offset += len(words)
    return sorted(found, key=lambda r: (r.start - r.end, r.start))


def _context(found: list[_Run], taken: _Run | None = None) -> list[_Run]:
    """The longest runs that overlap neither `taken` nor each other: the rest of an address once one run is read
    as its commune ("huyện Thanh Trì" then is a district, not the new Xã Thanh Trì)."""
    chosen: list[_Run] = [taken] if taken else []
    for run in found:
        if not any(run.overlaps(kept) for kept in chosen):
            chosen.append(run)
    return [run for run in chosen if run is not taken]


Score = tuple[int, int, int, int, int, int]


def _candidates(run: _Run, others: list[_Run], said: str) -> dict[Commune, tuple[Score, str]]:
    """The current communes `run` may be, given what the other runs name, each with its score and the old unit
    it came through ("" for a current name). `said` is the text's spelling, to prefer the name spelt as typed."""
    named = {p.code for o in others for p in o.provinces} | {p.became.code for o in others for p in o.old_provinces}
    old_named = {p.code for o in others for p in o.old_provinces}
    districts = {d.key for o in others for d, _ in o.districts}
    length, covered = run.end - run.start, _covered([run, *others])
    out: dict[Commune, tuple[Score, str]] = {}

    def offer(commune: Commune, score: Score, via: str) -> None:
        if (not named or commune.province.code in named) and (commune not in out or out[commune][0] < score):
            out[commune] = (score, via)

    for commune, typed in run.communes:
        spelt = int(bool(said) and commune.spelling in said)
        offer(commune, (covered, 0, int(typed == commune.kind), spelt, 1, length), "")
    for old, typed in run.old_communes:
        if districts and old.district not in districts:
            continue
        evidence = int(old.district in districts) + int(old.old_province in old_named)
        for commune in old.became:
            spelt = int(bool(said) and old.spelling in said)
            offer(commune, (covered, evidence, int(typed == old.kind), spelt, 0, length), old.label)
    return out


def resolve(text: str, table: Gazetteer | None = None) -> Resolution:
    """The commune(s) of the current map that a resident's free text names (see the module docstring)."""
    table = table or gazetteer()
    text = str(text or "")[:MAX_CHARS]
    found = _runs(table, parts(text))
    said = spelling(text) if deaccent(text) != text else ""  # no diacritics typed: spelling tells nothing
    scored: dict[Commune, tuple[Score, str]] = {}
    for run in found:
        if run.communes or run.old_communes:
            for commune, (score, via) in _candidates(run, _context(found, run), said).items():
                if commune not in scored or scored[commune][0] < score:
                    scored[commune] = (score, via)
    longest = _context(found)  # the plain reading: longest runs first, no commune forced
    if scored:
        best = max(score for score, _ in scored.values())
        if best[0] >= _covered(longest) or any(r.communes or r.old_communes for r in longest):
            top = [c for c, (score, _) in scored.items() if score == best]  # dicts keep the successors' order
            shared = {c.province for c in top}
            return Resolution(tuple(top), next(iter(shared)) if len(shared) == 1 else None,
                              tuple(dict.fromkeys(scored[c][1] for c in top if scored[c][1])))
    return _without_commune(longest, said)


def _covered(runs: list[_Run]) -> int:
    return sum(run.end - run.start for run in runs)


def _without_commune(runs: list[_Run], said: str) -> Resolution:
    """No commune named ("tỉnh Hải Dương" is a province, not the old Phường Tĩnh Hải): the communes an old district
    named now covers, to choose from; else the province alone, to ask which commune of it."""
    named = {p for r in runs for p in r.provinces} | {p.became for r in runs for p in r.old_provinces}
    province = next(iter(named)) if len(named) == 1 else None
    typed = [(d, kind) for r in runs if not (r.provinces or r.old_provinces) for d, kind in r.districts]
    typed = [(d, kind) for d, kind in typed if not named or any(c.province in named for c in d.became)]
    districts = [d for d, kind in typed if kind and kind == d.kind] or [d for d, _ in typed]  # thị xã, not quận
    districts = [d for d in districts if said and d.spelling in said] or districts  # Thanh Trì, not Thạnh Trị
    communes = tuple(dict.fromkeys(c for d in districts for c in d.became if not named or c.province in named))
    shared = {c.province for c in communes}
    return Resolution(communes, next(iter(shared)) if len(shared) == 1 else province,
                      tuple(d.label for d in districts) if communes else ())
