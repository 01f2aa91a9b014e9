"""The Zalo channel mounted the way Rasa mounts it, with a scripted stand-in for Rasa's agent (for tests).

Run with the Rasa environment's Python: `.venv-rasa/bin/python -m tests.fakes.zalo_channel_app PORT`. Settings come
from the ZALO_* environment variables, as in production. Starts in a second or two, so channel behaviour that a
trained model cannot produce on demand (a 6,000-character answer, a failing or slow turn) is tested here; the real
model is exercised by tests/test_zalo_e2e.py.

Scripted replies: "long Nk" -> an N-thousand-character answer in paragraphs, with a button ("k": the channel masks
four-digit numbers); "buttons" -> seven long-titled buttons; "slow S" -> replies after S seconds; "boom..." -> the turn
raises; "silent" -> no reply; "/greet" -> a greeting with buttons; "three" -> three replies; anything else ->
"echo: <text>". GET /stub/received lists the (sender, text) pairs the agent saw, /stub/metadata the metadata of each
message. The REST channel is mounted too, at /webhooks/rest/. The Zalo outbox lives in BOT_STORE_URL (a temporary
SQLite file when unset, never the checkout's store).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from typing import Any


def long_answer(n: int) -> str:
    """About `n` characters of numbered paragraphs."""
    paragraphs, size, i = [], 0, 0
    while size < n:
        i += 1
        p = f"Bước {i}: " + "mở ứng dụng VNeID, chọn mục cần làm và làm theo hướng dẫn trên màn hình. " * 3
        paragraphs.append(p.strip())
        size += len(p) + 2
    return "\n\n".join(paragraphs)


class StubAgent:
    """Plays Rasa's `agent.handle_message` with scripted replies."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.metadata: list[object] = []

    async def handle_message(self, message: Any) -> None:
        text, out, sender = message.text or "", message.output_channel, message.sender_id
        self.received.append((sender, text))
        self.metadata.append(message.metadata)
        if text.startswith("long "):
            await out.send_text_with_buttons(sender, long_answer(int(text.split()[1].removesuffix("k")) * 1000),
                                             [{"title": "Gặp người hỗ trợ", "payload": "/request_human"}])
        elif text == "buttons":
            await out.send_text_with_buttons(sender, "Chọn một mục", [
                {"title": f"Mục {i}: kích hoạt tài khoản định danh điện tử",
                 "payload": f'/ask_question{{"entry_id": "e{i}"}}'}
                for i in range(7)])
        elif text.startswith("slow "):
            await asyncio.sleep(float(text.split()[1]))
            await out.send_text_message(sender, f"slow done: {text}")
        elif text.startswith("boom"):
            raise RuntimeError("the turn failed")
        elif text == "silent":
            return
        elif text == "three":
            for part in ("một", "hai", "ba"):
                await out.send_text_message(sender, f"phần {part}")
        elif text == "/greet":
            await out.send_text_with_buttons(sender, "Xin chào! (stub greeting)",
                                             [{"title": "VNeID", "payload": '/ask_question{"entry_id":"vneid-la-gi"}'}])
        else:
            await out.send_text_message(sender, f"echo: {text}\n\nsecond paragraph")


def main(port: int) -> None:
    """Serve the channel (configured from ZALO_*) and an unconfigured twin; Rasa imports only here."""
    from rasa.core.channels.channel import register
    from sanic import Sanic, response

    from bot.core.settings import ZaloSettings
    from bot.rasa_side.channels.rest import ValidatedRestInput
    from bot.rasa_side.channels.zalo import ZaloInput

    if not os.environ.get("BOT_STORE_URL"):
        os.environ["BOT_STORE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='zalo-stub-')}/store.db"
    from tests.fakes.store import upgrade_store

    upgrade_store()

    class UnconfiguredZalo(ZaloInput):
        """The same channel with no app id or secret, mounted at /webhooks/zalo_unconfigured."""

        @classmethod
        def name(cls) -> str:
            return "zalo_unconfigured"

    logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")
    app = Sanic("zalo_channel_stub")
    agent = StubAgent()
    app.ctx.agent = agent
    channels = [ZaloInput.from_credentials(None), UnconfiguredZalo(ZaloSettings()), ValidatedRestInput()]
    register(channels, app, route="/webhooks/")  # REST too: tests/test_channel_masking.py

    @app.get("/stub/received")
    async def received(request):
        return response.json(agent.received)

    @app.get("/stub/metadata")
    async def metadata(request):
        return response.json(agent.metadata)

    app.run(host="127.0.0.1", port=port, access_log=False, workers=1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
