"""The administrative map as the `vietnamadminunits` package ships it: the 34 provinces and 3,321 communes since
1/7/2025, the 63 provinces and 10,040 communes before, and which new commune(s) each old one became.

We read the package's data files (an SQLite database and the converter's JSON) and never import its modules:
importing them pulls in shapely and geopy (half a second, ~55 MB), and its `convert_address` geocodes any address
with extra words through an online service, which would send a resident's words out of the machine. The files'
layout is tied to the pinned version (requirements-actions.txt); `tests/test_places.py` fails if it moves.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "vietnamadminunits"
DATABASE = "data/dataset.db"  # tables admin_units (34 provinces) and admin_units_legacy (63 provinces)
CONVERTER = "data/converter_2025.json"  # old commune key -> new commune key(s), per new province


class PlacesDataMissing(RuntimeError):
    """The package (or one of its data files) is not installed where we expect it."""


@dataclass(frozen=True)
class NewUnit:
    """One commune of the current map, with its province."""

    province_code: int
    province: str  # "Thành phố Hà Nội"
    province_short: str  # "Hà Nội"
    province_aliases: tuple[str, ...]  # the package's own abbreviations, space-less ("hn", "hcm")
    code: int
    name: str  # "Phường Hoàn Kiếm"
    short: str  # "Hoàn Kiếm"
    kind: str  # "Phường", "Xã" or "Đặc khu"
    province_key: str  # the package's key of the province ("thanhphohanoi")
    key: str  # the package's key of the commune within its province ("phuonghoankiem")


@dataclass(frozen=True)
class OldUnit:
    """One commune of the map before 1/7/2025 (or, for the five island districts without communes, the district)."""

    province_code: int
    province: str
    province_short: str
    province_aliases: tuple[str, ...]
    district_code: int
    district: str  # "Huyện Thanh Trì"
    district_short: str
    district_kind: str  # "Quận", "Huyện", "Thị xã" or "Thành phố"
    district_aliases: tuple[str, ...]  # older names of merged districts, space-less
    code: int | None  # None for an island district without communes
    name: str  # "Xã Ngũ Hiệp" ("" for an island district)
    short: str
    kind: str  # "Xã", "Phường", "Thị trấn" ("" for an island district)
    aliases: tuple[str, ...]  # names of communes merged into this one before 2025, space-less
    converter_key: str  # "thanhphohanoi_huyenthanhtri_xanguhiep"


@dataclass(frozen=True)
class Conversion:
    """Which new commune(s) an old one became: all of them, the package's default first when it was split."""

    old_key: str
    new_province_key: str
    new_keys: tuple[str, ...]


def package_dir() -> Path:
    """Where the package is installed, found without importing it (see the module docstring)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PlacesDataMissing(f"{PACKAGE} is not installed: pip install -r requirements-actions.txt")
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name in (DATABASE, CONVERTER):
        if not (folder / name).is_file():
            raise PlacesDataMissing(f"{folder / name} is missing: is {PACKAGE} the version pinned in requirements?")
    return folder


def version() -> str:
    """The installed package's version (the data's version: the package ships code and data together)."""
    return importlib.metadata.version(PACKAGE)


def _aliases(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


def _rows(folder: Path, query: str) -> Iterator[sqlite3.Row]:
    uri = f"file:{folder / DATABASE}?mode=ro&immutable=1"  # site-packages may be read-only; nothing writes it
    with closing(sqlite3.connect(uri, uri=True)) as db:
        db.row_factory = sqlite3.Row
        yield from db.execute(query)


def new_units(folder: Path) -> list[NewUnit]:
    """The communes of the current map."""
    return [
        NewUnit(
            province_code=int(r["provinceCode"]), province=r["province"], province_short=r["provinceShort"],
            province_aliases=_aliases(r["provinceAlias"]), code=int(r["wardCode"]), name=r["ward"],
            short=r["wardShort"], kind=r["wardType"], province_key=r["provinceKey"], key=r["wardKey"],
        )
        for r in _rows(folder, "SELECT provinceCode, province, provinceShort, provinceAlias, wardCode, ward, wardShort,"
                               " wardType, provinceKey, wardKey FROM admin_units ORDER BY provinceCode, wardCode")
    ]


def old_units(folder: Path) -> list[OldUnit]:
    """The communes of the map before 1/7/2025."""
    return [
        OldUnit(
            province_code=int(r["provinceCode"]), province=r["province"], province_short=r["provinceShort"],
            province_aliases=_aliases(r["provinceAlias"]), district_code=int(r["districtCode"]),
            district=r["district"], district_short=r["districtShort"], district_kind=r["districtType"],
            district_aliases=_aliases(r["districtAlias"]), code=int(r["wardCode"]) if r["wardCode"] else None,
            name=r["ward"] or "", short=r["wardShort"] or "", kind=r["wardType"] or "",
            aliases=_aliases(r["wardAlias"]),
            converter_key=f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}",
        )
        for r in _rows(folder, "SELECT provinceCode, province, provinceShort, provinceAlias, districtCode, district,"
                               " districtShort, districtType, districtAlias, wardCode, ward, wardShort, wardType,"
                               " wardAlias, provinceKey, districtKey, wardKey FROM admin_units_legacy"
                               " ORDER BY provinceCode, districtCode, wardCode")
    ]


def conversions(folder: Path) -> list[Conversion]:
    """Old commune -> new commune(s). Whole merges come from DICT_PROVINCE_WARD_NO_DIVIDED; an old commune split
    between several new ones from DICT_PROVINCE_WARD_DIVIDED, where the package flags its usual ("default") one."""
    data = json.loads((folder / CONVERTER).read_text(encoding="utf-8"))
    out = [
        Conversion(old_key, province_key, (new_key,))
        for province_key, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
        for new_key, old_keys in wards.items()
        for old_key in old_keys
    ]
    for province_key, splits in data["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in splits.items():
            ordered = sorted(parts, key=lambda part: not part["isDefaultNewWard"])
            out.append(Conversion(old_key, province_key, tuple(part["newWardKey"] for part in ordered)))
    return out
