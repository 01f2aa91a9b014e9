"""The ticket store and the helper activity records, on SQLite and a real PostgreSQL database (`store_url`), plus
the web chat inbox read from the Rasa environment (SQLAlchemy 1.4, psycopg2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.core.localtime import VIETNAM_TZ
from bot.core.privacy import mask
from bot.core.settings import ROOT
from bot.store.activity import BOM, CSV_HEADER, HelperActivity, member_ref, month_bounds, report_csv
from bot.store.tickets import CLOSED, OPEN, TicketClosed, TicketNotFound, Tickets, new_code, normal_code

WEB = "web-0123456789abcdef01234567"
PHONE, CCCD, OTP = "0912345678", "001203004567", "482913"
CODE_RE = re.compile(r"^HT-[ACDEHKMNPRTUVXY]{2}[2-9]{3}$")


@pytest.fixture
def store(store_url) -> Tickets:
    return Tickets.open(store_url)


def test_codes_are_short_unambiguous_and_survive_masking():
    codes = {new_code() for _ in range(500)}
    assert all(CODE_RE.match(c) for c in codes) and len(codes) > 450
    assert all(mask(f"mã {c}.") == f"mã {c}." for c in codes)  # never taken for an OTP in logs or tickets
    assert normal_code(" ht km482 ") == normal_code("KM482") == "HT-KM482"


def test_a_ticket_keeps_the_conversation_masked(store):
    history = [("resident", f"sdt cua toi {PHONE}, cccd {CCCD}"), ("bot", "Bạn ở xã/phường nào?"),
               ("resident", "phuong hoan kiem"), ("bot", "   ")]
    ticket = store.create("tg-501", "telegram", "Phường Hoàn Kiếm, Thành phố Hà Nội", "vneid", history)
    assert CODE_RE.match(ticket.code) and ticket.status == OPEN and ticket.is_open
    texts = [(m.kind, m.text) for m in store.messages(ticket.id)]
    assert texts == [("resident", "sdt cua toi [số điện thoại], cccd [số định danh]"),
                     ("bot", "Bạn ở xã/phường nào?"), ("resident", "phuong hoan kiem")]  # the blank one is dropped
    assert store.get(ticket.code.lower()) == ticket
    with pytest.raises(TicketNotFound):
        store.get("HT-AA222")


def test_resident_messages_are_acknowledged_once_per_staff_reply(store):
    ticket = store.create(WEB, "webchat")
    assert store.open_for(WEB) == ticket and store.open_for("web-other") is None
    assert store.add_resident_message(ticket.id, f"ma otp {OTP}") == (True, True)
    assert store.add_resident_message(ticket.id, "còn nữa") == (True, False)
    assert store.add_resident_message(ticket.id, "và nữa") == (True, False)
    store.reply(ticket.code, "lan", "Chào bác, bác mở ứng dụng VNeID giúp cháu.")
    assert store.add_resident_message(ticket.id, "mở rồi") == (True, True)
    assert store.add_resident_message(ticket.id, "rồi sao nữa") == (True, False)
    kinds = [m.kind for m in store.messages(ticket.id)]
    assert kinds == ["resident", "resident", "resident", "staff", "resident", "resident"]
    assert OTP not in " ".join(m.text for m in store.messages(ticket.id))


def test_close_with_resolution_and_nothing_after(store):
    ticket = store.create("zalo-8841", "zalo", topic="vneid")
    closed, note = store.close(ticket.code, "lan", f"Đã hướng dẫn, gọi lại {PHONE}", note="Đã xong.")
    assert closed.status == CLOSED and closed.closed_by == "lan" and closed.closed_at is not None
    assert closed.resolution == "Đã hướng dẫn, gọi lại [số điện thoại]"
    assert note.to_resident and not note.delivered and note.text == "Đã xong."
    assert store.open_for("zalo-8841") is None
    assert store.add_resident_message(ticket.id, "alo") == (False, False)
    with pytest.raises(TicketClosed):
        store.reply(ticket.code, "lan", "muộn rồi")
    with pytest.raises(TicketClosed):
        store.close(ticket.code, "minh", "lần hai", note="x")
    with pytest.raises(ValueError):
        store.reply(store.create("tg-1", "telegram").code, "lan", "   ")


def test_two_staff_closing_at_once_one_wins(store):
    ticket = store.create("tg-77", "telegram")

    def close(who):
        try:
            store.close(ticket.code, who, f"xong ({who})", note="x")
            return who
        except TicketClosed:
            return None

    with ThreadPoolExecutor(4) as pool:
        winners = [w for w in pool.map(close, ["a", "b", "c", "d"]) if w]
    assert len(winners) == 1 and store.get(ticket.code).closed_by == winners[0]


def test_staff_text_for_the_resident_keeps_a_callback_number_but_resident_text_is_masked(store):
    ticket = store.create(WEB, "webchat", history=[("resident", f"gọi cho tôi {PHONE}")])
    store.add_resident_message(ticket.id, f"otp {OTP}")
    _, reply = store.reply(ticket.code, "lan", "Bác gọi 0243 856 7890 hoặc 0912 000 111 gặp chị Lan nhé")
    _, note = store.close(ticket.code, "lan", f"gọi lại {PHONE}", note="Cán bộ sẽ gọi bác qua số 0912 000 111.")
    assert reply.text == "Bác gọi 0243 856 7890 hoặc 0912 000 111 gặp chị Lan nhé"
    assert note.text == "Cán bộ sẽ gọi bác qua số 0912 000 111."
    texts = {m.kind: m.text for m in store.messages(ticket.id) if m.kind == "resident"}
    assert PHONE not in str(texts) and OTP not in str(texts)
    assert store.get(ticket.code).resolution == "gọi lại [số điện thoại]"  # the staff's record stays masked


def test_inbox_gives_each_staff_message_once_and_again_after_a_lost_answer(store):
    ticket = store.create(WEB, "webchat")
    other = store.create("web-ffffffffffffffffffffffff", "webchat")
    store.reply(other.code, "lan", "cho người khác")
    _, first = store.reply(ticket.code, "lan", f"Bác gọi {PHONE} nhé")
    assert [m.text for m in store.inbox(WEB)] == [f"Bác gọi {PHONE} nhé"]  # staff text: not masked
    assert store.inbox(WEB) == []  # delivered now
    assert [m.id for m in store.inbox(WEB, after=first.id - 1)] == [first.id]  # the page did not get it: again
    _, second = store.reply(ticket.code, "lan", "Xong chưa bác?")
    assert [m.id for m in store.inbox(WEB, after=first.id)] == [second.id]
    store.close(ticket.code, "lan", "ok", note="Cán bộ đã hoàn tất.")
    assert [m.text for m in store.inbox(WEB, after=second.id)] == ["Cán bộ đã hoàn tất."]
    assert not store.has_open(WEB) and store.has_open("web-ffffffffffffffffffffffff")


def test_staff_list_puts_the_longest_waiting_first(store):
    t0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    old = store.create("tg-1", "telegram", now=t0)
    new = store.create("tg-2", "telegram", now=t0 + dt.timedelta(hours=2))
    store.add_resident_message(new.id, "alo", now=t0 + dt.timedelta(hours=3))
    done = store.create("tg-3", "telegram", now=t0 + dt.timedelta(hours=1))
    store.close(done.code, "lan", "ok", note="x")
    open_rows = store.summaries()
    assert [s.ticket.code for s in open_rows] == [old.code, new.code]
    assert open_rows[1].messages == 1 and open_rows[1].last_resident_at == t0 + dt.timedelta(hours=3)
    assert open_rows[0].last_resident_at is None
    assert [s.ticket.code for s in store.summaries(CLOSED)] == [done.code]
    assert len(store.summaries(None)) == 3


# --- helper activity and the monthly report ------------------------------------------------------------------


def test_member_is_never_the_raw_code():
    ref = member_ref("TCN01")
    assert ref == member_ref(" tcn01 ") and ref.startswith("TV-") and "TCN01" not in ref.upper()
    assert member_ref("TCN02") != ref


def test_month_bounds_are_vietnam_calendar_months():
    start, end = month_bounds("2026-12")
    assert start == dt.datetime(2026, 12, 1, tzinfo=VIETNAM_TZ) and end == dt.datetime(2027, 1, 1, tzinfo=VIETNAM_TZ)
    for bad in ("2026-13", "11/2026", "", "2026-1"):
        with pytest.raises(ValueError):
            month_bounds(bad)


def test_monthly_report_filters_by_vietnam_month_and_commune(store_url):
    activity = HelperActivity.open(store_url)
    hk, bt = "Phường Hoàn Kiếm, Thành phố Hà Nội", "Phường Bến Thành, Thành phố Hồ Chí Minh"
    # 30/11 23:30 in Vietnam is 16:30 UTC: November. 1/12 00:30 in Vietnam is still 30/11 in UTC: December.
    activity.record(member_ref("TCN01"), hk, "vneid", "vneid-kich-hoat", f"bà Lan, sdt {PHONE}",
                    at=dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.timezone.utc))
    activity.record("Nguyễn Văn Bình", bt, "suc-khoe", "", "=HYPERLINK(\"x\")",
                    at=dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.timezone.utc))
    activity.record(member_ref("TCN01"), hk, "hoa-don", "", "tháng sau",
                    at=dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.timezone.utc))
    november = activity.records("2026-11")
    assert [r.topic for r in november] == ["suc-khoe", "vneid"]
    assert [r.topic for r in activity.records("2026-12")] == ["hoa-don"]
    assert [r.topic for r in activity.records("2026-11", hk)] == ["vneid"]
    assert activity.communes() == sorted([hk, bt])

    data = report_csv(november)
    assert data.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    assert rows[1] == ["05/11/2026", "09:00", "Nguyễn Văn Bình", bt, "suc-khoe", "", "'=HYPERLINK(\"x\")"]
    assert rows[2] == ["30/11/2026", "23:30", member_ref("TCN01"), hk, "vneid", "vneid-kich-hoat",
                       "bà Lan, sdt [số điện thoại]"]
    assert PHONE.encode() not in data and b"TCN01" not in data
    with pytest.raises(ValueError):
        activity.record("  ", hk)


# --- the web chat inbox from the Rasa environment -------------------------------------------------------------

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
INBOX_SCRIPT = """
import json, sys, sqlalchemy
from bot.rasa_side.channels.webchat_inbox import read_inbox
from bot.store.schema import engine_for
url, sender, after = sys.argv[1:4]
status, body = read_inbox(url, sender, after or None)
print(json.dumps({"status": status, "body": body, "sqlalchemy": sqlalchemy.__version__,
                  "driver": engine_for(url).dialect.driver}))
"""


def rasa_inbox(url: str, sender: str, after: str = "") -> dict:
    result = subprocess.run([str(RASA_PY), "-c", INBOX_SCRIPT, url, sender, after], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_rasa_environment_reads_the_inbox(store, store_url):
    ticket = store.create(WEB, "webchat")
    _, message = store.reply(ticket.code, "lan", f"Chào bác, gọi {PHONE}")
    got = rasa_inbox(store_url, WEB)
    assert got["sqlalchemy"].startswith("1.4")
    assert got["driver"] == ("pysqlite" if store_url.startswith("sqlite") else "psycopg2")
    assert got["status"] == 200 and got["body"]["open"] is True
    assert got["body"]["messages"] == [{"id": message.id, "text": f"Chào bác, gọi {PHONE}", "kind": "staff",
                                        "label": "Cán bộ hỗ trợ"}]
    assert rasa_inbox(store_url, WEB)["body"]["messages"] == []  # marked delivered by the Rasa side
    assert store.inbox(WEB) == []
    assert rasa_inbox(store_url, "tg-501")["status"] == 400  # a guessable id is not served
    assert rasa_inbox(store_url, WEB, "-1")["status"] == 400
