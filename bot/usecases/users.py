"""Admin accounts: add one (or change its password and role), disable one (it cannot sign in and its sessions
end at once), enable it again. Each writes one audit line naming the account."""

from __future__ import annotations

from bot.store.accounts import Accounts, User
from bot.usecases.audit import AuditWriter


def add_user(accounts: Accounts, audit: AuditWriter, author: str, username: str, password: str, role: str) -> User:
    """Create the account, or set its password and role (ValueError: a short password, an unknown role)."""
    user = accounts.add_user(username, password, role)
    audit.log(author, "user", user.username, user.role)
    return user


def set_disabled(accounts: Accounts, audit: AuditWriter, author: str, username: str, disabled: bool,
                 address: str = "") -> User:
    """Disable or enable an account (KeyError: no such account); `address` is where the author acted from."""
    user = accounts.set_disabled(username, disabled)
    audit.log(author, "user_disable" if disabled else "user_enable", user.username, address)
    return user
