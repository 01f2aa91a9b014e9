"""`make bench-load`: the closed loop, the numbers and the report section (in process, against a fake webhook), and
one quick run against the real servers (our bot and Rasa's moodbot)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter

import httpx
import pytest

from bench import load, load_report
from bench.closed_loop import Run, Sample, closed_loop, percentile, replied, resident_messages, sender_id
from bench.moodbot import MESSAGES
from bench.proc_usage import Usage, cpu_seconds, machine_busy_seconds, rss_mb
from bot.core.settings import ROOT
from bot.rasa_side.channels.validation import SENDER_CHARS


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile(values, 100) == 100.0 and percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_residents_take_the_next_messages_of_the_pool_and_wrap():
    pool = [f"q{i}" for i in range(30)]
    first, second = resident_messages(pool, 0, 20), resident_messages(pool, 1, 20)
    assert first == pool[:20] and second == pool[20:] + pool[:10]
    assert resident_messages(MESSAGES, 7) == list(MESSAGES)  # the moodbot's 20 messages: one whole conversation


def test_sender_ids_are_fresh_and_accepted_by_the_rest_door():
    ids = {sender_id(run, label, n) for run in ("a1b2c3d4e5f6", "0f0f0f0f0f0f") for label in ("ours-50", "moodbot-50")
           for n in range(200)}
    assert len(ids) == 800
    assert all(SENDER_CHARS.fullmatch(s) for s in ids)


def test_a_reply_needs_a_message_with_content():
    assert replied([{"recipient_id": "x", "text": "Hey!"}]) and replied([{"image": "https://x/y.jpg"}])
    assert not replied([]) and not replied([{"recipient_id": "x"}]) and not replied({"text": "x"})


def test_the_door_apology_counts_as_an_error():
    apology = load.door_apology()
    assert apology.startswith("Xin lỗi")
    rest_door = ROOT / "bot" / "rasa_side" / "channels" / "rest.py"
    assert "APOLOGY = BUSY_APOLOGY" in rest_door.read_text(encoding="utf-8")  # the door sends this very text
    answered = load.answered_without(apology)
    assert answered([{"text": "Bạn vào mục Quên mật khẩu."}])
    assert not answered([{"text": apology}]) and not answered([])


def test_our_residents_ask_the_real_questions_in_a_fixed_mixed_order():
    questions = load.resident_questions()
    real = [json.loads(line)["q"] for p in load.REAL_QUESTIONS for line in p.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    assert sorted(questions) == sorted(real) and len(questions) >= 100
    assert questions == load.resident_questions() and questions != real
    assert all("shared" not in str(p) for p in load.REAL_QUESTIONS)


def fake_webhook(log: list[tuple[str, str]], fail: set[str] = frozenset()) -> httpx.MockTransport:  # type: ignore[assignment]
    """A REST webhook that answers every message (after 5 ms), fails with 500 on the texts in `fail`, and says
    nothing to "silence"."""

    async def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        log.append((body["sender"], body["message"]))
        await asyncio.sleep(0.005)
        if body["message"] in fail:
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json=[] if body["message"] == "silence" else [{"text": "ok"}])

    return httpx.MockTransport(handle)


def test_closed_loop_keeps_each_resident_to_its_messages_and_counts_errors():
    log: list[tuple[str, str]] = []
    pool = ["a", "b", "boom", "silence", "c"]
    run = asyncio.run(closed_loop("http://bot/webhooks/rest/webhook", pool, users=3, seconds=0.6, run_id="r1",
                                  label="t", per_resident=4, transport=fake_webhook(log, {"boom"})))
    assert len(run.samples) == len(log) > 12  # every message sent was counted, and many were sent
    by_sender: dict[str, list[str]] = {}
    for sender, text in log:
        by_sender.setdefault(sender, []).append(text)
    assert len(by_sender) == run.residents and all(len(texts) <= 4 for texts in by_sender.values())
    for sender, texts in by_sender.items():  # resident n says the next 4 messages of the pool, in order
        n = int(sender.rsplit("-", 1)[1])
        assert texts == resident_messages(pool, n, 4)[: len(texts)]
    sent = Counter(text for _, text in log)
    assert run.errors == Counter({"HTTP 500": sent["boom"], "no reply": sent["silence"]})
    assert 0.6 <= run.seconds < 1.5  # stops starting messages at the deadline


def test_closed_loop_reports_a_server_that_is_not_there():
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    run = asyncio.run(closed_loop("http://bot/", ["hi"], 1, 0.05, "r", "t", transport=httpx.MockTransport(refuse)))
    assert run.samples and set(run.errors) == {"ConnectError"}


def test_process_tree_usage_of_this_process():
    me = __import__("os").getpid()
    assert rss_mb(me) > 10 and cpu_seconds(me) > 0
    # the machine's busy time grows at least by what this process burns (compared as deltas: since boot, a
    # container's /proc/stat and a long test process's own tree need not compare)
    machine_before, own_before = machine_busy_seconds(), cpu_seconds(me)
    sum(i * i for i in range(3_000_000))
    own = cpu_seconds(me) - own_before
    assert own > 0.05 and machine_busy_seconds() - machine_before > own * 0.5
    usage = Usage({"me": me})
    usage.start()
    sum(i * i for i in range(300_000))
    usage.stop()
    assert usage.cpu_used()["me"] > 0 and usage.rss_peak["me"] >= usage.rss_end["me"] * 0.5


def fixed_usage(cpu: dict[str, float]) -> Usage:
    usage = Usage({name: 1 for name in cpu}, cpu_start=dict.fromkeys(cpu, 10.0),
                  cpu_end={name: 10.0 + s for name, s in cpu.items()})
    usage.rss_end = dict.fromkeys(cpu, 100.0)
    usage.rss_peak = dict.fromkeys(cpu, 120.0)
    return usage


def test_summary_and_ratios():
    floor_run = Run([Sample(0.010)] * 90 + [Sample(0.020)] * 10, seconds=2.0, residents=5)
    ours_run = Run([Sample(0.050)] * 19 + [Sample(0.200, "timeout")], seconds=2.0, residents=1)
    floor = load_report.summarise(floor_run, fixed_usage({"rasa": 1.0}), client_cpu_s=0.1)
    ours = load_report.summarise(ours_run, fixed_usage({"rasa": 0.5, "actions": 1.5}), client_cpu_s=0.1,
                                 machine_cpu_s=4.1)
    assert floor["throughput_msg_s"] == 50.0 and floor["latency_ms"]["p50"] == 10.0
    assert floor["latency_ms"]["p95"] == 20.0 and floor["cpu_ms_per_message"] == {"rasa": 10.0, "total": 10.0}
    assert ours["errors"] == 1 and ours["error_kinds"] == {"timeout": 1} and ours["latency_ms"]["p99"] == 200.0
    assert ours["cpu_ms_per_message"] == {"rasa": 25.0, "actions": 75.0, "total": 100.0} and ours["cores_busy"] == 1.0
    assert ours["rss_mb"]["actions"] == {"end": 100.0, "peak": 120.0}
    assert ours["other_cores_busy"] == 1.0 and floor["other_cores_busy"] is None  # (4.1 - 2.0 - 0.1) s / 2 s
    assert load_report.ratios(ours, floor) == {"throughput": 0.2, "p95": 2.5, "cpu_per_message": 10.0}


def a_result(levels=(1, 5)) -> dict:
    def bot(rate: float, cpu: dict[str, float]) -> dict:
        run = Run([Sample(1 / rate)] * int(rate * 10), seconds=10.0, residents=1)
        return load_report.summarise(run, fixed_usage(cpu), 0.1)

    rows = []
    for users in levels:
        row = {"users": users, "moodbot": bot(40.0, {"rasa": 2.0}), "ours": bot(10.0, {"rasa": 2.0, "actions": 3.0})}
        row["ratios"] = load_report.ratios(row["ours"], row["moodbot"])
        rows.append(row)
    return {"machine": {"date": "2026-12-06T12:00:00+00:00", "cpu": "Some CPU", "cores": 2},
            "load_average_before": [0.5, 0.4, 0.3],
            "config": {"levels": list(levels), "seconds": 10.0, "warmup_seconds": 2.0, "quick": True,
                       "per_resident": 20, "rasa_version": "3.6.21", "our_questions": 500},
            "levels": rows}


def test_section_has_the_ratios_the_table_and_the_chart():
    text = load_report.section(a_result())
    assert text.startswith("## Load") and "![load](load.png)" in text
    assert "| 5 | 0.25 | 4.0 | 10.0 |" in text  # 10/40 msg/s, 100/25 ms p95, 50/5 CPU ms per message
    assert "At 5 concurrent residents our bot serves 0.25× the moodbot's messages per second, at 4.0× its p95" in text
    assert "| 1 | ours | 10.0 | 100.0 | 100.0 | 100.0 | 0 | rasa 20.0 + actions 30.0 = 50.0 |" in text


def test_the_load_section_is_replaced_or_appended_and_the_rest_kept():
    head = "# Benchmark report\n\nMachine: x.\n\n## Replies\n\n| a |\n"
    tail = "## Publishing\n\n- fast.\n"
    first = load_report.replace_section(head, "## Load: one\n\nold numbers\n")
    assert first.startswith(head) and first.endswith("## Load: one\n\nold numbers\n")
    middle = load_report.replace_section(first + "\n" + tail, "## Load: two\n\nnew\n")
    assert "old numbers" not in middle and "## Load: two\n\nnew\n\n## Publishing" in middle
    assert middle.startswith(head) and middle.endswith(tail)
    assert load_report.replace_section(middle, "## Load: two\n\nnew\n") == middle


def test_make_bench_keeps_the_load_section():
    old = "# Benchmark report\n\n## Replies\n\nold\n\n## Load: ours\n\nnumbers\n"
    fresh = "# Benchmark report\n\n## Replies\n\nnew\n"
    kept = load_report.carry_over(old, fresh)
    assert "new" in kept and "old" not in kept and kept.endswith("## Load: ours\n\nnumbers\n")
    assert load_report.carry_over(None, fresh) == fresh and load_report.carry_over(fresh, fresh) == fresh


def test_write_makes_the_json_the_chart_and_the_section(tmp_path):
    (tmp_path / "report.md").write_text("# Benchmark report\n\n## Replies\n\nkept\n", encoding="utf-8")
    load.write(a_result(), tmp_path)
    assert json.loads((tmp_path / "load.json").read_text())["levels"][1]["users"] == 5
    assert (tmp_path / "load.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Replies\n\nkept\n" in report and report.count("## Load") == 1


@pytest.mark.e2e
def test_quick_run_against_the_real_servers(tmp_path):
    """`make bench-load QUICK=1`: both bots up, 1 and 5 residents for 10 s each, no errors."""
    shutil.copy(ROOT / "bench" / "report.md", tmp_path / "report.md")
    before = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert load.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert [row["users"] for row in result["levels"]] == [1, 5]
    for row in result["levels"]:
        for bot, processes in (("moodbot", {"rasa"}), ("ours", {"rasa", "actions"})):
            s = row[bot]
            assert s["errors"] == 0, (bot, row["users"], s["error_kinds"])
            assert s["messages"] >= 10 and s["throughput_msg_s"] > 0
            assert s["latency_ms"]["p99"] >= s["latency_ms"]["p50"] > 0
            assert set(s["rss_mb"]) == processes and all(m["end"] > 50 for m in s["rss_mb"].values())
            assert s["cpu_ms_per_message"]["total"] > 0
        assert all(v and v > 0 for v in row["ratios"].values())
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.count("## Load") == 1 and (tmp_path / "load.png").exists()
    others = [line for line in before.splitlines() if line.startswith("## ") and not line.startswith("## Load")]
    assert others and all(line in report for line in others)
