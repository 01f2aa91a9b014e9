"""Closed-loop load over a Rasa REST webhook: N residents at a time, each waiting for a reply before the next message.

A resident is one conversation: `per_resident` messages sent back to back under one sender id, then it leaves and a
new resident (a fresh sender id) takes its place, until the time is up. Sender ids carry the run's id, so no run
meets a tracker grown by an earlier one (a longer tracker makes every later turn slower). Messages are not started
after the deadline; those in flight are awaited and counted.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

PER_RESIDENT = 20
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Sample:
    """One message: how long its reply took, and why it failed (None when it got a proper reply)."""

    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Run:
    """What one closed-loop run produced."""

    samples: list[Sample]
    seconds: float  # from the first message sent to the last reply received
    residents: int

    @property
    def errors(self) -> Counter[str]:
        return Counter(s.error for s in self.samples if s.error)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of values sorted ascending: a value that was measured."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def resident_messages(pool: Sequence[str], resident: int, per_resident: int = PER_RESIDENT) -> list[str]:
    """The messages of the `resident`-th resident: the next `per_resident` of the pool, wrapping around, so
    consecutive residents ask different things and a small pool repeats as a whole."""
    start = resident * per_resident
    return [pool[(start + i) % len(pool)] for i in range(per_resident)]


def sender_id(run_id: str, label: str, resident: int) -> str:
    """A sender id no earlier run used (REST senders: letters, digits and `_.:-`)."""
    return f"load-{run_id}-{label}-{resident}"


def replied(messages: object) -> bool:
    """Rasa's REST answer is a list of messages; a turn with none is not an answer."""
    return isinstance(messages, list) and any(isinstance(m, dict) and (m.get("text") or m.get("image"))
                                              for m in messages)


async def send(client: httpx.AsyncClient, url: str, sender: str, text: str,
               answered: Callable[[object], bool] = replied) -> Sample:
    """Post one message and time it until the whole reply is read."""
    started = time.perf_counter()
    try:
        r = await client.post(url, json={"sender": sender, "message": text})
        body = r.json() if r.status_code == 200 else None
    except httpx.TimeoutException:
        return Sample(time.perf_counter() - started, "timeout")
    except httpx.HTTPError as e:
        return Sample(time.perf_counter() - started, type(e).__name__)
    except ValueError:
        return Sample(time.perf_counter() - started, "not JSON")
    seconds = time.perf_counter() - started
    if r.status_code != 200:
        return Sample(seconds, f"HTTP {r.status_code}")
    return Sample(seconds, None if answered(body) else "no reply")


async def closed_loop(
    url: str, pool: Sequence[str], users: int, seconds: float, run_id: str, label: str,
    answered: Callable[[object], bool] = replied, per_resident: int = PER_RESIDENT, timeout: float = TIMEOUT_S,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Run:
    """Keep `users` residents talking to `url` for `seconds`; every message's latency and outcome (`transport`:
    httpx's, by default the network)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    samples: list[Sample] = []
    started_residents = 0  # one event loop: no two slots update it at once

    async def resident_slot(client: httpx.AsyncClient) -> None:
        nonlocal started_residents
        while loop.time() < deadline:
            n = started_residents
            started_residents += 1
            sender = sender_id(run_id, label, n)
            for text in resident_messages(pool, n, per_resident):
                if loop.time() >= deadline:
                    return
                samples.append(await send(client, url, sender, text, answered))

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport) as client:
        started = time.perf_counter()
        await asyncio.gather(*(resident_slot(client) for _ in range(users)))
        elapsed = time.perf_counter() - started
    return Run(samples, elapsed, started_residents)
