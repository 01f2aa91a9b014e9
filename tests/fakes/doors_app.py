"""The public doors (REST, the Telegram relay's door, the web chat page and its inbox) mounted the way Rasa mounts
them, with a recording stand-in for Rasa's agent: starts in a second or two, no model (for tests).

Run with the Rasa environment's Python: `.venv-rasa/bin/python -m tests.fakes.doors_app PORT`. The relay door reads
RELAY_SECRET like production; a twin without a secret is mounted at /webhooks/relay_unconfigured/. The inbox reads
BOT_STORE_URL. Replies: "boom…" raises, "silent" answers nothing, "stall" says "stalling" then never ends (a frozen
action server), anything else -> "echo: <text>".
GET /stub/received lists what the agent saw: {"sender", "text", "input_channel", "metadata"}; GET /stub/action_timeout
the seconds Rasa now waits for an action server (bot/rasa_side/channels/deadline.py); GET /stub/answer_check how
Rasa now checks an action server's answer (bot/rasa_side/channels/answer_check.py).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any


class RecordingAgent:
    """Plays Rasa's `agent.handle_message` and remembers every UserMessage it was handed."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle_message(self, message: Any) -> None:
        text, out, sender = message.text or "", message.output_channel, message.sender_id
        self.received.append(
            {"sender": sender, "text": text, "input_channel": message.input_channel, "metadata": message.metadata}
        )
        if text.startswith("boom"):
            raise RuntimeError("the turn failed")
        if text == "stall":
            await out.send_text_message(sender, "stalling")
            await asyncio.sleep(3600)
        if text != "silent":
            await out.send_text_message(sender, f"echo: {text}")


def main(port: int) -> None:
    """Serve the doors; Rasa imports only here."""
    from rasa.core.channels.channel import register
    from sanic import Sanic, response

    from bot.rasa_side.channels.relay import RelayInput
    from bot.rasa_side.channels.rest import ValidatedRestInput
    from bot.rasa_side.channels.webchat import WebChatInput

    class UnconfiguredRelay(RelayInput):
        """The relay door with no RELAY_SECRET, mounted at /webhooks/relay_unconfigured/."""

        @classmethod
        def name(cls) -> str:
            return "relay_unconfigured"

    from tests.fakes.store import upgrade_store

    upgrade_store()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    app = Sanic("doors_stub")
    agent = RecordingAgent()
    app.ctx.agent = agent
    register([ValidatedRestInput(), RelayInput(), UnconfiguredRelay(secret=""), WebChatInput()], app, "/webhooks/")

    @app.get("/stub/received")
    async def received(request):
        return response.json(agent.received)

    @app.get("/stub/action_timeout")
    async def action_timeout(request):
        from rasa.core.actions import action

        return response.json({"seconds": action.DEFAULT_REQUEST_TIMEOUT})

    @app.get("/stub/answer_check")
    async def answer_check(request):
        """Rasa's check of an action server's answer as the doors left it: a valid answer and an invalid one."""
        from jsonschema import ValidationError
        from rasa.core.actions.action import RemoteAction

        action = RemoteAction("action_answer_question", None)
        valid = {"events": [{"event": "slot", "timestamp": None, "name": "last_entry", "value": "vneid-la-gi"}],
                 "responses": [{"text": "Trả lời", "buttons": [{"title": "Có", "payload": "/affirm"}]}]}
        checked = {"one_validator": getattr(RemoteAction._validate_action_result, "_checked_by_one_validator", False),
                   "valid": action._validate_action_result(valid)}
        try:
            action._validate_action_result({"events": "not a list"})
            checked["invalid"] = "accepted"
        except ValidationError as err:
            checked["invalid"] = err.message
        return response.json(checked)

    app.run(host="127.0.0.1", port=port, access_log=False, workers=1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
