"""A ticket's whole life, end to end: the real bot (Rasa + action server, tools.launch.Bot), the real Telegram relay
against the fake Telegram Bot API, the admin page (Starlette TestClient on the bot's own store), and the web chat
page in Debian's Chromium polling its inbox.

Resident asks for a person -> commune asked -> ticket opened, the commune's team told in its Telegram group ->
resident writes more: the bot stays quiet, the messages land in the ticket -> staff log in and reply -> the
resident receives it -> staff close with a resolution -> the resident is told -> the bot answers questions again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
import yaml
from playwright.sync_api import expect
from starlette.testclient import TestClient

from bot.admin.web.app import create_app
from bot.core.copy import BUSY_APOLOGY as APOLOGY
from bot.core.localtime import VIETNAM_TZ
from bot.core.settings import Settings, TelegramSettings
from bot.store.accounts import Accounts
from bot.store.activity import member_ref
from bot.store.tickets import Tickets
from tests.conftest import FakeEmbedder
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import Relay, token
from tests.test_admin_web import PASSWORD, Person
from tests.test_webchat_e2e import PAGE_PATH, Chat, browser  # noqa: F401  (the browser fixture)
from tools.launch import Bot

pytestmark = pytest.mark.e2e

TOKEN = token(44)
GROUP = -1004400  # the commune team's Telegram group
STAFF = "can-bo-lan"
MEMBER_CODE = "TCN44"  # a community digital-technology team member's code (BOT_HELPER_CODES)
CODE_RE = re.compile(r"HT-[A-Z]{2}\d{3}")
CONTACTS = {
    "people": [{"name": "Tổ công nghệ số cộng đồng", "how": "hỏi trưởng thôn"},
               {"name": "Công an xã/phường", "how": "VNeID mức 2"}],
    "office_hours": "giờ hành chính",
    "hotlines": {"default": "Tổng đài hỗ trợ VNeID 1900 0368"},
    "communes": [{"name": "Phường Hoàn Kiếm", "province": "Thành phố Hà Nội", "aliases": ["hoan kiem"],
                  "office_hours": "7h30–17h00, thứ Hai đến thứ Sáu",
                  "people": [{"name": "Tổ công nghệ số phường Hoàn Kiếm", "how": "gọi chị Lan, tổ trưởng"}],
                  "notify": {"telegram_chat": str(GROUP)}}],
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as api:
        yield api


@pytest.fixture(scope="module")
def bot(tmp_path_factory, fake) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("tickets")
    contacts = workdir / "contacts.yml"
    contacts.write_text(yaml.safe_dump(CONTACTS, allow_unicode=True), encoding="utf-8")
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url, "BOT_CONTACTS_FILE": str(contacts),
           "BOT_ADMIN_URL": "http://quantri.test", "BOT_HELPER_CODES": MEMBER_CODE}
    running = Bot(workdir, env=env)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def relay(bot, fake, tmp_path_factory) -> Iterator[Relay]:
    running = Relay(fake, TOKEN, f"{bot.url}/webhooks/rest/webhook", tmp_path_factory.mktemp("tg") / "relay.log")
    fake.send_text(TOKEN, GROUP, "nhóm tổ công nghệ số phường Hoàn Kiếm", chat_type="supergroup", from_id=9)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(bot, fake) -> Iterator[tuple[Person, Tickets]]:
    """Staff at the admin page, on the bot's own store."""
    settings = replace(Settings.from_env(), store_url=bot.env["BOT_STORE_URL"], admin_enabled=True,
                       telegram=TelegramSettings(token=TOKEN, api_base_url=fake.url),
                       cache_dir=bot.workdir / "admin-cache")
    tickets = Tickets.open(settings.store_url)
    Accounts(tickets.engine).add_user(STAFF, PASSWORD, "editor")
    with TestClient(create_app(settings, embedder=FakeEmbedder()), follow_redirects=False) as client:
        staff = Person(client)
        assert staff.login(STAFF, PASSWORD).status_code == 303
        yield staff, tickets


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def wait_for(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_ticket_from_telegram_to_the_admin_page_and_back(relay, admin, fake):
    staff, tickets = admin
    chat = 4401
    [question] = relay.ask(chat, "bác không tự làm được, cho bác gặp cán bộ")
    assert "xã/phường nào" in question["text"]

    # The commune from its button: the ticket goes to that commune's team.
    before = len(fake.sent_messages(TOKEN, chat))
    fake.press_button(TOKEN, chat, title="Phường Hoàn Kiếm")
    opened = texts(relay.replies(chat, before))
    code = CODE_RE.search(opened).group(0)
    assert "7h30–17h00" in opened and "gọi chị Lan" in opened and "Quay lại trợ lý ảo" in opened
    notice = fake.wait_for(TOKEN, lambda f: [m for m in f.sent_messages(TOKEN, GROUP) if code in m["text"]])[0]
    assert "Phường Hoàn Kiếm, Thành phố Hà Nội" in notice["text"] and "Telegram" in notice["text"]
    assert f"http://quantri.test/tickets/{code}" in notice["text"]
    ticket = tickets.get(code)
    assert ticket.sender_id == f"tg-{chat}" and ticket.is_open

    # The resident writes more: one short note that it went to the staff, then silence; all of it in the ticket.
    warning, ack = relay.ask(chat, "mã otp của bác là 482913, vẫn không đăng nhập được", count=2)
    assert "OTP" in warning["text"] and "Nguồn:" not in warning["text"]  # never share it, even with staff
    assert code in ack["text"] and "Nguồn:" not in ack["text"]
    before = len(fake.sent_messages(TOKEN, chat))
    fake.send_text(TOKEN, chat, "cán bộ ơi, bác đợi nhé")
    wait_for(lambda: any(m.text == "cán bộ ơi, bác đợi nhé" for m in tickets.messages(ticket.id)), "the message")
    time.sleep(2.0)
    assert fake.sent_messages(TOKEN, chat)[before:] == []  # the bot does not talk over the staff
    kept = " ".join(m.text for m in tickets.messages(ticket.id))
    assert "bác không tự làm được" in kept and "482913" not in kept and "[mã số]" in kept

    # Staff find it in the list and answer; the answer reaches the resident's Telegram chat.
    assert code in staff.get("/tickets").text
    before = len(fake.sent_messages(TOKEN, chat))
    staff_reply = {"text": "Chào bác, bác bấm “Quên mật khẩu” rồi làm theo giúp cháu."}
    answered = staff.post(f"/tickets/{code}/reply", staff_reply)
    assert "msg=sent" in answered.headers["location"]
    [reply] = fake.wait_for_messages(TOKEN, chat, 1, after=before)
    assert reply["text"].startswith(f"Cán bộ hỗ trợ (yêu cầu {code})") and "Quên mật khẩu" in reply["text"]

    # After a staff reply the resident's next message is acknowledged once more.
    assert code in texts(relay.ask(chat, "bác làm được rồi, cảm ơn cháu"))

    # Staff close with a resolution; the resident is told and may ask the bot again.
    before = len(fake.sent_messages(TOKEN, chat))
    closed = staff.post(f"/tickets/{code}/close", {"resolution": "Đã hướng dẫn lấy lại mật khẩu VNeID."})
    assert "msg=closed" in closed.headers["location"]
    [note] = fake.wait_for_messages(TOKEN, chat, 1, after=before)
    assert code in note["text"] and "Đã hướng dẫn lấy lại mật khẩu VNeID." in note["text"]
    assert "hỏi lại trợ lý ảo" in note["text"]
    answer = texts(relay.ask(chat, "quên mật khẩu VNeID thì lấy lại thế nào?"))
    assert "Nguồn: http" in answer and "mật khẩu" in answer.lower() and APOLOGY not in answer
    assert [r.action for r in Accounts(tickets.engine).audit_log()[:2]] == ["ticket_close", "ticket_reply"]


def test_the_resident_can_go_back_to_the_bot_while_the_ticket_stays_open(relay, admin, fake):
    staff, tickets = admin
    chat = 4402
    relay.ask(chat, "toi muon gap nguoi ho tro")
    before = len(fake.sent_messages(TOKEN, chat))
    fake.press_button(TOKEN, chat, title="Không rõ / nơi khác")
    code = CODE_RE.search(texts(relay.replies(chat, before))).group(0)
    assert tickets.get(code).commune == ""  # the default contacts, and the default (unset) team target
    before = len(fake.sent_messages(TOKEN, chat))
    fake.press_button(TOKEN, chat, title="Quay lại trợ lý ảo")
    back = texts(relay.replies(chat, before))
    assert code in back and "vẫn mở" in back
    answer = texts(relay.ask(chat, "kich hoat tai khoan dinh danh dien tu"))
    assert "Nguồn: http" in answer
    assert tickets.get(code).is_open
    # staff may still answer: it reaches the resident
    before = len(fake.sent_messages(TOKEN, chat))
    staff.post(f"/tickets/{code}/reply", {"text": "Bác cần gì thêm cứ nhắn nhé."})
    assert "Bác cần gì thêm" in fake.wait_for_messages(TOKEN, chat, 1, after=before)[0]["text"]


def test_a_team_member_records_help_that_the_commune_downloads_as_csv(relay, admin):
    staff, _ = admin
    chat = 4403
    assert "đã bật chế độ Tổ công nghệ số" in texts(relay.ask(chat, f"mã tổ công nghệ số {MEMBER_CODE}"))
    done = texts(relay.ask(chat, "ghi nhận: giúp bà Hai phường Hoàn Kiếm kích hoạt VNeID"))
    assert "Đã ghi nhận" in done and "Phường Hoàn Kiếm" in done
    month = dt.datetime.now(VIETNAM_TZ).strftime("%Y-%m")
    download = staff.get(f"/tickets/report.csv?month={month}")
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r[2:4] for r in rows[1:]] == [[member_ref(MEMBER_CODE), "Phường Hoàn Kiếm, Thành phố Hà Nội"]]
    assert "giúp bà Hai phường Hoàn Kiếm kích hoạt VNeID" in rows[1][6] and MEMBER_CODE not in download.text


def test_the_web_chat_inbox_endpoint_checks_its_input(bot):
    base = f"{bot.url}{PAGE_PATH}inbox"
    page_id = "web-0123456789abcdef01234567"
    for query, sender in (("", None), ("", "tg-4401"), ("", "web-xyz"), ("?after=-3", page_id), ("?after=1e9", page_id),
                          ("?after=²", page_id), (f"?sender={page_id}", None)):
        r = requests.get(base + query, headers={"X-Webchat-Sender": sender} if sender else {}, timeout=10)
        assert r.status_code == 400 and "error" in r.json(), query
    r = requests.get(base, headers={"X-Webchat-Sender": page_id}, timeout=10)
    assert r.status_code == 200 and r.json() == {"messages": [], "open": False}
    assert r.headers["cache-control"] == "no-store"


def test_a_staff_reply_reaches_the_web_chat_page(bot, browser, admin):  # noqa: F811
    staff, tickets = admin
    page = browser.new_page()
    inbox_urls: list[str] = []
    page.on("request", lambda request: inbox_urls.append(request.url) if "/inbox" in request.url else None)
    try:
        chat = Chat(page, bot.url + PAGE_PATH).open()
        chat.press(page.locator(".chip", has_text="Gặp người hỗ trợ"))
        opened = chat.press(page.locator("button.choice", has_text="Không rõ / nơi khác").last)
        code = CODE_RE.search("\n".join(opened)).group(0)
        sender = page.evaluate("window.WebChat.senderId()")
        assert tickets.get(code).sender_id == sender and tickets.get(code).channel == "webchat"

        staff.post(f"/tickets/{code}/reply", {"text": "Chào bạn, cán bộ phường đây. Bạn cần giúp gì?"})
        bubble = page.locator("[data-from=staff]").last
        expect(bubble).to_contain_text("Chào bạn, cán bộ phường đây.", timeout=20_000)
        expect(bubble.locator(".msg-from")).to_have_text("Cán bộ hỗ trợ")

        # What the resident writes now goes to the staff; the page shows no error for the quiet turn.
        chat.ask("Tôi không đăng nhập được VNeID")
        shown = page.locator("[data-from=bot], [data-from=error]").count()
        page.locator("#message").fill("vẫn đang chờ ạ")
        page.locator("#message").press("Enter")
        wait_for(lambda: any(m.text == "vẫn đang chờ ạ" for m in tickets.messages(tickets.get(code).id)), "message")
        page.wait_for_timeout(1500)
        assert page.locator("[data-from=bot], [data-from=error]").count() == shown

        staff.post(f"/tickets/{code}/close", {"resolution": "Đã hẹn bạn ra phường sáng mai."})
        expect(page.locator("[data-from=staff]").last).to_contain_text("Đã hẹn bạn ra phường sáng mai.",
                                                                         timeout=20_000)
        page.reload()  # a reload does not show the same staff messages twice
        page.wait_for_timeout(6000)
        assert page.locator("[data-from=staff]").count() == 0
        assert not chat.problems, chat.problems
        # The conversation id is a bearer secret: it travels in a header, never in a URL a proxy would log.
        assert inbox_urls and not any(sender in url or "sender=" in url for url in inbox_urls)
    finally:
        page.close()


def test_a_telegram_id_over_the_public_door_opens_a_web_ticket_whose_reply_never_reaches_telegram(bot, admin, fake):
    # Issue 9, item 1: before, sender tg-777000111 over REST opened a ticket labelled Telegram, and the staff reply
    # went out as sendMessage to chat 777000111. Now that conversation is web-tg-777000111, a web one.
    staff, tickets = admin
    victim = 777000111
    assert "xã/phường nào" in texts(bot.say("toi muon gap nguoi that ho tro", f"tg-{victim}"))
    code = CODE_RE.search(texts(bot.say("không rõ", f"tg-{victim}"))).group(0)
    ticket = tickets.get(code)
    assert (ticket.sender_id, ticket.channel) == (f"web-tg-{victim}", "webchat")
    notices = [m["text"] for m in fake.sent_messages(TOKEN, GROUP) if code in m["text"]]
    assert all("Telegram" not in text for text in notices)
    staff.post(f"/tickets/{code}/reply", {"text": "Chào bạn, cán bộ phường đây."})
    time.sleep(2)
    assert fake.sent_messages(TOKEN, victim) == []
    assert [m.text for m in tickets.inbox(f"web-tg-{victim}")][-1:] == ["Chào bạn, cán bộ phường đây."]
