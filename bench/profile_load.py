"""`python -m bench.profile_load`: where a message's CPU goes in our two servers, under closed-loop load over REST.

Starts our bot (tools/launch.py: Rasa and the action server on free ports, a fresh tracker and store), warms it up,
then loads it with real residents' questions (bench/load.py's pool) at `--users` concurrent residents for
`--seconds`, reading each server's CPU seconds per message (bench/proc_usage.py). With py-spy on PATH (or
`--py-spy PATH`; MIT, `pip install py-spy`), both servers are sampled during the run and their hottest functions
(self time) and areas (inclusive: embedding, FAISS, store, NLU...) are listed. Writes bench/profile.md and .json
(`--out`); `--label` names the run and `--env KEY=VALUE` passes settings to both servers (e.g. BOT_EMBEDDER=torch).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.closed_loop import closed_loop
from bench.load import answered_without, door_apology, resident_questions
from bench.machine import machine
from bench.proc_usage import Usage
from bot.core.settings import ROOT
from tools.launch import Bot

OUT = ROOT / "bench"
# Inclusive areas: a sample counts for the first area whose marker appears anywhere in its stack.
AREAS = (
    ("query embedding (torch)", ("sentence_transformers", "torch/nn")),
    ("query embedding (onnxruntime)", ("onnxruntime", "onnx_embedder.py")),
    ("FAISS search", ("faiss",)),
    ("BM25", ("lexical.py", "bm25s")),
    ("accents, abbreviations, the ask (bot/core)", ("bot/core/text.py", "bot/core/asking.py")),
    ("decision", ("decide.py",)),
    ("tracker store", ("tracker_store.py",)),
    ("store (question log, limits, menus)", ("sqlalchemy", "sqlite3", "bot/store")),
    ("NLU pipeline", ("rasa/nlu", "sklearn", "bot/rasa_side/nlu")),
    ("checking the action's answer (jsonschema)", ("jsonschema",)),
    ("action call (Rasa side)", ("actions/action.py",)),
    ("policies", ("rasa/core/policies",)),
    ("JSON", ("json/", "ujson")),
    ("HTTP server (Sanic), event loop", ("sanic", "asyncio", "uvloop")),
)


def area_of(stack: str) -> str:
    for name, markers in AREAS:
        if any(m in stack for m in markers):
            return name
    return "other"


def read_raw(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """py-spy's raw (collapsed) stacks: samples by area (inclusive) and by function (self), and the total."""
    areas: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return areas, functions, 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        areas[area_of(stack)] += n
        leaf = stack.rsplit(";", 1)[-1]
        functions[leaf.replace(str(ROOT) + "/", "").replace(".venv-actions/lib/python3.11/site-packages/", "")
                  .replace(".venv-rasa/lib/python3.10/site-packages/", "")] += n
    return areas, functions, total


def spy(py_spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """py-spy sampling a process tree for `seconds`, raw stacks to `out` (threads that are idle are not counted)."""
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--format", "raw",
                             "--duration", str(int(seconds)), "--rate", "100", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def load(webhook: str, users: int, seconds: float, warmup: float, pids: dict[str, int],
               spies: list[tuple[str, int, Path]], py_spy: str | None) -> dict:
    questions, run_id = resident_questions(), secrets.token_hex(6)
    answered = answered_without(door_apology())
    await closed_loop(webhook, questions, users, warmup, run_id, f"warm{users}", answered)
    usage = Usage(pids)
    usage.start()
    running = [spy(py_spy, pid, seconds, out) for _, pid, out in spies] if py_spy else []
    run = await closed_loop(webhook, questions, users, seconds, run_id, f"run{users}", answered)
    usage.stop()
    for proc in running:
        proc.wait(30)
    messages = len(run.samples)
    latencies = sorted(s.seconds for s in run.samples if not s.error)
    return {
        "messages": messages, "errors": dict(run.errors), "throughput_msg_s": round(messages / run.seconds, 2),
        "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
        "cpu_ms_per_message": {n: round(1000 * c / max(1, messages), 1) for n, c in usage.cpu_used().items()},
        "rss_mb_end": {n: round(v) for n, v in usage.rss_end.items()},
    }


def profile(users: int, seconds: float, warmup: float, env: dict[str, str], py_spy: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="profile-load-") as tmp:
        bot = Bot(Path(tmp), env=env)
        try:
            bot.start()
            assert bot.rasa and bot.actions
            pids = {"rasa": bot.rasa.pid, "actions": bot.actions.pid}
            spies = [(name, pid, Path(tmp) / f"{name}.txt") for name, pid in pids.items()]
            result = asyncio.run(load(f"{bot.url}/webhooks/rest/webhook", users, seconds, warmup, pids, spies, py_spy))
        finally:
            bot.stop()
        result["servers"] = {}
        for name, _, out in spies:
            areas, functions, total = read_raw(out)
            if total:
                result["servers"][name] = {
                    "samples": total,
                    "areas_pct": {a: round(100 * n / total, 1) for a, n in areas.most_common()},
                    "top_self_pct": {f: round(100 * n / total, 1) for f, n in functions.most_common(15)},
                }
    return result


def report(label: str, users: int, result: dict, info: dict, load_before: float) -> str:
    lines = [f"## {label}: {users} resident(s)", "",
             f"{info['cpu']}, {info['cores']} cores, {info['date']}, load average before {load_before:.2f}. "
             f"{result['messages']} messages, {result['throughput_msg_s']} msg/s, p50 {result['p50_ms']} ms, "
             f"errors {result['errors'] or 0}.", "",
             "| server | CPU ms per message | RSS MB |", "|---|---|---|"]
    lines += [f"| {n} | {c} | {result['rss_mb_end'].get(n)} |" for n, c in result["cpu_ms_per_message"].items()]
    for name, s in result["servers"].items():
        lines += ["", f"{name}: share of {s['samples']} py-spy samples (busy threads) by area, inclusive", "",
                  "| area | % |", "|---|---|"]
        lines += [f"| {a} | {p} |" for a, p in s["areas_pct"].items()]
        lines += ["", f"{name}: hottest functions (self time)", "", "| function | % |", "|---|---|"]
        lines += [f"| `{f}` | {p} |" for f, p in s["top_self_pct"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--label", default="default")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--py-spy", dest="py_spy", default=shutil.which("py-spy"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    load_before = os.getloadavg()[0]
    result = profile(args.users, args.seconds, args.warmup, env, args.py_spy)
    info = machine()
    text = report(args.label, args.users, result, info, load_before)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    runs_file = args.out / "profile.json"
    runs = json.loads(runs_file.read_text(encoding="utf-8")) if runs_file.exists() else {}
    runs[args.label] = {"machine": info, "load_average_before": load_before, "users": args.users,
                        "env": env, **result}
    runs_file.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md = "# Where a message's CPU goes (python -m bench.profile_load)\n\n" + "\n".join(
        report(label, r["users"], r, r["machine"], r["load_average_before"]) for label, r in runs.items())
    (args.out / "profile.md").write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
