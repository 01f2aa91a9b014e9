"""bench/scaled_load.py's report: both set-ups per level, the scaled ÷ default ratios."""

from bench.scaled_load import report


def level(msg_s: float, p95: float) -> dict:
    return {"throughput_msg_s": msg_s, "latency_ms": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.2}, "errors": 0,
            "cpu_ms_per_message": {"rasa": 20.0, "total": 30.0}}


def test_report_has_both_set_ups_and_the_ratios() -> None:
    result = {"machine": {"cpu": "EPYC", "cores": 2}, "when": "2026-12-06T18:40:00+00:00",
              "config": {"levels": [20], "seconds": 30.0, "warmup_seconds": 5.0, "questions": 788},
              "levels": [{"users": 20, "default": level(40.0, 800.0), "scaled": level(30.0, 1000.0)}]}
    text = report(result)
    assert "| 20 | default | 40.0 | 400.0 | 800.0 | 960.0 | 0 | 30.0 |  |  |" in text
    assert "| 20 | scaled | 30.0 | 500.0 | 1000.0 | 1200.0 | 0 | 30.0 | 0.75 | 1.25 |" in text
