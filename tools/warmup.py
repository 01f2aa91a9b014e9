"""`python -m tools.warmup [ACTION_SERVER_URL]`: make the action server load its model and index now.

The action server's worker process loads them on first use (~15 s); asking one real question right
after start-up spares the first resident that wait. Runs through the normal webhook, so it warms the
process that serves requests (not the parent that only spawned it). When ACTION_SERVER_TOKEN is set, the action
server wants it (bot/action_server.py): it is sent as `?token=`, as Rasa sends it.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request

WARM_UP_QUESTION = "quên mật khẩu VNeID"


def warm_up(url: str = "http://127.0.0.1:5055/webhook", timeout: float = 180, token: str | None = None) -> bool:
    """Ask the action server one question (with `token`, default ACTION_SERVER_TOKEN); True when it answered."""
    token = os.environ.get("ACTION_SERVER_TOKEN", "").strip() if token is None else token
    if token:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": token})
    tracker = {
        "sender_id": "warm-up",
        "slots": {},
        "latest_message": {"text": WARM_UP_QUESTION, "intent": {"name": "ask_question"}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    body = {"next_action": "action_answer_question", "sender_id": "warm-up", "tracker": tracker, "domain": {}}
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(json.loads(response.read()).get("responses"))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    given = sys.argv[1:2]  # the URL, when given
    sys.exit(0 if (warm_up(given[0]) if given else warm_up()) else 1)
