"""The brake on password guessing at the admin login, on bot.core.limits counters (Redis when configured, so several
admin processes count together; this process otherwise).

Three counters, each counted *before* the password is verified, so that concurrent guesses cannot all be
evaluated: the account (whatever address tries it), the client address (failures across every name), and the
pair. A login that succeeds, or that is refused without being evaluated, gives its counts back.

- An account takes at most PER_ACCOUNT failed tries per window, from anywhere: guessing one password from many
  addresses gets no further.
- An address past PER_ADDRESS failures across names is not locked out: it keeps one try per account per window.
  Made-up names from one address (or from a reverse proxy nobody configured) therefore never block a real account
  whose own count is clean: the publisher signs in, while a sprayer of real names gets one guess each.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.limits import Limiter, Rule, shared

WINDOW_S = 900.0


@dataclass(frozen=True)
class Attempt:
    """One counted login attempt; `wait_s` > 0 means refused (not evaluated)."""

    keys: tuple[tuple[Rule, tuple[str, ...]], ...]
    wait_s: float = 0.0

    @property
    def refused(self) -> bool:
        return self.wait_s > 0


class LoginThrottle:
    def __init__(self, limiter: Limiter | None = None, per_account: int = 5, per_address: int = 20,
                 window_s: float = WINDOW_S) -> None:
        self.limiter = limiter or shared()
        self.account = Rule("admin-login-account", per_account, window_s)
        self.address = Rule("admin-login-address", per_address, window_s)
        self.pair = Rule("admin-login-pair", 1, window_s)  # the one try an address past its limit keeps

    def begin(self, username: str, address: str) -> Attempt:
        """Count an attempt; refused (with how long to wait) when the account, or the address and this pair,
        are over their limits."""
        name = username.strip().lower()
        keys = ((self.account, (name,)), (self.address, (address,)), (self.pair, (address, name)))
        account, by_address, pair = (self.limiter.hit(rule, *parts) for rule, parts in keys)
        blocking = [account] if account.over else []
        if by_address.over and pair.over:
            blocking += [by_address, pair]
        if not blocking:
            return Attempt(keys)
        self._give_back(keys)
        return Attempt(keys, max(max(hit.retry_after_s for hit in blocking), 1.0))

    def succeeded(self, attempt: Attempt) -> None:
        self._give_back(attempt.keys)

    def _give_back(self, keys) -> None:
        for rule, parts in keys:
            self.limiter.undo(rule, *parts)
