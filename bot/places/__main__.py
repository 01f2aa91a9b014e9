"""`python -m bot.places [text ...]`: the data version and size, then what each text resolves to, with timings.

For an admin after upgrading the package (docs/places.md), and for anyone checking how a resident's answer reads.
"""

from __future__ import annotations

import sys
import time

from bot.places import gazetteer, resolve
from bot.places.source import PlacesDataMissing


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    start = time.perf_counter()
    try:
        table = gazetteer()
    except PlacesDataMissing as err:
        print(f"Lỗi: {err}", file=sys.stderr)
        return 2
    olds = {old.label for names in table.old_commune_names.values() for old in names}
    print(f"vietnamadminunits {table.version}: {len(table.provinces)} tỉnh/thành phố, {len(table.communes)} xã/phường/"
          f"đặc khu; {len(olds)} xã/phường cũ (trước 1/7/2025); nạp trong {time.perf_counter() - start:.2f} s")
    for text in args:
        start = time.perf_counter()
        found = resolve(text, table)
        took = (time.perf_counter() - start) * 1000
        names = "; ".join(c.label for c in found.communes) or (
            f"chỉ có tỉnh: {found.province.name}" if found.province else "không nhận ra")
        print(f"{text!r} ({took:.2f} ms) -> {names}")
        for old in found.old_names:
            print(f"    qua tên cũ: {old}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
