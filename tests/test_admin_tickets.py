"""The tickets area of the admin page through Starlette's TestClient, on SQLite and a real PostgreSQL database:
staff see open tickets, answer and close them, the resident gets the answer on the fake Telegram, every step is
in the audit log, and the helpers' monthly report downloads as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from bot.admin.web.app import create_app
from bot.core.settings import Settings, TelegramSettings
from bot.store.accounts import Accounts
from bot.store.activity import HelperActivity, member_ref
from bot.store.knowledge import KnowledgeStore
from bot.store.tickets import Tickets
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import token
from tests.test_admin_web import EDITOR, PASSWORD, PUBLISHER, Person

TOKEN = token(43)
RESIDENT = 4301
WEB = "web-00112233445566778899aabb"


@pytest.fixture
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN)
        fake.send_text(TOKEN, RESIDENT, "cho gap can bo")
        yield fake


@pytest.fixture
def site(tmp_path, store_url, fake_embedder, telegram):
    settings = replace(Settings.from_env(), store_url=store_url, admin_enabled=True, index_dir=tmp_path / "index",
                       cache_dir=tmp_path / "cache", telegram=TelegramSettings(token=TOKEN, api_base_url=telegram.url))
    store = KnowledgeStore.open(store_url)
    accounts = Accounts(store.engine)
    accounts.add_user(PUBLISHER, PASSWORD, "publisher")
    accounts.add_user(EDITOR, PASSWORD, "editor")
    app = create_app(settings, store=store, embedder=fake_embedder)
    return app, Tickets(store.engine), accounts


def person(app, username=EDITOR) -> Person:
    p = Person(TestClient(app, follow_redirects=False))
    p.login(username, PASSWORD)
    return p


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_an_editor_answers_and_closes_a_telegram_ticket(site, telegram):
    app, tickets, accounts = site
    ticket = tickets.create(f"tg-{RESIDENT}", "telegram", "Phường Hoàn Kiếm, Thành phố Hà Nội", "vneid",
                            [("resident", "quen mat khau vneid, sdt 0912345678"), ("bot", "Bạn làm theo các bước...")])
    tickets.add_resident_message(ticket.id, "van khong duoc, otp 482913")
    staff = person(app)
    listing = staff.get("/tickets")
    assert listing.status_code == 200 and ticket.code in listing.text and "Phường Hoàn Kiếm" in listing.text
    assert "VNeID" in text_of(listing.text) and "đã chờ" in listing.text

    page = staff.get(f"/tickets/{ticket.code}")
    body = text_of(page.text)
    assert "quen mat khau vneid, sdt [số điện thoại]" in body and "otp [mã số]" in body
    assert "0912345678" not in page.text and "482913" not in page.text

    answered = staff.post(f"/tickets/{ticket.code}/reply", {"text": "Chào bác, bác bấm Quên mật khẩu giúp cháu."})
    assert answered.status_code == 303 and "msg=sent" in answered.headers["location"]
    sent = telegram.sent_messages(TOKEN, RESIDENT)[-1]["text"]
    assert sent == f"Cán bộ hỗ trợ (yêu cầu {ticket.code}):\nChào bác, bác bấm Quên mật khẩu giúp cháu."
    assert "Đã gửi câu trả lời" in staff.get(answered.headers["location"]).text
    assert tickets.messages(ticket.id)[-1].delivered

    closed = staff.post(f"/tickets/{ticket.code}/close", {"resolution": "Đã lấy lại mật khẩu."})
    assert "msg=closed" in closed.headers["location"]
    note = telegram.sent_messages(TOKEN, RESIDENT)[-1]["text"]
    assert ticket.code in note and "Đã lấy lại mật khẩu." in note and "hỏi lại trợ lý ảo" in note
    assert tickets.get(ticket.code).closed_by == EDITOR and ticket.code not in staff.get("/tickets").text
    assert ticket.code in staff.get("/tickets?status=closed").text
    closed_page = staff.get(f"/tickets/{ticket.code}").text
    assert f'action="/tickets/{ticket.code}/reply"' not in closed_page and "Đã đóng" in closed_page
    still_open = tickets.create("tg-1", "telegram").code
    assert f'action="/tickets/{still_open}/reply"' in staff.get(f"/tickets/{still_open}").text

    audit = [(r.username, r.action, r.target) for r in accounts.audit_log()[:2]]
    assert audit == [(EDITOR, "ticket_close", ticket.code), (EDITOR, "ticket_reply", ticket.code)]
    again = staff.post(f"/tickets/{ticket.code}/reply", {"text": "còn gì nữa không bác?"})
    assert "already_closed" in again.headers["location"]


def test_a_web_chat_reply_waits_in_the_inbox_and_bad_input_is_refused(site):
    app, tickets, _ = site
    ticket = tickets.create(WEB, "webchat")
    staff = person(app, PUBLISHER)
    answered = staff.post(f"/tickets/{ticket.code}/reply", {"text": "Chào bạn, gọi 0912345678 nhé"})
    assert "msg=inbox" in answered.headers["location"]
    [waiting] = tickets.inbox(WEB)
    assert waiting.text == "Chào bạn, gọi 0912345678 nhé"  # staff may give a callback number: sent as written
    assert "msg=empty" in staff.post(f"/tickets/{ticket.code}/reply", {"text": "   "}).headers["location"]
    assert "too_long" in staff.post(f"/tickets/{ticket.code}/reply", {"text": "a" * 2001}).headers["location"]
    assert "empty_resolution" in staff.post(f"/tickets/{ticket.code}/close", {"resolution": ""}).headers["location"]
    forged = staff.post(f"/tickets/{ticket.code}/reply", {"text": "x", "csrf": "forged"})
    assert forged.status_code == 403 and len(tickets.messages(ticket.id)) == 1
    missing = staff.get("/tickets/HT-AA222")
    assert missing.status_code == 404 and "Không tìm thấy yêu cầu" in missing.text
    assert staff.post("/tickets/HT-AA222/reply", {"text": "x"}).status_code == 404
    anonymous = Person(TestClient(app, follow_redirects=False))
    assert anonymous.get("/tickets").status_code == 303
    assert anonymous.post(f"/tickets/{ticket.code}/close", {"resolution": "x"}, csrf=False).status_code == 303
    assert tickets.get(ticket.code).is_open


def test_a_telegram_resident_the_bot_cannot_reach_is_reported(site):
    app, tickets, _ = site
    ticket = tickets.create("tg-999999", "telegram")  # a chat the fake has never seen: Telegram refuses
    staff = person(app)
    answered = staff.post(f"/tickets/{ticket.code}/reply", {"text": "Chào bác"})
    assert "msg=not_sent" in answered.headers["location"]
    page = staff.get(answered.headers["location"]).text
    assert "chưa gửi được" in page and "chưa tới người dân" in page
    assert not tickets.messages(ticket.id)[-1].delivered


def test_the_monthly_report_downloads_as_csv_excel_can_read(site):
    app, tickets, _ = site
    activity = HelperActivity(tickets.engine)
    when = dt.datetime(2026, 11, 12, 3, 0, tzinfo=dt.timezone.utc)
    activity.record(member_ref("TCN01"), "Phường Hoàn Kiếm, Thành phố Hà Nội", "vneid", "vneid-kich-hoat",
                    "giúp bà Lan kích hoạt", at=when)
    activity.record("Trần Thị Hoa", "Phường Bến Thành, Thành phố Hồ Chí Minh", "suc-khoe", "", "sổ sức khỏe",
                    at=when)
    staff = person(app)
    page = staff.get("/tickets/report?month=2026-11")
    assert page.status_code == 200 and "giúp bà Lan kích hoạt" in page.text and "2 lượt hỗ trợ" in page.text
    download = staff.get("/tickets/report.csv?month=2026-11&commune=Phường Hoàn Kiếm, Thành phố Hà Nội")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="bao-cao-to-cong-nghe-so-2026-11.csv"' in download.headers["content-disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == member_ref("TCN01") and rows[1][6] == "giúp bà Lan kích hoạt"
    october = staff.get("/tickets/report.csv?month=2026-10").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(october)))) == 1
    assert staff.get("/tickets/report.csv?month=tháng-11").status_code == 400
