"""How long spoken replies take to make: espeak-ng + OGG/Opus + MP3 for real answers, cold and from the cache.

`python -m bench.tts` prints the section; `bench/run.py` adds it to bench/report.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.core.settings import Settings
from bot.knowledge.loader import load_entries
from bot.knowledge.model import Entry
from bot.replies.answers import answer_entry
from bot.speech.tts import Speaker

ANSWERS = 20
REPEATS = 3  # each answer is made this many times in a fresh cache; the fastest counts (others' load is noise)


def sample(entries: list[Entry], n: int = ANSWERS) -> list[Entry]:
    """`n` entries spread evenly over the knowledge base (every topic, short and long answers)."""
    ordered = sorted(entries, key=lambda e: e.id)
    step = max(1, len(ordered) // n)
    return ordered[::step][:n]


def measure(entries: list[Entry], n: int = ANSWERS, repeats: int = REPEATS) -> dict:
    """Synthesis time per answer (first time: espeak-ng, opusenc and lame; again: the cache), characters per
    second of synthesis, and how long the audio plays."""
    by_id = {e.id: e for e in entries}
    texts = [answer_entry(e, by_id).text for e in sample(entries, n)]
    cold, warm, durations, chars, sizes = [], [], [], [], []
    for text in texts:
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                speaker = Speaker(Path(tmp))
                started = time.perf_counter()
                spoken = speaker.speak(text)
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
                speaker.speak(text)
                warm.append(time.perf_counter() - started)
                size = spoken.files["ogg"].stat().st_size / 1024
        cold.append(min(times))
        durations.append(spoken.duration_s)
        chars.append(len(spoken.text))
        sizes.append(size)
    return {
        "answers": len(texts),
        "load_average": round(os.getloadavg()[0], 1),  # other work on the machine slows the encoders
        "repeats": repeats,
        "cold_ms": {"median": round(1000 * statistics.median(cold), 1), "max": round(1000 * max(cold), 1)},
        "cached_ms": round(1000 * statistics.median(warm), 2),
        "chars_per_s": round(sum(chars) / sum(cold)),
        "spoken_chars": {"median": round(statistics.median(chars)), "max": max(chars)},
        "audio_s": {"median": round(statistics.median(durations), 1), "max": round(max(durations), 1)},
        "realtime_factor": round(sum(durations) / sum(cold)),
        "ogg_kb": {"median": round(statistics.median(sizes), 1), "max": round(max(sizes), 1)},
    }


def markdown(t: dict) -> list[str]:
    """The report's section."""
    return [
        f"## Spoken replies ({t['answers']} answers, espeak-ng `-v vi` + OGG/Opus + MP3, fastest of {t['repeats']})",
        "",
        "| First time (synthesise + encode) | From the cache | Synthesis speed | Audio length | OGG size |",
        "|---|---|---|---|---|",
        f"| median {t['cold_ms']['median']} ms, max {t['cold_ms']['max']} ms | {t['cached_ms']} ms "
        f"| {t['chars_per_s']} characters/s ({t['realtime_factor']}× faster than playback) "
        f"| median {t['audio_s']['median']} s, max {t['audio_s']['max']} s "
        f"| median {t['ogg_kb']['median']} kB, max {t['ogg_kb']['max']} kB |",
        "",
        f"Spoken text per answer: median {t['spoken_chars']['median']} characters, max {t['spoken_chars']['max']}. "
        f"Load average while measuring: {t.get('load_average', '?')}.",
        "",
    ]


def main() -> int:
    """Measure on the knowledge base and print the section."""
    result = measure(load_entries(Settings.from_env().knowledge_dir))
    print("\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
