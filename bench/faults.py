"""`make bench-faults`: faults under load on the scaled set-up (issue 13, part 4).

The scaled set-up (tools/scaled.py: HAProxy, two Rasa servers on PostgreSQL's tracker store and a Redis lock store,
two action servers) is started with databases and a Redis of its own (tools/redis_server.py: the machine's Redis
is never restarted). Twenty simulated residents talk to HAProxy's door over REST in a closed loop (each waits for
its reply, then sends the next message): real residents' questions (tests/data/real_dev.jsonl), each followed by
follow-ups such as "tiep", under a sender id no other run or phase used. While they write, three phases, one after
the other, each with the set-up healthy again before the next:

- rasa: one Rasa server killed (SIGKILL), then started again;
- actions: one action server killed (SIGKILL), then started again;
- redis: the Redis of the lock store and the limits killed (SIGKILL), started again on the same port and folder.

Per phase: messages, replies, polite retries (the busy apology, bot/core/copy.py), errors, latency, when HAProxy
took the server out and back (its stats socket), and, read back from PostgreSQL's tracker store, whether every
message sent is there and was answered by a bot event. Writes bench/faults.json and bench/faults.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import faults_report
from bench.closed_loop import percentile, replied
from bench.load import resident_questions
from bench.machine import machine
from bot.core.copy import BUSY_APOLOGY
from bot.core.privacy import mask_incoming
from bot.core.settings import ROOT
from bot.rasa_side.channels.validation import web_conversation_id
from tools.redis_server import RedisServer
from tools.scaled import Ports, Scaled

OUT = ROOT / "bench"
QUESTIONS = [ROOT / "tests" / "data" / "real_dev.jsonl"]
RESIDENTS = 20
# One conversation: a question, its follow-ups, another question...; then the resident starts a new conversation
FOLLOW_UPS = ("tiep", "tiep", None, "tiep", None, "quay lai")  # None: the next real question
BEFORE_S = 15.0  # load before the fault
AFTER_S = 20.0  # load after the set-up is whole again
REDIS_DOWN_S = 3.0  # how long the Redis stays dead before it is started again
MESSAGE_TIMEOUT_S = 60.0
SETTLE_S = 90.0  # how long to wait for late turns (a lock left by a killed server lives 60 s) before counting
SERVERS = ("rasa1", "rasa2", "actions1", "actions2")


@dataclass(frozen=True)
class Message:
    """One message a resident sent, and what came back."""

    sender: str
    text: str
    sent_s: float  # from the phase's fault (negative: before it)
    seconds: float
    outcome: str  # "reply", "apology" (the polite retry) or "error"
    error: str | None = None  # the kind of error: "HTTP 502", "ConnectError", "no reply", "timeout"


def classify(status: int | None, body: object) -> tuple[str, str | None]:
    """A reply with bot text, the busy apology (a 200 that asks to try again), or an error."""
    if status != 200:
        return "error", f"HTTP {status}"
    if not replied(body):
        return "error", "no reply"
    assert isinstance(body, list)
    if any(isinstance(m, dict) and m.get("text") == BUSY_APOLOGY for m in body):
        return "apology", None
    return "reply", None


def conversation(pool: Sequence[str], start: int, length: int = len(FOLLOW_UPS) + 1) -> tuple[list[str], int]:
    """The messages of one conversation, taking real questions from `start`; the next unused question index."""
    messages, n = [pool[start % len(pool)]], start + 1
    for follow_up in FOLLOW_UPS[: length - 1]:
        if follow_up is None:
            messages.append(pool[n % len(pool)])
            n += 1
        else:
            messages.append(follow_up)
    return messages, n


class Clock:
    """Seconds from a phase's fault; before the fault it counts from the phase's start, negative."""

    def __init__(self, before_s: float) -> None:
        self.zero = time.monotonic() + before_s

    def now(self) -> float:
        return round(time.monotonic() - self.zero, 2)


class StatusWatch:
    """In a thread: each change of a server's status in HAProxy (UP, DOWN, ...), with the clock's time."""

    def __init__(self, scaled: Scaled, clock: Clock) -> None:
        self.scaled, self.clock = scaled, clock
        self.changes: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last: dict[str, str] = {}
        while not self._stop.is_set():
            try:
                stats = self.scaled.stats()
            except OSError:
                stats = {}
            for name in SERVERS:
                status = stats.get(name, {}).get("status", "?")
                if stats and status != last.get(name):
                    if name in last:
                        self.changes.append({"t": self.clock.now(), "server": name, "status": status})
                    last[name] = status
            self._stop.wait(0.1)

    def __enter__(self) -> StatusWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


async def post_turn(client: httpx.AsyncClient, url: str, payload: dict, retry_cut: bool) -> httpx.Response:
    """One turn; with `retry_cut`, a connection cut before any answer is sent once more after 0.5 s, as the web chat
    page and the Telegram relay do (bot/rasa_side/channels/webchat_static/chat.js, bot/relay/client.py)."""
    try:
        return await client.post(url, json=payload)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        if not retry_cut:
            raise
        await asyncio.sleep(0.5)
        return await client.post(url, json=payload)


async def resident(client: httpx.AsyncClient, url: str, sender_prefix: str, pool: Sequence[str], first: int,
                   clock: Clock, stop: asyncio.Event, log: list[Message], retry_cut: bool = False) -> None:
    """One slot of the closed loop: conversations one after another, each under a new sender id, until `stop`."""
    n, question = 0, first
    while not stop.is_set():
        sender = f"{sender_prefix}-{n}"
        messages, question = conversation(pool, question)
        for text in messages:
            if stop.is_set():
                return
            sent, started = clock.now(), time.perf_counter()
            status, body, error = None, None, None
            try:
                r = await post_turn(client, url, {"sender": sender, "message": text}, retry_cut)
                status = r.status_code
                body = r.json() if status == 200 else None
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.HTTPError as err:
                error = type(err).__name__
            except ValueError:
                error = "not JSON"
            outcome, kind = ("error", error) if error else classify(status, body)
            log.append(Message(sender, text, sent, round(time.perf_counter() - started, 3), outcome, kind))
        n += 1


# -- the faults: blocking, run in a thread while the residents write; each returns its timeline -------------------

def _kill_and_restart(scaled: Scaled, clock: Clock, name: str, start: Callable[[], None]) -> dict:
    """SIGKILL one server, wait until HAProxy marks it DOWN, start it again, wait until it is UP."""
    scaled.stop_process(name, signal.SIGKILL)
    timeline = {"killed": clock.now()}
    scaled.wait_status({name}, "DOWN", timeout=30)
    timeline["restart_begun"] = clock.now()
    start()
    timeline["restarted"] = clock.now()
    scaled.wait_status({name}, "UP", timeout=60)
    timeline["whole_again"] = clock.now()
    return timeline


def kill_and_restart_rasa(scaled: Scaled, clock: Clock, _redis: RedisServer) -> dict:
    return _kill_and_restart(scaled, clock, "rasa1", lambda: scaled.start_rasa(1))


def kill_and_restart_actions(scaled: Scaled, clock: Clock, _redis: RedisServer) -> dict:
    return _kill_and_restart(scaled, clock, "actions1", lambda: scaled.start_actions(1))


def kill_and_restart_redis(_scaled: Scaled, clock: Clock, redis: RedisServer) -> dict:
    redis.stop(signal.SIGKILL)
    timeline = {"killed": clock.now()}
    time.sleep(REDIS_DOWN_S)
    timeline["restart_begun"] = clock.now()
    redis.start()
    timeline["restarted"] = timeline["whole_again"] = clock.now()
    return timeline


Fault = Callable[[Scaled, Clock, RedisServer], dict]
PHASES: dict[str, tuple[str, Fault]] = {
    "rasa": ("Rasa server rasa1 killed (SIGKILL), then started again", kill_and_restart_rasa),
    "actions": ("Action server actions1 killed (SIGKILL), then started again", kill_and_restart_actions),
    "redis": (f"Redis (lock store, limits) killed (SIGKILL), started again {REDIS_DOWN_S:g} s later on the same "
              "port and data folder", kill_and_restart_redis),
}


async def load_through(scaled: Scaled, redis: RedisServer, phase: str, fault: Fault, pool: Sequence[str],
                       run_id: str, residents: int, retry_cut: bool = False) -> dict:
    """The residents write for BEFORE_S, the fault happens and is repaired, they write AFTER_S more."""
    clock, stop, log = Clock(BEFORE_S), asyncio.Event(), list[Message]()
    url = f"{scaled.url}/webhooks/rest/webhook"
    limits = httpx.Limits(max_connections=residents, max_keepalive_connections=residents)
    with StatusWatch(scaled, clock) as watch:
        async with httpx.AsyncClient(timeout=MESSAGE_TIMEOUT_S, limits=limits) as client:
            first_question = [(list(PHASES).index(phase) * 7 + i * 40) % len(pool) for i in range(residents)]
            slots = [asyncio.create_task(resident(client, url, f"faults-{run_id}-{phase}-{i}", pool, first, clock,
                                                  stop, log, retry_cut))
                     for i, first in enumerate(first_question)]
            await asyncio.sleep(BEFORE_S)
            timeline = await asyncio.to_thread(fault, scaled, clock, redis)
            await asyncio.sleep(AFTER_S)
            stop.set()
            await asyncio.gather(*slots)
        timeline["load_ended"] = clock.now()
    return {"timeline": timeline, "haproxy": watch.changes, "messages": log}


# -- the tracker store, read back ---------------------------------------------------------------------------------

def stored_events(scaled: Scaled, conversation_prefix: str) -> dict[str, list[tuple[str, str | None]]]:
    """(type, text) of every user and bot event of the conversations starting with the prefix, in order."""
    rows = scaled.engines.psql(
        "SELECT json_build_object('s', sender_id, 't', type_name, 'x', data::json->>'text') FROM events "
        f"WHERE sender_id LIKE '{conversation_prefix}%' AND type_name IN ('user', 'bot') ORDER BY id",
        db=scaled.tracker_db)
    events: dict[str, list[tuple[str, str | None]]] = {}
    for line in rows.splitlines():
        row = json.loads(line)
        events.setdefault(row["s"], []).append((row["t"], row["x"]))
    return events


def aligned(sent: Sequence[Message], users: Sequence[str]) -> list[bool]:
    """Which sent messages the stored user texts account for, in order (the longest common subsequence). A text sent
    twice ("tiep") and stored once is put down to the message that got no answer rather than one that got a reply."""
    texts = [mask_incoming(m.text) for m in sent]
    weight = [1.0 + (0.001 if m.outcome != "error" else 0.0) for m in sent]
    best = [[0.0] * (len(users) + 1) for _ in range(len(sent) + 1)]
    for i in range(len(sent) - 1, -1, -1):
        for j in range(len(users) - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1],
                             best[i + 1][j + 1] + weight[i] if texts[i] == users[j] else 0.0)
    kept, i, j = [False] * len(sent), 0, 0
    while i < len(sent) and j < len(users):
        if texts[i] == users[j] and best[i][j] == best[i + 1][j + 1] + weight[i]:
            kept[i], i, j = True, i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return kept


def check_tracker(messages: Sequence[Message], events: dict[str, list[tuple[str, str | None]]]) -> dict:
    """Per conversation: every message sent is a user event (masked as the door masks it), each followed by a bot
    event before the next user event. Lost, duplicated and unanswered messages are listed."""
    sent: dict[str, list[Message]] = {}
    for m in messages:
        sent.setdefault(web_conversation_id(m.sender), []).append(m)
    lost, duplicated, unanswered = [], [], []
    user_events = 0
    for conv, msgs in sent.items():
        stream = events.get(conv, [])
        users = [text or "" for kind, text in stream if kind == "user"]
        user_events += len(users)
        stored = aligned(msgs, users)
        lost += [{"conversation": conv, "text": m.text[:60], "sent_s": m.sent_s, "outcome": m.outcome,
                  "error": m.error} for m, kept in zip(msgs, stored, strict=True) if not kept]
        extra = Counter(users) - Counter(mask_incoming(m.text) for m, kept in zip(msgs, stored, strict=True) if kept)
        duplicated += [{"conversation": conv, "text": t[:60], "times": n} for t, n in extra.items()]
        waiting: list[str] = []  # the user message not yet followed by a bot event, if any
        for kind, text in stream:
            if kind == "user":
                unanswered += [{"conversation": conv, "text": t[:60]} for t in waiting]
                waiting = [text or ""]
            else:
                waiting = []
        unanswered += [{"conversation": conv, "text": t[:60]} for t in waiting]
    return {"conversations": len(sent), "messages_sent": len(messages), "user_events": user_events,
            "lost": lost, "duplicated": duplicated, "unanswered": unanswered}


def settle_and_check(scaled: Scaled, messages: Sequence[Message], prefix: str, timeout: float = SETTLE_S) -> dict:
    """Wait until every message is stored and answered (turns answered late still finish), at most `timeout`."""
    started = time.monotonic()
    while True:
        check = check_tracker(messages, stored_events(scaled, prefix))
        if not (check["lost"] or check["unanswered"]) or time.monotonic() - started > timeout:
            check["settled_after_s"] = round(time.monotonic() - started, 1)
            return check
        time.sleep(3)


# -- the run ----------------------------------------------------------------------------------------------------

def summarise(phase: dict) -> dict:
    """Counts and latency of one phase's messages (all of them, and those sent while the set-up was not whole)."""
    msgs: list[Message] = phase["messages"]
    timeline = phase["timeline"]

    def stats(selected: list[Message]) -> dict:
        lat = sorted(m.seconds for m in selected)
        return {
            "sent": len(selected),
            "replies": sum(m.outcome == "reply" for m in selected),
            "apologies": sum(m.outcome == "apology" for m in selected),
            "errors": sum(m.outcome == "error" for m in selected),
            "error_kinds": dict(Counter(m.error for m in selected if m.error)),
            "latency_s": {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "max": lat[-1]} if lat else {},
        }

    during = [m for m in msgs if 0 <= m.sent_s <= timeline["whole_again"]]
    return {"all": stats(msgs), "during_fault": stats(during),
            "not_replied": [{"sent_s": m.sent_s, "seconds": m.seconds, "outcome": m.outcome, "error": m.error}
                            for m in msgs if m.outcome != "reply"]}


def run(phases: Sequence[str], residents: int, keep: bool, lock_store_wait_s: str = "",
        retry_cut: bool = False) -> dict:
    run_id = secrets.token_hex(4)
    pool = resident_questions(QUESTIONS)
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    redis = RedisServer(workdir / "redis")
    redis.start()
    scaled = Scaled(workdir, Ports.free(), tracker_db=f"faults_tracker_{run_id}",
                    store_db=f"faults_knowledge_{run_id}", fresh=True,
                    env={"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port),
                         # bot/rasa_side/lock_store.py; 0.01 behaves as Rasa's own lock store (one try)
                         **({"BOT_LOCK_STORE_WAIT_S": lock_store_wait_s} if lock_store_wait_s else {})})
    result: dict = {"machine": machine(), "run_id": run_id, "phases": {},
                    "config": {"residents": residents, "before_s": BEFORE_S, "after_s": AFTER_S,
                               "redis_down_s": REDIS_DOWN_S, "conversation": ["<question>", *(
                                   f or "<question>" for f in FOLLOW_UPS)], "questions": "tests/data/real_dev.jsonl",
                               "message_timeout_s": MESSAGE_TIMEOUT_S,
                               "lock_store_wait_s": lock_store_wait_s or "default (5)",
                               "client_retry_on_cut": retry_cut}}
    try:
        print(f"starting the scaled set-up in {workdir} (Redis of its own on port {redis.port}) ...", flush=True)
        scaled.start()
        result["start_s"] = dict(scaled.timings)
        for name in phases:
            title, fault = PHASES[name]
            scaled.wait_status(set(SERVERS), "UP", timeout=120)
            print(f"phase {name}: {title}", flush=True)
            phase = asyncio.run(load_through(scaled, redis, name, fault, pool, run_id, residents, retry_cut))
            summary = summarise(phase)
            summary["tracker"] = settle_and_check(scaled, phase["messages"],
                                                  web_conversation_id(f"faults-{run_id}-{name}-"))
            summary.update(title=title, timeline=phase["timeline"], haproxy=phase["haproxy"],
                           served=scaled.served())
            result["phases"][name] = summary
            print(json.dumps({k: summary[k] for k in ("all", "during_fault", "timeline")}, ensure_ascii=False),
                  flush=True)
            print(f"  tracker: {len(summary['tracker']['lost'])} lost, {len(summary['tracker']['unanswered'])} "
                  f"unanswered, {len(summary['tracker']['duplicated'])} duplicated", flush=True)
    finally:
        scaled.stop()
        redis.stop()
        for db in (scaled.tracker_db, scaled.store_db):
            scaled.engines.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        if keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--residents", type=int, default=RESIDENTS)
    parser.add_argument("--out", type=Path, default=OUT, help="folder of faults.json and faults.md")
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs (printed folder)")
    parser.add_argument("--lock-store-wait", default="", help="BOT_LOCK_STORE_WAIT_S for the Rasa servers (0.01: "
                        "give up at the first refused connection, as Rasa's own lock store does)")
    parser.add_argument("--client-retry", action="store_true", help="residents send a turn cut before any answer "
                        "once more, as the web chat page and the Telegram relay do")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    result = run(phases, args.residents, args.keep, args.lock_store_wait, args.client_retry)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out / "faults.md").write_text(faults_report.markdown(result), encoding="utf-8")
    print(faults_report.markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
