"""Grade a running bot on a question file over Rasa's REST channel (`make eval QUESTIONS=...`).

File format (JSON lines): {"id", "kind", "q", "must"}: kind `answer`/`safety`/`smalltalk` needs one
phrase of every `must` group in the reply; `fallback` must decline; `handoff` must point to a person.
Accents, case and spacing are ignored. Prints per-kind accuracy, the misses and latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.core.text import plain

MAX_CHARS = 1500  # longer than this is a wall of text, not an answer
DECLINE = ["xin loi", "chua co thong tin", "khong tim thay", "chi ho tro", "ngoai pham vi", "chua chac"]
PERSON = ["can bo", "nhan vien", "to cong nghe so", "nguoi ho tro", "tong dai", "ket noi"]


@dataclass
class Graded:
    """One question's outcome."""

    id: str
    kind: str
    q: str
    ok: bool
    reply: str
    seconds: float | None


def reply_text(messages: list[dict]) -> str:
    """Everything a person sees: texts, button titles, custom payloads."""
    parts = []
    for m in messages:
        parts.append(m.get("text") or "")
        parts += [b.get("title") or "" for b in m.get("buttons") or []]
        if m.get("custom"):
            parts.append(json.dumps(m["custom"], ensure_ascii=False))
    return "\n".join(parts)


def is_correct(item: dict, reply: str) -> bool:
    """Whether a reply meets the question's requirement."""
    r = plain(reply)
    if not r or len(r) > MAX_CHARS:
        return False
    if item["kind"] == "fallback":
        return any(p in r for p in DECLINE) and "nguon:" not in r
    if item["kind"] == "handoff":
        return any(p in r for p in PERSON)
    return all(any(plain(p) in r for p in group) for group in item.get("must", []))


def ask(url: str, text: str, sender: str) -> tuple[str, float]:
    """One message to a fresh conversation; the reply and its latency."""
    started = time.perf_counter()
    resp = requests.post(url, json={"sender": sender, "message": text}, timeout=60)
    resp.raise_for_status()
    return reply_text(resp.json()), time.perf_counter() - started


def grade(url: str, items: list[dict]) -> list[Graded]:
    """Ask every question in its own conversation and grade the replies."""
    out = []
    for it in items:
        try:
            reply, seconds = ask(url, it["q"], "eval-" + uuid.uuid4().hex[:12])
            ok = is_correct(it, reply)
        except (requests.RequestException, ValueError) as err:
            reply, seconds, ok = f"<error {err}>", None, False
        out.append(Graded(it["id"], it["kind"], it["q"], ok, reply, seconds))
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(results: list[Graded]) -> dict:
    """Per-kind accuracy, overall accuracy and latency."""
    kinds: dict[str, list[bool]] = {}
    for r in results:
        kinds.setdefault(r.kind, []).append(r.ok)
    lat = [r.seconds for r in results if r.seconds is not None]
    misses = [r for r in results if not r.ok]
    return {
        "by_kind": {k: [sum(v), len(v)] for k, v in sorted(kinds.items())},
        # a miss that still gave an answer (it carries a source line) is a wrong answer; the rest declined
        "wrong": sum(1 for r in misses if "nguon:" in plain(r.reply)),
        "declined": sum(1 for r in misses if "nguon:" not in plain(r.reply)),
        "correct": sum(r.ok for r in results),
        "total": len(results),
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p95_ms": round(percentile(lat, 0.95) * 1000, 1) if lat else None,
    }


def load(path: Path) -> list[dict]:
    """Read a JSON-lines question file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """CLI: grade and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("questions", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    results = grade(args.url, load(args.questions))
    s = summary(results)
    for kind, (ok, n) in s["by_kind"].items():
        print(f"{kind:10s} {ok:3d}/{n:3d}")
    for r in results:
        if not r.ok:
            print("MISS", r.id, r.q, "->", r.reply[:160].replace("\n", " | "))
    if args.out:
        lines = (json.dumps(r.__dict__, ensure_ascii=False) + "\n" for r in results)
        args.out.write_text("".join(lines), encoding="utf-8")
    print(f"misses: {s['wrong']} wrong answers, {s['declined']} declined or asked back")
    print(f"correct {s['correct']}/{s['total']} = {100 * s['correct'] / max(1, s['total']):.0f}%  "
          f"latency p50 {s['p50_ms']} ms p95 {s['p95_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
