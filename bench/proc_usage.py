"""CPU time and resident memory of a server's process tree (a Sanic server may run its workers as children).

CPU is read as a counter (user + system seconds of every live process in the tree) before and after a run, so
CPU per message = the difference / messages. Memory is sampled during the run for its peak, and read at the end.
A process that exits between two readings takes its CPU seconds with it: servers under test do not fork per request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import psutil  # type: ignore[import-untyped]

MB = 1024 * 1024


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants alive now."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by the live processes of the tree."""
    total = 0.0
    for p in tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of the tree in MB (shared pages counted in each process, as `ps` does)."""
    total = 0
    for p in tree(pid):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / MB


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used so far (every core's time not idle or waiting on I/O):
    with the servers' and the load client's own, what is left is other work competing for the same cores."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)


@dataclass
class Usage:
    """CPU seconds and memory of named process trees over one run."""

    pids: dict[str, int]
    cpu_start: dict[str, float] = field(default_factory=dict)
    cpu_end: dict[str, float] = field(default_factory=dict)
    rss_peak: dict[str, float] = field(default_factory=dict)
    rss_end: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.cpu_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.sample()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.rss_peak[name] = max(self.rss_peak.get(name, 0.0), rss_mb(pid))

    def stop(self) -> None:
        self.cpu_end = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.sample()
        self.rss_end = {name: rss_mb(pid) for name, pid in self.pids.items()}

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds each tree used between start() and stop()."""
        return {name: self.cpu_end[name] - self.cpu_start[name] for name in self.pids}

    async def sample_every(self, seconds: float) -> None:
        """Sample memory until cancelled (run beside the load)."""
        while True:
            await asyncio.sleep(seconds)
            self.sample()
