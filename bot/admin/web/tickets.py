"""Handoff tickets for staff: the open ones (longest waiting first), one ticket's masked conversation with a reply
box and "close with a resolution", and the community digital-technology team's monthly report as CSV.

A reply or a closing note goes to the resident on their own channel at once (Telegram, Zalo: bot.handoff.notify); a web
chat resident gets it when their page next polls its inbox (within seconds while the page is open). Replies and
closes are the ticket use cases (bot/usecases/tickets.py: store, delivery, audit log). Editors and publishers may both
answer tickets.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from anyio import from_thread
from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.core.localtime import VIETNAM_TZ, local_text, utcnow
from bot.handoff.tickets import CHANNEL_NAMES, reach
from bot.knowledge.model import TOPICS
from bot.messengers.wiring import notifier
from bot.store.activity import HelperActivity, month_bounds, report_csv
from bot.store.tickets import CLOSED, OPEN, RESIDENT, STAFF, SYSTEM, TicketClosed, TicketNotFound, Tickets
from bot.usecases.tickets import NOT_SENT, TicketDesk

MAX_REPLY = 2000  # Zalo's limit for one message; Telegram splits longer ones anyway
STATUSES = {OPEN: "Đang mở", CLOSED: "Đã đóng", "all": "Tất cả"}
KIND_LABELS = {RESIDENT: "Người dân", "bot": "Trợ lý ảo", STAFF: "Cán bộ", SYSTEM: "Hệ thống"}
NOTICES = {
    "sent": ("notice", "Đã gửi câu trả lời tới người dân."),
    "inbox": ("notice info", "Đã lưu câu trả lời. Người dân dùng trang web sẽ thấy ngay khi trang đang mở "
                             "(hoặc khi mở lại trang)."),
    "not_sent": ("error-box", "Đã lưu câu trả lời nhưng chưa gửi được tới người dân ({detail}). Người dân sẽ thấy "
                              "khi liên hệ lại; bạn có thể gọi điện nếu có số liên lạc."),
    "closed": ("notice", "Đã đóng yêu cầu và báo kết quả cho người dân."),
    "closed_not_sent": ("error-box", "Đã đóng yêu cầu, nhưng chưa báo được cho người dân ({detail})."),
    "empty": ("error-box", "Bạn chưa nhập nội dung trả lời."),
    "empty_resolution": ("error-box", "Bạn cần ghi kết quả xử lý trước khi đóng yêu cầu."),
    "too_long": ("error-box", f"Câu trả lời dài quá {MAX_REPLY} ký tự; bạn chia thành vài tin nhé."),
    "already_closed": ("error-box", "Yêu cầu này đã được đóng (có thể bởi một cán bộ khác)."),
}


def tickets(call: Call) -> Tickets:
    return call.admin.service("tickets", lambda: Tickets(call.admin.store.engine))


def activity(call: Call) -> HelperActivity:
    return call.admin.service("helper_activity", lambda: HelperActivity(call.admin.store.engine))


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """How long a ticket has been open, in words staff read at a glance."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // (24 * 60)} ngày"


def desk(call: Call) -> TicketDesk:
    """The ticket use cases for this user; the resident's channel is reached from this worker thread through the
    app's event loop."""
    return TicketDesk(tickets(call), call.admin.accounts, notifier(call.admin.settings),
                      call.user.username, run=from_thread.run)


def notice(call: Call) -> dict | None:
    key = call.request.query_params.get("msg", "")
    if key not in NOTICES:
        return None
    css, text = NOTICES[key]
    return {"css": css, "text": text.format(detail=call.request.query_params.get("detail", "")[:120])}


def back(code: str, msg: str, detail: str = "") -> Response:
    query = {"msg": msg, **({"detail": detail} if detail else {})}
    return redirect(f"/tickets/{code}?{urlencode(query)}")


@guarded()
def list_page(call: Call) -> Response:
    status = call.request.query_params.get("status", OPEN)
    status = status if status in STATUSES else OPEN
    now = utcnow()
    rows = [{
        "s": s, "waited": waited(s.ticket.created_at, now),
        "channel": CHANNEL_NAMES.get(s.ticket.channel, s.ticket.channel),
        "topic": TOPICS.get(s.ticket.topic, s.ticket.topic) or "—",
    } for s in tickets(call).summaries(None if status == "all" else status)]
    return render(call, "tickets_list.html", rows=rows, status=status, statuses=STATUSES)


def _ticket(call: Call):
    """The ticket named in the URL, or None."""
    try:
        return tickets(call).get(call.request.path_params["code"])
    except TicketNotFound:
        return None


def not_found(call: Call) -> Response:
    return render(call, "error.html", 404, title="Không tìm thấy yêu cầu",
                  message="Không có yêu cầu hỗ trợ với mã này. Hãy mở lại danh sách yêu cầu.")


@guarded()
def ticket_page(call: Call) -> Response:
    ticket = _ticket(call)
    if ticket is None:
        return not_found(call)
    messages = tickets(call).messages(ticket.id)
    return render(call, "ticket.html", ticket=ticket, messages=messages, kinds=KIND_LABELS, notice=notice(call),
                  channel=CHANNEL_NAMES.get(ticket.channel, ticket.channel), waited=waited(ticket.created_at, utcnow()),
                  topic=TOPICS.get(ticket.topic, ticket.topic), pushes=reach(ticket.sender_id).address is not None,
                  max_reply=MAX_REPLY)


@guarded()
def reply(call: Call) -> Response:
    ticket = _ticket(call)
    if ticket is None:
        return not_found(call)
    text = call.field("text").strip()
    if not text:
        return back(ticket.code, "empty")
    if len(text) > MAX_REPLY:
        return back(ticket.code, "too_long")
    try:
        answered = desk(call).answer(ticket.code, text)
    except TicketClosed:
        return back(ticket.code, "already_closed")
    return back(ticket.code, answered.outcome, answered.delivery.detail)


@guarded()
def close(call: Call) -> Response:
    ticket = _ticket(call)
    if ticket is None:
        return not_found(call)
    resolution = call.field("resolution").strip()
    if not resolution:
        return back(ticket.code, "empty_resolution")
    if len(resolution) > MAX_REPLY:
        return back(ticket.code, "too_long")
    try:
        answered = desk(call).close(ticket.code, resolution)
    except TicketClosed:
        return back(ticket.code, "already_closed")
    failed = answered.outcome == NOT_SENT
    return back(ticket.code, "closed_not_sent" if failed else "closed", answered.delivery.detail)


def _month(call: Call) -> str | None:
    """The month asked for ("2026-11"; this month by default), or None when it is not a month."""
    default = utcnow().astimezone(VIETNAM_TZ).strftime("%Y-%m")
    month = call.request.query_params.get("month", default).strip() or default
    try:
        month_bounds(month)
    except ValueError:
        return None
    return month


def bad_month(call: Call) -> Response:
    return render(call, "error.html", 400, title="Tháng không hợp lệ",
                  message="Hãy chọn tháng theo dạng NNNN-TT, ví dụ 2026-11.")


@guarded()
def report_page(call: Call) -> Response:
    month = _month(call)
    if month is None:
        return bad_month(call)
    commune = call.request.query_params.get("commune", "")
    records = activity(call).records(month, commune or None)
    rows = [{"at": local_text(r.at), "r": r,
             "topic": TOPICS.get(r.topic, r.topic)} for r in records]
    download = f"/tickets/report.csv?{urlencode({'month': month, 'commune': commune})}"
    return render(call, "helper_report.html", rows=rows, month=month, commune=commune,
                  communes=activity(call).communes(), download=download)


@guarded()
def report_csv_download(call: Call) -> Response:
    month = _month(call)
    if month is None:
        return bad_month(call)
    commune = call.request.query_params.get("commune", "")
    body = report_csv(activity(call).records(month, commune or None))
    name = f"bao-cao-to-cong-nghe-so-{month}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


AREA = Area("tickets", [
    Route("/tickets", list_page, methods=["GET"]),
    Route("/tickets/report", report_page, methods=["GET"]),
    Route("/tickets/report.csv", report_csv_download, methods=["GET"]),
    Route("/tickets/{code}", ticket_page, methods=["GET"]),
    Route("/tickets/{code}/reply", reply, methods=["POST"]),
    Route("/tickets/{code}/close", close, methods=["POST"]),
], label="Yêu cầu hỗ trợ", path="/tickets")
