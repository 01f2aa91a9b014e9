"""The audit log as the use cases see it: anything with `log(username, action, target, detail)`.

bot.store.accounts.Accounts is the real one; a test may pass a list-backed fake. The action names are the
keys the admin page's audit log translates (bot/admin/web/audit.py)."""

from __future__ import annotations

from typing import Protocol


class AuditWriter(Protocol):
    def log(self, username: str, action: str, target: str = "", detail: str = "") -> None: ...


def release_ref(release_id: int) -> str:
    """How the audit log names a release: “bản #3” (as the publishing page numbers them)."""
    return f"bản #{release_id}"
