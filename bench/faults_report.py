"""bench/faults.md from the numbers of a fault run (bench/faults.py): pure, one table per phase."""

from __future__ import annotations

EXPLAINED = {
    "rasa": (
        "A killed Rasa server refuses new connections at once; HAProxy retries such a connection on the other "
        "server (`retry-on conn-failure`) and marks the dead one DOWN (`observe layer4`). The messages the killed "
        "server was working on when it died are cut off: Rasa writes a turn to the tracker store only at its end, so "
        "none of them is half-stored, and they are the errors and the lost messages above: HAProxy did not retry "
        "them despite `retry-on empty-response` and closed the residents' connections without an answer (likely "
        "because a killed process's connections are reset, not closed; docs/scaling.md). "
        "The conversations of those residents wait for the lock ticket the dead server held (`TICKET_LOCK_LIFETIME`, "
        "20 s in tools/scaled.py): their next messages get the busy apology after the doors' 8 s and are answered in "
        "the tracker store once the ticket expires; a waiting ticket is kept alive (bot/rasa_side/lock_store.py), so "
        "none of them is dropped. The restarted server loads its model while the residents keep writing."
    ),
    "actions": (
        "Actions keep no state of their own, so HAProxy's second door retries a call refused by the dead action "
        "server, or cut off without an answer, on the other one (`retry-on conn-failure empty-response`; a call "
        "is retried only if it fits in HAProxy's buffer, `tune.bufsize`, and only after a clean close). A call that "
        "is not retried gets a 502: Rasa goes on without the action's events and the door answers the busy apology "
        "(the user message is stored, with no bot event after it). The restarted server loads e5 and the index and "
        "answers a warm-up question before HAProxy sends it calls."
    ),
    "redis": (
        "Redis holds Rasa's lock store (one message at a time per conversation) and the request limits. While it "
        "is down, the lock store tries again every 0.25 s for up to `BOT_LOCK_STORE_WAIT_S` (5 s; "
        "bot/rasa_side/lock_store.py), so the messages sent meanwhile wait and are answered when Redis is back; the "
        "limits count in each action server's memory (bot/core/limits.py)."
    ),
}


def _latency(stats: dict) -> str:
    lat = stats.get("latency_s") or {}
    return " / ".join(f"{lat[k]:.2f}" for k in ("p50", "p95", "max")) if lat else "-"


def _errors(stats: dict) -> str:
    kinds = stats["error_kinds"]
    return str(stats["errors"]) + (f" ({', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))})" if kinds else "")


def _haproxy(changes: list[dict]) -> str:
    return "; ".join(f"{c['server']} {c['status']} at {c['t']:+.1f} s" for c in changes) or "no change"


def _timeline(timeline: dict) -> str:
    names = {"killed": "killed", "restart_begun": "restart begun", "restarted": "answering again",
             "whole_again": "UP in HAProxy again" , "load_ended": "load ended"}
    return "; ".join(f"{label} {timeline[key]:+.1f} s" for key, label in names.items() if key in timeline)


def _tracker(check: dict) -> str:
    lost, dup, unanswered = check["lost"], check["duplicated"], check["unanswered"]
    line = (f"{check['messages_sent']} messages sent in {check['conversations']} conversations, "
            f"{check['user_events']} user events stored: **{len(lost)} lost**, {len(dup)} stored twice, "
            f"{len(unanswered)} without a bot event after them (checked {check['settled_after_s']:g} s after the "
            "load ended).")
    for item in lost[:10]:
        line += (f"\n  - lost: \"{item['text']}\" in {item['conversation']}, sent at {item['sent_s']:+.1f} s, "
                 f"the resident got: {item['error'] or item['outcome']}")
    return line


def phase_section(name: str, phase: dict) -> str:
    rows = [("All messages of the phase", phase["all"]), ("Sent while the set-up was not whole (fault to UP again)",
                                                           phase["during_fault"])]
    lines = [f"## {name}: {phase['title']}", "",
             "| Messages | Sent | Replies | Polite retries (apology) | Errors | Latency p50 / p95 / max (s) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {label} | {s['sent']} | {s['replies']} | {s['apologies']} | {_errors(s)} | {_latency(s)} |"
              for label, s in rows]
    not_replied = phase["not_replied"]
    lines += ["",
              f"- Timeline (from the fault): {_timeline(phase['timeline'])}.",
              f"- HAProxy: {_haproxy(phase['haproxy'])}.",
              f"- Tracker store (PostgreSQL, table `events`): {_tracker(phase['tracker'])}",
              "- Messages not answered with a reply, sent at: " + (", ".join(
                  f"{m['sent_s']:+.1f} s ({m['error'] or m['outcome']}, {m['seconds']:.1f} s)"
                  for m in not_replied[:30]) + (" …" if len(not_replied) > 30 else "") if not_replied else "none"),
              "", EXPLAINED.get(name, ""), ""]
    return "\n".join(lines)


def markdown(result: dict) -> str:
    m, c = result["machine"], result["config"]
    conversation = ", ".join(c["conversation"])
    head = [
        "# Faults under load (issue 13, part 4)", "",
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB (shared with other work; the "
        "load client runs on the same cores). `make bench-faults` (bench/faults.py) starts the scaled set-up "
        "(docs/scaling.md: HAProxy, two Rasa servers on PostgreSQL's tracker store and Redis's lock store, two action "
        "servers) with databases and a Redis server of its own, then "
        f"{c['residents']} simulated residents write to HAProxy's door over REST in a closed loop (the next message "
        f"when the reply has come). Each conversation, under a sender id no other run or phase used: {conversation} "
        f"(questions from {c['questions']}). In each phase the residents write {c['before_s']:g} s, the fault "
        f"happens at 0 s and is repaired (the server started again, as tools/scaled.py starts it), and they write "
        f"{c['after_s']:g} s more after HAProxy sees the server UP again. The next phase begins with all four servers "
        "UP.", "",
        "A reply is a 200 with the bot's text; a polite retry is the door's busy apology (bot/core/copy.py, a 200 that "
        "asks the resident to try again); an error is anything else (a status other than 200, a refused or cut "
        "connection, an empty reply). After each phase every conversation is read back from PostgreSQL's tracker "
        "store: each message sent must be there as a user event, followed by a bot event.", "",
        f"Start-up of the set-up: {result.get('start_s', {}).get('total', '?')} s.", "",
    ]
    body = [phase_section(name, phase) for name, phase in result["phases"].items()]
    return "\n".join(head + body).rstrip() + "\n"
