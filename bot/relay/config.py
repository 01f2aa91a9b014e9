"""Settings of the Telegram relay, read from the environment only (the token never lives in a file)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MODES = ("polling", "webhook")
RELAY_PATH = "/webhooks/relay/webhook"  # the relay's own door in Rasa (bot/rasa_side/channels/relay.py)
REST_PATH = "/webhooks/rest/webhook"  # the public door: it files every sender under web-…, never tg-…
DEFAULT_RASA_URL = "http://127.0.0.1:5005" + RELAY_PATH
MIN_RELAY_SECRET = 16
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")  # Telegram allows 1-256 of these; we want a real secret
MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _rasa_url(value: str) -> str:
    """The relay door's URL from Rasa's address (the relay path is added) or a full URL. A URL of the public REST
    door (older settings) is moved to the relay door: over the public door a Telegram chat would be filed under
    web-tg-…, and staff replies would never reach it."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"RASA_REST_URL must be an http(s) URL, e.g. {DEFAULT_RASA_URL}")
    if not parts.path.strip("/"):
        return value.rstrip("/") + RELAY_PATH
    if parts.path.rstrip("/").endswith(REST_PATH):
        return value[: value.rindex(REST_PATH)] + RELAY_PATH
    return value


def _number(env: Mapping[str, str], name: str, default: float, cast: type) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the relay needs; secrets are left out of repr() so they never reach a log."""

    token: str = field(repr=False)
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    relay_secret: str = field(default="", repr=False)  # RELAY_SECRET: the relay's credential at Rasa's door
    listen: str = "127.0.0.1"
    port: int = 8443
    rasa_url: str = DEFAULT_RASA_URL
    rasa_timeout: float = 10.0
    api_base_url: str = "https://api.telegram.org"
    log_level: str = "INFO"

    @property
    def webhook_path(self) -> str:
        """The path our webhook server answers on: the path of TELEGRAM_WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path or "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        """Read and check TELEGRAM_*, RELAY_SECRET and RASA_REST_URL; raise ConfigError with a fix for any problem."""
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then "
                "export TELEGRAM_BOT_TOKEN=<the token it gives you> (see docs/telegram.md)."
            )
        if not TOKEN_RE.match(token):
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a token from @BotFather (<digits>:<letters>).")
        mode = env.get("TELEGRAM_MODE", "polling").strip().lower() or "polling"
        if mode not in MODES:
            raise ConfigError(f"TELEGRAM_MODE must be 'polling' or 'webhook', not {mode!r}")
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if mode == "webhook":
            if not webhook_url or urlsplit(webhook_url).scheme not in ("http", "https"):
                raise ConfigError(
                    "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the public https URL Telegram will call "
                    "(e.g. https://bot.example.gov.vn/telegram)."
                )
            if not secret:
                raise ConfigError(f"TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET; make one with: {MAKE_SECRET}")
            if not SECRET_RE.match(secret):
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and - "
                    f"(Telegram's rule, plus a minimum length); make one with: {MAKE_SECRET}"
                )
        relay_secret = env.get("RELAY_SECRET", "").strip()
        if len(relay_secret) < MIN_RELAY_SECRET:
            raise ConfigError(
                f"RELAY_SECRET must be set (at least {MIN_RELAY_SECRET} characters), the same value in Rasa's "
                f"environment: it opens Rasa's relay door /webhooks/relay/. Make one with: {MAKE_SECRET}"
            )
        port = int(_number(env, "TELEGRAM_PORT", 8443, int))
        if port > 65535:
            raise ConfigError("TELEGRAM_PORT must be at most 65535")
        level = env.get("TELEGRAM_LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError("TELEGRAM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        api = env.get("TELEGRAM_API_BASE_URL", "").strip().rstrip("/") or "https://api.telegram.org"
        if urlsplit(api).scheme not in ("http", "https"):
            raise ConfigError("TELEGRAM_API_BASE_URL must be an http(s) URL")
        return cls(
            token=token,
            mode=mode,
            webhook_url=webhook_url,
            webhook_secret=secret,
            relay_secret=relay_secret,
            listen=env.get("TELEGRAM_LISTEN", "").strip() or "127.0.0.1",
            port=port,
            rasa_url=_rasa_url(env.get("RASA_REST_URL", "").strip() or DEFAULT_RASA_URL),
            rasa_timeout=_number(env, "TELEGRAM_RASA_TIMEOUT", 10.0, float),
            api_base_url=api,
            log_level=level,
        )
