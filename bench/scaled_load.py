"""`make bench-scaled`: the scaled set-up (docs/scaling.md) against the default one under the same load, same run.

Issue 13 asks for the scaled set-up's throughput and p95 at 20 and 50 residents against the default set-up's. Both are
loaded one after the other with bench/load.py's closed loop (fresh sender per resident and run, the same real
questions), the scaled one through HAProxy's door with databases and a Redis server of its own (as bench/faults.py:
the machine's Redis is never touched). The scaled set-up pays HAProxy, PostgreSQL and Redis round trips, but its two
Rasa processes use both cores where the default's one Rasa process uses one. The first level runs on cold query
caches (most questions new to both), later ones on warm caches. Writes bench/scaled_load.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bench.load import Target, answered_without, door_apology, measure_levels, resident_questions
from bench.machine import machine
from bot.core.settings import ROOT
from tools.launch import Bot
from tools.redis_server import RedisServer
from tools.scaled import Ports, Scaled

OUT = ROOT / "bench"
LEVELS = (20, 50)
SECONDS = 30.0
WARMUP = 5.0


def run(levels: Sequence[int], seconds: float, warmup: float) -> dict:
    run_id = secrets.token_hex(4)
    questions = resident_questions()
    workdir = Path(tempfile.mkdtemp(prefix="bench-scaled-"))
    redis = RedisServer(workdir / "redis")
    redis.start()
    for name in ("default", "scaled"):
        (workdir / name).mkdir()
    default = Bot(workdir / "default")
    scaled = Scaled(workdir / "scaled", Ports.free(), tracker_db=f"scaled_tracker_{run_id}",
                    store_db=f"scaled_knowledge_{run_id}", fresh=True,
                    env={"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port)})
    try:
        default.start()
        scaled.start()
        assert default.rasa and default.actions
        apology = answered_without(door_apology())
        targets = [
            Target("default", f"{default.url}/webhooks/rest/webhook", questions,
                   {"rasa": default.rasa.pid, "actions": default.actions.pid}, apology),
            Target("scaled", f"{scaled.url}/webhooks/rest/webhook", questions,
                   {name: proc.pid for name, proc in scaled.procs.items()}, apology),
        ]
        rows = asyncio.run(measure_levels(targets, levels, seconds, warmup, run_id))
    finally:
        default.stop()
        scaled.stop()
        redis.stop()
        for db in (scaled.tracker_db, scaled.store_db):
            scaled.engines.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)
    config = {"levels": list(levels), "seconds": seconds, "warmup_seconds": warmup, "questions": len(questions)}
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {"machine": machine(), "when": when, "config": config, "levels": rows}


def report(result: dict) -> str:
    m = result["machine"]
    lines = ["# The scaled set-up against the default one (`make bench-scaled`)", "",
             f"Measured {result['when']} on {m.get('cpu', '')}, {m.get('cores', '')} cores (the load client on the "
             f"same cores). Each level: {result['config']['warmup_seconds']:g} s warm-up, "
             f"{result['config']['seconds']:g} s measured per set-up, one after the other, both up.", "",
             "| Residents | Set-up | msg/s | p50 ms | p95 ms | p99 ms | Errors | CPU ms per message "
             "| scaled ÷ default msg/s | scaled ÷ default p95 |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["levels"]:
        d, s = row["default"], row["scaled"]
        for name, x in (("default", d), ("scaled", s)):
            lat = x["latency_ms"]
            ratio = (f"{s['throughput_msg_s'] / d['throughput_msg_s']:.2f}" if name == "scaled" and
                     d["throughput_msg_s"] else "")
            p95 = (f"{s['latency_ms']['p95'] / d['latency_ms']['p95']:.2f}" if name == "scaled" and
                   d["latency_ms"].get("p95") else "")
            cpu = x.get("cpu_ms_per_message", {}).get("total", "")
            lines.append(f"| {row['users']} | {name} | {x['throughput_msg_s']} | {lat.get('p50')} | {lat.get('p95')} | "
                         f"{lat.get('p99')} | {x['errors']} | {cpu} | {ratio} | {p95} |")
    lines += ["", "The scaled set-up pays HAProxy, PostgreSQL and Redis round trips, but its two Rasa processes use "
              "both cores where the default's one Rasa process uses one. The first level ran on cold query caches "
              "(most questions new to both set-ups: see the CPU per message), later levels on warm ones. Raw "
              "numbers: bench/scaled_load.json."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--warmup", type=float, default=WARMUP)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result = run([int(n) for n in args.levels.split(",")], args.seconds, args.warmup)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaled_load.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                                               encoding="utf-8")
    (args.out / "scaled_load.md").write_text(report(result), encoding="utf-8")
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
