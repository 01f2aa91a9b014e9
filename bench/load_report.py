"""The numbers of a load run (per level and bot), the ratios of our bot to the moodbot, and the "Load" section of
bench/report.md with its chart. Pure except `plot` (matplotlib) and the file helpers at the end."""

from __future__ import annotations

from pathlib import Path

from bench.closed_loop import Run, percentile
from bench.proc_usage import Usage

HEADING = "## Load"
OURS, FLOOR = "ours", "moodbot"


def summarise(run: Run, usage: Usage, client_cpu_s: float, machine_cpu_s: float | None = None) -> dict:
    """One bot at one level: throughput, latency percentiles, errors, CPU per message and memory per process tree;
    with the machine's CPU seconds over the run, how many cores other work kept busy meanwhile."""
    n = len(run.samples)
    lat = sorted(s.seconds * 1000 for s in run.samples)
    cpu = usage.cpu_used()
    return {
        "messages": n,
        "residents": run.residents,
        "seconds": round(run.seconds, 2),
        "throughput_msg_s": round(n / run.seconds, 2) if run.seconds else 0.0,
        "latency_ms": {
            **{f"p{q}": round(percentile(lat, q), 1) for q in (50, 95, 99)},
            "max": round(lat[-1], 1), "mean": round(sum(lat) / n, 1),
        } if lat else {},
        "errors": sum(run.errors.values()),
        "error_kinds": dict(run.errors),
        "cpu_s": {name: round(s, 2) for name, s in cpu.items()},
        "cpu_ms_per_message": {**{name: round(1000 * s / n, 2) for name, s in cpu.items()},
                               "total": round(1000 * sum(cpu.values()) / n, 2)} if n else {},
        "cores_busy": round(sum(cpu.values()) / run.seconds, 2) if run.seconds else 0.0,
        "rss_mb": {name: {"end": round(usage.rss_end[name], 1), "peak": round(usage.rss_peak[name], 1)}
                   for name in usage.pids},
        "client_cpu_ms_per_message": round(1000 * client_cpu_s / n, 2) if n else None,
        "other_cores_busy": round(max(0.0, machine_cpu_s - sum(cpu.values()) - client_cpu_s) / run.seconds, 2)
        if machine_cpu_s is not None and run.seconds else None,
    }


def ratio(ours: float, floor: float) -> float | None:
    return round(ours / floor, 2) if floor else None


def ratios(ours: dict, floor: dict) -> dict:
    """Our bot over the moodbot at one level: msg/s (below 1: we serve fewer), p95 and CPU per message (above 1:
    we are slower / costlier)."""
    return {
        "throughput": ratio(ours["throughput_msg_s"], floor["throughput_msg_s"]),
        "p95": ratio(ours["latency_ms"].get("p95", 0.0), floor["latency_ms"].get("p95", 0.0)),
        "cpu_per_message": ratio(ours["cpu_ms_per_message"].get("total", 0.0),
                                 floor["cpu_ms_per_message"].get("total", 0.0)),
    }


def headline(level: dict) -> str:
    """The ratios at one level, as a sentence."""
    r = level["ratios"]
    return (f"**At {level['users']} concurrent residents our bot serves {r['throughput']}× the moodbot's messages per "
            f"second, at {r['p95']}× its p95 latency and {r['cpu_per_message']}× its CPU per message.**")


def _memory(stats: dict) -> str:
    return ", ".join(f"{name} {m['end']:.0f} ({m['peak']:.0f})" for name, m in stats["rss_mb"].items())


def _cpu(stats: dict) -> str:
    per = stats["cpu_ms_per_message"]
    parts = [f"{name} {ms:.1f}" for name, ms in per.items() if name != "total"]
    return " + ".join(parts) + (f" = {per['total']:.1f}" if len(parts) > 1 else "")


def section(result: dict, chart: str = "load.png") -> str:
    """The report's "Load" section: how it was measured, the ratios, the table and the chart."""
    m, c = result["machine"], result["config"]
    levels = result["levels"]
    lines = [
        f"{HEADING}: our bot beside Rasa's moodbot (closed loop over REST{', quick run' if c['quick'] else ''})",
        "",
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores (load average before: "
        f"{', '.join(f'{x:.2f}' for x in result['load_average_before'])}); the load client ran on the same cores. "
        f"Each level: {c['warmup_seconds']:g} s of warm-up, then {c['seconds']:g} s measured per bot, one bot after "
        f"the other with both servers up. Each simulated resident sends {c['per_resident']} messages back to back "
        "(the next one when the reply has arrived) under a fresh sender id, then a new resident takes its place.",
        "",
        f"- Floor: `rasa init`'s moodbot (Rasa {c['rasa_version']}), in-memory tracker store, no action server, REST "
        f"channel only; its own messages (greetings, moods, yes/no, \"are you a bot?\").",
        f"- Ours: the trained model with the action server (search) and the SQLite tracker store, as `make run` "
        f"starts them; {c['our_questions']} real residents' questions from tests/data/real_*.jsonl"
        + (f"; OMP_NUM_THREADS={c['omp_num_threads']}." if c.get("omp_num_threads") else "."),
        "",
        headline(levels[-1]) if levels else "",
        "",
        "Our bot ÷ moodbot (msg/s below 1: fewer messages served; p95 and CPU above 1: slower, costlier):",
        "",
        "| Residents | msg/s ratio | p95 ratio | CPU per message ratio |",
        "|---|---|---|---|",
    ]
    for lv in levels:
        r = lv["ratios"]
        lines.append(f"| {lv['users']} | {r['throughput']} | {r['p95']} | {r['cpu_per_message']} |")
    lines += [
        "",
        "| Residents | Bot | msg/s | p50 ms | p95 ms | p99 ms | Errors | CPU ms per message | Cores busy "
        "| Other work (cores) | RSS MB at end (peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in levels:
        for bot in (FLOOR, OURS):
            s = lv[bot]
            lat = s["latency_ms"]
            lines.append(
                f"| {lv['users']} | {bot} | {s['throughput_msg_s']:.1f} | {lat.get('p50', '-')} | "
                f"{lat.get('p95', '-')} | {lat.get('p99', '-')} | {s['errors']} | {_cpu(s)} | {s['cores_busy']} | "
                f"{s.get('other_cores_busy', '-')} | {_memory(s)} |")
    lines += [
        "",
        "CPU and memory are per process tree (Rasa; our action server with its worker). Cores busy: the bot's "
        "servers; other work: every other process of the machine meanwhile (the load client excluded), which "
        "competed for the same cores. Raw numbers: bench/load.json. `make bench-load` (all levels) or "
        "`make bench-load QUICK=1`.",
        "",
        f"![load]({chart})",
        "",
    ]
    return "\n".join(lines)


def replace_section(report: str, new_section: str) -> str:
    """The report with its "Load" section (from its heading to the next `## ` heading) replaced by `new_section`,
    or with `new_section` appended when it has none. Other sections stay as they are."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADING)), None)
    body = new_section.rstrip("\n").splitlines()
    if start is None:
        return "\n".join([*lines, *([""] if lines and lines[-1].strip() else []), *body]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    following = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join([*lines[:start], *body, *following]) + "\n"


def load_section(report: str) -> str | None:
    """The "Load" section of a report, if it has one (for `make bench`, which rewrites the rest)."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADING)), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).rstrip("\n") + "\n"


def carry_over(previous: str | None, fresh: str) -> str:
    """A freshly written report that keeps the previous report's "Load" section (measured by another command)."""
    kept = load_section(previous) if previous else None
    return replace_section(fresh, kept) if kept and load_section(fresh) is None else fresh


def plot(result: dict, path: Path) -> None:
    """Throughput, p95 latency and CPU per message against the number of residents, both bots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = [lv["users"] for lv in result["levels"]]
    x = list(range(len(users)))
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))
    for bot, colour in ((FLOOR, "#999999"), (OURS, "#2b7bba")):
        stats = [lv[bot] for lv in result["levels"]]
        ax1.plot(x, [s["throughput_msg_s"] for s in stats], "o-", color=colour, label=bot)
        ax2.plot(x, [s["latency_ms"].get("p95", float("nan")) for s in stats], "o-", color=colour, label=bot)
    width = 0.38  # CPU per message: the moodbot's Rasa beside our Rasa with our action server stacked on it
    ax3.bar([i - width / 2 for i in x], [lv[FLOOR]["cpu_ms_per_message"].get("rasa", 0.0) for lv in result["levels"]],
            width, color="#999999", label="moodbot: Rasa")
    ours_rasa = [lv[OURS]["cpu_ms_per_message"].get("rasa", 0.0) for lv in result["levels"]]
    ax3.bar([i + width / 2 for i in x], ours_rasa, width, color="#9cc3e4", label="ours: Rasa")
    ax3.bar([i + width / 2 for i in x], [lv[OURS]["cpu_ms_per_message"].get("actions", 0.0)
                                         for lv in result["levels"]], width, bottom=ours_rasa, color="#2b7bba",
            label="ours: action server")
    for ax, title in ((ax1, "Messages per second"), (ax2, "p95 latency (ms, log scale)"),
                      (ax3, "CPU ms per message")):
        ax.set_xticks(x, [str(u) for u in users])
        ax.set_xlabel("concurrent residents")
        ax.set_title(title)
        ax.legend()
    ax2.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
