"""Notices to the team and staff messages to residents, against the fake Telegram Bot API and the fake Zalo OA API
served over HTTP. Failures are logged masked, without the token, and never raised."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.core.settings import Settings, TelegramSettings, ZaloSettings
from bot.handoff.directory import Target
from bot.handoff.notify import Notifier
from bot.messengers import wiring
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer
from tests.telegram_support import token
from tools.launch import free_port

TOKEN = token(41)
GROUP, RESIDENT = -1004100, 4101


@pytest.fixture
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN)
        fake.send_text(TOKEN, GROUP, "bot đã vào nhóm", chat_type="supergroup")  # the fake knows chats it has seen
        fake.send_text(TOKEN, RESIDENT, "xin chào")
        yield fake


@pytest.fixture
def zalo(tmp_path):
    fake = FakeZalo()
    server = FakeZaloServer(fake).start()
    env = {"ZALO_APP_ID": fake.app_id, "ZALO_APP_SECRET": fake.app_secret, "ZALO_ACCESS_TOKEN": "access-0",
           "ZALO_REFRESH_TOKEN": "refresh-0", "ZALO_TOKEN_FILE": str(tmp_path / "zalo_tokens.json"),
           "ZALO_API_BASE_URL": server.url, "ZALO_OAUTH_BASE_URL": server.url}
    yield fake, env
    server.stop()


def notifier(telegram: FakeTelegram | None, zalo_env: dict | None = None, api: str | None = None) -> Notifier:
    section = TelegramSettings(token=TOKEN if telegram or api else "",
                               api_base_url=api or (telegram.url if telegram else ""))
    settings = replace(Settings.from_env(), telegram=section, zalo=ZaloSettings.from_sources(None, zalo_env or {}))
    return wiring.notifier(settings)


async def test_team_hears_in_the_telegram_group_and_on_zalo(telegram, zalo):
    fake_zalo, env = zalo
    text = "🔔 Yêu cầu hỗ trợ mới HT-KM482\n" + "chi tiết " * 600  # longer than one Telegram message
    assert await notifier(telegram, env).team(Target(str(GROUP), ("z-lan", "z-minh")), text)
    sent = telegram.sent_messages(TOKEN, GROUP)
    assert len(sent) >= 2 and all(len(m["text"]) <= 4096 for m in sent)
    assert sent[0]["text"].startswith("🔔 Yêu cầu hỗ trợ mới HT-KM482")
    assert " ".join(m["text"] for m in sent).count("chi tiết") == 600
    assert {m.user_id for m in fake_zalo.sent} == {"z-lan", "z-minh"}
    assert all(m.text.startswith("🔔") or "chi tiết" in m.text for m in fake_zalo.sent)


async def test_zalo_token_refresh_happens_through_httpx(telegram, zalo):
    fake_zalo, env = zalo
    fake_zalo.expire_access_token()
    assert await notifier(None, env).team(Target(zalo_users=("z-lan",)), "thông báo")
    assert [m.user_id for m in fake_zalo.sent] == ["z-lan"] and fake_zalo.refreshes[-1]["error"] == 0


async def test_staff_messages_reach_residents_on_their_channel(telegram, zalo):
    fake_zalo, env = zalo
    notify = notifier(telegram, env)
    assert (await notify.resident(f"tg-{RESIDENT}", "Cán bộ hỗ trợ: chào bác")).sent
    assert telegram.sent_messages(TOKEN, RESIDENT)[-1]["text"] == "Cán bộ hỗ trợ: chào bác"
    assert (await notify.resident("zalo-88412", "chào bác")).sent
    assert fake_zalo.messages_to("88412")[-1].text == "chào bác"
    web = await notify.resident("web-0123456789abcdef01234567", "chào bác")
    assert not web.sent and web.waits_in_inbox


async def test_failures_are_logged_masked_without_the_token_and_never_raised(telegram, zalo, caplog):
    fake_zalo, env = zalo
    caplog.set_level(logging.INFO)
    notify = notifier(telegram, env)
    assert not await notify.team(Target("-1009999"), "x")  # a chat the bot is not in: 400 chat not found
    assert not (await notify.resident("tg-555", "cho 0912345678")).sent
    fake_zalo.fail_next(-230)  # the member has not written to the OA for 7 days
    assert not await notify.team(Target(zalo_users=("z-old",)), "x")
    down = notifier(None, env, api=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert not await down.team(Target(str(GROUP)), "x")
    assert not await notifier(None, {}).team(Target(zalo_users=("z",)), "x")  # Zalo not configured
    assert not await notifier(None, {}).team(Target(str(GROUP)), "x")  # no token
    assert not await notify.team(Target(), "x")  # nobody configured
    logged = caplog.text
    assert "Chat not found" in logged and "ConnectError" in logged and "not configured" in logged
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "0912345678" not in logged
