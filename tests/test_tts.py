"""Spoken replies: what is read (bot/speech/reading.py), the audio made by the real espeak-ng / opusenc / lame
(bot/speech/tts.py), its cache and its failures, the "Nghe" action, and how the Telegram and Zalo channels carry it."""

from __future__ import annotations

import array
import math
import os
import shutil
import stat
import subprocess
import wave
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services, speak as speak_action
from bot.core.settings import Settings
from bot.messengers.telegram_format import AUDIO_UNAVAILABLE as TG_UNAVAILABLE, CallbackStore, VoiceNote, to_telegram
from bot.messengers.zalo_events import AUDIO_UNAVAILABLE as ZALO_UNAVAILABLE, zalo_messages
from bot.replies.answers import LISTEN_BUTTON, MAX_BUTTONS, answer_entry
from bot.search.decide import Thresholds
from bot.search.index import build_index
from bot.search.service import SearchService
from bot.speech.reading import CUT_NOTE, URL_SPOKEN, speakable
from bot.speech.tts import AUDIO_ROUTE, MAX_CACHED_FILES, Speaker, SpeechError, audio_message, audio_name, audio_path

TOOLS = ("espeak-ng", "opusenc", "opusdec", "lame")
needs_tools = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS) and not os.environ.get("CI"),
    reason="scripts/setup.sh installs espeak-ng, opus-tools and lame",
)  # in CI a missing tool is a failure, not a skip

ANSWER = (
    "Quên mật khẩu VNeID\n"
    "Bạn lấy lại mật khẩu ngay trên ứng dụng:\n"
    "1. Ở màn hình đăng nhập, bấm “Quên mật khẩu”.\n"
    "2. Nhập mã OTP gửi về điện thoại.\n"
    "Nguồn: https://vneid.gov.vn/ (cập nhật 20/11/2026)"
)


# ---------------------------------------------------------------- what is read


def test_urls_are_pointed_to_not_spelled():
    text = speakable("Trang chính thức là https://vneid.gov.vn. Hoặc vào dichvucong.gov.vn/p/home nhé")
    assert "http" not in text and "gov" not in text
    assert text.count(URL_SPOKEN) == 2 and f"{URL_SPOKEN}." in text


def test_steps_dates_and_source_are_read_naturally():
    text = speakable(ANSWER)
    assert "Bước 1. Ở màn hình đăng nhập" in text and "Bước 2. Nhập mã ô tê pê" in text
    assert "ngày 20 tháng 11 năm 2026" in text and "20/11" not in text
    assert text.startswith("Quên mật khẩu vê en e ai đi. Bạn lấy lại")  # the title is its own sentence
    assert "“" not in text and "\n" not in text


def test_a_line_already_saying_buoc_is_not_doubled():
    assert speakable("Bước 1: mở ứng dụng") == "Bước 1: mở ứng dụng."


def test_emoji_markdown_bullets_and_arrows_are_dropped():
    text = speakable("🔊 **Chú ý** 👍🏽\n- mở _Cài đặt_ → Bảo mật\n# Xong ✅")
    assert text == "Chú ý. mở Cài đặt, rồi Bảo mật. Xong."


def test_hotlines_are_read_digit_by_digit_and_document_numbers_as_said():
    assert "1 9 0 0, 0 3 6 8" in speakable("Gọi 1900 0368")
    assert "số 13 năm 2023" in speakable("Theo Nghị định 13/2023/NĐ-CP")
    assert "2026" in speakable("năm 2026")  # a year stays a number


def test_nothing_speakable_gives_empty_text():
    assert speakable("👍 🔊 ✅") == ""
    assert speakable("   \n ") == ""


def test_long_text_is_cut_after_a_sentence_with_a_note():
    text = speakable("Câu này dài vừa phải để thử. " * 100, limit=300)
    assert len(text) <= 300 and text.endswith(CUT_NOTE)
    assert text[: -len(CUT_NOTE)].rstrip().endswith(".")


# ---------------------------------------------------------------- the audio


def read_wav(path: Path) -> tuple[wave._wave_params, array.array]:
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        samples = array.array("h", w.readframes(w.getnframes()))
    return params, samples


def syllables(text: str) -> int:
    return len([w for w in text.split() if any(ch.isalnum() for ch in w)])


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    speaker = Speaker(tmp_path_factory.mktemp("audio"))
    return speaker, speaker.speak(ANSWER, formats=("wav", "ogg", "mp3"))


@needs_tools
def test_wav_is_valid_mono_speech_of_plausible_length(spoken):
    _, result = spoken
    params, samples = read_wav(result.files["wav"])
    assert params.nchannels == 1 and params.sampwidth == 2 and params.framerate >= 16000
    assert result.duration_s == pytest.approx(params.nframes / params.framerate)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert rms > 300  # sound, not silence
    n = syllables(result.text)
    assert 0.15 * n <= result.duration_s <= 0.7 * n, (n, result.duration_s)


@needs_tools
def test_longer_text_plays_proportionally_longer(tmp_path):
    speaker = Speaker(tmp_path)
    one = speaker.speak("Mở ứng dụng rồi bấm đăng nhập.", formats=("wav",))
    four = speaker.speak("Mở ứng dụng rồi bấm đăng nhập. " * 4, formats=("wav",))
    assert 3.0 <= four.duration_s / one.duration_s <= 5.0


@needs_tools
def test_ogg_is_opus_and_decodes_to_the_same_length(spoken, tmp_path):
    _, result = spoken
    data = result.files["ogg"].read_bytes()
    assert data[:4] == b"OggS" and b"OpusHead" in data[:512]
    decoded = tmp_path / "back.wav"
    subprocess.run(["opusdec", "--quiet", str(result.files["ogg"]), str(decoded)], check=True, timeout=30)
    params, _ = read_wav(decoded)
    assert params.nframes / params.framerate == pytest.approx(result.duration_s, abs=0.1)
    assert len(data) < result.files["wav"].stat().st_size / 5  # compressed for sending


@needs_tools
def test_mp3_decodes_to_the_same_length(spoken, tmp_path):
    _, result = spoken
    data = result.files["mp3"].read_bytes()
    assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    decoded = tmp_path / "back.wav"
    subprocess.run(["lame", "--quiet", "--decode", str(result.files["mp3"]), str(decoded)], check=True, timeout=30)
    params, _ = read_wav(decoded)
    assert params.nframes / params.framerate == pytest.approx(result.duration_s, abs=0.15)


@needs_tools
def test_files_are_readable_by_the_serving_process(spoken):
    _, result = spoken
    for path in result.files.values():
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044


@needs_tools
def test_same_text_is_served_from_the_cache_without_running_anything(spoken):
    speaker, result = spoken
    broken = Speaker(speaker.audio_dir, espeak="/nonexistent/espeak-ng", opusenc="/nonexistent", lame="/nonexistent")
    again = broken.speak(ANSWER, formats=("wav", "ogg", "mp3"))
    assert again.files == result.files and again.duration_s == result.duration_s


@needs_tools
def test_different_text_voice_or_speed_gets_another_file(spoken):
    speaker, result = spoken
    assert speaker.key(result.text + " Xong.") != result.key
    assert Speaker(speaker.audio_dir, voice="vi-vn-x-south").key(result.text) != result.key
    assert Speaker(speaker.audio_dir, words_per_minute=120).key(result.text) != result.key


@needs_tools
def test_the_cache_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.speech.tts.MAX_CACHED_FILES", 4)
    speaker = Speaker(tmp_path)
    for i in range(3):
        speaker.speak(f"Câu số {i}.", formats=("ogg",))  # wav + ogg each
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 4
    assert MAX_CACHED_FILES >= 1000


def test_a_missing_tool_is_a_clear_error(tmp_path):
    with pytest.raises(SpeechError, match="espeak-ng is not installed"):
        Speaker(tmp_path, espeak=str(tmp_path / "espeak-ng")).speak("Xin chào.")


@needs_tools
def test_a_failing_voice_is_a_clear_error(tmp_path):
    with pytest.raises(SpeechError, match=r"espeak-ng failed \(exit 1\): .*voice does not exist"):
        Speaker(tmp_path, voice="zz").speak("Xin chào.")
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob(".tmp-*"))  # nothing half-written


def fake_tool(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_a_hanging_tool_is_stopped(tmp_path):
    slow = fake_tool(tmp_path, "espeak-ng", "sleep 10")
    with pytest.raises(SpeechError, match=r"did not finish within 0\.5 s"):
        Speaker(tmp_path / "a", espeak=slow, timeout_s=0.5).speak("Xin chào.")


def test_a_tool_that_writes_no_sound_is_an_error(tmp_path):
    silent = fake_tool(tmp_path, "espeak-ng", "exit 0")
    with pytest.raises(SpeechError, match="no valid WAV"):
        Speaker(tmp_path / "a", espeak=silent).speak("Xin chào.")


def test_nothing_to_read_is_an_error_not_an_empty_file(tmp_path):
    with pytest.raises(SpeechError, match="nothing in this reply"):
        Speaker(tmp_path).speak("👍")


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError):
        Speaker(tmp_path).speak("Xin chào.", formats=("flac",))


# ---------------------------------------------------------------- serving names and the payload


def test_only_hashed_ogg_and_mp3_names_directly_in_the_folder_are_served(tmp_path):
    good = "0123456789abcdef0123456789abcdef"
    for ext in ("ogg", "mp3", "wav"):
        (tmp_path / f"{good}.{ext}").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"{'f' * 32}.ogg").write_bytes(b"x")
    os.symlink("/etc/passwd", tmp_path / f"{'e' * 32}.ogg")
    assert audio_path(tmp_path, f"{good}.ogg") == tmp_path / f"{good}.ogg"
    assert audio_path(tmp_path, f"{good}.mp3") is not None
    for bad in (f"{good}.wav", f"{good.upper()}.ogg", "../x.ogg", f"sub/{'f' * 32}.ogg", f"{'e' * 32}.ogg",
                f"{'a' * 32}.ogg", "", ".ogg", f"{good}.ogg/..", f"{good}.OGG"):
        assert audio_path(tmp_path, bad) is None, bad


@needs_tools
def test_payload_names_both_files_relative_or_absolute(spoken):
    _, result = spoken
    local = audio_message(result, "Quên mật khẩu VNeID")["audio"]
    assert local["url"] == AUDIO_ROUTE + result.name("ogg") and local["mp3"] == AUDIO_ROUTE + result.name("mp3")
    assert local["duration_s"] == round(result.duration_s, 1) and local["text"] == result.text
    public = audio_message(result, "t", "https://bot.example.vn/")["audio"]
    assert public["mp3"] == f"https://bot.example.vn{AUDIO_ROUTE}{result.name('mp3')}"
    assert audio_name(public["url"]) == result.name("ogg") and audio_name("https://x/../etc/passwd") is None


# ---------------------------------------------------------------- the answer's button and the action


def test_every_answer_offers_listen_within_the_button_limit(small_entries):
    by_id = {e.id: e for e in small_entries}
    for entry in small_entries:
        reply = answer_entry(entry, by_id)
        payloads = [b["payload"] for b in reply.buttons]
        assert LISTEN_BUTTON["payload"] in payloads and len(reply.buttons) <= MAX_BUTTONS
        assert "/request_human" in payloads and any(p.startswith("/feedback") for p in payloads)


def tracker(last_entry: str | None) -> Tracker:
    latest = {"text": "/listen", "intent": {"name": "listen", "confidence": 1.0}, "entities": []}
    return Tracker("tts-user", {"last_entry": last_entry}, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def action_env(tmp_path, monkeypatch, small_entries, fake_embedder):
    base = Settings.from_env()
    settings = Settings(**{**base.__dict__, "index_dir": tmp_path / "index", "audio_dir": tmp_path / "audio"})
    build_index(small_entries, fake_embedder, "fake", settings.index_dir, progress=False)
    service = SearchService(settings.index_dir, fake_embedder, Thresholds(0.0, 0.5, 0.9))
    monkeypatch.setattr(services, "settings", lambda: settings)
    monkeypatch.setattr(services, "search_service", lambda: service)
    speak_action.speaker.cache_clear()
    yield settings, small_entries
    speak_action.speaker.cache_clear()


@needs_tools
async def test_listen_speaks_the_last_answer(action_env):
    settings, entries = action_env
    entry = entries[0]
    dispatcher = CollectingDispatcher()
    assert await speak_action.ActionSpeak().run(dispatcher, tracker(entry.id), {}) == []
    [message] = dispatcher.messages
    assert message["text"] == f"🔊 Bản đọc: {entry.title}"
    audio = message["custom"]["audio"]
    assert audio["title"] == entry.title and audio["duration_s"] > 1
    for key in ("url", "mp3"):
        assert audio[key].startswith(AUDIO_ROUTE) and audio_path(settings.audio_dir, audio_name(audio[key]))


async def test_listen_before_any_answer_says_so(action_env):
    for slot in (None, "no-such-entry"):
        dispatcher = CollectingDispatcher()
        await speak_action.ActionSpeak().run(dispatcher, tracker(slot), {})
        assert dispatcher.messages[0]["text"] == speak_action.NOTHING_TO_READ
        assert "custom" not in dispatcher.messages[0] or not dispatcher.messages[0]["custom"]


async def test_listen_when_speech_fails_apologises(action_env, monkeypatch, tmp_path):
    _, entries = action_env
    monkeypatch.setenv("PATH", str(tmp_path))  # espeak-ng not installed
    dispatcher = CollectingDispatcher()
    await speak_action.ActionSpeak().run(dispatcher, tracker(entries[0].id), {})
    assert [m["text"] for m in dispatcher.messages] == [speak_action.CANNOT_READ]


# ---------------------------------------------------------------- channels (pure shaping)

NAME = "0123456789abcdef0123456789abcdef"
LINE = {"text": "🔊 Bản đọc: Quên mật khẩu VNeID"}


def custom(url: str, mp3: str, duration: float = 44.6) -> dict:
    return {"custom": {"audio": {"url": url, "mp3": mp3, "duration_s": duration, "title": "t", "text": "x"}}}


def test_telegram_gets_a_voice_message_after_the_line():
    out = to_telegram([LINE, custom(f"{AUDIO_ROUTE}{NAME}.ogg", f"{AUDIO_ROUTE}{NAME}.mp3")], CallbackStore())
    assert [o.text for o in out] == [LINE["text"], TG_UNAVAILABLE]  # the apology is sent only if the audio fails
    assert out[0].voice is None and out[1].voice == VoiceNote(f"{NAME}.ogg", 45)


def test_telegram_refuses_a_payload_that_is_not_one_of_our_ogg_files():
    for url in ("https://evil.example/a.ogg", f"{AUDIO_ROUTE}{NAME}.mp3", f"{AUDIO_ROUTE}../{NAME}", 7):
        [out] = to_telegram([custom(url, "")], CallbackStore())
        assert out.voice is None and out.text == TG_UNAVAILABLE


def test_zalo_gets_an_open_link_button_on_the_line():
    url = f"https://bot.example.vn{AUDIO_ROUTE}{NAME}.mp3"
    [message] = zalo_messages([LINE, custom(url.replace(".mp3", ".ogg"), url)])
    assert message["text"] == LINE["text"]
    [button] = message["attachment"]["payload"]["buttons"]
    assert button == {"title": "▶ Nghe (45 giây)", "type": "oa.open.url", "payload": {"url": url}}


def test_zalo_without_a_public_address_apologises():
    messages = zalo_messages([LINE, custom(f"{AUDIO_ROUTE}{NAME}.ogg", f"{AUDIO_ROUTE}{NAME}.mp3")])
    assert [m["text"] for m in messages] == [LINE["text"], ZALO_UNAVAILABLE]


class StubBot:
    """Records what the relay's send() asks Telegram for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def send_voice(self, chat_id, **kwargs):
        self.calls.append(("voice", kwargs))

    async def send_message(self, chat_id, text, **kwargs):
        self.calls.append(("text", {"text": text}))


async def test_relay_uploads_the_file_it_fetched_and_apologises_when_it_cannot():
    from bot.messengers.telegram_api import send
    from bot.relay.client import RasaUnavailable

    note = [to_telegram([custom(f"{AUDIO_ROUTE}{NAME}.ogg", "", 12.2)], CallbackStore())[0]]
    fetched: list[str] = []

    async def audio(name: str) -> bytes:
        fetched.append(name)
        return b"OggS-bytes"

    bot = StubBot()
    await send(bot, 1, note, audio=audio)
    assert fetched == [f"{NAME}.ogg"]
    assert bot.calls == [("voice", {"voice": b"OggS-bytes", "duration": 12, "filename": "ban-doc.ogg"})]

    async def down(name: str) -> bytes:
        raise RasaUnavailable("audio: HTTP 404")

    for source in (down, None):
        bot = StubBot()
        await send(bot, 1, note, audio=source)
        assert bot.calls == [("text", {"text": TG_UNAVAILABLE})]
