"""The audit log: who did what, to which entry or release, and when (newest first)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, render
from bot.core.localtime import local_text

ACTIONS = {
    "login": "Đăng nhập", "logout": "Đăng xuất", "login_failed": "Đăng nhập sai", "create": "Thêm mục",
    "edit": "Sửa mục", "retire": "Ngừng dùng mục", "restore": "Khôi phục mục", "publish": "Xuất bản",
    "rollback": "Quay về bản cũ", "import": "Nhập dữ liệu", "user": "Tạo hoặc đổi tài khoản",
    "ticket_reply": "Trả lời yêu cầu hỗ trợ", "ticket_close": "Đóng yêu cầu hỗ trợ",
    "user_disable": "Khóa tài khoản", "user_enable": "Mở lại tài khoản", "menu_pin": "Ghim menu chủ đề",
    "team_set": "Đặt liên hệ xã/phường", "team_remove": "Xóa liên hệ xã/phường",
}
LIMIT = 500


@guarded()
def audit_page(call: Call) -> Response:
    rows = [{"at": local_text(r.at, seconds=True), "username": r.username,
             "action": ACTIONS.get(r.action, r.action), "target": r.target, "detail": r.detail}
            for r in call.admin.accounts.audit_log(limit=LIMIT)]
    return render(call, "audit.html", rows=rows, limit=LIMIT)


AREA = Area("audit", [Route("/audit", audit_page, methods=["GET"])], label="Nhật ký", path="/audit")
