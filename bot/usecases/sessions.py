"""Signing in and out of the admin page, with the audit lines `login`, `login_failed` and `logout`.

A failed attempt is logged under the masked name typed (it may be a password typed in the wrong box). How
often one may try is the front end's brake (bot/admin/web/throttle.py), checked before this is called."""

from __future__ import annotations

from bot.core.privacy import mask
from bot.store.accounts import Accounts, Session
from bot.usecases.audit import AuditWriter


def sign_in(accounts: Accounts, audit: AuditWriter, username: str, password: str,
            address: str) -> tuple[str, Session] | None:
    """A new session (its token, and the session) for the right password of an enabled account, else None."""
    user = accounts.authenticate(username, password)
    if user is None:
        audit.log(mask(username) or "(trống)", "login_failed", address)
        return None
    token, session = accounts.start_session(user)
    audit.log(user.username, "login", address)
    return token, session


def sign_out(accounts: Accounts, audit: AuditWriter, token: str, username: str) -> None:
    """End the session with this token."""
    accounts.end_session(token)
    audit.log(username, "logout")
