"""The masking measured on the labelled set (tests/data/masking_set.jsonl): nothing that must be masked leaks, and
less than 2% of what must stay readable is masked. Prints both rates (`pytest -s`, or `python -m bench.masking`)."""

from __future__ import annotations

from collections import Counter

from bench.masking import leaks, load, over_masked, score
from bot.core.privacy import PLACEHOLDERS, mask

ROWS = load()


def test_the_set_is_large_varied_and_well_formed():
    assert len(ROWS) >= 300
    kinds = Counter(row["kind"] for row in ROWS)
    assert len(kinds) >= 20 and kinds["otp"] >= 30 and kinds["dossier"] >= 10 and kinds["amount"] >= 20
    assert len({row["text"] for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert set(row) == {"text", "must_mask", "keep", "kind"}
        for item in row["must_mask"] + row["keep"]:
            assert item and item in row["text"], (item, row["text"])
    assert sum(bool(row["must_mask"]) for row in ROWS) >= 150 and sum(bool(row["keep"]) for row in ROWS) >= 150


def test_nothing_that_must_be_masked_leaks_and_little_is_over_masked():
    result = score(mask, ROWS)
    print(f"\nmasking set: {result.strings} strings; leak rate {result.leak_rate:.2%} ({result.leaked}/{result.must}); "
          f"over-mask rate {result.over_mask_rate:.2%} ({result.over}/{result.keep})")
    assert result.leaks == []
    assert result.over_mask_rate < 0.02, result.overs


def test_the_scoring_catches_half_masked_numbers_and_altered_keeps():
    assert leaks("482 913", "mã 482 [mã số]", [])  # three digits still readable
    assert leaks("4-8-2-9-1-3", "4-8-2-[mã số]", [])
    assert leaks("hoa123@gmail.com", "hoa123@[địa chỉ email]", [])
    assert not leaks("482 913", "mã [mã số], hồ sơ H26-240101-0001", ["H26-240101-0001"])
    assert over_masked("150.000đ", "phí 150.000đ", "phí [mã số]đ", [])
    assert not over_masked("12", "số nhà 12, sdt 0912345678", "số nhà 12, sdt [số điện thoại]", ["0912345678"])


def test_masking_twice_changes_nothing_more():
    for row in ROWS:
        once = mask(row["text"])
        assert mask(once) == once, row["text"]


def test_every_masked_string_says_what_it_hid():
    for row in ROWS:
        if row["must_mask"]:
            assert any(p in mask(row["text"]) for p in PLACEHOLDERS), row["text"]
