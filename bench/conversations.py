"""`make eval-conversations`: multi-turn conversations played over REST against the real bot, with and without the last
answer as context (issue 11).

tests/data/conversations.jsonl holds one conversation a line: {"id", "category", "who", "note", "turns"}. A turn is
{"say": "text typed"} or {"press": "part of a button title of the previous reply"} (its payload is sent), with what
the reply must show:

- "kind": `answer` (an entry's answer: it carries its source line), `guide` (a step of a guide; with "step": that
  step), `handoff` (points to a person), `ask_back` (a question back, no answer), `decline` (says it does not know,
  no answer);
- "must": groups of phrases, one phrase of every group in the reply; "must_not": phrases it must not hold.

Phrases are compared as bench/grade.py and ../shared/eval/grade.py compare them: accents, case and spacing ignored,
over the reply's texts and button titles; an empty reply, or one longer than MAX_CHARS, fails. A conversation passes
when every turn passes; after a failed turn it goes on, since the next turn may still be right.

Each conversation is one fresh sender from an address of its own (Sanic reads it from X-Real-IP, as behind the
deployment's proxy), so per-address limits such as ten tickets a day apply per resident, as they would in use. The set
runs twice on bots started by tools/launch.Bot (free ports, stores in a temporary folder): with context, and with
BOT_CONVERSATION_CONTEXT=off. Prints the pass rates and writes bench/conversations.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests

from bench.grade import MAX_CHARS, reply_text
from bot.core.settings import ROOT
from bot.core.text import plain

DATA = ROOT / "tests" / "data" / "conversations.jsonl"
OUT = ROOT / "bench" / "conversations.md"
KINDS = ("answer", "guide", "handoff", "ask_back", "decline")
MODES = ("with context", "without context")
HELPER_CODE = "TCNXAHK7"  # the bench bot's helper-mode code; turns write it as {helper_code}
# Plain-form phrases by kind (bench/grade.py's and ../shared/eval/grade.py's lists, with this bot's own wording).
SOURCE = "nguon:"  # every answer ends with its official source (bot/knowledge/model.source_line)
DECLINE = ["xin loi", "chua co thong tin", "khong tim thay", "chua tim thay", "chi ho tro", "ngoai pham vi",
           "khong hieu", "chua hieu"]
ASK_BACK = ["ban muon hoi", "y ban la", "ban dang hoi", "ban hoi ve", "ban hoi them ve", "chua chac", "ban chon",
            "ban o tinh", "ban o xa/phuong nao", "ban cho biet", "ban can lam viec nao", "phai khong"]
STEP_SHOWN = re.compile(r"\bbuoc \d+/\d+")  # "Bước 2/5:" (bot/replies/guide.py), in plain form
PERSON = ["can bo", "nhan vien", "ho tro vien", "to cong nghe so", "nguoi ho tro", "chuyen", "ket noi", "tong dai"]


# ---- the file ----------------------------------------------------------------------------------------------------

def check(conversations: list[dict]) -> None:
    """Raise ValueError naming the first malformed conversation or turn."""
    seen: set[str] = set()
    for c in conversations:
        cid = c.get("id")
        if not cid or cid in seen:
            raise ValueError(f"conversation without an id, or a repeated id: {cid!r}")
        seen.add(cid)
        if not c.get("category") or not c.get("turns"):
            raise ValueError(f"{cid}: needs a category and turns")
        for n, turn in enumerate(c["turns"], 1):
            where = f"{cid} turn {n}"
            if ("say" in turn) == ("press" in turn) or not str(turn.get("say") or turn.get("press") or "").strip():
                raise ValueError(f"{where}: exactly one of say / press, not empty")
            if turn.get("kind") is not None and turn["kind"] not in KINDS:
                raise ValueError(f"{where}: kind must be one of {KINDS}")
            if "step" in turn and (turn.get("kind") != "guide" or not isinstance(turn["step"], int)):
                raise ValueError(f"{where}: a step number goes with kind guide")
            groups = turn.get("must", [])
            if not all(isinstance(g, list) and g and all(isinstance(p, str) and p for p in g) for g in groups):
                raise ValueError(f"{where}: must is a list of non-empty lists of phrases")
            if not turn.get("kind") and not groups and not turn.get("must_not"):
                raise ValueError(f"{where}: says nothing about the reply")


def load(path: Path = DATA) -> list[dict]:
    """The conversations of a JSON-lines file, checked."""
    conversations = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    check(conversations)
    return conversations


# ---- grading one reply ---------------------------------------------------------------------------------------------

def _has_any(reply: str, phrases: list[str]) -> bool:
    return any(plain(p) in reply for p in phrases)


def kind_problem(kind: str, step: int | None, reply: str) -> str | None:
    """Why a (plain) reply is not of the kind a turn asks for; None when it is."""
    if kind == "answer":
        return None if SOURCE in reply else "not an answer (no source line)"
    if kind == "guide":
        if step is None:
            return None if STEP_SHOWN.search(reply) else "no guide step shown"
        return None if f"buoc {step}/" in reply else f"not step {step} of a guide"
    if kind == "handoff":
        return None if _has_any(reply, PERSON) else "does not point to a person"
    if SOURCE in reply:
        return f"answered where a {'question back' if kind == 'ask_back' else 'decline'} was right"
    if kind == "ask_back":
        return None if _has_any(reply, ASK_BACK) else "no question back"
    return None if _has_any(reply, DECLINE) else "does not decline"


def grade_turn(turn: dict, reply: str) -> list[str]:
    """What is wrong with a reply to a turn (empty: the turn passes)."""
    r = plain(reply)
    if not r:
        return ["empty reply"]
    problems = []
    if len(r) > MAX_CHARS:
        problems.append(f"longer than {MAX_CHARS} characters")
    if turn.get("kind"):
        problem = kind_problem(turn["kind"], turn.get("step"), r)
        if problem:
            problems.append(problem)
    problems += [f"missing {' / '.join(group)}" for group in turn.get("must", []) if not _has_any(r, group)]
    problems += [f"must not say {p}" for p in turn.get("must_not", []) if plain(p) in r]
    return problems


def find_button(messages: list[dict], title: str) -> str | None:
    """The payload of the first button whose title holds `title` (accents and case ignored)."""
    wanted = plain(title)
    for m in messages:
        for b in m.get("buttons") or []:
            if wanted in plain(b.get("title") or ""):
                return b.get("payload")
    return None


# ---- playing a conversation --------------------------------------------------------------------------------------

@dataclass
class TurnResult:
    said: str
    reply: str
    problems: list[str]
    seconds: float | None = None


@dataclass
class Played:
    id: str
    category: str
    note: str
    turns: list[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(not t.problems for t in self.turns)


Send = Callable[[str], list[dict]]


def play(conversation: dict, send: Send, helper_code: str = HELPER_CODE) -> Played:
    """Play one conversation through `send` (one sender), grading every turn."""
    played = Played(conversation["id"], conversation["category"], conversation.get("note", ""))
    previous: list[dict] = []
    for turn in conversation["turns"]:
        if "press" in turn:
            payload = find_button(previous, turn["press"])
            if payload is None:
                played.turns.append(TurnResult(f"[{turn['press']}]", "", [f"no button “{turn['press']}”"]))
                previous = []
                continue
            said = payload
        else:
            said = turn["say"].replace("{helper_code}", helper_code)
        started = time.perf_counter()
        try:
            previous = send(said)
        except (requests.RequestException, RuntimeError, ValueError) as err:
            played.turns.append(TurnResult(said, f"<error {err}>", ["no reply"]))
            previous = []
            continue
        reply = reply_text(previous)
        played.turns.append(TurnResult(said, reply, grade_turn(turn, reply), time.perf_counter() - started))
    return played


def rest_sender(url: str, sender: str, address: str) -> Send:
    """Messages to the REST door as one resident (sender id and client address)."""
    def send(text: str) -> list[dict]:
        r = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                          headers={"X-Real-IP": address}, timeout=60)
        r.raise_for_status()
        return r.json()

    return send


def resident_address(n: int) -> str:
    """A distinct private address for the n-th conversation."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def bot_env(context: bool) -> dict[str, str]:
    """What the bench's bot runs with: the context switch, a helper code, addresses read from X-Real-IP."""
    return {"BOT_CONVERSATION_CONTEXT": "on" if context else "off", "BOT_HELPER_CODES": HELPER_CODE,
            "SANIC_REAL_IP_HEADER": "x-real-ip"}


def run_mode(conversations: list[dict], context: bool, workdir: Path, log: Callable[[str], None] = print
             ) -> list[Played]:
    """Start a bot (with or without context), play every conversation as a fresh resident, stop the bot."""
    from tools.launch import Bot

    bot = Bot(workdir, env=bot_env(context))
    try:
        bot.start()
        out = []
        for n, conversation in enumerate(conversations, 1):
            sender = f"conv-{conversation['id']}-{uuid.uuid4().hex[:8]}"
            played = play(conversation, rest_sender(bot.url, sender, resident_address(n)))
            out.append(played)
            log(f"{'ok  ' if played.passed else 'FAIL'} {played.id} {played.category}")
        return out
    finally:
        bot.stop()


# ---- reporting ----------------------------------------------------------------------------------------------------

def by_category(results: list[Played]) -> dict[str, tuple[int, int]]:
    """Passed and played conversations per category, in file order."""
    out: dict[str, list[int]] = {}
    for r in results:
        counts = out.setdefault(r.category, [0, 0])
        counts[0] += r.passed
        counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def rate(passed: int, total: int) -> str:
    return f"{passed}/{total} ({100 * passed / max(1, total):.0f}%)"


def latency(results: list[Played]) -> str:
    seconds = sorted(t.seconds for r in results for t in r.turns if t.seconds is not None)
    if not seconds:
        return "no replies"
    p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
    return f"{len(seconds)} turns, p50 {statistics.median(seconds) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def _cell(text: str, limit: int = 160) -> str:
    flat = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return flat.replace("|", "¦")


def failures(results: list[Played]) -> list[str]:
    """Markdown lines: each failed conversation, its failed turns, what was wrong and the start of the reply."""
    lines = []
    for r in results:
        if r.passed:
            continue
        lines.append(f"- **{r.id}** ({r.category}: {r.note})")
        for n, t in enumerate(r.turns, 1):
            if t.problems:
                lines.append(f"  - turn {n} “{_cell(t.said, 80)}”: {'; '.join(t.problems)}. Reply: {_cell(t.reply)}")
    return lines


def report(runs: dict[str, list[Played]], source: Path = DATA) -> str:
    """The markdown report of one or both modes."""
    modes = [m for m in MODES if m in runs]
    first = runs[modes[0]]
    categories = list(by_category(first))
    header = "| Category | Conversations | " + " | ".join(f"Passed {m}" for m in modes) + " |"
    lines = [
        "# Conversations with and without context",
        "",
        f"{len(first)} multi-turn conversations ({sum(len(c.turns) for c in first)} turns) of "
        f"{source.relative_to(ROOT) if source.is_relative_to(ROOT) else source}, each played over REST as one fresh "
        "resident against the real bot (tools/launch.Bot); a conversation passes when every turn passes. "
        "Without context, BOT_CONVERSATION_CONTEXT=off: the action server ignores the last answer (no typed start of "
        "its guide, no stuck-at-step-N, no follow-ups on it). Reproduce: `make eval-conversations`.",
        f"Run on {date.today().isoformat()}.",
        "",
        header,
        "|---|---|" + "---|" * len(modes),
    ]
    for category in categories:
        cells = []
        for m in modes:
            passed, total = by_category(runs[m]).get(category, (0, 0))
            cells.append(rate(passed, total))
        lines.append(f"| {category} | {by_category(first)[category][1]} | " + " | ".join(cells) + " |")
    totals = [rate(sum(r.passed for r in runs[m]), len(runs[m])) for m in modes]
    lines.append(f"| **all** | {len(first)} | " + " | ".join(f"**{t}**" for t in totals) + " |")
    lines += ["", *[f"- Latency {m}: {latency(runs[m])}." for m in modes]]
    if len(modes) == 2:
        with_, without = ({r.id: r.passed for r in runs[m]} for m in modes)
        gained = sorted(k for k in with_ if with_[k] and not without.get(k))
        lost = sorted(k for k in with_ if not with_[k] and without.get(k))
        lines += [f"- Pass only with context: {len(gained)}; pass only without: {len(lost)}"
                  + (f" ({', '.join(lost)})" if lost else "") + "."]
    for m in modes:
        lines += ["", f"## Failures {m}", "", *(failures(runs[m]) or ["None."])]
    return "\n".join(lines) + "\n"


def summary_line(mode: str, results: list[Played]) -> str:
    parts = ", ".join(f"{k} {rate(*v)}" for k, v in by_category(results).items())
    return f"{mode}: {rate(sum(r.passed for r in results), len(results))} conversations passed ({parts})"


def main(argv: list[str] | None = None) -> int:
    """CLI: play the set with and/or without context, print, write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("conversations", nargs="?", type=Path, default=DATA)
    ap.add_argument("--mode", choices=("both", "with", "without"), default="both")
    ap.add_argument("--ids", nargs="*", help="only these conversations (for a quick check; the report is not written)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    conversations = load(args.conversations)
    if args.ids:
        conversations = [c for c in conversations if c["id"] in set(args.ids)]
    wanted = {"both": MODES, "with": MODES[:1], "without": MODES[1:]}[args.mode]
    runs: dict[str, list[Played]] = {}
    for mode in wanted:
        with tempfile.TemporaryDirectory(prefix="eval-conv-") as workdir:
            print(f"== {mode}", flush=True)
            runs[mode] = run_mode(conversations, mode == MODES[0], Path(workdir),
                                  log=lambda line: print(line, flush=True))
    text = report(runs, args.conversations)
    for mode, results in runs.items():
        print(summary_line(mode, results))
    if not args.ids:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print("\n".join(line for m in runs for line in failures(runs[m])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
