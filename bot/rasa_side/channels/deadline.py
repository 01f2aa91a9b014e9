"""How long a resident waits at most: every channel answers a turn within TURN_DEADLINE_S.

Rasa 3.6 waits up to 5 minutes for a custom action: `RemoteAction.run` (rasa/core/actions/action.py) passes its
module's DEFAULT_REQUEST_TIMEOUT (300 s) to every call of the action server, and neither endpoints.yml's
`action_endpoint` (its extra keys are kept but never used) nor `rasa run`'s options change it (`--request-timeout`
is for `rasa shell` only; `--response-timeout` makes Sanic cancel the turn and answer a bare 503). So an action
server that is alive but does not answer (stopped, stuck on a lock) left the resident in silence. Two bounds:

1. `limit_action_calls`: each call to the action server gives up after ACTION_TIMEOUT_S. Rasa then handles the
   action as failed, exactly as when the action server is down (the processor logs it, the action's events are lost,
   the turn goes on and the user's message stays in the tracker), and the door's apology follows.
2. `run_turn`: the whole turn (which may call several actions: a form's validation, then its action) is answered by
   TURN_DEADLINE_S. A turn still running then goes on in the background, so the tracker store still gets every event,
   but its late replies go nowhere; the resident gets the apology (BUSY_APOLOGY) and may ask again.

Both come from the environment (BOT_ACTION_TIMEOUT_S, BOT_TURN_DEADLINE_S); the defaults leave the Telegram relay's
own 10 s (TELEGRAM_RASA_TIMEOUT) time to pass the apology on. Pictures are read by the action server before the turn
(up to 40 s of OCR, bot/messengers/screen_reader.py): that wait is not counted here.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)

ACTION_TIMEOUT_ENV, TURN_DEADLINE_ENV = "BOT_ACTION_TIMEOUT_S", "BOT_TURN_DEADLINE_S"
DEFAULT_ACTION_TIMEOUT_S = 6.0  # an answer takes well under 1 s; 6 s is a server that is stuck, not one that is busy
DEFAULT_TURN_DEADLINE_S = 8.0

_late: set[asyncio.Future] = set()  # turns answered with the apology and still running: referenced until they end


def seconds_from_env(name: str, default: float) -> float:
    """A positive number of seconds from the environment; the default (with a warning) for anything else."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 3600:
        log.warning("%s=%r is not a number of seconds between 0 and 3600; using %g", name, raw, default)
        return default
    return value


def action_timeout_s() -> float:
    return seconds_from_env(ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT_S)


def turn_deadline_s() -> float:
    return seconds_from_env(TURN_DEADLINE_ENV, DEFAULT_TURN_DEADLINE_S)


def limit_action_calls(seconds: float | None = None) -> float:
    """Make Rasa give up on a call to the action server after `seconds` (default: action_timeout_s()); the value set.

    Rasa reads the module constant at each call, so setting it once in the server's process (the channels do, as
    they are built) is enough. Rasa is pinned (requirements-rasa.lock); a version without the constant is logged."""
    from rasa.core.actions import action as rasa_action

    value = action_timeout_s() if seconds is None else seconds
    if not hasattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT"):
        log.error("this Rasa has no rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT: calls to the action server "
                  "are not limited to %g s", value)
        return value
    rasa_action.DEFAULT_REQUEST_TIMEOUT = value
    return value


async def run_turn(turn: Awaitable[Any], deadline_s: float | None = None) -> bool:
    """Await a Rasa turn for at most `deadline_s` (default: turn_deadline_s()); True when it ended in time.

    Its exception, if it ended with one, is raised. A turn that is late is not cancelled (cancelling would lose the
    tracker's events of that turn): it runs on, and a failure is logged when it ends."""
    task = asyncio.ensure_future(turn)
    done, _ = await asyncio.wait({task}, timeout=turn_deadline_s() if deadline_s is None else deadline_s)
    if task in done:
        task.result()
        return True
    _late.add(task)
    task.add_done_callback(_late_turn_ended)
    return False


def _late_turn_ended(task: asyncio.Future) -> None:
    _late.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a turn answered late with the apology then failed: %s", type(task.exception()).__name__)
