"""Lookup tables from plain, space-less names to places, built once from the package's data and cached.

Every name is indexed without its type word ("hoankiem" for Phường Hoàn Kiếm): the resolver strips the type word
a resident typed and compares it with the unit's own type separately, so "xã Hoàn Kiếm" still finds the phường,
only with less confidence than "phường Hoàn Kiếm".
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
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


def build(folder: Path | None = None) -> Gazetteer:
    """Read the package data and index every name (about 0.3 s; use `gazetteer()` for the cached copy)."""
    folder = folder or source.package_dir()
    new_units, old_units = source.new_units(folder), source.old_units(folder)

    provinces: dict[int, Province] = {}
    province_units: dict[int, source.NewUnit] = {}
    communes: dict[int, Commune] = {}
    by_key: dict[tuple[str, str], Commune] = {}
    commune_names: dict[str, list[Commune]] = defaultdict(list)
    longest = 5  # "thanh pho ho chi minh"
    for unit in new_units:
        province = provinces.setdefault(unit.province_code, Province(unit.province_code, unit.province))
        province_units.setdefault(unit.province_code, unit)
        commune = Commune(unit.code, unit.name, province, _kind(unit.name, COMMUNE_TYPES),
                          _spelling(unit.name, COMMUNE_TYPES))
        communes[unit.code] = by_key[(unit.province_key, unit.key)] = commune
        commune_names[_bare(unit.name, COMMUNE_TYPES)].append(commune)
        longest = max(longest, _size(unit.name))

    province_names: dict[str, list[Province]] = defaultdict(list)
    for code, unit in province_units.items():
        extra = {_key(name) for name in EXTRA_PROVINCE_NAMES.get(code, ())}
        for name in {_bare(unit.province, PROVINCE_TYPES), _key(unit.province_short), *unit.province_aliases, *extra}:
            province_names[name].append(provinces[code])

    became: dict[str, tuple[Commune, ...]] = {}
    for conversion in source.conversions(folder):
        targets = tuple(by_key[(conversion.new_province_key, k)] for k in conversion.new_keys)
        became[conversion.old_key] = tuple(dict.fromkeys(became.get(conversion.old_key, ()) + targets))

    old_commune_names: dict[str, list[OldCommune]] = defaultdict(list)
    district_parts: dict[tuple[int, int], Counter[Commune]] = defaultdict(Counter)
    district_labels: dict[tuple[int, int], str] = {}
    district_names: dict[str, set[tuple[int, int]]] = defaultdict(set)
    old_province_parts: dict[int, Counter[Province]] = defaultdict(Counter)
    old_province_labels: dict[int, str] = {}
    old_province_aliases: dict[int, set[str]] = defaultdict(set)
    for unit in old_units:
        district = (unit.province_code, unit.district_code)
        targets = became.get(unit.converter_key, ())
        district_parts[district].update(targets)
        district_labels[district] = f"{unit.district}, {unit.province}"
        for name in {_bare(unit.district, DISTRICT_TYPES)} | _alias_keys(
                unit.district_aliases, (*DISTRICT_TYPES, "tx", "tp")):
            district_names[name].add(district)
        old_province_parts[unit.province_code].update(t.province for t in targets)
        old_province_labels[unit.province_code] = unit.province
        old_province_aliases[unit.province_code].update(unit.province_aliases)
        if unit.code is None:  # an island district without communes (Côn Đảo, Lý Sơn...): named as a district only
            continue
        old = OldCommune(f"{unit.name}, {unit.district}, {unit.province}", _kind(unit.name, COMMUNE_TYPES),
                         district, unit.province_code, targets, _spelling(unit.name, COMMUNE_TYPES))
        longest = max(longest, _size(unit.name), _size(unit.district))
        for name in {_bare(unit.name, COMMUNE_TYPES)} | _alias_keys(unit.aliases, COMMUNE_TYPES):
            old_commune_names[name].append(old)

    districts = {
        d: OldDistrict(d, district_labels[d], tuple(c for c, _ in parts.most_common()),
                       _spelling(district_labels[d].split(",")[0], DISTRICT_TYPES))
        for d, parts in district_parts.items()
    }
    current = {_key(p.name) for p in provinces.values()}
    old_province_names: dict[str, list[OldProvince]] = defaultdict(list)
    for code, label in old_province_labels.items():
        if _key(label) in current:
            continue
        old = OldProvince(code, label, old_province_parts[code].most_common(1)[0][0])
        extra = {_key(n) for n in OLD_PROVINCE_NAMES.get(label, ())} | old_province_aliases[code]
        for name in {_bare(label, PROVINCE_TYPES)} | extra:
            old_province_names[name].append(old)

    _key.cache_clear()
    _size.cache_clear()
    return Gazetteer(
        version=source.version(),
        provinces=provinces,
        communes=communes,
        commune_names=_freeze(commune_names),
        old_commune_names=_freeze(old_commune_names),
        district_names={n: tuple(districts[d] for d in sorted(ds)) for n, ds in district_names.items()},
        province_names=_freeze(province_names),
        old_province_names=_freeze(old_province_names),
        longest_name=longest,
    )


@functools.cache
def gazetteer() -> Gazetteer:
    """The tables, built on first use (the action server's first commune question) and kept for the process."""
    return build()
