"""The admin web page as a Starlette app: the areas' routes, the shared templates and stylesheet, strict
security headers on every response, and clear Vietnamese pages for errors.

Areas are registered in AREAS; another area (tickets) is one more module exposing `AREA`, its
templates extending base.html, and one line here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.admin.web import audit, auth, entries, insights, menus, publishing, teams, tickets, users
from bot.admin.web.base import Admin, Area
from bot.admin.web.clientaddr import trusted_networks
from bot.core.localtime import local_text
from bot.core.settings import Settings
from bot.indexing.publish import Publisher
from bot.search.embedder import E5Embedder
from bot.search.onnx_embedder import e5_embedder
from bot.store.accounts import Accounts
from bot.store.knowledge import KnowledgeStore
from bot.store.question_log import Events

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
AREAS: list[Area] = [auth.AREA, entries.AREA, publishing.AREA, menus.AREA, insights.AREA, tickets.AREA, teams.AREA,
                     users.AREA, audit.AREA]
MAX_BODY_BYTES = 2_000_000  # a long entry is a few kB; nothing here uploads files

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class NotReady(RuntimeError):
    """The admin page is switched off, or no one could sign in."""


def not_ready_reason(settings: Settings, accounts: Accounts | None = None) -> str | None:
    """Why the admin page must not start, in words for the person starting it; None when it may.
    The store is only opened once the page is switched on."""
    if not settings.admin_enabled:
        return ("Trang quản trị đang tắt. Bật bằng biến môi trường BOT_ADMIN_ENABLED=1.\n"
                "The admin page is off: set BOT_ADMIN_ENABLED=1 to serve it.")
    try:
        trusted_networks(settings.admin_trusted_proxies)
    except ValueError as err:
        return f"{err}\nBOT_ADMIN_TRUSTED_PROXIES lists the reverse proxies' addresses or CIDRs, comma-separated."
    if not (accounts or Accounts.open(settings.store_url)).users():
        return ("Chưa có tài khoản quản trị nào. Tạo tài khoản trước:\n"
                "  BOT_ADMIN_PASSWORD='mật khẩu ít nhất 10 ký tự' python -m bot.admin user add TEN --role publisher\n"
                "(không đặt BOT_ADMIN_PASSWORD thì lệnh sẽ hỏi mật khẩu).\n"
                "No admin account exists yet: create one with `python -m bot.admin user add NAME --role publisher` "
                "(password from BOT_ADMIN_PASSWORD, or prompted).")
    return None


class SecurityHeaders:
    """Adds the headers to every response (pages, JSON, images, static files, errors); pages are not cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                if b"cache-control" not in present and not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = local_time
    return Jinja2Templates(env=env)


def local_time(moment) -> str:
    """A stored UTC time as admins read it: Vietnam's time, day first."""
    return local_text(moment)


def create_app(settings: Settings, store: KnowledgeStore | None = None, embedder=None,
               publisher: Publisher | None = None, areas: list[Area] | None = None) -> Starlette:
    """The admin app over the store at settings.store_url (or the one given). `embedder` defaults to the
    e5 model, loaded on first use and shared by publishing, draft trials and grouping."""
    store = store or KnowledgeStore.open(settings.store_url)
    accounts = Accounts(store.engine)
    reason = not_ready_reason(settings, accounts)
    if reason:
        raise NotReady(reason)
    grouping_embedder = embedder or E5Embedder(settings.base_model_dir)  # loaded on first use only
    embedder = embedder or e5_embedder(settings.model_dir)  # its ONNX export when set-up made one, as serving
    templates = _templates()
    admin = Admin(settings=settings, store=store, accounts=accounts, events=Events(store.engine),
                  publisher=publisher or Publisher(store, settings, embedder=embedder), embedder=embedder,
                  templates=templates, areas=list(areas or AREAS), grouping_embedder=grouping_embedder,
                  trusted_proxies=trusted_networks(settings.admin_trusted_proxies))
    routes = [route for area in admin.areas for route in area.routes]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        titles = {404: "Không tìm thấy trang", 405: "Thao tác không hợp lệ", 413: "Nội dung quá lớn"}
        title = titles.get(exc.status_code, "Yêu cầu không hợp lệ")
        message = "Hãy quay lại trang quản trị và thử lại."
        return auth.bare(request, admin, "error.html", exc.status_code, title=title, message=message)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("admin page error", exc_info=exc)
        return HTMLResponse("<!doctype html><meta charset=utf-8><title>Lỗi</title><p>Có lỗi xảy ra. "
                            "Vui lòng thử lại sau ít phút.</p>", status_code=500, headers=SECURITY_HEADERS)

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={HTTPException: http_error, 500: server_error}, max_body_size=MAX_BODY_BYTES)
    app.state.admin = admin
    return app
