"""Running the Rasa side (its own Python 3.10 environment) from tests."""

from __future__ import annotations

import os
import subprocess

from bot.core.settings import ROOT
from tools.launch import RASA, latest_model  # noqa: F401  (re-exported for tests)

NLU_GENERATED = ROOT / ".cache" / "nlu"


def rasa(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a rasa CLI command in the checkout; output captured."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(RASA), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
