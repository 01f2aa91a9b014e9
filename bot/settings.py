"""One settings object, read from the environment (secrets never live in the repo)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    """Where things live; every field can be overridden by the environment variable of its name."""

    knowledge_dir: Path
    cache_dir: Path
    model_dir: Path
    index_dir: Path
    contacts_file: Path
    calibration_file: Path
    unanswered_log: Path
    feedback_log: Path

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from BOT_* environment variables, defaulting to the checkout."""
        cache = _path("BOT_CACHE_DIR", ROOT / ".cache")
        return cls(
            knowledge_dir=_path("BOT_KNOWLEDGE_DIR", ROOT / "knowledge"),
            cache_dir=cache,
            model_dir=_path("BOT_MODEL_DIR", cache / "models" / "multilingual-e5-small"),
            index_dir=_path("BOT_INDEX_DIR", cache / "index"),
            contacts_file=_path("BOT_CONTACTS_FILE", ROOT / "contacts.yml"),
            calibration_file=_path("BOT_CALIBRATION_FILE", ROOT / "bot" / "search" / "calibration.json"),
            unanswered_log=_path("BOT_UNANSWERED_LOG", cache / "unanswered.jsonl"),
            feedback_log=_path("BOT_FEEDBACK_LOG", cache / "feedback.jsonl"),
        )
