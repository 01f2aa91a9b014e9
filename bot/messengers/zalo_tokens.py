"""Durable storage for the Zalo OA access/refresh token pair (standard library only).

Zalo's refresh tokens are single-use: every refresh returns a new pair and the old refresh token stops working. A pair
that is lost (a crash mid-write, a torn file) means someone has to re-authorise the OA by hand, so the pair is written
to a temporary file in the same folder, fsynced, and swapped in with `os.replace`; the file is either the old pair or
the new one, never half of each.

The first pair comes from the environment (ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN). The file remembers a fingerprint
of the refresh token it was seeded from, so a pair rotated since start-up survives restarts, while an operator who puts
a new pair into the environment (after re-authorising) gets it used instead of the stale file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def fingerprint(refresh_token: str) -> str:
    """A short, one-way tag for a refresh token: lets the file say which seed it grew from, without the token."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TokenPair:
    """An OA access token, the refresh token that replaces it, and when the access token expires (epoch s)."""

    access_token: str
    refresh_token: str
    expires_at: float | None = None
    seed: str | None = None  # fingerprint of the environment refresh token this pair descends from

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "seed": self.seed,
            "saved_at": time.time(),
        }

    @classmethod
    def from_json(cls, data: Any) -> TokenPair:
        """Read the file's content; ValueError when it is not a usable pair."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise ValueError("access_token and refresh_token must be non-empty texts")
        expires = data.get("expires_at")
        seed = data.get("seed")
        return cls(
            access,
            refresh,
            float(expires) if isinstance(expires, (int, float)) else None,
            seed if isinstance(seed, str) else None,
        )


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` so that a crash at any point leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp creates it 0600: tokens stay private
            f.write(json.dumps(data, indent=2))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


class TokenStore:
    """The current token pair: the file at `path` when it holds a pair for the configured seed, else the seed."""

    def __init__(self, path: Path, seed_access: str = "", seed_refresh: str = "") -> None:
        """`path` is ZALO_TOKEN_FILE; the seed pair is ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN (either may be empty)."""
        self.path = path
        # A refresh token alone is enough (empty access token): the client refreshes before its first send.
        # An access token alone works until it expires.
        self._seed = None
        if seed_access or seed_refresh:
            self._seed = TokenPair(seed_access, seed_refresh, None, fingerprint(seed_refresh or seed_access))

    def _read_file(self) -> TokenPair | None:
        try:
            return TokenPair.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
            log.warning("Zalo token file %s is unreadable (%s); using the environment's tokens", self.path, exc)
            return None

    def load(self) -> TokenPair | None:
        """The pair to use now (read fresh from disk: another process may have rotated it)."""
        stored = self._read_file()
        if stored is None:
            return self._seed
        if self._seed is None or stored.seed is None or stored.seed == self._seed.seed:
            return stored
        log.info("Zalo tokens in the environment are new; they replace the token file")
        return self._seed

    def save(self, pair: TokenPair) -> None:
        """Store a rotated pair durably (atomic replace, fsynced) before it is used."""
        write_json_atomic(self.path, pair.to_json())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock across processes sharing the file, held around a refresh (blocking: run in a thread)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
