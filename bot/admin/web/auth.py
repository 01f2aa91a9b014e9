"""Signing in and guarding every page: sessions (Accounts), CSRF tokens, roles, and a brake on password
guessing.

- The session cookie is HttpOnly, SameSite=Strict, and Secure when the page is served over HTTPS
  (BOT_ADMIN_SECURE_COOKIES=1). Sessions expire after a working day (Accounts).
- Every POST carries the session's CSRF token in a hidden field; the login form, which has no session
  yet, uses a double-submit cookie instead.
- Login attempts are counted before the password is verified, per account and per client address
  (bot/admin/web/throttle.py; in Redis when configured, so several admin processes count together). The client
  address is the socket peer, or what a configured reverse proxy forwarded (bot/admin/web/clientaddr.py); it is
  what the audit log records.
- A disabled account cannot sign in, and its sessions end (Accounts.set_disabled).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.admin.web.base import Admin, Area, Call, redirect, render
from bot.admin.web.clientaddr import client_address
from bot.admin.web.throttle import LoginThrottle
from bot.core.localtime import utcnow
from bot.usecases.sessions import sign_in, sign_out

log = logging.getLogger(__name__)

COOKIE = "admin_session"
LOGIN_COOKIE = "admin_login_csrf"
FORM_LIMITS = {"max_files": 0, "max_fields": 400, "max_part_size": 200_000}

MESSAGES = {
    "csrf": ("Biểu mẫu không hợp lệ hoặc đã hết hạn",
             "Trang này đã mở quá lâu hoặc không được gửi từ trang quản trị. Vui lòng tải lại trang rồi làm lại."),
    "role": ("Bạn chưa có quyền làm việc này",
             "Chỉ tài khoản có vai trò “người xuất bản” (publisher) mới được xuất bản hoặc quay về bản cũ. "
             "Hãy nhờ người xuất bản của đơn vị."),
    "form": ("Không đọc được biểu mẫu", "Dữ liệu gửi lên không hợp lệ. Vui lòng tải lại trang rồi thử lại."),
    "error": ("Có lỗi xảy ra", "Hệ thống gặp lỗi khi xử lý yêu cầu. Nội dung chưa được lưu; vui lòng thử lại sau "
                               "ít phút, nếu vẫn lỗi hãy báo cho cán bộ kỹ thuật."),
}


def client_ip(request: Request) -> str:
    """The client's address: the socket peer, or what a configured reverse proxy says (clientaddr)."""
    admin: Admin = request.app.state.admin
    return client_address(request, admin.trusted_proxies)


def bare(request: Request, admin: Admin, template: str, code: int = 200, **context) -> Response:
    """A page outside a session (login, errors before sign-in): no navigation, no user."""
    context.update(user=None, csrf="", nav=[])
    return admin.templates.TemplateResponse(request, template, context, status_code=code)


def problem_page(request: Request, admin: Admin, kind: str, status: int, call: Call | None = None) -> Response:
    title, message = MESSAGES[kind]
    if call is not None:
        return render(call, "error.html", status, title=title, message=message)
    return bare(request, admin, "error.html", status, title=title, message=message)


def local_path(target: str | None) -> str:
    """Only paths on this site are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/entries"


def guarded(permission: str = "edit", api: bool = False):
    """Wrap a handler `fn(call) -> Response` (run in a worker thread: the store is synchronous) so it
    only runs for a live session with the permission, and a POST only with the right CSRF token."""

    def wrap(handler: Callable[[Call], Response]):
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            admin: Admin = request.app.state.admin
            session = await run_in_threadpool(admin.accounts.session, request.cookies.get(COOKIE))
            if session is None:
                if api:
                    return JSONResponse({"error": "Bạn chưa đăng nhập hoặc phiên đã hết hạn."}, 401)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
            call = Call(request, admin, session)
            if request.method == "POST":
                try:
                    call.form = await request.form(**FORM_LIMITS)
                except HTTPException as err:
                    return problem_page(request, admin, "form", err.status_code, call)
                if not secrets.compare_digest(call.field("csrf").encode(), session.csrf.encode()):
                    return problem_page(request, admin, "csrf", 403, call)
            if not session.user.can(permission):
                if api:
                    return JSONResponse({"error": MESSAGES["role"][1]}, 403)
                return problem_page(request, admin, "role", 403, call)
            try:
                return await run_in_threadpool(handler, call)
            except Exception:  # a clear page, never a bare 500; the details go to the log
                log.exception("admin page %s %s failed", request.method, request.url.path)
                return problem_page(request, admin, "error", 500, call)

        return endpoint

    return wrap


async def login_page(request: Request) -> Response:
    admin: Admin = request.app.state.admin
    if request.method == "GET":
        if await run_in_threadpool(admin.accounts.session, request.cookies.get(COOKIE)):
            return redirect(local_path(request.query_params.get("next")))
        return _login_form(request, admin)
    try:
        form = await request.form(**FORM_LIMITS)
    except HTTPException as err:
        return problem_page(request, admin, "form", err.status_code)
    username = str(form.get("username") or "").strip()[:80]
    password = str(form.get("password") or "")
    target = local_path(str(form.get("next") or ""))
    cookie_token = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie_token or not secrets.compare_digest(str(form.get("csrf") or "").encode(), cookie_token.encode()):
        return problem_page(request, admin, "csrf", 403)
    throttle: LoginThrottle = admin.service("throttle", LoginThrottle)
    ip = client_ip(request)
    # Counted before the password is verified: concurrent guesses cannot all get past the limit.
    attempt = await run_in_threadpool(throttle.begin, username, ip)
    if attempt.refused:
        minutes = max(1, math.ceil(attempt.wait_s / 60))
        return _login_form(request, admin, 429, username=username, next_path=target,
                           error=f"Đăng nhập sai quá nhiều lần. Vui lòng đợi khoảng {minutes} phút rồi thử lại.")
    signed_in = await run_in_threadpool(sign_in, admin.accounts, admin.accounts, username, password, ip)
    if signed_in is None:
        return _login_form(request, admin, 401, username=username, next_path=target,
                           error="Tên đăng nhập hoặc mật khẩu không đúng.")
    await run_in_threadpool(throttle.succeeded, attempt)
    token, session = signed_in
    response = redirect(target)
    response.set_cookie(COOKIE, token, max_age=int((session.expires_at - utcnow()).total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=admin.settings.admin_secure_cookies)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _login_form(request: Request, admin: Admin, code: int = 200, **context) -> Response:
    token = secrets.token_urlsafe(24)
    context.setdefault("next_path", local_path(request.query_params.get("next")))
    response = bare(request, admin, "login.html", code, login_csrf=token, **context)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict",
                        secure=admin.settings.admin_secure_cookies)
    return response


@guarded()
def logout(call: Call) -> Response:
    sign_out(call.admin.accounts, call.admin.accounts, call.request.cookies.get(COOKIE, ""), call.user.username)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@guarded()
def home(call: Call) -> Response:
    return redirect("/entries")


AREA = Area("auth", [
    Route("/login", login_page, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/", home, methods=["GET"], name="home"),
])
