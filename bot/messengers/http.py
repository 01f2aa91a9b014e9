"""zalo_client's `Transport` on httpx: the action server and the admin page have no aiohttp (the Rasa side uses
`zalo_client.AiohttpTransport`). One short-lived connection per request: notices are rare."""

from __future__ import annotations

import httpx

from bot.messengers.zalo_client import TIMEOUT_S, HttpReply


class HttpxTransport:
    """POST with httpx; the body is decoded as JSON when it is JSON (None otherwise)."""

    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    async def post(self, url: str, headers: dict[str, str], json_body: dict | None = None,
                   form: dict[str, str] | None = None) -> HttpReply:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            response = await client.post(url, headers=headers, json=json_body, data=form)
        try:
            body = response.json()
        except ValueError:
            body = None
        return HttpReply(response.status_code, body)

    async def close(self) -> None:
        """Nothing kept open between calls."""
