"""Reading a screenshot for the channels: the action server's POST /screens/read (bot/screens_route.py, run for real
here: a few seconds, no model loaded), the channels' client (bot/messengers/screen_reader.py) and the action's side
(actions/screenshot.py: the app error first, then the search; the channels quote what was read)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from actions import screenshot
from bot import screens_route as reading
from bot.core.settings import ROOT
from bot.messengers import screen_reader
from bot.messengers.screen_reader import (
    CANNOT_READ,
    UNREADABLE,
    Outcome,
    Reading,
    ScreenReader,
    parse_answer,
    read_lead,
    route_url,
)
from bot.replies.answers import Reply
from tests.conftest import make_entry
from tools.launch import ACTIONS_PY, free_port, wait_until

SCREENS = Path(__file__).parent / "data" / "screens"
TOKEN = "screens-token-for-tests_0123456789"


@pytest.fixture(scope="module")
def actions(tmp_path_factory) -> Iterator[str]:
    port, log = free_port(), tmp_path_factory.mktemp("screens-actions") / "actions.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ACTION_SERVER_TOKEN": TOKEN}
    env.pop("ACTIONS_HOST", None)
    with log.open("ab") as out:
        proc = subprocess.Popen([str(ACTIONS_PY), "-m", "bot.action_server", "--actions", "actions", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, "action server", proc, log, timeout=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def post(url: str, data: bytes, token: str | None = TOKEN) -> requests.Response:
    return requests.post(f"{url}/screens/read", data=data, params={"token": token} if token else {}, timeout=60)


def test_the_route_needs_the_action_servers_token(actions):
    assert post(actions, (SCREENS / "err-03-0.png").read_bytes(), token=None).status_code == 401
    assert post(actions, b"x", token="wrong-token-wrong-token").status_code == 401


def test_an_error_screen_comes_back_as_text(actions):
    r = post(actions, (SCREENS / "err-03-0.png").read_bytes())
    assert r.status_code == 200 and r.json()["sensitive"] is None
    assert "Lỗi xác thực người dùng" in r.json()["text"]


@pytest.mark.parametrize("name, kind", [("sens-01.png", "id_card"), ("sens-06.png", "bank_card"),
                                        ("sens-09.png", "otp")])
def test_a_private_picture_comes_back_as_its_kind_and_no_text(actions, name, kind):
    assert post(actions, (SCREENS / name).read_bytes()).json() == {"text": "", "sensitive": kind}


@pytest.mark.parametrize("data, status, kind", [
    (b"%PDF-1.4 not a picture", 422, "not_image"),
    ((SCREENS / "err-01-0.png").read_bytes()[:3000], 422, "corrupt"),
    (b"", 422, "empty"),
])
def test_bad_input_is_a_4xx_with_its_kind(actions, data, status, kind):
    r = post(actions, data)
    assert (r.status_code, r.json()) == (status, {"error": kind})


def test_more_than_10_mb_is_refused_unread(actions):
    try:
        r = post(actions, b"\x89PNG" + b"0" * (10 * 1024 * 1024))
    except requests.ConnectionError:  # the server may hang up before the body is all sent: refused as well
        return
    assert r.status_code == 413


def test_the_text_is_masked_like_typed_text(monkeypatch):
    monkeypatch.setattr(reading, "read_text", lambda data, timeout: "Lỗi kết nối\nGọi 0912 345 678 để được hỗ trợ")
    read = reading.read_screen(b"...")
    assert read.sensitive is None and "0912" not in read.text and read.text.startswith("Lỗi kết nối Gọi")


class FakeFetcher:
    def __init__(self, status: int = 200, body: bytes = b"", error: Exception | None = None) -> None:
        self.status, self.body, self.error, self.calls = status, body, error, []

    async def post_bytes(self, url, params, data, timeout):
        self.calls.append((url, params, len(data)))
        if self.error:
            raise self.error
        return self.status, self.body

    async def get_limited(self, url, limit, timeout):
        return self.status, self.body


def test_the_reader_finds_the_route_as_rasa_finds_the_action_server():
    assert route_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/screens/read"
    assert route_url("http://actions:5055/webhook/") == "http://actions:5055/screens/read"
    assert ScreenReader.from_env(FakeFetcher(), {}) is None
    env = {"ACTION_SERVER_URL": "http://a:1/webhook", "ACTION_SERVER_TOKEN": "t"}
    reader = ScreenReader.from_env(FakeFetcher(), env)
    assert reader is not None and (reader.url, reader.token) == ("http://a:1/screens/read", "t")


async def test_the_reader_sends_the_token_and_reads_the_answer():
    fetcher = FakeFetcher(body='{"text": "  Mã OTP không đúng ", "sensitive": null}'.encode())
    got = await ScreenReader("http://a/screens/read", "tok", fetcher).read(b"png")
    assert got == Reading(Outcome.TEXT, text="Mã OTP không đúng") and fetcher.calls[0][1] == {"token": "tok"}


@pytest.mark.parametrize("fetcher", [
    FakeFetcher(status=422, body=b'{"error": "corrupt"}'), FakeFetcher(status=503), FakeFetcher(body=b"not json"),
    FakeFetcher(body=b'{"text": "   ", "sensitive": null}'), FakeFetcher(error=OSError("refused")),
    FakeFetcher(error=TimeoutError()),
])
async def test_anything_but_a_clean_answer_is_unreadable(fetcher):
    got = await ScreenReader("http://a/screens/read", "", fetcher).read(b"png")
    assert got == UNREADABLE and got.reply == CANNOT_READ


async def test_too_large_or_empty_pictures_are_not_even_sent():
    fetcher = FakeFetcher(body=b'{"text": "x"}')
    reader = ScreenReader("http://a/screens/read", "", fetcher)
    assert await reader.read(b"") == UNREADABLE
    assert await reader.read(b"0" * (screen_reader.MAX_IMAGE_BYTES + 1)) == UNREADABLE
    assert fetcher.calls == []


@pytest.mark.parametrize("kind, word", [("id_card", "căn cước"), ("bank_card", "thẻ ngân hàng"), ("otp", "OTP")])
def test_a_private_picture_gets_the_warning_and_no_text(kind, word):
    got = parse_answer(f'{{"text": "", "sensitive": "{kind}"}}'.encode())
    assert got.outcome is Outcome.SENSITIVE and got.text == "" and word in got.reply and "đừng gửi" in got.reply


def test_only_the_channels_marker_counts():
    assert screenshot.is_screenshot({"metadata": {"screenshot": True}})
    assert not screenshot.is_screenshot({"metadata": {"screenshot": "true"}})
    assert not screenshot.is_screenshot({"metadata": None}) and not screenshot.is_screenshot({})


def test_what_was_read_is_quoted_short_on_one_line():
    assert read_lead("Mã OTP\nkhông đúng").startswith("Tôi đọc được: “Mã OTP không đúng”")
    long = read_lead("chữ " * 100)
    assert long.startswith("Tôi đọc được: “chữ") and "…”" in long and len(long.split("”")[0]) < 170


def test_the_app_error_wins_over_the_search_and_the_search_answers_the_rest():
    entry = make_entry("otp-sai", "Mã OTP không đúng", ["nhập otp bị báo sai"],
                       errors=("Mã OTP không đúng hoặc đã hết hạn",))
    by_id = {entry.id: entry}
    searched: list[str] = []

    def search(text: str) -> Reply:
        searched.append(text)
        return Reply("declined", declined=True)

    got = screenshot.answer_screenshot("14:02 VNeID Thông báo Mã OTP khong dung hoac da het han Đóng", by_id, search)
    assert got.entry_id == "otp-sai" and searched == []
    assert screenshot.answer_screenshot("Mẹ ơi tối nay con về muộn", by_id, search).declined and searched
    assert screenshot.matcher(by_id) is screenshot.matcher(by_id)  # built once per index
    assert screenshot.matcher(dict(by_id)) is not screenshot.matcher(by_id)
