"""The store as a stand-in for Rasa finds it in production: upgraded by the actions environment first (scripts/run.sh),
because the Rasa side only checks the migration (bot/store/schema_version.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def upgrade_store() -> None:
    """Upgrade the store at BOT_STORE_URL with .venv-actions (the caller may run in .venv-rasa, without Alembic)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([str(ROOT / ".venv-actions" / "bin" / "python"), "-m", "bot.store.migrate", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
