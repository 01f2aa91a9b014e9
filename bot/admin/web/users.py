"""Admin accounts on the page: who can sign in, and disabling an account (publishers only). A disabled account
cannot sign in and its open sessions end at once; creating accounts and passwords stays on the command line
(`python -m bot.admin user add`), where no password crosses a web form."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import client_ip, guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.usecases.users import set_disabled


@guarded(permission="publish")
def users_page(call: Call) -> Response:
    return render(call, "users.html", users=call.admin.accounts.users(), notice=call.request.query_params.get("done"))


def _set(call: Call, disabled: bool) -> Response:
    name = call.request.path_params["name"]
    if name == call.user.username:  # nobody locks themselves out (nor the last publisher, by mistake)
        return render(call, "error.html", 400, title="Không thể tự khóa tài khoản của mình",
                      message="Hãy nhờ một người xuất bản khác, hoặc dùng lệnh 'user disable' trên máy chủ.")
    try:
        set_disabled(call.admin.accounts, call.admin.accounts, call.user.username, name, disabled,
                     client_ip(call.request))
    except KeyError:
        return render(call, "error.html", 404, title="Không có tài khoản này", message="Hãy mở lại trang tài khoản.")
    return redirect("/users?done=" + ("disabled" if disabled else "enabled"))


@guarded(permission="publish")
def disable(call: Call) -> Response:
    return _set(call, True)


@guarded(permission="publish")
def enable(call: Call) -> Response:
    return _set(call, False)


AREA = Area("users", [
    Route("/users", users_page, methods=["GET"]),
    Route("/users/{name}/disable", disable, methods=["POST"]),
    Route("/users/{name}/enable", enable, methods=["POST"]),
], label="Tài khoản", path="/users")
