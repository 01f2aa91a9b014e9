"""Reading a streamed HTTP request body with a size bound, for every door that takes one (Zalo's webhook, the web
chat page's screenshot, the action server's screenshot route).

Duck-typed over Sanic's request (its headers and, on a `stream=True` route, its stream), so this module imports
neither Sanic nor anything else and both interpreters use it.
"""

from __future__ import annotations

from typing import Any


async def read_bounded(request: Any, limit: int) -> bytes | None:
    """The body, or None as soon as it is over `limit` bytes (declared in Content-Length, or received)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    stream = request.stream  # set on a stream=True route
    chunks: list[bytes] = []
    size = 0
    while stream is not None and (chunk := await stream.read()) is not None:
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
