"""`python -m bench.screens [--show] [--harsh WIDTH]`: how well screenshots are read (tests/data/screens).

Prints, with the real tesseract: error screens matched to the right entry, private screens caught, false hits on
unrelated pictures, OCR time per screen, the lowest score of a right match and the highest score any recorded
message reaches on a screen that does not show it (the margin the thresholds sit in), whether the difflib scorer
decides like rapidfuzz, and false hits of both rules on the knowledge base's own texts (questions, answers, steps:
ordinary Vietnamese about the same apps, which names OTPs, ID numbers and error situations without showing them).
docs/app_errors.md records the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

from PIL import Image, ImageFilter

from bot.knowledge.loader import load_entries
from bot.screens.errors import ErrorMatcher, difflib_partial_ratio, normalise
from bot.screens.ocr import read_text
from bot.screens.sensitive import sensitive_kind

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ROOT / "tests" / "data" / "screens"


def harsh(data: bytes, width: int) -> bytes:
    """The screen shrunk, blurred and recompressed hard."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.7)).save(buffer, "JPEG", quality=30)
    return buffer.getvalue()


def group_of(expect: str) -> str:
    return "sensitive" if expect.startswith("sensitive:") else "none" if expect == "none" else "error"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each wrong screen with its OCR text")
    parser.add_argument("--harsh", type=int, metavar="WIDTH", help="first shrink each screen to WIDTH px, blur it "
                        "and save it as a JPEG of quality 30: a photo forwarded through two chat apps")
    args = parser.parse_args(argv)
    entries = load_entries(ROOT / "knowledge")
    fast, slow = ErrorMatcher(entries), ErrorMatcher(entries, scorer=difflib_partial_ratio)
    labels = [json.loads(line) for line in (SCREENS / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    right = {"error": 0, "sensitive": 0, "none": 0}
    total = {"error": 0, "sensitive": 0, "none": 0}
    seconds, right_scores, stray_scores, disagree = [], [], [], 0
    for label in labels:
        started = time.monotonic()
        data = (SCREENS / label["file"]).read_bytes()
        text = read_text(harsh(data, args.harsh) if args.harsh else data)
        seconds.append(time.monotonic() - started)
        kind = sensitive_kind(text)
        found = None if kind else fast.match(text)
        got = f"sensitive:{kind.value}" if kind else found.entry_id if found else "none"
        group = group_of(label["expect"])
        total[group] += 1
        right[group] += got == label["expect"]
        if not kind:
            other = slow.match(text)
            disagree += (found.entry_id if found else None) != (other.entry_id if other else None)
        if found and got == label["expect"]:
            right_scores.append(found.score)
        page = normalise(text)
        stray_scores += [fast.scorer(key, page) for key, eid, _ in fast.messages if eid != label["expect"]]
        if args.show and got != label["expect"]:
            print(f"{label['file']}: expected {label['expect']}, got {got}\n  {' '.join(text.split())[:300]}")
    texts = [(e.id, t) for e in entries for t in (e.title, *e.questions, e.answer, *e.steps, e.note) if t]
    hits = [(eid, m.entry_id) for eid, t in texts if (m := fast.match(t))]
    own_private = sum(1 for _, t in texts if sensitive_kind(t))
    print(f"error screens matched to the right entry: {right['error']}/{total['error']}")
    print(f"private screens caught: {right['sensitive']}/{total['sensitive']}")
    print(f"false hits on unrelated pictures: {total['none'] - right['none']}/{total['none']}")
    print(f"OCR seconds per screen: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}")
    print(f"score of right matches: min {min(right_scores):.1f}; best score of a message not on the screen: "
          f"{max(stray_scores):.1f}")
    print(f"difflib scorer decides differently from rapidfuzz on {disagree} screens")
    print(f"knowledge texts ({len(texts)}): matched to another entry's app message "
          f"{sum(a != b for a, b in hits)}, to their own entry's {sum(a == b for a, b in hits)}; "
          f"called private {own_private}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
