"""The web chat page in a real headless Chromium (Debian's), against the real bot: Rasa with the REST and
webchat channels, and the action server. Playwright drives the browser; it never downloads one."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.parity import five_questions
from tools.launch import Bot

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CREDENTIALS = "bot.rasa_side.channels.rest.ValidatedRestInput:\nbot.rasa_side.channels.webchat.WebChatInput:\n"
REPLY_TIMEOUT_MS = 60_000
PAGE_PATH = "/webhooks/webchat/"

# One question per topic, and one the bot must decline (tests/parity.py).
FIVE_QUESTIONS = five_questions()


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("webchat")
    credentials = workdir / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    running = Bot(workdir, credentials=credentials)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def shots(bot) -> Path:
    """Where screenshots go: $WEBCHAT_SCREENSHOTS, else the bot's temporary folder."""
    folder = Path(os.environ.get("WEBCHAT_SCREENSHOTS") or bot.workdir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Chat:
    """The page as a person uses it: type and press Enter, press buttons, read the bubbles."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.problems: list[str] = []  # script errors and CSP violations
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self) -> Chat:
        self.page.goto(self.url)
        expect(self.page.locator("#message")).to_be_editable()
        return self

    @property
    def send_button(self):
        return self.page.locator("#send")

    def texts(self, who: str = "bot") -> list[str]:
        """The exact text of every bubble from `who` (bot, user, error), links included as their text."""
        return self.page.eval_on_selector_all(f"[data-from={who}] .msg-text", "els => els.map(e => e.textContent)")

    def _wait_for_reply(self, before: int) -> list[str]:
        expect(self.send_button).to_be_enabled(timeout=REPLY_TIMEOUT_MS)
        replies = self.page.locator("[data-from=bot], [data-from=error]")
        expect(replies).not_to_have_count(before)
        return self.page.eval_on_selector_all(
            "[data-from=bot] .msg-text, [data-from=error] .msg-text", "els => els.map(e => e.textContent)"
        )[before:]

    def count(self) -> int:
        """How many replies (bot or error bubbles) are on the page."""
        return self.page.locator("[data-from=bot], [data-from=error]").count()

    def ask(self, text: str) -> list[str]:
        """Type a question, press Enter, return the texts of the new replies."""
        before = self.count()
        self.page.locator("#message").fill(text)
        self.page.locator("#message").press("Enter")
        return self._wait_for_reply(before)

    def press(self, button) -> list[str]:
        """Press a reply button with the keyboard (focus, Enter) and return the new replies."""
        before = self.count()
        button.focus()
        self.page.keyboard.press("Enter")
        return self._wait_for_reply(before)

    def bubbles_since(self, before: int) -> list[dict]:
        """Bot bubbles after the first `before` ones, as REST-like dicts: text and buttons."""
        return self.page.eval_on_selector_all(
            "[data-from=bot], [data-from=error]",
            """els => els.map(e => ({
                text: e.querySelector('.msg-text').textContent,
                buttons: [...e.querySelectorAll('button.choice')]
                    .map(b => ({title: b.textContent, payload: b.dataset.payload})),
            }))""",
        )[before:]

    def last_bot_bubble(self):
        return self.page.locator("[data-from=bot]").last


@pytest.fixture
def chat(bot, browser) -> Iterator[Chat]:
    """A fresh browser profile (so a fresh sender id) on the page, at laptop size."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="vi-VN")
    try:
        yield Chat(context.new_page(), bot.url + PAGE_PATH)
    finally:
        context.close()


def test_page_and_its_files_are_served_and_nothing_else(bot):
    page = requests.get(bot.url + PAGE_PATH, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "Trợ lý dịch vụ công" in page.text
    for name, ctype in [("chat.js", "text/javascript"), ("chat.css", "text/css"), ("icon.svg", "image/svg+xml")]:
        r = requests.get(bot.url + PAGE_PATH + name, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(ctype), name
    bare = requests.get(bot.url + PAGE_PATH.rstrip("/"), timeout=10, allow_redirects=False)
    assert bare.status_code == 308 and bare.headers["Location"] == "webchat/"
    for attack in ["..%2F..%2F..%2Fcredentials.yml", "%2e%2e%2fwebchat.py", "webchat.py", "static_files.py", ".env"]:
        r = requests.get(bot.url + PAGE_PATH + attack, timeout=10)
        assert r.status_code == 404 and "ValidatedRestInput" not in r.text, attack


def test_answer_has_a_clickable_source_and_buttons_that_answer(chat, shots):
    chat.open()
    answer = chat.ask("Tôi quên mật khẩu VNeID thì lấy lại thế nào?")[-1]
    source = re.search(r"Nguồn: (https?://\S+)", answer)
    assert source and "mật khẩu" in answer.lower(), answer
    bubble = chat.last_bot_bubble()
    link = bubble.locator("a", has_text=source.group(1)).first
    expect(link).to_have_attribute("href", source.group(1))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    buttons = bubble.locator("button.choice")
    assert buttons.count() >= 1
    follow = bubble.locator('button.choice[data-payload*="entry_id"]').first
    title = follow.text_content()
    reply = chat.press(follow)
    assert chat.texts("user")[-1] == title  # the button's title stands for the user's message
    assert "Nguồn: http" in reply[-1] and reply[-1] != answer
    assert not chat.problems, chat.problems
    chat.page.screenshot(path=str(shots / "webchat-laptop.png"))


def test_out_of_scope_question_gets_an_honest_decline(chat):
    chat.open()
    reply = chat.ask("Dự báo thời tiết Hà Nội ngày mai thế nào?")
    assert reply[0].startswith("Xin lỗi"), reply
    expect(chat.last_bot_bubble().locator("button.choice", has_text="Gặp người hỗ trợ")).to_be_visible()


def test_large_text_toggle_grows_the_text_and_is_remembered(chat):
    chat.open()
    size = "() => parseFloat(getComputedStyle(document.querySelector('.msg-text')).fontSize)"
    normal = chat.page.evaluate(size)
    assert normal >= 18  # large by default
    toggle = chat.page.get_by_role("button", name="A+ Chữ lớn")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert chat.page.evaluate(size) >= normal * 1.2
    chat.page.reload()
    expect(chat.page.get_by_role("button", name="A+ Chữ lớn")).to_have_attribute("aria-pressed", "true")
    assert chat.page.evaluate(size) >= normal * 1.2
    chat.page.get_by_role("button", name="A+ Chữ lớn").press("Enter")  # keyboard works too
    assert chat.page.evaluate(size) == normal


def test_phone_screen_has_no_sideways_scrolling(chat, shots):
    chat.page.set_viewport_size({"width": 360, "height": 740})
    chat.open()
    chat.page.screenshot(path=str(shots / "webchat-phone-start.png"))
    chat.ask("nộp hồ sơ trực tuyến trên dichvucong.gov.vn")  # steps, links, several buttons
    chat.page.get_by_role("button", name="A+ Chữ lớn").click()
    chat.ask("Cách tra cứu hóa đơn điện tử thật hay giả")
    first_of_reply = "[...document.querySelectorAll('[data-from=user]')].pop().nextElementSibling"
    top = chat.page.evaluate(f"() => {first_of_reply}.getBoundingClientRect().top")
    assert abs(top) <= 2  # a long answer is shown from its title, not from its last line
    widths = chat.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth,"
        " Math.max(...[...document.querySelectorAll('.msg, button, textarea')]"
        ".map(e => e.getBoundingClientRect().right))]"
    )
    doc_width, body_width, inner, rightmost = widths
    assert doc_width <= inner and body_width <= inner and rightmost <= inner, widths
    chat.page.screenshot(path=str(shots / "webchat-phone-large-text.png"))
    chat.page.screenshot(path=str(shots / "webchat-phone-full.png"), full_page=True)


def test_html_in_a_message_is_shown_as_text(chat):
    chat.open()
    attack = "<img src=x onerror=alert(1)>"
    reply = chat.ask(attack)
    assert reply  # the bot answered something
    assert chat.texts("user")[-1] == attack
    assert chat.page.locator("#log img").count() == 0
    assert not chat.dialogs


def test_waiting_shows_an_indicator_and_blocks_sending(chat):
    chat.open()
    held = []
    chat.page.route("**/webhooks/rest/webhook", lambda route: held.append(route))
    chat.page.locator("#message").fill("quen mk vneid")
    chat.page.locator("#message").press("Enter")
    expect(chat.page.locator("#status")).to_have_text("Trợ lý đang trả lời…")
    expect(chat.send_button).to_be_disabled()
    expect(chat.page.locator(".chip").first).to_have_attribute("aria-disabled", "true")
    chat.page.locator("#message").fill("câu thứ hai")
    chat.page.locator("#message").press("Enter")  # ignored while waiting
    assert chat.texts("user") == ["quen mk vneid"]
    held[0].continue_()
    expect(chat.send_button).to_be_enabled(timeout=REPLY_TIMEOUT_MS)
    expect(chat.page.locator("#status")).to_have_text("")
    assert "Nguồn: http" in chat.texts()[-1]
    assert len(held) == 1


def test_unreachable_server_gives_a_friendly_line_and_keeps_the_question(chat):
    chat.open()
    chat.page.route("**/webhooks/rest/webhook", lambda route: route.abort())
    reply = chat.ask("quen mk vneid")
    assert reply and "không kết nối được" in reply[0]
    expect(chat.page.locator("#message")).to_have_value("quen mk vneid")  # press Gửi again to retry
    chat.page.unroute("**/webhooks/rest/webhook")
    assert "Nguồn: http" in chat.ask("quen mk vneid")[-1]


def test_a_connection_cut_before_the_answer_is_sent_once_more(chat):
    """A Rasa server killed mid-turn resets the connection and never stores the message (bench/faults.md): the page
    sends it once more, the resident gets the answer and no error line. A second cut gives the error line."""
    chat.open()
    sent: list[str | None] = []

    def cut_first(route):
        sent.append(route.request.post_data)
        if len(sent) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    chat.page.route("**/webhooks/rest/webhook", cut_first)
    reply = chat.ask("quen mk vneid")
    assert "Nguồn: http" in reply[-1] and not any("không kết nối được" in r for r in reply)
    assert len(sent) == 2 and sent[0] == sent[1]
    chat.page.unroute("**/webhooks/rest/webhook")
    cuts: list[str | None] = []
    chat.page.route("**/webhooks/rest/webhook", lambda route: (cuts.append(route.request.post_data),
                                                               route.abort("connectionreset")))
    reply = chat.ask("quen mk vneid")
    assert reply and "không kết nối được" in reply[0] and len(cuts) == 2
    chat.page.unroute("**/webhooks/rest/webhook")


def test_one_sender_per_browser_and_a_new_conversation_button(bot, chat):
    chat.open()
    chat.ask("xin chào")
    sender = chat.page.evaluate("() => localStorage.getItem('webchat.sender')")
    assert re.fullmatch(r"web-[0-9a-f]{24}", sender)
    chat.page.reload()
    assert chat.page.evaluate("() => localStorage.getItem('webchat.sender')") == sender
    chat.ask("bạn giúp được gì")
    tracker = bot.tracker(sender)
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert said[-2:] == ["xin chào", "bạn giúp được gì"]
    chat.page.get_by_role("button", name="Trò chuyện mới").click()
    assert chat.texts() == [] and chat.texts("user") == []
    chat.ask("xin chào")
    assert chat.page.evaluate("() => localStorage.getItem('webchat.sender')") != sender


def test_links_are_made_only_from_web_addresses_and_hotlines(chat):
    chat.open()
    pieces = chat.page.evaluate(
        """() => [
            'Nguồn: https://vneid.gov.vn/ (cập nhật 20/11/2026)',
            'Vào dichvucong.gov.vn, bấm Đăng nhập.',
            'Gọi 1900 0368.',
            'javascript:alert(1) và data:text/html,x',
            'xem (https://vi.wikipedia.org/wiki/A_(B)).',
        ].map(t => WebChat.linkPieces(t).filter(p => p.href).map(p => [p.text, p.href]))"""
    )
    assert pieces == [
        [["https://vneid.gov.vn/", "https://vneid.gov.vn/"]],
        [["dichvucong.gov.vn", "https://dichvucong.gov.vn"]],
        [["1900 0368", "tel:19000368"]],
        [],
        [["https://vi.wikipedia.org/wiki/A_(B)", "https://vi.wikipedia.org/wiki/A_(B)"]],
    ]


def test_page_shows_exactly_what_rest_returns(bot, chat):
    """Same five questions through REST and through the page: the page shows exactly REST's texts and buttons."""
    rest_sender = f"webchat-compare-{uuid.uuid4().hex[:8]}"
    chat.open()
    for question in FIVE_QUESTIONS:
        rest = [{"text": m.get("text", ""), "buttons": m.get("buttons", [])} for m in bot.say(question, rest_sender)]
        before = chat.count()
        chat.ask(question)
        assert chat.bubbles_since(before) == rest, question
    assert chat.texts()[-1].startswith("Xin lỗi")  # the last one is out of scope
    assert not chat.problems, chat.problems
