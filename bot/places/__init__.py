"""Places of the current (since 1/7/2025) two-tier map: resolve a resident's words into a commune and its province.

Data: the `vietnamadminunits` package (MIT), read once and indexed lazily; see docs/places.md. Pure logic: no
network, no writes; the first call builds the tables (~0.3 s), later calls take well under a millisecond.
"""

from bot.places.model import Commune, OldCommune, OldDistrict, OldProvince, Province
from bot.places.resolve import Resolution, resolve
from bot.places.tables import Gazetteer, gazetteer

__all__ = [
    "Commune", "Gazetteer", "OldCommune", "OldDistrict", "OldProvince", "Province", "Resolution", "gazetteer",
    "resolve",
]
