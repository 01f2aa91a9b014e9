"""Lookup tables from plain, space-less names to places, built once from the package's data and cached.

Every name is indexed without its type word ("hoankiem" for Phường Hoàn Kiếm): the resolver strips the type word
a resident typed and compares it with the unit's own type separately, so "xã Hoàn Kiếm" still finds the phường,
only with less confidence than "phường Hoàn Kiếm".
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bot.places import source
from bot.places.model import Commune, OldCommune, OldDistrict, OldProvince, Province
from bot.places.words import COMMUNE_TYPES, DISTRICT_TYPES, PROVINCE_TYPES, key, spelling, tokens, without_type

T = TypeVar("T")

# Names residents use that the package does not list, by province code. Keys are compared space-less, so
# "tp hcm" and "tphcm" both reach 79 (through "hcm" after the type word, or this list).
EXTRA_PROVINCE_NAMES: dict[int, tuple[str, ...]] = {
    1: ("tphn", "ha noi"),
    46: ("thua thien hue", "tth"),  # the province's name until 2025
    66: ("dac lac", "daklac"),
    79: ("tphcm", "hcmc", "sai gon", "sg", "tp ho chi minh"),
    48: ("tp da nang",),
}
OLD_PROVINCE_NAMES: dict[str, tuple[str, ...]] = {"Tỉnh Bà Rịa - Vũng Tàu": ("brvt", "ba ria vung tau")}


@dataclass(frozen=True)
class Gazetteer:
    """All names of all places, each name mapped to every place it may mean."""

    version: str  # the package version the tables come from
    provinces: dict[int, Province]
    communes: dict[int, Commune]
    commune_names: dict[str, tuple[Commune, ...]]
    old_commune_names: dict[str, tuple[OldCommune, ...]]
    district_names: dict[str, tuple[OldDistrict, ...]]
    province_names: dict[str, tuple[Province, ...]]
    old_province_names: dict[str, tuple[OldProvince, ...]]  # only names that are no longer a current province's
    longest_name: int  # in tokens, type word included: how far the resolver looks ahead


# Data names repeat (a district's name on each of its communes' rows): memoised while building, cleared after.
_key = functools.lru_cache(maxsize=65536)(key)
_size = functools.lru_cache(maxsize=65536)(lambda name: len(tokens(name)))


def _kind(full_name: str, types: tuple[str, ...]) -> str:
    """The plain type word a name starts with ("Xã Vĩnh Hòa" -> "xa"). Taken from the name, not from the package's
    type column, which disagrees with the name for a few communes (1.0.4: Xã Vĩnh Hòa in Hải Phòng says Phường)."""
    plain = _key(full_name)
    return next((word for word in types if plain.startswith(word) and len(plain) > len(word)), "")


def _bare(full_name: str, types: tuple[str, ...]) -> str:
    """The space-less name without its type word: "Quận 1" -> "1"; "Xã Ngũ Hiệp" -> "nguhiep"."""
    plain = _key(full_name)
    return plain[len(_kind(full_name, types)):]


def _spelling(full_name: str, types: tuple[str, ...]) -> str:
    """The name with its diacritics and without its type word: "Xã Văn Lăng" -> "vănlăng"."""
    words = full_name.split()
    type_words = 2 if _kind(full_name, types) in ("dackhu", "thitran", "thanhpho", "thixa", "thudo") else 1
    return spelling(" ".join(words[type_words:]))


def _alias_keys(aliases: tuple[str, ...], types: tuple[str, ...]) -> set[str]:
    """The package's aliases are space-less and sometimes typed ("phuongnguyentrungtruc"): bare forms only."""
    return {without_type(a, types) or a for a in aliases}


def _freeze(table: dict[str, list[T]]) -> dict[str, tuple[T, ...]]:
    return {name: tuple(dict.fromkeys(places)) for name, places in table.items()}


@dataclass
class _Current:
    """The current map, indexed by name."""

    provinces: dict[int, Province] = field(default_factory=dict)
    communes: dict[int, Commune] = field(default_factory=dict)
    by_key: dict[tuple[str, str], Commune] = field(default_factory=dict)  # the package's (province, commune) keys
    commune_names: dict[str, list[Commune]] = field(default_factory=lambda: defaultdict(list))
    province_names: dict[str, list[Province]] = field(default_factory=lambda: defaultdict(list))
    longest: int = 5  # "thanh pho ho chi minh"


def _index_current(units: list[source.NewUnit]) -> _Current:
    out = _Current()
    first_of_province: dict[int, source.NewUnit] = {}
    for unit in units:
        province = out.provinces.setdefault(unit.province_code, Province(unit.province_code, unit.province))
        first_of_province.setdefault(unit.province_code, unit)
        commune = Commune(unit.code, unit.name, province, _kind(unit.name, COMMUNE_TYPES),
                          _spelling(unit.name, COMMUNE_TYPES))
        out.communes[unit.code] = out.by_key[(unit.province_key, unit.key)] = commune
        out.commune_names[_bare(unit.name, COMMUNE_TYPES)].append(commune)
        out.longest = max(out.longest, _size(unit.name))
    for code, unit in first_of_province.items():
        extra = {_key(name) for name in EXTRA_PROVINCE_NAMES.get(code, ())}
        for name in {_bare(unit.province, PROVINCE_TYPES), _key(unit.province_short), *unit.province_aliases, *extra}:
            out.province_names[name].append(out.provinces[code])
    return out


def _successors(folder: Path, by_key: dict[tuple[str, str], Commune]) -> dict[str, tuple[Commune, ...]]:
    """Old commune (the package's key) -> the new communes it became, the usual successor first."""
    became: dict[str, tuple[Commune, ...]] = {}
    for conversion in source.conversions(folder):
        targets = tuple(by_key[(conversion.new_province_key, k)] for k in conversion.new_keys)
        became[conversion.old_key] = tuple(dict.fromkeys(became.get(conversion.old_key, ()) + targets))
    return became


@dataclass
class _Old:
    """The old map, indexed by name."""

    commune_names: dict[str, list[OldCommune]] = field(default_factory=lambda: defaultdict(list))
    district_names: dict[str, tuple[OldDistrict, ...]] = field(default_factory=dict)
    province_names: dict[str, list[OldProvince]] = field(default_factory=lambda: defaultdict(list))
    longest: int = 0


def _index_old(units: list[source.OldUnit], became: dict[str, tuple[Commune, ...]],
               current: dict[int, Province]) -> _Old:
    out = _Old()
    district_parts: dict[tuple[int, int], Counter[Commune]] = defaultdict(Counter)
    district_labels: dict[tuple[int, int], str] = {}
    district_names: dict[str, set[tuple[int, int]]] = defaultdict(set)
    province_parts: dict[int, Counter[Province]] = defaultdict(Counter)
    province_labels: dict[int, str] = {}
    province_aliases: dict[int, set[str]] = defaultdict(set)
    for unit in units:
        district = (unit.province_code, unit.district_code)
        targets = became.get(unit.converter_key, ())
        district_parts[district].update(targets)
        district_labels[district] = f"{unit.district}, {unit.province}"
        for name in {_bare(unit.district, DISTRICT_TYPES)} | _alias_keys(
                unit.district_aliases, (*DISTRICT_TYPES, "tx", "tp")):
            district_names[name].add(district)
        province_parts[unit.province_code].update(t.province for t in targets)
        province_labels[unit.province_code] = unit.province
        province_aliases[unit.province_code].update(unit.province_aliases)
        if unit.code is None:  # an island district without communes (Côn Đảo, Lý Sơn...): named as a district only
            continue
        commune = OldCommune(f"{unit.name}, {unit.district}, {unit.province}", _kind(unit.name, COMMUNE_TYPES),
                             district, unit.province_code, targets, _spelling(unit.name, COMMUNE_TYPES))
        out.longest = max(out.longest, _size(unit.name), _size(unit.district))
        for name in {_bare(unit.name, COMMUNE_TYPES)} | _alias_keys(unit.aliases, COMMUNE_TYPES):
            out.commune_names[name].append(commune)

    districts = {}
    for d, parts in district_parts.items():
        name = district_labels[d].split(",")[0]
        districts[d] = OldDistrict(d, district_labels[d], tuple(c for c, _ in parts.most_common()),
                                   _kind(name, DISTRICT_TYPES), _spelling(name, DISTRICT_TYPES))
    out.district_names = {n: tuple(districts[d] for d in sorted(ds)) for n, ds in district_names.items()}
    current_names = {_key(p.name) for p in current.values()}
    for code, label in province_labels.items():
        if _key(label) in current_names:
            continue
        province = OldProvince(code, label, province_parts[code].most_common(1)[0][0])
        extra = {_key(n) for n in OLD_PROVINCE_NAMES.get(label, ())} | province_aliases[code]
        for name in {_bare(label, PROVINCE_TYPES)} | extra:
            out.province_names[name].append(province)
    return out


def build(folder: Path | None = None) -> Gazetteer:
    """Read the package data and index every name (about 0.5 s; use `gazetteer()` for the cached copy)."""
    folder = folder or source.package_dir()
    current = _index_current(source.new_units(folder))
    old = _index_old(source.old_units(folder), _successors(folder, current.by_key), current.provinces)
    _key.cache_clear()
    _size.cache_clear()
    return Gazetteer(
        version=source.version(),
        provinces=current.provinces,
        communes=current.communes,
        commune_names=_freeze(current.commune_names),
        old_commune_names=_freeze(old.commune_names),
        district_names=old.district_names,
        province_names=_freeze(current.province_names),
        old_province_names=_freeze(old.province_names),
        longest_name=max(current.longest, old.longest),
    )


@functools.cache
def gazetteer() -> Gazetteer:
    """The tables, built on first use (the action server's first commune question) and kept for the process."""
    return build()
