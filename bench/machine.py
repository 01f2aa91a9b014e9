"""What a benchmark ran on: CPU, cores, memory, OS, both Pythons and the date (stamped on every report)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

from tools.launch import ACTIONS_PY, RASA


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))

    def version(exe: Path) -> str:
        return subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip().splitlines()[0]

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "rasa_python": version(RASA.parent / "python"),
        "actions_python": version(ACTIONS_PY),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
