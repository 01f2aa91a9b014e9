"""Admin accounts: hashed passwords, expiring sessions with a CSRF token each, roles, and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from bot.core.localtime import utcnow
from bot.store.schema import as_utc, audit, engine_for, sessions, users

ROLES = ("editor", "publisher")  # a publisher can do everything an editor can, and publish/roll back
SESSION_HOURS = 8  # one working day; an idle laptop in the commune office logs itself out
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password")  # verify against it for unknown users: same timing


@dataclass(frozen=True)
class User:
    username: str
    role: str
    disabled: bool = False  # cannot sign in; its sessions were ended (set_disabled)

    def can(self, permission: str) -> bool:
        """'edit' for every role; 'publish' (publish, roll back a release, manage tickets) for publishers."""
        return permission == "edit" or self.role == "publisher"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class AuditRecord:
    at: dt.datetime
    username: str
    action: str
    target: str
    detail: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users, sessions and the audit log in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Accounts:
        return cls(engine_for(url))

    def add_user(self, username: str, password: str, role: str) -> User:
        """Create or reset an account. Passwords of fewer than 10 characters are refused."""
        if role not in ROLES:
            raise ValueError(f"vai trò phải là một trong: {', '.join(ROLES)}")
        if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError("tên đăng nhập chỉ gồm chữ, số, '.', '-', '_'")
        if len(password) < 10:
            raise ValueError("mật khẩu cần ít nhất 10 ký tự")
        values = dict(password_hash=_hasher.hash(password), role=role, disabled=False)
        with self.engine.begin() as conn:
            exists = conn.execute(select(users.c.username).where(users.c.username == username)).first()
            if exists:
                conn.execute(update(users).where(users.c.username == username).values(**values))
                conn.execute(delete(sessions).where(sessions.c.username == username))
            else:
                conn.execute(insert(users).values(username=username, created_at=utcnow(), **values))
        return User(username, role)

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [User(r.username, r.role, bool(r.disabled))
                    for r in conn.execute(select(users).order_by(users.c.username))]

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        """Disable an account (it cannot sign in, and every session of it ends at once) or enable it again.
        KeyError when there is no such account."""
        with self.engine.begin() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
            if row is None:
                raise KeyError(username)
            conn.execute(update(users).where(users.c.username == username).values(disabled=disabled))
            if disabled:
                conn.execute(delete(sessions).where(sessions.c.username == username))
        return User(row.username, row.role, disabled)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches (constant work whether or not the user exists)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        return User(row.username, row.role)

    def start_session(self, user: User, hours: float = SESSION_HOURS) -> tuple[str, Session]:
        """A new session: the cookie token (only its hash is stored) and the session with its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + dt.timedelta(hours=hours)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(insert(sessions).values(token_hash=_token_hash(token), username=user.username, csrf=csrf,
                                                 created_at=now, expires_at=expires))
        return token, Session(user, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token, or None (unknown, expired, or the user was disabled)."""
        if not token:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions, users.c.role, users.c.disabled)
                .join(users, users.c.username == sessions.c.username)
                .where(sessions.c.token_hash == _token_hash(token))
            ).first()
        if row is None or row.disabled or as_utc(row.expires_at) <= utcnow():
            return None
        return Session(User(row.username, row.role), row.csrf, as_utc(row.expires_at))

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))

    def log(self, username: str, action: str, target: str = "", detail: str = "") -> None:
        """Append to the audit log (who did what to which entry/release)."""
        with self.engine.begin() as conn:
            conn.execute(insert(audit).values(at=utcnow(), username=username, action=action, target=target[:200],
                                              detail=detail[:2000]))

    def audit_log(self, limit: int = 200) -> list[AuditRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit).order_by(audit.c.id.desc()).limit(limit)).all()
        return [AuditRecord(as_utc(r.at), r.username, r.action, r.target, r.detail) for r in rows]
