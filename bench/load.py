"""`make bench-load [QUICK=1]`: our bot under closed-loop load over REST, side by side with Rasa's moodbot.

The moodbot (`rasa init`, bench/moodbot.py) is the floor of any Rasa bot: what Rasa alone costs per message. Both
servers are started in one run and loaded one after the other at each level of concurrent residents (1, 5, 20 and
50; quick: 1 and 5 for 10 s), after a warm-up at that level. Per level and bot: messages per second, p50/p95/p99
latency, errors, CPU seconds per message of each server process tree and its memory
(bench/closed_loop.py, bench/proc_usage.py). Writes bench/load.json, bench/load.png and the "Load" section of
bench/report.md (the other sections stay).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from bench import load_report
from bench.closed_loop import PER_RESIDENT, closed_loop, replied
from bench.machine import machine
from bench.moodbot import MESSAGES, MoodBot, rasa_version, trained_model
from bench.proc_usage import Usage, machine_busy_seconds
from bot.core.copy import BUSY_APOLOGY
from bot.core.settings import ROOT
from tools.launch import Bot

OUT = ROOT / "bench"
REAL_QUESTIONS = sorted((ROOT / "tests" / "data").glob("real_*.jsonl"))


@dataclass(frozen=True)
class Preset:
    """Concurrent residents per level, measured seconds per level and bot, warm-up seconds before each."""

    levels: tuple[int, ...]
    seconds: float
    warmup: float


FULL = Preset(levels=(1, 5, 20, 50), seconds=60.0, warmup=5.0)
QUICK = Preset(levels=(1, 5), seconds=10.0, warmup=2.0)
SAMPLE_MEMORY_EVERY_S = 1.0


@dataclass(frozen=True)
class Target:
    """A running bot to load: its REST webhook, what its residents say, its server processes by name."""

    name: str
    webhook: str
    messages: Sequence[str]
    pids: dict[str, int]
    answered: Callable[[object], bool] = replied


def resident_questions(paths: Sequence[Path] = REAL_QUESTIONS, seed: int = 13) -> list[str]:
    """Real residents' questions (tests/data/real_*.jsonl), in one fixed shuffled order so residents mix topics."""
    questions = [json.loads(line)["q"] for path in paths for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    random.Random(seed).shuffle(questions)
    return questions


def door_apology() -> str:
    """The REST door's reply to a turn that failed inside Rasa (BUSY_APOLOGY, bot/core/copy.py, which
    bot/rasa_side/channels/rest.py sends): a 200 that is an error all the same."""
    return BUSY_APOLOGY


def answered_without(apology: str) -> Callable[[object], bool]:
    """A reply check that also counts the door's apology as an error."""

    def answered(messages: object) -> bool:
        return (replied(messages) and isinstance(messages, list)
                and not any(isinstance(m, dict) and m.get("text") == apology for m in messages))

    return answered


async def measure(target: Target, users: int, seconds: float, warmup: float, run_id: str) -> dict:
    """Warm up at this level (not counted), then load for `seconds` and read CPU and memory around it."""
    await closed_loop(target.webhook, target.messages, users, warmup, run_id, f"{target.name}-warm{users}",
                      target.answered)
    usage = Usage(target.pids)
    client = psutil.Process()
    client_start, machine_start = sum(client.cpu_times()[:2]), machine_busy_seconds()
    usage.start()
    sampler = asyncio.create_task(usage.sample_every(SAMPLE_MEMORY_EVERY_S))
    try:
        run = await closed_loop(target.webhook, target.messages, users, seconds, run_id, f"{target.name}-{users}",
                                target.answered)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    usage.stop()
    return load_report.summarise(run, usage, sum(client.cpu_times()[:2]) - client_start,
                                 machine_busy_seconds() - machine_start)


async def measure_levels(targets: Sequence[Target], levels: Sequence[int], seconds: float, warmup: float,
                         run_id: str) -> list[dict]:
    """Every level, every bot at it in turn, with the ratios of ours to the floor when both were loaded."""
    rows = []
    for users in levels:
        row: dict = {"users": users}
        for target in targets:
            print(f"{users} resident(s), {target.name}…", flush=True)
            row[target.name] = await measure(target, users, seconds, warmup, run_id)
            s = row[target.name]
            print(f"  {s['throughput_msg_s']} msg/s, p95 {s['latency_ms'].get('p95')} ms, errors {s['errors']}",
                  flush=True)
        if load_report.OURS in row and load_report.FLOOR in row:
            row["ratios"] = load_report.ratios(row[load_report.OURS], row[load_report.FLOOR])
        rows.append(row)
    return rows


def run(levels: Sequence[int], seconds: float, warmup: float, quick: bool) -> dict:
    """Start the moodbot and our bot, load both at each level, stop them; the numbers."""
    model = trained_model()
    questions = resident_questions()
    run_id = secrets.token_hex(6)  # in every sender id: no tracker of an earlier run is reused
    before, measured_on = list(os.getloadavg()), machine()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        (Path(tmp) / "moodbot").mkdir()
        (Path(tmp) / "ours").mkdir()
        mood = MoodBot(Path(tmp) / "moodbot", model)
        ours = Bot(Path(tmp) / "ours")
        try:
            mood.spawn()  # loads its model while ours starts
            ours.start()
            mood.wait_ready()
            assert ours.rasa and ours.actions and mood.process
            targets = [
                Target(load_report.FLOOR, mood.webhook, MESSAGES, {"rasa": mood.process.pid}),
                Target(load_report.OURS, f"{ours.url}/webhooks/rest/webhook", questions,
                       {"rasa": ours.rasa.pid, "actions": ours.actions.pid}, answered_without(door_apology())),
            ]
            rows = asyncio.run(measure_levels(targets, levels, seconds, warmup, run_id))
        finally:
            ours.stop()
            mood.stop()
    return {
        "machine": measured_on,
        "load_average_before": before,
        "config": {"levels": list(levels), "seconds": seconds, "warmup_seconds": warmup, "quick": quick,
                   "per_resident": PER_RESIDENT, "rasa_version": rasa_version(), "our_questions": len(questions),
                   "question_files": [str(p.relative_to(ROOT)) for p in REAL_QUESTIONS],
                   # passed on to both servers: torch's threads in our action server (unset: one per core)
                   "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "levels": rows,
    }


def write(result: dict, out: Path) -> None:
    """load.json, load.png and the "Load" section of report.md in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    load_report.plot(result, out / "load.png")
    report = out / "report.md"
    previous = report.read_text(encoding="utf-8") if report.exists() else "# Benchmark report\n"
    report.write_text(load_report.replace_section(previous, load_report.section(result)), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 5 residents, 10 s each (unless given below)")
    parser.add_argument("--levels", help="concurrent residents, comma-separated (default 1,5,20,50)")
    parser.add_argument("--seconds", type=float, help="measured seconds per level and bot (default 60)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per level and bot (default 5)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of report.md, load.json, load.png")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else preset.levels
    seconds = preset.seconds if args.seconds is None else args.seconds
    warmup = preset.warmup if args.warmup is None else args.warmup
    result = run(levels, seconds, warmup, args.quick)
    write(result, args.out)
    print(load_report.section(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
