"""A local fake of Zalo for tests: the OA API (send message, refresh token) and a webhook sender that signs like Zalo.

Written from the platform facts (/work/shared/reference/channels.md), independently of the bot's own code: it signs
with its own sha256 so a wrong formula in the bot cannot pass by agreeing with itself.

- `FakeZalo.handle(method, path, headers, body)` is the API as a pure function; `FakeZaloServer` serves it over HTTP
  (standard library, a thread), and `FakeTransport` hands it to `ZaloClient` in-process.
- Send (`POST /v3.0/oa/message/cs`): checks the bare `access_token` header against the current token (-216
  otherwise), the body's shape and Zalo's limits (-201), records every accepted message; `fail_next(code)` makes
  the next sends fail with that code, `expire_access_token()` makes the current token stop working.
- Refresh (`POST /v4/oa/access_token`): form-encoded, header `secret_key`; rotates both tokens and refuses a spent
  or unknown refresh token.
- Failures come back as HTTP 200 with `error != 0`, as Zalo does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests

from bot.messengers.zalo_client import HttpReply

SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
MAX_TEXT = 2000
MAX_BUTTONS = 5
BUTTON_TYPES = {"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone", "oa.open.sms"}

# Error codes: -216 invalid/expired access token, -201 bad parameter; the OAuth ones are this fake's own choice
# (Zalo's real OAuth errors are also negative integers with an `error_name`).
INVALID_TOKEN = -216
BAD_PARAMETER = -201
OAUTH_BAD_SECRET = -14002
OAUTH_BAD_APP = -14001
OAUTH_BAD_REFRESH = -14014
OAUTH_SPENT_REFRESH = -14019


@dataclass(frozen=True)
class Sent:
    """One message the fake accepted."""

    user_id: str
    text: str
    buttons: list[dict]
    access_token: str
    at: float


@dataclass
class FakeZalo:
    """The OA API's state: tokens, scripted failures, and every message sent."""

    app_id: str = "test-app-id"
    app_secret: str = "test-app-secret"
    access_token: str | None = "access-0"
    refresh_token: str = "refresh-0"
    sent: list[Sent] = field(default_factory=list)
    send_attempts: list[dict] = field(default_factory=list)  # every send request: headers' token and error
    refreshes: list[dict] = field(default_factory=list)  # every refresh request: token used and outcome
    _spent: set[str] = field(default_factory=set)
    _fail: list[int] = field(default_factory=list)
    _rotation: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    media: dict[str, bytes] = field(default_factory=dict)  # GET /media/<name> of the server: Zalo's picture CDN
    media_fetches: list[str] = field(default_factory=list)

    # --- scripting -----------------------------------------------------------------------------------------

    def expire_access_token(self) -> None:
        """The current access token stops working (as after ~25 h); a refresh issues a new one."""
        with self._cond:
            self.access_token = None

    def fail_next(self, code: int, times: int = 1) -> None:
        """The next `times` sends with a valid token fail with Zalo error `code`."""
        with self._cond:
            self._fail.extend([code] * times)

    def messages_to(self, user_id: str) -> list[Sent]:
        """What the OA has sent this user so far."""
        with self._cond:
            return [m for m in self.sent if m.user_id == user_id]

    def wait_for(self, user_id: str, count: int = 1, timeout: float = 30.0, settle: float = 0.8) -> list[Sent]:
        """Wait until at least `count` messages reached `user_id` and no more arrived for `settle` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                mine = [m for m in self.sent if m.user_id == user_id]
                last = mine[-1].at if mine else 0.0
                now = time.monotonic()
                if len(mine) >= count and now - last >= settle:
                    return mine
                if now >= deadline:
                    return mine
                wake = min(deadline, last + settle) if len(mine) >= count else deadline
                self._cond.wait(max(0.01, wake - now))

    # --- the API -------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        """Answer one HTTP request (header names are case-insensitive)."""
        headers = {k.lower(): v for k, v in headers.items()}
        path = path.split("?", 1)[0]
        if method != "POST":
            return 405, {"error": -1, "message": "method not allowed"}
        if path == SEND_PATH:
            return 200, self._send(headers, body)
        if path == REFRESH_PATH:
            return 200, self._refresh(headers, body)
        return 404, {"error": -1, "message": "not found"}

    def _send(self, headers: dict[str, str], body: bytes) -> dict:
        token = headers.get("access_token", "")
        with self._cond:
            if not token or token != self.access_token:
                self.send_attempts.append({"token": token, "error": INVALID_TOKEN})
                return {"error": INVALID_TOKEN, "message": "Access token is invalid"}
            if self._fail:
                code = self._fail.pop(0)
                self.send_attempts.append({"token": token, "error": code})
                return {"error": code, "message": "Scripted failure"}
        try:
            data = json.loads(body.decode("utf-8"))
            user_id, text, buttons = _check_message(data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            with self._cond:
                self.send_attempts.append({"token": token, "error": BAD_PARAMETER})
            return {"error": BAD_PARAMETER, "message": f"Parameters are invalid: {exc}"}
        with self._cond:
            self.send_attempts.append({"token": token, "error": 0})
            self.sent.append(Sent(user_id, text, buttons, token, time.monotonic()))
            self._cond.notify_all()
        return {"error": 0, "message": "Success", "data": {"message_id": uuid.uuid4().hex, "user_id": user_id}}

    def _refresh(self, headers: dict[str, str], body: bytes) -> dict:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {"error": OAUTH_BAD_REFRESH, "error_name": "Body must be form-encoded"}
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        with self._cond:
            record = {"refresh_token": form.get("refresh_token", "")}
            self.refreshes.append(record)
            if headers.get("secret_key") != self.app_secret:
                record["error"] = OAUTH_BAD_SECRET
                return {"error": OAUTH_BAD_SECRET, "error_name": "Invalid secret key"}
            if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
                record["error"] = OAUTH_BAD_APP
                return {"error": OAUTH_BAD_APP, "error_name": "Invalid app id or grant type"}
            used = form.get("refresh_token", "")
            if used in self._spent:
                record["error"] = OAUTH_SPENT_REFRESH
                return {"error": OAUTH_SPENT_REFRESH, "error_name": "Refresh token was used"}
            if used != self.refresh_token:
                record["error"] = OAUTH_BAD_REFRESH
                return {"error": OAUTH_BAD_REFRESH, "error_name": "Invalid refresh token"}
            self._spent.add(used)
            self._rotation += 1
            self.access_token = f"access-{self._rotation}"
            self.refresh_token = f"refresh-{self._rotation}"
            record["error"] = 0
            return {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}


def _check_message(data: Any) -> tuple[str, str, list[dict]]:
    """The recipient, text and buttons of a send request; ValueError for anything Zalo would refuse."""
    user_id = data["recipient"]["user_id"]
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("recipient.user_id")
    message = data["message"]
    text = message["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("message.text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"message.text is longer than {MAX_TEXT}")
    buttons: list[dict] = []
    if "attachment" in message:
        attachment = message["attachment"]
        if attachment["type"] != "template":
            raise ValueError("attachment.type")
        buttons = attachment["payload"]["buttons"]
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise ValueError(f"1 to {MAX_BUTTONS} buttons")
        for b in buttons:
            if b["type"] not in BUTTON_TYPES or not isinstance(b["title"], str) or not b["title"]:
                raise ValueError("button")
            if b["type"].startswith("oa.query.") and not isinstance(b["payload"], str):
                raise ValueError("query button payload must be a text")
            if b["type"] == "oa.open.url" and not (
                isinstance(b["payload"], dict) and str(b["payload"].get("url", "")).startswith(("http://", "https://"))
            ):
                raise ValueError("open-url button payload must be {'url': 'http(s)://...'}")
    return user_id, text, buttons


class FakeTransport:
    """`ZaloClient`'s transport, answering from a FakeZalo in-process (for unit tests)."""

    def __init__(self, fake: FakeZalo, base: str = "http://fake") -> None:
        self.fake, self.base = fake, base
        self.requests: list[tuple[str, dict, Any]] = []

    async def post(self, url: str, headers: dict, json_body: dict | None = None, form: dict | None = None):
        if form is not None:
            body = urlencode(form).encode()
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        else:
            body = json.dumps(json_body).encode()
        self.requests.append((url, headers, json_body if form is None else form))
        status, answer = self.fake.handle("POST", url.removeprefix(self.base), headers, body)
        return HttpReply(status, answer)

    async def close(self) -> None:
        pass


class FakeZaloServer:
    """Serves a FakeZalo over HTTP on a local port (a free one by default), in a thread."""

    def __init__(self, fake: FakeZalo, port: int = 0) -> None:
        self.fake = fake
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = outer.fake.handle("POST", self.path, dict(self.headers.items()), body)
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # the pictures users sent, as Zalo's CDN serves them
                name = self.path.split("?", 1)[0].removeprefix("/media/")
                outer.fake.media_fetches.append(name)
                data = outer.fake.media.get(name)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeZaloServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def zalo_signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    """How Zalo signs a webhook: mac= + sha256(app_id + raw body + timestamp + OA secret key)."""
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()).hexdigest()


class ZaloWebhook:
    """Posts webhook events to the bot the way Zalo does (or, on request, the ways an attacker or a bug would)."""

    def __init__(self, url: str, app_id: str, oa_secret_key: str, oa_id: str = "579745863508352884") -> None:
        self.url, self.app_id, self.oa_secret_key, self.oa_id = url, app_id, oa_secret_key, oa_id

    def event(self, event_name: str, user_id: str, message: dict | None = None) -> dict:
        """A user event as Zalo shapes it (ids and timestamp are strings)."""
        body: dict[str, Any] = {
            "app_id": self.app_id,
            "sender": {"id": user_id},
            "user_id_by_app": "55" + user_id[-10:].rjust(10, "0"),
            "recipient": {"id": self.oa_id},
            "event_name": event_name,
            "timestamp": str(int(time.time() * 1000)),
        }
        if message is not None:
            body["message"] = {**message, "msg_id": message.get("msg_id") or uuid.uuid4().hex}
        return body

    def text(self, user_id: str, text: str, msg_id: str | None = None) -> dict:
        return self.event("user_send_text", user_id, {"text": text, "msg_id": msg_id})

    def image(self, user_id: str, url: str = "https://photo-stal.zdn.vn/x.jpg") -> dict:
        return self.event("user_send_image", user_id, {
            "text": "", "attachments": [{"type": "image", "payload": {
                "url": url, "thumbnail": "https://photo-stal.zdn.vn/t.jpg"}}]})

    def sticker(self, user_id: str) -> dict:
        return self.event("user_send_sticker", user_id, {"attachments": [{"type": "sticker", "payload": {
            "id": "bfe458bf64fa8da4d4eb", "url": "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=1"}}]})

    def location(self, user_id: str) -> dict:
        return self.event("user_send_location", user_id, {"attachments": [{"type": "location", "payload": {
            "coordinates": {"latitude": "10.762622", "longitude": "106.660172"}}}]})

    def follow(self, user_id: str) -> dict:
        return {
            "oa_id": self.oa_id, "follower": {"id": user_id}, "user_id_by_app": "5500000001",
            "event_name": "follow", "source": "oa_profile", "app_id": self.app_id,
            "timestamp": str(int(time.time() * 1000)),
        }

    def receipt(self, user_id: str, seen: bool = False) -> dict:
        """A delivery or seen receipt: sender and recipient swapped."""
        body = self.event("user_seen_message" if seen else "user_received_message", self.oa_id,
                          {"msg_ids": [uuid.uuid4().hex]} if seen else {"msg_id": uuid.uuid4().hex})
        body["recipient"] = {"id": user_id}
        return body

    @staticmethod
    def encode(body: dict) -> bytes:
        """Zalo's bytes: UTF-8 JSON, Vietnamese letters unescaped."""
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def sign(self, raw: bytes, body: dict | None = None, secret: str | None = None) -> str:
        body = body if body is not None else json.loads(raw)
        return zalo_signature(str(body["app_id"]), raw, str(body["timestamp"]), secret or self.oa_secret_key)

    def post(
        self, body: dict | None = None, *, raw: bytes | None = None, signature: str | None = "sign",
        secret: str | None = None,
    ) -> requests.Response:
        """POST an event. `signature="sign"` signs it properly (with `secret` if given), None sends no header,
        any other text is sent as the header."""
        raw = raw if raw is not None else self.encode(body or {})
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-ZEvent-Signature"] = self.sign(raw, body, secret)
        elif signature is not None:
            headers["X-ZEvent-Signature"] = signature
        return requests.post(self.url, data=raw, headers=headers, timeout=10)


def main() -> None:
    """Try the channel by hand without a Zalo account (see docs/zalo.md).

    serve: run the fake OA API and print what the bot sends; send: post one signed text event to the bot.
    """
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python -m tests.fakes.zalo_api")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the fake OA API (send message + token refresh)")
    serve.add_argument("--port", type=int, default=8765)
    send = sub.add_parser("send", help="post a signed user_send_text event to the bot's webhook")
    send.add_argument("text")
    send.add_argument("--url", default="http://127.0.0.1:5005/webhooks/zalo/webhook")
    send.add_argument("--user", default="1000000000000001")
    args = parser.parse_args()
    app_id = os.environ.get("ZALO_APP_ID", "test-app-id")
    app_secret = os.environ.get("ZALO_APP_SECRET", "test-app-secret")
    if args.command == "send":
        hook = ZaloWebhook(args.url, app_id, os.environ.get("ZALO_OA_SECRET_KEY", "test-oa-secret"))
        r = hook.post(hook.text(args.user, args.text))
        print(r.status_code, r.text)
        return
    fake = FakeZalo(app_id=app_id, app_secret=app_secret, access_token=os.environ.get("ZALO_ACCESS_TOKEN", "access-0"),
                    refresh_token=os.environ.get("ZALO_REFRESH_TOKEN", "refresh-0"))
    server = FakeZaloServer(fake, args.port).start()
    print(f"fake Zalo API on {server.url} (Ctrl+C stops); messages the bot sends appear below")
    seen = 0
    try:
        while True:
            with fake._cond:
                fake._cond.wait(1.0)
                new, seen = fake.sent[seen:], len(fake.sent)
            for m in new:
                buttons = " | ".join(f"[{b['title']}] {b['payload']}" for b in m.buttons)
                print(f"--> {m.user_id}:\n{m.text}\n{buttons}\n" if buttons else f"--> {m.user_id}:\n{m.text}\n")
    except KeyboardInterrupt:
        server.httpd.shutdown()


if __name__ == "__main__":
    main()
