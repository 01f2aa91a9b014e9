"""`python -m bench.real_corpus`: split the real-question corpus into a tuning half and a held-out half.

`tests/data/real_raw/*.jsonl` holds the questions residents posted on public pages, rewritten in our
own words, each with the page it came from and the entries that answer it (labelled by hand). The
split is **by source page**: every question of one page lands on the same side, so the held-out half
never shares a letter, an article or a Q&A thread with what thresholds, weights, fine-tuning and
NLU examples were tuned on. Pages are ordered by a hash of their address (stable, not chosen by
looking at the questions) and taken for the test half until it holds TEST_SHARE of the answerable
and of the out-of-scope questions.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.settings import ROOT

RAW = ROOT / "tests" / "data" / "real_raw"
DEV = ROOT / "tests" / "data" / "real_dev.jsonl"
TEST = ROOT / "tests" / "data" / "real_test.jsonl"
TEST_SHARE = 0.4
# Each page's side as first chosen: labels change when the knowledge base grows (an "uncovered" question
# becomes answerable), and the quota rule below would then move pages across; the fixed list keeps every
# question on its side for good. Pages added to the corpus later are placed by the rule.
SIDES = ROOT / "tests" / "data" / "real_split_pages.txt"


def page_key(url: str) -> str:
    """The page an address names: host without 'www.', path without a trailing slash; no query, no scheme."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return host + parts.path.rstrip("/")


def records(raw: Path = RAW) -> list[dict]:
    """Every raw record as a graded item: id, kind (answer/fallback), q, entries, url."""
    out = []
    for path in sorted(raw.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            entries = rec.get("entries") or []
            # in scope but no entry answers it yet: the honest reply is a decline (reported apart)
            kind = "fallback" if rec["kind"] == "decline" else "answer" if entries else "uncovered"
            out.append({"id": f"real-{path.stem}-{n:03d}", "kind": kind, "q": rec["q"],
                        "entries": entries if kind == "answer" else [], "url": rec["url"]})
    return out


def fixed_sides(path: Path = SIDES) -> dict[str, str]:
    """Page -> "dev" or "test", as fixed when the split was first made (empty when there is no list)."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    lines = [ln.split(" ", 1) for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return {page.strip(): side for side, page in lines}


def split(
    items: list[dict], share: float = TEST_SHARE, fixed: dict[str, str] | None = None
) -> tuple[list[dict], list[dict]]:
    """(dev, test): whole pages to each side; pages keep their fixed side, and test is filled to `share` of
    each kind in hash order with the pages no list has placed yet."""
    fixed = fixed_sides() if fixed is None else fixed
    pages: dict[str, list[dict]] = {}
    for it in items:
        pages.setdefault(page_key(it["url"]), []).append(it)
    order = sorted(pages, key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    want = {kind: share * sum(it["kind"] == kind for it in items) for kind in ("answer", "fallback", "uncovered")}
    have = {"answer": 0, "fallback": 0, "uncovered": 0}
    test_pages = {p for p in pages if fixed.get(p) == "test"}
    for it in items:
        if page_key(it["url"]) in test_pages:
            have[it["kind"]] += 1
    for page in order:
        if page in fixed:
            continue
        kinds = {it["kind"] for it in pages[page]}
        if all(have[k] < want[k] for k in kinds):
            test_pages.add(page)
            for it in pages[page]:
                have[it["kind"]] += 1
    test = [it for it in items if page_key(it["url"]) in test_pages]
    dev = [it for it in items if page_key(it["url"]) not in test_pages]
    return dev, test


def write(path: Path, items: list[dict]) -> None:
    """JSON lines, one question each."""
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")


def main() -> int:
    """Write real_dev.jsonl and real_test.jsonl from the raw corpus."""
    dev, test = split(records())
    write(DEV, dev)
    write(TEST, test)
    for name, part in (("dev", dev), ("test", test)):
        kinds = {k: sum(it["kind"] == k for it in part) for k in ("answer", "fallback", "uncovered")}
        print(f"{name}: {len(part)} questions ({kinds['answer']} answerable, {kinds['fallback']} out of scope, "
              f"{kinds['uncovered']} in scope but not covered) "
              f"from {len({page_key(it['url']) for it in part})} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
