"""Spoken replies end to end: the real bot (Rasa with the REST, web chat and Zalo channels, and the action server
running espeak-ng), the Telegram relay as a real process against the fake Bot API, the fake Zalo OA API, and the
web page in Debian's Chromium. Pressing "🔊 Nghe" must give a voice message on Telegram, a link that plays on
Zalo, and a working player on the page, all from the audio route of the Rasa server."""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from actions.speak import NOTHING_TO_READ
from bot.speech.tts import AUDIO_ROUTE, audio_name
from tests.fakes.telegram_api import FakeTelegram, is_ogg_opus
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tests.telegram_support import Relay, token
from tools.launch import Bot

pytestmark = pytest.mark.e2e

APP_ID, OA_SECRET, APP_SECRET = "360846524940903967", "oa-secret-tts", "app-secret-tts"
CREDENTIALS = """\
bot.rasa_side.channels.rest.ValidatedRestInput:
bot.rasa_side.channels.relay.RelayInput:
bot.rasa_side.channels.webchat.WebChatInput:
bot.rasa_side.channels.zalo.ZaloInput:
  app_id: ${ZALO_APP_ID}
  oa_secret_key: ${ZALO_OA_SECRET_KEY}
  app_secret: ${ZALO_APP_SECRET}
"""
QUESTION = "quên mật khẩu vneid thì làm sao"
LISTEN = "🔊 Nghe"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required"]


@dataclass
class Running:
    bot: Bot
    zalo: FakeZalo
    hook: ZaloWebhook
    audio_dir: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("tts-bot")
    zalo = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    server = FakeZaloServer(zalo).start()
    credentials = tmp / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    env = {
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0", "ZALO_TOKEN_FILE": str(tmp / "tokens.json"),
        "ZALO_API_BASE_URL": server.url, "ZALO_OAUTH_BASE_URL": server.url,
        "BOT_AUDIO_DIR": str(tmp / "audio"),
    }
    bot = Bot(tmp, credentials=credentials, env=env)
    bot.env["BOT_PUBLIC_URL"] = bot.url  # links Zalo users open; here the test opens them
    try:
        bot.start()
        bot.say(QUESTION, "tts-warmup")
        yield Running(bot, zalo, ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET), tmp / "audio")
    finally:
        bot.stop()
        server.stop()


def audio_of(messages: list[dict]) -> dict:
    [custom] = [m["custom"] for m in messages if m.get("custom")]
    return custom["audio"]


# ---------------------------------------------------------------- REST and the audio route


def test_listen_after_an_answer_gives_audio_the_server_serves(running):
    bot = running.bot
    answer = bot.say(QUESTION, "tts-rest")
    assert any(b["title"] == LISTEN and b["payload"] == "/listen" for m in answer for b in m.get("buttons", []))
    spoken = bot.say("/listen", "tts-rest")
    assert spoken[0]["text"].startswith("🔊 Bản đọc: ") and "mật khẩu" in spoken[0]["text"].lower()
    audio = audio_of(spoken)
    assert audio["url"].startswith(bot.url + AUDIO_ROUTE) and audio["duration_s"] > 5
    assert "http" not in audio["text"] and "Bước 1." in audio["text"]

    ogg = requests.get(audio["url"], timeout=10)
    assert ogg.status_code == 200 and ogg.headers["Content-Type"] == "audio/ogg" and is_ogg_opus(ogg.content)
    assert ogg.headers["X-Content-Type-Options"] == "nosniff" and ogg.headers["Accept-Ranges"] == "bytes"
    mp3 = requests.get(audio["mp3"], timeout=10)
    assert mp3.status_code == 200 and mp3.headers["Content-Type"] == "audio/mpeg" and len(mp3.content) > 1000
    with tempfile.TemporaryDirectory() as tmp:  # the file the channels get decodes to the announced length
        (Path(tmp) / "a.ogg").write_bytes(ogg.content)
        subprocess.run(["opusdec", "--quiet", f"{tmp}/a.ogg", f"{tmp}/a.wav"], check=True, timeout=30)
        with wave.open(f"{tmp}/a.wav", "rb") as w:
            assert w.getnframes() / w.getframerate() == pytest.approx(audio["duration_s"], abs=0.2)

    part = requests.get(audio["url"], headers={"Range": "bytes=0-99"}, timeout=10)  # how phones fetch media
    assert part.status_code == 206 and part.content == ogg.content[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(ogg.content)}"
    tail = requests.get(audio["url"], headers={"Range": f"bytes=10-{len(ogg.content) + 500}"}, timeout=10)
    assert tail.status_code == 206 and tail.content == ogg.content[10:]
    beyond = requests.get(audio["url"], headers={"Range": f"bytes={len(ogg.content) + 5}-"}, timeout=10)
    assert beyond.status_code == 416


def test_the_same_answer_is_synthesised_once(running):
    first = audio_of(running.bot.say("/listen", "tts-rest"))
    again = audio_of(running.bot.say("/listen", "tts-rest"))
    assert first["url"] == again["url"]
    assert len(list(running.audio_dir.glob(audio_name(first["url"]).replace(".ogg", ".*")))) == 3  # wav, ogg, mp3


def test_typed_request_to_read_aloud(running):
    bot = running.bot
    bot.say("tra cứu hóa đơn điện tử ở đâu", "tts-typed")
    spoken = bot.say("đọc cho tôi nghe với", "tts-typed")
    assert "hóa đơn" in spoken[0]["text"].lower() and audio_of(spoken)["duration_s"] > 3


def test_listen_before_any_answer_says_what_to_do(running):
    assert [m.get("text") for m in running.bot.say("/listen", "tts-fresh")] == [NOTHING_TO_READ]


def test_audio_route_serves_nothing_else(running):
    base = running.bot.url + AUDIO_ROUTE
    name = audio_name(audio_of(running.bot.say("/listen", "tts-rest"))["url"])
    for attack in [name.replace(".ogg", ".wav"), "0" * 32 + ".ogg", "..%2F..%2Fcredentials.yml", "%2e%2e%2ftokens.json",
                   name.upper(), name + "x", "chat.js"]:
        r = requests.get(base + attack, timeout=10)
        assert r.status_code == 404 and "Nghe" in r.text, attack


# ---------------------------------------------------------------- Telegram


@pytest.fixture(scope="module")
def relay(running, tmp_path_factory) -> Iterator[Relay]:
    with FakeTelegram() as fake:
        log = tmp_path_factory.mktemp("tts-tg") / "relay.log"
        r = Relay(fake, token(55), f"{running.bot.url}/webhooks/rest/webhook", log).start()
        try:
            yield r
        finally:
            r.stop()


def test_telegram_nghe_sends_a_voice_message(relay):
    chat = 5501
    [answer] = relay.ask(chat, QUESTION)
    titles = [b["text"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert LISTEN in titles
    before = len(relay.fake.sent_messages(relay.token, chat))
    relay.fake.press_button(relay.token, chat, title=LISTEN)
    [voice] = relay.fake.wait_for(relay.token, lambda f: f.voices(relay.token, chat), timeout=60)
    upload = voice["voice"]
    assert is_ogg_opus(upload.data) and upload.filename.endswith(".ogg") and voice["duration"] > 5
    [line] = relay.fake.sent_messages(relay.token, chat)[before:]  # the title line, and no apology
    assert line["text"].startswith("🔊 Bản đọc: ")
    voice_message = relay.fake.bot_messages(relay.token, chat)[-1]
    assert voice_message["voice"]["mime_type"] == "audio/ogg"
    assert voice_message["voice"]["file_size"] == len(upload.data)


# ---------------------------------------------------------------- Zalo


def test_zalo_nghe_sends_a_link_that_plays(running):
    user = "5601"
    assert running.hook.post(running.hook.text(user, QUESTION)).status_code == 200
    answer = running.zalo.wait_for(user, 1, timeout=60)
    assert any(b["payload"] == "/listen" for b in answer[-1].buttons)  # Zalo sends the payload back as text
    assert running.hook.post(running.hook.text(user, "/listen")).status_code == 200
    sent = running.zalo.wait_for(user, len(answer) + 1, timeout=60)[len(answer):]
    [message] = sent
    assert message.text.startswith("🔊 Bản đọc: ")
    [button] = message.buttons
    assert button["type"] == "oa.open.url" and button["title"].startswith("▶ Nghe")
    played = requests.get(button["payload"]["url"], timeout=10)
    assert played.status_code == 200 and played.headers["Content-Type"] == "audio/mpeg"


# ---------------------------------------------------------------- the web page


def test_web_page_nghe_shows_a_player_that_loads(running):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="vi-VN").new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(running.bot.url + "/webhooks/webchat/")
            page.locator("#message").fill(QUESTION)
            page.locator("#message").press("Enter")
            listen = page.locator("button.choice", has_text=LISTEN).last
            expect(listen).to_be_visible(timeout=60_000)
            expect(page.locator("#send")).to_be_enabled(timeout=60_000)
            listen.click()
            player = page.locator("audio.reply-audio").last
            expect(player).to_be_attached(timeout=60_000)
            sources = player.locator("source")
            expect(sources).to_have_count(2)
            assert sources.first.get_attribute("src").startswith("audio/")  # relative: CSP media-src 'self'
            assert sources.first.get_attribute("type") == "audio/ogg; codecs=opus"
            duration = player.evaluate(
                """a => new Promise((ok, fail) => {
                    if (a.readyState >= 1) return ok(a.duration);
                    a.addEventListener('loadedmetadata', () => ok(a.duration));
                    a.addEventListener('error', () => fail('media error ' + (a.error && a.error.code)));
                    setTimeout(() => fail('no metadata after 20 s'), 20000);
                })"""
            )
            bubble_text = player.locator("xpath=..").locator(".msg-text").text_content()
            assert bubble_text.startswith("🔊 Bản đọc: ")  # the player sits under the line announcing it
            assert duration > 5
        finally:
            browser.close()
    assert not problems, problems
