"""What the channels change in the Rasa server they are built in, in one call (`prepare_rasa_server`).

Rasa offers no setting for any of these (rasa 3.6.21, pinned by requirements-rasa.lock); each module says why and
what it measured:
- deadline.py: an action call gives up after BOT_ACTION_TIMEOUT_S instead of 300 s (a frozen action server);
- answer_check.py: an action server's answer is checked by one validator built once (a third of Rasa's CPU).
The SQLite tracker store's commits (about 17 ms of disk sync each) were tried in WAL mode and left: Rasa's engine opens
a connection per turn and closing it checkpoints the log, so a save took as long (25-29 ms either way).
"""

from __future__ import annotations

from bot.rasa_side.channels.answer_check import check_answers_with_one_validator
from bot.rasa_side.channels.deadline import limit_action_calls


def prepare_rasa_server() -> None:
    """Idempotent; called as each channel is built (they are built in the Rasa server's process, before it serves)."""
    limit_action_calls()
    check_answers_with_one_validator()
