"""The places a resident can name: the current provinces and communes, and the old (pre-7/2025) units that map
onto them. Plain values, shared by the tables that index them and the resolver that answers with them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Province:
    """A province or centrally-run city of the current (34-province) map."""

    code: int  # official code: 1 Hà Nội, 79 Hồ Chí Minh, 91 An Giang
    name: str  # "Thành phố Hà Nội", "Tỉnh An Giang"


@dataclass(frozen=True)
class Commune:
    """A commune-level unit (xã, phường, đặc khu) of the current map."""

    code: int  # official code, unique in the country
    name: str  # "Phường Hoàn Kiếm"
    province: Province
    kind: str  # its type word, plain: "phuong", "xa" or "dackhu"
    spelling: str = field(default="", compare=False)  # its name with diacritics, no type word: "hoànkiếm"

    @property
    def label(self) -> str:
        """Name and province, as the directory (contacts.yml) labels a commune: "Phường Hoàn Kiếm, Thành phố Hà Nội"."""
        return f"{self.name}, {self.province.name}"


@dataclass(frozen=True)
class OldCommune:
    """A commune before 1/7/2025 and what it became: one new commune, or several when it was split (the package's
    usual successor first)."""

    label: str  # "Xã Ngũ Hiệp, Huyện Thanh Trì, Thành phố Hà Nội"
    kind: str  # plain type word: "xa", "phuong", "thitran"
    district: tuple[int, int]  # (old province code, district code)
    old_province: int
    became: tuple[Commune, ...]
    spelling: str = field(default="", compare=False)


@dataclass(frozen=True)
class OldDistrict:
    """A district (quận, huyện, thị xã, provincial city) before 1/7/2025, and the new communes its area is in now."""

    key: tuple[int, int]  # (old province code, district code)
    label: str  # "Huyện Thanh Trì, Thành phố Hà Nội"
    became: tuple[Commune, ...]  # the successor of most of its communes first
    kind: str = ""  # its type word, plain: "quan", "huyen", "thixa", "thanhpho"
    spelling: str = field(default="", compare=False)


@dataclass(frozen=True)
class OldProvince:
    """A province name no longer on the map ("Tỉnh Hải Dương") and the province it is part of now."""

    code: int
    name: str
    became: Province
