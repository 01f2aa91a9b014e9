"""The Zalo OA client against the fake Zalo, in-process: send, errors, refresh-and-resend, rotation, settings."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.core.settings import ZaloSettings
from bot.messengers.zalo_client import API_BASE_URL, OAUTH_BASE_URL, ZaloClient
from bot.messengers.zalo_tokens import TokenStore
from tests.fakes.zalo_api import FakeTransport, FakeZalo

USER = "2512523625412515"
TEXT = {"text": "Xin chào"}


@pytest.fixture
def fake() -> FakeZalo:
    return FakeZalo(app_id="app-1", app_secret="app-secret", access_token="access-0", refresh_token="refresh-0")


def make_client(fake: FakeZalo, tmp_path, access: str = "access-0", refresh: str = "refresh-0", transport=None):
    store = TokenStore(tmp_path / "tokens.json", access, refresh)
    transport = transport or FakeTransport(fake, "http://fake")
    return ZaloClient(store, fake.app_id, fake.app_secret, "http://fake", "http://fake", transport)


async def test_sends_text_with_the_bare_access_token_header(fake, tmp_path):
    client = make_client(fake, tmp_path)
    result = await client.send_message(USER, {"text": "Xin chào"})
    assert result.ok
    url, headers, body = client.transport.requests[0]
    assert url == "http://fake/v3.0/oa/message/cs"
    assert headers["access_token"] == "access-0" and "Authorization" not in headers
    assert body == {"recipient": {"user_id": USER}, "message": {"text": "Xin chào"}}
    assert [m.text for m in fake.messages_to(USER)] == ["Xin chào"]


async def test_http_200_with_an_error_code_is_a_failure_logged_without_personal_data(fake, tmp_path, caplog):
    fake.fail_next(-213)  # not a follower
    client = make_client(fake, tmp_path)
    with caplog.at_level(logging.WARNING):
        result = await client.send_message(USER, {"text": "số điện thoại của bạn 0912345678"})
    assert not result.ok and result.error == -213
    assert "-213" in caplog.text
    assert USER not in caplog.text and "0912345678" not in caplog.text and "access-0" not in caplog.text
    assert fake.sent == [] and fake.refreshes == []  # no refresh for errors other than an expired token


@pytest.mark.parametrize("code", [-216, -220])
async def test_expired_token_is_refreshed_stored_and_the_message_resent_once(fake, tmp_path, code):
    client = make_client(fake, tmp_path)
    if code == -216:
        fake.expire_access_token()
    else:
        fake.fail_next(-220)
        fake.access_token = "access-0"
    result = await client.send_message(USER, TEXT)
    assert result.ok
    assert [m.access_token for m in fake.messages_to(USER)] == ["access-1"]  # delivered once, with the new token
    assert [r["refresh_token"] for r in fake.refreshes] == ["refresh-0"]
    stored = json.loads((tmp_path / "tokens.json").read_text())
    assert (stored["access_token"], stored["refresh_token"]) == ("access-1", "refresh-1")
    url, headers, form = client.transport.requests[1]
    assert url == "http://fake/v4/oa/access_token" and headers["secret_key"] == "app-secret"
    assert form == {"refresh_token": "refresh-0", "app_id": "app-1", "grant_type": "refresh_token"}


async def test_resends_only_once_when_the_new_token_is_refused_too(fake, tmp_path):
    fake.expire_access_token()
    fake.fail_next(-216, times=5)  # refresh works, but the send keeps failing
    client = make_client(fake, tmp_path)
    result = await client.send_message(USER, TEXT)
    assert not result.ok and result.error == -216
    assert len(fake.send_attempts) == 2 and len(fake.refreshes) == 1


async def test_a_refused_refresh_gives_up_and_logs_without_secrets(fake, tmp_path, caplog):
    fake.expire_access_token()
    client = make_client(fake, tmp_path)
    client.app_secret = "wrong-secret"
    with caplog.at_level(logging.INFO):
        result = await client.send_message(USER, TEXT)
    assert not result.ok and fake.sent == []
    assert "refresh refused" in caplog.text
    assert "wrong-secret" not in caplog.text and "refresh-0" not in caplog.text
    assert not (tmp_path / "tokens.json").exists()


async def test_concurrent_senders_share_one_refresh(fake, tmp_path):
    fake.expire_access_token()
    client = make_client(fake, tmp_path)
    results = await asyncio.gather(*(client.send_message(f"user-{i}", {"text": f"m{i}"}) for i in range(8)))
    assert all(r.ok for r in results)
    assert len(fake.refreshes) == 1  # a second refresh would spend refresh-1... or fail on the spent refresh-0
    assert len(fake.sent) == 8


async def test_a_restart_uses_the_rotated_pair_not_the_spent_seed(fake, tmp_path):
    fake.expire_access_token()
    await make_client(fake, tmp_path).send_message(USER, TEXT)
    restarted = make_client(fake, tmp_path)  # same environment seed (access-0 / refresh-0), same file
    assert (await restarted.send_message(USER, TEXT)).ok
    assert fake.messages_to(USER)[-1].access_token == "access-1" and len(fake.refreshes) == 1
    fake.expire_access_token()
    assert (await restarted.send_message(USER, TEXT)).ok
    assert [r["refresh_token"] for r in fake.refreshes] == ["refresh-0", "refresh-1"]


async def test_another_process_refreshing_first_is_picked_up_from_the_file(fake, tmp_path):
    one, two = make_client(fake, tmp_path), make_client(fake, tmp_path)
    assert (await two.send_message(USER, TEXT)).ok  # two now holds access-0
    fake.expire_access_token()
    assert (await one.send_message(USER, TEXT)).ok  # one refreshes: access-1 / refresh-1 in the file
    assert (await two.send_message(USER, TEXT)).ok  # two's access-0 fails; it finds access-1 in the file
    assert len(fake.refreshes) == 1
    assert [a["token"] for a in fake.send_attempts] == ["access-0", "access-0", "access-1", "access-0", "access-1"]


def test_the_fake_rejects_a_reused_refresh_token(fake):
    headers = {"secret_key": "app-secret", "Content-Type": "application/x-www-form-urlencoded"}
    form = b"refresh_token=refresh-0&app_id=app-1&grant_type=refresh_token"
    first = fake.handle("POST", "/v4/oa/access_token", headers, form)[1]
    again = fake.handle("POST", "/v4/oa/access_token", headers, form)[1]
    assert first["refresh_token"] == "refresh-1" and again["error"] != 0 and "access_token" not in again


async def test_a_pair_that_cannot_be_stored_is_kept_in_memory(fake, tmp_path, monkeypatch, caplog):
    fake.expire_access_token()
    client = make_client(fake, tmp_path)
    monkeypatch.setattr(client.store, "save", lambda pair: (_ for _ in ()).throw(OSError("read-only file system")))
    with caplog.at_level(logging.ERROR):
        assert (await client.send_message(USER, TEXT)).ok
    assert "not stored" in caplog.text
    fake.expire_access_token()
    assert (await client.send_message(USER, TEXT)).ok  # refreshes with the in-memory refresh-1, not the spent seed
    assert [r["refresh_token"] for r in fake.refreshes] == ["refresh-0", "refresh-1"]


async def test_a_refresh_token_alone_is_enough(fake, tmp_path):
    client = make_client(fake, tmp_path, access="")
    assert (await client.send_message(USER, TEXT)).ok
    assert len(fake.refreshes) == 1 and fake.send_attempts[0]["token"] == "access-1"


async def test_no_tokens_at_all_sends_nothing(fake, tmp_path, caplog):
    client = make_client(fake, tmp_path, access="", refresh="")
    with caplog.at_level(logging.ERROR):
        assert not (await client.send_message(USER, TEXT)).ok
    assert fake.send_attempts == [] and "no access token" in caplog.text


async def test_network_errors_and_odd_answers_are_failures(fake, tmp_path):
    class Broken(FakeTransport):
        async def post(self, *a, **k):
            raise ConnectionResetError("peer")

    broken = await make_client(fake, tmp_path, transport=Broken(fake)).send_message(USER, TEXT)
    assert broken.detail.startswith("request failed")

    class Weird(FakeTransport):
        async def post(self, *a, **k):
            from bot.messengers.zalo_client import HttpReply

            return HttpReply(502, None)

    assert (await make_client(fake, tmp_path, transport=Weird(fake)).send_message(USER, TEXT)).detail == "HTTP 502"


FOUR = [{"text": "1"}, {"text": "2"}, {"text": "3"}, {"text": "4"}]


@pytest.mark.parametrize("code", [-201, -213, -230])
async def test_send_all_continues_past_a_message_zalo_refuses_for_good(fake, tmp_path, code):
    client = make_client(fake, tmp_path)
    await client.send_message(USER, {"text": "0"})
    fake.fail_next(code)  # message "1" is refused
    report = await client.send_all(USER, FOUR)
    assert [m.text for m in fake.messages_to(USER)] == ["0", "2", "3", "4"]  # the rest went out, in order
    assert not report and report.sent == 3 and report.refused == ({"text": "1"},) and report.unsent == ()


@pytest.mark.parametrize("code", [-32, -124, -216])
async def test_send_all_keeps_the_rest_in_order_after_a_failure_that_may_pass(fake, tmp_path, code):
    client = make_client(fake, tmp_path)
    await client.send_message(USER, {"text": "0"})
    fake.fail_next(code, times=2)  # "1" fails (a -216 is refreshed and resent once: fails again)
    report = await client.send_all(USER, FOUR)
    assert [m.text for m in fake.messages_to(USER)] == ["0"]  # nothing sent out of order...
    assert not report and report.sent == 0 and report.unsent == tuple(FOUR) and report.refused == ()  # ...all kept


async def test_send_all_reports_success_as_true(fake, tmp_path):
    report = await make_client(fake, tmp_path).send_all(USER, FOUR)
    assert report and report.sent == 4


async def test_the_fake_refuses_what_zalo_would(fake, tmp_path):
    client = make_client(fake, tmp_path)
    too_long = await client.send_message(USER, {"text": "x" * 2001})
    six = {"text": "t", "attachment": {"type": "template", "payload": {"buttons": [
        {"title": "b", "type": "oa.query.hide", "payload": "/p"}] * 6}}}
    assert (too_long.error, (await client.send_message(USER, six)).error) == (-201, -201)


def test_settings_take_credentials_over_the_environment(tmp_path):
    env = {"ZALO_APP_ID": "env-app", "ZALO_OA_SECRET_KEY": "env-oa", "ZALO_APP_SECRET": "env-secret",
           "ZALO_TOKEN_FILE": str(tmp_path / "t.json"), "ZALO_API_BASE_URL": "http://127.0.0.1:1"}
    s = ZaloSettings.from_sources({"app_id": "yml-app", "oa_secret_key": "", "api_base_url": None}, env)
    assert (s.app_id, s.oa_secret_key, s.app_secret) == ("yml-app", "env-oa", "env-secret")
    assert s.token_file == tmp_path / "t.json" and s.api_base_url == "http://127.0.0.1:1"
    assert s.oauth_base_url == OAUTH_BASE_URL and s.problems() == []


def test_settings_defaults_and_problems(tmp_path):
    s = ZaloSettings.from_sources(None, {"BOT_CACHE_DIR": str(tmp_path)})
    assert s.api_base_url == API_BASE_URL and s.token_file == tmp_path / "zalo_tokens.json"
    assert len(s.problems()) == 2


def test_timing_settings_come_from_the_environment_and_refuse_nonsense(tmp_path):
    env = {"ZALO_RETRY_BASE_S": "0.5", "ZALO_MAX_EVENT_AGE_S": "600", "ZALO_RETRY_MAX_S": "nan",
           "ZALO_GIVE_UP_AFTER_S": "soon", "BOT_CACHE_DIR": str(tmp_path)}
    s = ZaloSettings.from_sources({"retry_max_s": "-3"}, env)
    assert (s.retry_base_s, s.max_event_age_s) == (0.5, 600.0)
    assert (s.retry_max_s, s.give_up_after_s) == (300.0, 24 * 3600.0)  # defaults for nonsense
