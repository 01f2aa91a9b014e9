"""`python -m bench.masking [--vipii] [--show]`: leak and over-mask rates of the masking on the labelled set.

tests/data/masking_set.jsonl holds realistic resident messages, each with `must_mask` (substrings that must not
survive) and `keep` (substrings that must). A must-mask item leaks when it survives whole, or when any stretch of
it holding three digits survives (a half-masked "482 [mã số]" still leaks "482"), once the kept items are set aside.
A keep item is over-masked when it occurs fewer times in the output than in the input outside the must-mask items.

--vipii scores the `vipii` package (Presidio with Vietnamese recognisers) on the same set, and --presidio Presidio's
own recognisers (phone numbers of region VN, e-mail, card, IBAN; through vipii's Vietnamese tokenizer, as no spaCy
model for Vietnamese is on the registry). Neither is a project dependency: install `vipii==0.2.1` in a scratch
environment to reproduce docs/security.md's figures.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "masking_set.jsonl"


@dataclass
class Score:
    """Counts over the set, and the misses for a reader."""

    must: int = 0
    leaked: int = 0
    keep: int = 0
    over: int = 0
    strings: int = 0
    leaks: list[tuple[str, str, str]] = field(default_factory=list)  # (text, item, output)
    overs: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def leak_rate(self) -> float:
        return self.leaked / self.must if self.must else 0.0

    @property
    def over_mask_rate(self) -> float:
        return self.over / self.keep if self.keep else 0.0


def load(path: Path = SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _digit_windows(item: str) -> list[str]:
    """Every shortest stretch of `item` holding three digits (the item itself when it has fewer)."""
    positions = [i for i, c in enumerate(item) if c.isdigit()]
    if len(positions) < 3:
        return [item]
    return [item[positions[i]:positions[i + 2] + 1] for i in range(len(positions) - 2)]


def leaks(item: str, output: str, keep: Iterable[str]) -> bool:
    """Whether a must-mask item (or a three-digit stretch of it) is still readable in the output."""
    for kept in sorted(keep, key=len, reverse=True):
        output = output.replace(kept, "§")
    if item in output:
        return True
    if "@" in item:  # an e-mail: its local part is enough to find the person
        return item.split("@")[0] in output
    return any(window in output for window in _digit_windows(item))


def over_masked(item: str, text: str, output: str, must: Iterable[str]) -> bool:
    """Whether a keep item was altered: it occurs fewer times in the output than outside the must-mask items."""
    rest = text
    for secret in sorted(must, key=len, reverse=True):
        rest = rest.replace(secret, "§")
    return output.count(item) < rest.count(item)


def score(masker: Callable[[str], str], rows: list[dict] | None = None) -> Score:
    result = Score()
    for row in rows if rows is not None else load():
        text = row["text"]
        output = masker(text)
        result.strings += 1
        for item in row["must_mask"]:
            result.must += 1
            if leaks(item, output, row["keep"]):
                result.leaked += 1
                result.leaks.append((text, item, output))
        for item in row["keep"]:
            result.keep += 1
            if over_masked(item, text, output, row["must_mask"]):
                result.over += 1
                result.overs.append((text, item, output))
    return result


def vipii_masker() -> Callable[[str], str]:
    """vipii's detector as a masker: every detected span replaced by its label."""
    from vipii import PIIDetector

    detector = PIIDetector()

    def masked(text: str) -> str:
        out = text
        for match in sorted(detector.detect(text), key=lambda m: m.start, reverse=True):
            out = out[:match.start] + f"[{match.label}]" + out[match.end:]
        return out

    return masked


def presidio_masker() -> Callable[[str], str]:
    """Presidio's predefined recognisers that apply to Vietnamese text, as a masker."""
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
    )
    from vipii.presidio import build_analyzer

    engine = build_analyzer([PhoneRecognizer(supported_regions=("VN",), supported_language="vi"),
                             EmailRecognizer(supported_language="vi"), CreditCardRecognizer(supported_language="vi"),
                             IbanRecognizer(supported_language="vi")])

    def masked(text: str) -> str:
        out = text
        for found in sorted(engine.analyze(text, language="vi"), key=lambda r: r.start, reverse=True):
            out = out[:found.start] + f"[{found.entity_type}]" + out[found.end:]
        return out

    return masked


def report(name: str, result: Score, show: bool) -> None:
    print(f"{name}: {result.strings} strings; leak rate {result.leak_rate:.2%} ({result.leaked}/{result.must} "
          f"must-mask items); over-mask rate {result.over_mask_rate:.2%} ({result.over}/{result.keep} keep items)")
    if show:
        for text, item, output in result.leaks:
            print(f"  LEAK {item!r}: {text!r} -> {output!r}")
        for text, item, output in result.overs:
            print(f"  OVER {item!r}: {text!r} -> {output!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vipii", action="store_true", help="also score the vipii package")
    parser.add_argument("--presidio", action="store_true", help="also score Presidio's own recognisers")
    parser.add_argument("--show", action="store_true", help="list every leak and over-masked item")
    args = parser.parse_args()
    from bot.core.privacy import mask

    report("bot.core.privacy.mask", score(mask), args.show)
    if args.vipii:
        report("vipii 0.2.1", score(vipii_masker()), args.show)
    if args.presidio:
        report("presidio-analyzer (phone VN, e-mail, card, IBAN)", score(presidio_masker()), args.show)


if __name__ == "__main__":
    main()
