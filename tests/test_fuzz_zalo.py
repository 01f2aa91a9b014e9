"""Fuzzing the Zalo webhook's parser (Hypothesis): at least 10,000 generated requests each for unsigned garbage and for
validly signed garbage; every one gets 200 or a 4xx verdict, none raises (a raise is a 500 in the channel). A shorter
run posts generated bodies to the channel itself over HTTP: no 500. Bounded in time: small inputs, no example
database, a time budget checked at the end; runs in `make test` and CI like any test."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.core.privacy import mask
from bot.messengers.zalo_events import MAX_BODY_BYTES, Kind, check_webhook
from tests.fakes.zalo_api import zalo_signature

APP_ID, SECRET = "360846524940903967", "oa-secret-key-for-fuzzing"
EXAMPLES = 10_000
BUDGET_S = 240.0  # per run of 10,000 on a busy 2-core machine; a typical run takes a fraction of it
STATUSES = {200, 400, 401, 403, 413}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

EVENTS = ["user_send_text", "follow", "unfollow", "user_send_image", "user_send_sticker", "user_received_message",
          "user_seen_message", "oa_send_text", "user_send_location", "user_submit_info"]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def fresh_ms() -> st.SearchStrategy:
    now = int(time.time() * 1000)
    return st.integers(now - 4_000_000, now + 400_000).map(str)


timestamps = fresh_ms() | st.integers() | st.text(max_size=20) | scalars
app_ids = st.just(APP_ID) | st.just(int(APP_ID)) | scalars
ids = st.text(min_size=1, max_size=20) | st.integers() | scalars
messages = st.fixed_dictionaries({}, optional={"text": st.text(max_size=60) | scalars, "msg_id": ids,
                                               "attachments": json_values})
bodies = st.fixed_dictionaries(
    {"app_id": app_ids, "timestamp": timestamps},
    optional={"event_name": st.sampled_from(EVENTS) | st.text(max_size=20) | scalars,
              "sender": st.fixed_dictionaries({"id": ids}) | json_values,
              "follower": st.fixed_dictionaries({"id": ids}) | scalars,
              "message": messages | json_values, "recipient": scalars, "metadata": json_values},
)
headers = (st.none() | st.text(max_size=80) | st.just("mac=" + "0" * 64)
           | st.binary(min_size=32, max_size=32).map(lambda b: "mac=" + b.hex()))
garbage = (st.binary(max_size=2048)
           | st.text(max_size=500).map(str.encode)
           | json_values.map(lambda v: json.dumps(v).encode())
           | bodies.map(lambda b: json.dumps(b).encode())
           | st.tuples(st.integers(0, 70_000), st.sampled_from([b"[", b"{\"a\":", b"{"])).map(lambda t: t[1] * t[0])
           | st.integers(MAX_BODY_BYTES - 10, MAX_BODY_BYTES + 10).map(lambda n: b" " * n))


def signing_field(body: dict, key: str) -> str:
    """What Zalo would put into the signature for this field (a text or a number as text)."""
    value = body.get(key)
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def assert_verdict(raw: bytes, header: str | None) -> int:
    verdict = check_webhook(raw, header, APP_ID, SECRET)  # must never raise
    assert verdict.status in STATUSES
    assert (verdict.event is not None) == (verdict.status == 200)
    if verdict.event is not None:
        event = verdict.event
        assert isinstance(event.kind, Kind) and isinstance(event.event_name, str) and event.event_name
        if event.kind is not Kind.IGNORED:
            assert isinstance(event.user_id, str) and event.user_id
            assert event.sender_id.startswith("zalo-") and event.dedupe_key
        if event.kind is Kind.TEXT:
            assert isinstance(mask(event.text), str)  # what the channel does next
    return verdict.status


@pytest.fixture
def counter() -> Iterator[dict]:
    seen = {"n": 0, "statuses": set(), "started": time.monotonic()}
    yield seen
    assert seen["n"] >= EXAMPLES, f"only {seen['n']} inputs were generated"
    assert time.monotonic() - seen["started"] < BUDGET_S


def test_unsigned_garbage_never_crashes_the_parser(counter):
    @FUZZ
    @given(raw=garbage, header=headers)
    def run(raw: bytes, header: str | None) -> None:
        counter["n"] += 1
        counter["statuses"].add(assert_verdict(raw, header))

    run()
    assert {400, 401, 403, 413} <= counter["statuses"]


def test_validly_signed_garbage_never_crashes_the_parser(counter):
    @FUZZ
    @given(body=bodies, ascii_only=st.booleans(), indent=st.none() | st.integers(0, 2))
    def run(body: dict, ascii_only: bool, indent: int | None) -> None:
        counter["n"] += 1
        raw = json.dumps(body, ensure_ascii=ascii_only, indent=indent).encode("utf-8")
        header = zalo_signature(signing_field(body, "app_id"), raw, signing_field(body, "timestamp"), SECRET)
        counter["statuses"].add(assert_verdict(raw, header))

    run()
    assert {200, 400, 403} <= counter["statuses"]  # accepted events were reached, not only rejections


# --- over HTTP: the channel itself (Sanic, streamed body) never answers 500 -----------------------------------


def test_the_channel_never_answers_500(tmp_path):
    import requests

    from tests.fakes.zalo_api import FakeZalo, FakeZaloServer
    from tests.test_zalo_delivery import OA_SECRET, channel

    zalo = FakeZalo(app_id="1234567890123456789", app_secret="app-secret-for-tests")
    server = FakeZaloServer(zalo).start()
    statuses: list[int] = []
    try:
        with channel(tmp_path, server.url, f"sqlite:///{tmp_path / 'store.db'}") as (_url, hook, log):
            app_id = hook.app_id

            @settings(max_examples=300, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(raw=garbage, body=bodies, signed=st.booleans())
            def run(raw: bytes, body: dict, signed: bool) -> None:
                if signed:
                    body = {**body, "app_id": app_id}
                    raw = json.dumps(body).encode()
                    header = zalo_signature(app_id, raw, signing_field(body, "timestamp"), OA_SECRET)
                else:
                    header = "mac=" + "0" * 64
                r = requests.post(hook.url, data=raw, headers={"X-ZEvent-Signature": header}, timeout=10)
                statuses.append(r.status_code)
                assert r.status_code in STATUSES

            run()
            assert "Traceback" not in log.read_text(errors="replace")
    finally:
        server.stop()
    assert len(statuses) >= 300
