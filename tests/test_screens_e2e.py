"""End to end: a resident's screenshot through each channel, read by the real OCR on the action server.

One real bot (Rasa's trained model and the action server, tools/launch.py) with its default channels; the Telegram
relay as a real process against the fake Bot API, Zalo against the fake OA API (whose server also plays Zalo's
picture CDN) and the web chat page's picture route. Per channel: an error screen gets "Tôi đọc được" and the entry
whose app message is on it; an ID card gets the warning and nothing reaches Rasa's tracker; a corrupt file gets the
polite request to type.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.messengers.screen_reader import CANNOT_READ
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tests.telegram_support import Relay, token
from tools.launch import Bot

pytestmark = pytest.mark.e2e

SCREENS = Path(__file__).parent / "data" / "screens"
ERROR_SCREEN, ERROR_ENTRY = "err-01-0.png", "dich-vu-cong-tai-khoan-cu"  # "Thuê bao không khớp với thuê bao nhà mạng"
ID_CARD = "sens-01.png"
APP_ID, OA_SECRET, APP_SECRET = "360846524940903968", "oa-secret-screens", "app-secret-screens"
READ_LEAD = "Tôi đọc được: “"
WARNING = "Bạn đừng gửi ảnh căn cước"


def picture(name: str) -> bytes:
    return (SCREENS / name).read_bytes()


def corrupt() -> bytes:
    return picture(ERROR_SCREEN)[:3000]  # a PNG cut short: the header reads, the pixels do not


@pytest.fixture(scope="module")
def zalo() -> Iterator[tuple[FakeZalo, FakeZaloServer]]:
    fake = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(fake).start()
    fake.media.update({"error.png": picture(ERROR_SCREEN), "card.png": picture(ID_CARD), "bad.png": corrupt()})
    yield fake, server
    server.stop()


@pytest.fixture(scope="module")
def bot(tmp_path_factory, zalo) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("screens-bot")
    _, server = zalo
    env = {
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0", "ZALO_TOKEN_FILE": str(tmp / "tokens.json"),
        "ZALO_API_BASE_URL": server.url, "ZALO_OAUTH_BASE_URL": server.url, "ZALO_MEDIA_HOSTS": "127.0.0.1",
    }
    running = Bot(tmp, env=env)  # the checkout's credentials.yml: REST, relay, web chat and Zalo doors
    running.env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{running.actions_port}/webhook"  # as scripts/run.sh sets
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def relay(bot, tmp_path_factory) -> Iterator[Relay]:
    with FakeTelegram() as fake:
        running = Relay(fake, token(40), f"{bot.url}/webhooks/relay/webhook",
                        tmp_path_factory.mktemp("tg-screens") / "relay.log",
                        ACTION_SERVER_URL=bot.env["ACTION_SERVER_URL"], ACTION_SERVER_TOKEN=bot.actions_token)
        running.start()
        yield running
        assert running.stop() == 0, running.log.read_text(errors="replace")[-3000:]


def tracker(bot: Bot, conversation: str) -> dict:
    r = bot.api(f"/conversations/{conversation}/tracker")
    r.raise_for_status()
    return r.json()


def user_events(bot: Bot, conversation: str) -> list[dict]:
    return [e for e in tracker(bot, conversation).get("events", []) if e.get("event") == "user"]


def assert_answered_from_screen(bot: Bot, conversation: str, texts: list[str]) -> None:
    assert texts[0].startswith(READ_LEAD) and "Thuê bao không khớp" in texts[0], texts
    assert any("Nguồn:" in t for t in texts[1:]), texts
    assert tracker(bot, conversation)["slots"].get("last_entry") == ERROR_ENTRY
    [turn] = user_events(bot, conversation)
    assert turn["metadata"].get("screenshot") is True and "Thuê bao" in turn["text"]


# --- Telegram ---------------------------------------------------------------------------------------------------


def telegram_picture(relay: Relay, chat: int, data: bytes, as_file: bool = False) -> list[str]:
    before = len(relay.fake.sent_messages(relay.token, chat))
    if as_file:
        relay.fake.send_document(relay.token, chat, data=data, file_name="man-hinh.png", mime_type="image/png")
    else:
        relay.fake.send_photo(relay.token, chat, data=data)
    return [m["text"] for m in relay.replies(chat, before, timeout=90, quiet=1.0)]


def test_telegram_error_screenshot_is_answered_with_its_entry(bot, relay):
    texts = telegram_picture(relay, 4101, picture(ERROR_SCREEN))
    assert_answered_from_screen(bot, "tg-4101", texts)


def test_telegram_id_card_gets_the_warning_and_reaches_nothing(bot, relay):
    [text] = telegram_picture(relay, 4102, picture(ID_CARD))
    assert WARNING in text and "căn cước" in text
    assert user_events(bot, "tg-4102") == []
    assert "Nguyễn" not in relay.log.read_text(errors="replace")  # the card's name is in no log line


def test_telegram_corrupt_file_gets_a_polite_reply(bot, relay):
    assert telegram_picture(relay, 4103, corrupt(), as_file=True) == [CANNOT_READ]
    assert user_events(bot, "tg-4103") == []


# --- Zalo -------------------------------------------------------------------------------------------------------


def zalo_picture(bot: Bot, zalo, user: str, name: str) -> list[str]:
    fake, server = zalo
    hook = ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET)
    r = hook.post(hook.image(user, url=f"{server.url}/media/{name}"))
    assert r.status_code == 200, r.text
    return [m.text for m in fake.wait_for(user, 1, timeout=90, settle=1.5)]


def test_zalo_error_screenshot_is_answered_with_its_entry(bot, zalo):
    texts = zalo_picture(bot, zalo, "4201", "error.png")
    assert_answered_from_screen(bot, "zalo-4201", texts)


def test_zalo_id_card_gets_the_warning_and_reaches_nothing(bot, zalo):
    [text] = zalo_picture(bot, zalo, "4202", "card.png")
    assert WARNING in text
    assert user_events(bot, "zalo-4202") == []


def test_zalo_corrupt_picture_gets_a_polite_reply(bot, zalo):
    assert zalo_picture(bot, zalo, "4203", "bad.png") == [CANNOT_READ]
    assert user_events(bot, "zalo-4203") == []


def test_zalo_picture_elsewhere_is_not_fetched(bot, zalo):
    fake, _ = zalo
    before = len(fake.media_fetches)
    hook = ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET)
    hook.post(hook.image("4204", url="http://169.254.169.254/latest/meta-data"))  # not Zalo's CDN, not https
    assert [m.text for m in fake.wait_for("4204", 1, timeout=30)] == [CANNOT_READ]
    assert len(fake.media_fetches) == before


# --- the web chat page ------------------------------------------------------------------------------------------


def web_picture(bot: Bot, sender: str, data: bytes) -> requests.Response:
    return requests.post(f"{bot.url}/webhooks/webchat/screen", data=data, timeout=90,
                         headers={"X-Webchat-Sender": sender, "Content-Type": "application/octet-stream"})


def test_web_error_screenshot_is_answered_with_its_entry(bot):
    sender = "web-" + secrets.token_hex(12)
    r = web_picture(bot, sender, picture(ERROR_SCREEN))
    assert r.status_code == 200, r.text
    assert_answered_from_screen(bot, sender, [m.get("text", "") for m in r.json()])


def test_web_id_card_gets_the_warning_and_reaches_nothing(bot):
    sender = "web-" + secrets.token_hex(12)
    [message] = web_picture(bot, sender, picture(ID_CARD)).json()
    assert WARNING in message["text"]
    assert user_events(bot, sender) == []


def test_web_corrupt_or_missing_sender_is_refused_politely(bot):
    sender = "web-" + secrets.token_hex(12)
    assert [m["text"] for m in web_picture(bot, sender, corrupt()).json()] == [CANNOT_READ]
    assert [m["text"] for m in web_picture(bot, sender, b"%PDF-1.4 not a picture").json()] == [CANNOT_READ]
    assert user_events(bot, sender) == []
    r = requests.post(f"{bot.url}/webhooks/webchat/screen", data=picture(ERROR_SCREEN), timeout=30)
    assert r.status_code == 400  # no conversation id: nothing read


def test_client_metadata_cannot_claim_a_screenshot(bot):
    sender = "web-" + secrets.token_hex(12)
    r = requests.post(f"{bot.url}/webhooks/rest/webhook", timeout=60, json={
        "sender": sender, "message": "Thuê bao không khớp với thuê bao nhà mạng", "metadata": {"screenshot": True}})
    assert r.status_code == 200 and not any(READ_LEAD in (m.get("text") or "") for m in r.json())
