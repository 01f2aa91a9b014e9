"""A local fake of the Telegram Bot API, faithful enough to run python-telegram-bot against it.

It serves `/bot<token>/<method>` (GET or POST; query string, form-encoded, JSON or multipart
bodies, as Telegram accepts) and answers `{"ok": true, "result": ...}` or Telegram's error shape
`{"ok": false, "error_code": N, "description": "..."}` with the same HTTP status. Like Telegram it:
- knows its bots by token (401 Unauthorized for any other) and its chats from the updates it has
  delivered (400 "chat not found" for any other);
- long-polls getUpdates (`timeout`), confirms updates below `offset` (a negative offset keeps the
  last -offset updates), honours `limit` and `allowed_updates`, answers 409 while a webhook is set
  and ends an older concurrent poll with 409 "terminated by other getUpdates request";
- adds entities (bot_command, mention, url) to injected texts, with UTF-16 offsets;
- checks what a bot sends: message text 1-4096 UTF-16 units, inline buttons with 1-64 bytes of
  callback_data or a URL, voice messages as an uploaded OGG/Opus file (sendVoice),
  a known callback query answered once, a valid chat action, a well-formed
  webhook secret, command names;
- with a webhook set, POSTs each injected update to it with the `X-Telegram-Bot-Api-Secret-Token`
  header (deviation: Telegram insists on https and ports 443/80/88/8443; this fake accepts http).

Tests inject updates (`send_text`, `press_button`, `edit_text`, `send_sticker`, `send_photo`,
`send_voice`, `send_document`, `add_bot_to_group`, or any `inject`) and read what the bot called
(`calls`, `sent_messages`, `voices`, `wait_for`). Methods the fake does not know answer 404 "Not Found",
as Telegram does.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_TEXT = 4096
MAX_VOICE_BYTES = 50 << 20  # Telegram's upload limit for bots
MAX_CALLBACK = 64
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
UPDATE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "my_chat_member")
INT_FIELDS = {
    "offset",
    "limit",
    "timeout",
    "message_id",
    "max_connections",
    "cache_time",
    "user_id",
    "reply_to_message_id",
    "message_thread_id",
    "duration",
}
BOOL_FIELDS = {
    "drop_pending_updates",
    "show_alert",
    "disable_notification",
    "protect_content",
    "disable_web_page_preview",
    "allow_sending_without_reply",
}
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "entities",
    "link_preview_options",
    "reply_parameters",
    "commands",
    "scope",
}
ENTITY_RE = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32})"
    r"|(?P<url>https?://[^\s]+)"
)
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """A Telegram error answer."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[dict]:
    """Telegram's automatic entities for a plain text: commands, mentions, links (UTF-16 offsets)."""
    found = []
    for m in ENTITY_RE.finditer(text):
        kind = m.lastgroup
        found.append({"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())})
    return found


@dataclass(frozen=True)
class Upload:
    """A file a bot uploaded (multipart/form-data)."""

    filename: str
    content_type: str
    data: bytes


def is_ogg_opus(data: bytes) -> bool:
    """An OGG container whose first stream is Opus (RFC 7845: the first page carries the OpusHead packet)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:512]


@dataclass
class Call:
    """One API call a bot made."""

    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)


@dataclass
class BotState:
    """Everything the fake knows about one bot."""

    token: str
    user: dict
    updates: list[dict] = field(default_factory=list)  # not yet confirmed by getUpdates
    next_update_id: int = 100_000
    poll_generation: int = 0
    webhook: dict = field(default_factory=dict)  # url, secret_token, allowed_updates
    deliveries: list[tuple[int, int | str]] = field(default_factory=list)  # (update_id, HTTP status or error)
    calls: list[Call] = field(default_factory=list)
    callback_queries: dict[str, dict] = field(default_factory=dict)  # id -> {"answered": bool, ...}
    commands: list[dict] = field(default_factory=list)


class FakeTelegram:
    """The fake API server. Use as a context manager, or call start() and stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Condition()
        self._bots: dict[str, BotState] = {}
        self._chats: dict[int | str, dict] = {}  # id -> chat object
        self._messages: dict[tuple[int | str, int], dict] = {}  # (chat id, message id) -> message
        self._message_ids: dict[int | str, itertools.count] = {}
        self._callback_ids = itertools.count(1)
        self._files: dict[str, bytes] = {}  # file_id -> content, for getFile and the file URL
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as `base_url` (the token is appended)."""
        return f"{self.url}/bot"

    def start(self) -> FakeTelegram:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for bot in self._bots.values():
                bot.poll_generation += 1
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- bots, chats, users ----------------------------------------------------------------------

    def add_bot(self, token: str, username: str = "dvc_test_bot", first_name: str = "Trợ lý DVC") -> dict:
        """Register a bot; returns its User object (its id is the token's number, as on Telegram)."""
        user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        with self._lock:
            self._bots[token] = BotState(token, user)
        return user

    @staticmethod
    def user(user_id: int, first_name: str = "Lan") -> dict:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def _chat(self, chat_id: int, chat_type: str, title: str | None = None) -> dict:
        if chat_type == "private":
            chat = {"id": chat_id, "type": "private", "first_name": "Lan"}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": title or "Nhóm tổ dân phố"}
        self._chats[chat_id] = chat
        return chat

    def _new_message(self, chat: dict, sender: dict, **content: Any) -> dict:
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        message = {"message_id": next(counter), "from": sender, "chat": chat, "date": int(time.time()), **content}
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    # --- injecting updates -----------------------------------------------------------------------

    def inject(self, token: str, kind: str, payload: dict) -> dict:
        """Queue an update of `kind` (e.g. "message") for the bot, or deliver it to its webhook."""
        with self._lock:
            bot = self._bots[token]
            update = {"update_id": bot.next_update_id, kind: payload}
            bot.next_update_id += 1
            webhook = dict(bot.webhook)
            if not webhook.get("url"):
                bot.updates.append(update)
                self._lock.notify_all()
        if webhook.get("url"):
            threading.Thread(target=self._deliver, args=(bot, webhook, update), daemon=True).start()
        return update

    def _deliver(self, bot: BotState, webhook: dict, update: dict) -> None:
        """POST one update to the bot's webhook, as Telegram does (a few tries on failure)."""
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        body = json.dumps(update).encode("utf-8")
        status: int | str = "not sent"
        for attempt in range(3):
            try:
                req = urllib.request.Request(webhook["url"], data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=10) as resp:
                    status = resp.status
            except urllib.error.HTTPError as err:
                status = err.code
            except OSError as err:
                status = type(err).__name__
            if status == 200:
                break
            time.sleep(0.3 * (attempt + 1))
        with self._lock:
            bot.deliveries.append((update["update_id"], status))
            self._lock.notify_all()

    def send_text(
        self,
        token: str,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "private",
        from_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict:
        """A user writes `text` in a chat (private by default); entities are added as Telegram does."""
        with self._lock:
            chat = self._chat(chat_id, chat_type)
            content: dict[str, Any] = {"text": text}
            entities = entities_for(text)
            if entities:
                content["entities"] = entities
            if reply_to is not None:
                content["reply_to_message"] = self._messages[(chat_id, reply_to)]
            message = self._new_message(chat, self.user(from_id or abs(chat_id)), **content)
        return self.inject(token, "message", message)

    def edit_text(self, token: str, chat_id: int, message_id: int, text: str) -> dict:
        """The user edits one of their messages."""
        with self._lock:
            message = dict(self._messages[(chat_id, message_id)], text=text, edit_date=int(time.time()))
            message.pop("entities", None)
            if entities_for(text):
                message["entities"] = entities_for(text)
            self._messages[(chat_id, message_id)] = message
        return self.inject(token, "edited_message", message)

    def _send_media(self, token: str, chat_id: int, chat_type: str, reply_to: int | None, **content: Any) -> dict:
        with self._lock:
            chat = self._chat(chat_id, chat_type)
            if reply_to is not None:
                content["reply_to_message"] = self._messages[(chat_id, reply_to)]
            message = self._new_message(chat, self.user(abs(chat_id)), **content)
        return self.inject(token, "message", message)

    def send_sticker(self, token: str, chat_id: int, chat_type: str = "private", reply_to: int | None = None) -> dict:
        sticker = {
            "file_id": "CAACAgIAAxkBAAE",
            "file_unique_id": "AgADsticker",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "👍",
        }
        return self._send_media(token, chat_id, chat_type, reply_to, sticker=sticker)

    def add_file(self, file_id: str, data: bytes) -> None:
        """Content the bots can fetch with getFile and the file URL (Telegram keeps what users send)."""
        with self._lock:
            self._files[file_id] = data

    def send_photo(self, token: str, chat_id: int, caption: str | None = None, chat_type: str = "private",
                   data: bytes | None = None) -> dict:
        """A user sends a photo in three sizes; with `data`, every size's file holds it (the largest: as sent)."""
        tag = f"{len(self._files)}x" if data is not None else ""
        sizes = [
            {
                "file_id": f"AgACAgIAAxkBphoto{tag}{w}",
                "file_unique_id": f"AQADphoto{tag}{w}",
                "width": w,
                "height": w,
                "file_size": len(data) if data is not None else w * 40,
            }
            for w in (90, 320, 800)
        ]
        if data is not None:
            for size in sizes:
                self.add_file(size["file_id"], data)
        extra = {"caption": caption} if caption else {}
        return self._send_media(token, chat_id, chat_type, None, photo=sizes, **extra)

    def send_voice(self, token: str, chat_id: int) -> dict:
        voice = {"file_id": "AwACAgIAAxkBvoice", "file_unique_id": "AgADvoice", "duration": 4, "mime_type": "audio/ogg"}
        return self._send_media(token, chat_id, "private", None, voice=voice)

    def send_document(self, token: str, chat_id: int, data: bytes | None = None, file_name: str = "giay-to.pdf",
                      mime_type: str = "application/pdf") -> dict:
        """A user sends a file (a PDF by default; with `data`, its content can be fetched)."""
        document = {
            "file_id": f"BQACAgIAAxkBdoc{len(self._files)}" if data is not None else "BQACAgIAAxkBdoc",
            "file_unique_id": "AgADdoc",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data) if data is not None else 12345,
        }
        if data is not None:
            self.add_file(document["file_id"], data)
        return self._send_media(token, chat_id, "private", None, document=document)

    def add_bot_to_group(self, token: str, chat_id: int) -> dict:
        """Someone adds the bot to a group (a service message with new_chat_members)."""
        with self._lock:
            chat = self._chat(chat_id, "group")
            bot_user = self._bots[token].user
            message = self._new_message(
                chat,
                self.user(777),
                new_chat_members=[bot_user],
                new_chat_member=bot_user,
                new_chat_participant=bot_user,
            )
        return self.inject(token, "message", message)

    def press_button(
        self, token: str, chat_id: int, title: str | None = None, data: str | None = None, message_id: int | None = None
    ) -> dict:
        """The user presses an inline button (by title or data) on the bot's latest message that has such a
        button (or on `message_id`). Like Telegram, only data of a button actually shown can be sent."""
        with self._lock:
            bot = self._bots[token]

            def matches(b: dict) -> bool:
                return (
                    "callback_data" in b
                    and (title is None or b["text"] == title)
                    and (data is None or b.get("callback_data") == data)
                )

            candidates = [
                m
                for (cid, _), m in self._messages.items()
                if cid == chat_id
                and m.get("from", {}).get("id") == bot.user["id"]
                and (message_id is None or m["message_id"] == message_id)
                and any(matches(b) for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row)
            ]
            if not candidates:
                raise LookupError(f"no bot message in chat {chat_id} has a callback button {title or data!r}")
            message = max(candidates, key=lambda m: m["message_id"])
            button = next(b for row in message["reply_markup"]["inline_keyboard"] for b in row if matches(b))
            query_id = str(4_000_000_000 + next(self._callback_ids))
            bot.callback_queries[query_id] = {"answered": False, "chat_id": chat_id}
            query = {
                "id": query_id,
                "from": self.user(abs(chat_id)),
                "message": message,
                "chat_instance": f"-{abs(chat_id)}77",
                "data": button["callback_data"],
            }
        return self.inject(token, "callback_query", query)

    # --- reading what bots did -------------------------------------------------------------------

    def state(self, token: str) -> BotState:
        return self._bots[token]

    def calls(self, token: str, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """The bot's API calls so far (of one method, to one chat)."""
        with self._lock:
            return [
                c
                for c in self._bots[token].calls
                if (method is None or c.method == method) and (chat_id is None or c.params.get("chat_id") == chat_id)
            ]

    def sent_messages(self, token: str, chat_id: int) -> list[dict]:
        """The sendMessage calls the bot made to a chat, as their parameters."""
        return [c.params for c in self.calls(token, "sendMessage", chat_id)]

    def bot_messages(self, token: str, chat_id: int) -> list[dict]:
        """The Message objects the fake made for the bot's messages in a chat (with their message_id)."""
        with self._lock:
            bot_id = self._bots[token].user["id"]
            return sorted(
                (m for (cid, _), m in self._messages.items() if cid == chat_id and m["from"]["id"] == bot_id),
                key=lambda m: m["message_id"],
            )

    def wait_for(self, token: str, check: Callable[[FakeTelegram], Any], timeout: float = 20.0) -> Any:
        """Wait until `check(self)` is truthy and return its value; fail with the bot's calls if it never is."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = check(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    calls = [(c.method, c.params) for c in self._bots[token].calls][-12:]
                    raise AssertionError(f"timed out after {timeout}s; last calls: {calls}")
                self._lock.wait(min(left, 0.2))

    def wait_for_messages(
        self, token: str, chat_id: int, count: int, timeout: float = 20.0, after: int = 0
    ) -> list[dict]:
        """Wait until the chat has `count` bot messages beyond the first `after`, and return those."""

        def check(fake: FakeTelegram) -> list[dict] | None:
            sent = fake.sent_messages(token, chat_id)[after:]
            return sent if len(sent) >= count else None

        return self.wait_for(token, check, timeout)

    # --- the HTTP side ---------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                content_type = "application/json"
                file = fake._file_download(self.path)
                if file is not None:  # /file/bot<token>/<file_path>: the bytes themselves
                    status, data, content_type = 200, file, "application/octet-stream"
                else:
                    status, payload = fake._dispatch(self.path, self.headers.get("Content-Type", ""), body)
                    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the bot hung up (e.g. it stopped during a long poll)
                    self.close_connection = True

            do_GET = do_POST = _handle

        return Handler

    def _dispatch(self, path: str, content_type: str, body: bytes) -> tuple[int, dict]:
        parts = urlsplit(path)
        m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parts.path)
        if not m:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = m.group(1), m.group(2)
        with self._lock:
            bot = self._bots.get(token)
        if bot is None:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        try:
            params = parse_params(parts.query, content_type, body)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            with self._lock:
                bot.calls.append(Call(method, params))
                self._lock.notify_all()
            result = handler(bot, params)
        except ApiError as err:
            answer: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
            if err.parameters:
                answer["parameters"] = err.parameters
            return err.code, answer
        return 200, {"ok": True, "result": result}

    def _known_chat(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    # Each _api_<method> runs with the server's lock free; it takes it where it touches shared state.

    def _api_getme(self, bot: BotState, params: dict) -> dict:
        return bot.user

    def _api_getfile(self, bot: BotState, params: dict) -> dict:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            data = self._files.get(file_id)
        if data is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": "u" + file_id[-12:], "file_size": len(data),
                "file_path": f"photos/{file_id}.jpg"}

    def _file_download(self, path: str) -> bytes | None:
        """The content at a file URL (`/file/bot<token>/photos/<file_id>.jpg`) of a known bot, or None."""
        m = re.fullmatch(r"/file/bot([^/]+)/photos/([^/]+)\.jpg", unquote(urlsplit(path).path))  # PTB quotes the ":"
        if not m:
            return None
        with self._lock:
            return self._files.get(m.group(2)) if m.group(1) in self._bots else None

    def _api_logout(self, bot: BotState, params: dict) -> bool:
        return True

    def _api_close(self, bot: BotState, params: dict) -> bool:
        return True

    def _api_getupdates(self, bot: BotState, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, min(50.0, float(params.get("timeout") or 0)))
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._lock:
            if bot.webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            bot.poll_generation += 1
            generation = bot.poll_generation
            self._lock.notify_all()
            if offset < 0:
                bot.updates = bot.updates[offset:]
            elif offset:
                bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
            while True:
                if bot.poll_generation != generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                ready = [u for u in bot.updates if not allowed or any(k in u for k in allowed)]
                left = deadline - time.monotonic()
                if ready or left <= 0:
                    return ready[:limit]
                self._lock.wait(min(left, 0.5))

    def _api_setwebhook(self, bot: BotState, params: dict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        with self._lock:
            if params.get("drop_pending_updates"):
                bot.updates.clear()
            bot.webhook = (
                {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")} if url else {}
            )
            self._lock.notify_all()
        return True

    def _api_deletewebhook(self, bot: BotState, params: dict) -> bool:
        with self._lock:
            if params.get("drop_pending_updates"):
                bot.updates.clear()
            bot.webhook = {}
        return True

    def _api_getwebhookinfo(self, bot: BotState, params: dict) -> dict:
        with self._lock:
            info = {
                "url": bot.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(bot.updates),
            }
            failed = [s for _, s in bot.deliveries if s != 200]
            if failed:
                info["last_error_message"] = str(failed[-1])
            if bot.webhook.get("allowed_updates"):
                info["allowed_updates"] = bot.webhook["allowed_updates"]
        return info

    def _api_setmycommands(self, bot: BotState, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for c in commands:
            if not COMMAND_RE.match(str(c.get("command", ""))) or not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            bot.commands = commands
        return True

    def _api_getmycommands(self, bot: BotState, params: dict) -> list[dict]:
        return list(bot.commands)

    def _api_sendchataction(self, bot: BotState, params: dict) -> bool:
        with self._lock:
            self._known_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_answercallbackquery(self, bot: BotState, params: dict) -> bool:
        with self._lock:
            query = bot.callback_queries.get(str(params.get("callback_query_id") or ""))
            if query is None or query["answered"]:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            if len(str(params.get("text") or "")) > 200:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            query["answered"] = True
            query["answer"] = params
        return True

    def _api_sendmessage(self, bot: BotState, params: dict) -> dict:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text.strip()) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup)
        with self._lock:
            chat = self._known_chat(params)
            reply = params.get("reply_parameters") or {}
            reply_to = reply.get("message_id") or params.get("reply_to_message_id")
            content: dict[str, Any] = {"text": text.strip()}
            if reply_to:
                original = self._messages.get((chat["id"], int(reply_to)))
                if original is None and not reply.get("allow_sending_without_reply"):
                    raise ApiError(400, "Bad Request: message to be replied not found")
                if original is not None:
                    content["reply_to_message"] = original
            if markup and "inline_keyboard" in markup:
                content["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
            return self._new_message(chat, bot.user, **content)


    def _api_sendvoice(self, bot: BotState, params: dict) -> dict:
        """A voice message. Deviation: Telegram also takes MP3/M4A (and a file_id or URL) and may then show it
        as a music file; this fake accepts only an uploaded OGG/Opus file, the one form that is always a voice
        message."""
        voice = params.get("voice")
        if not isinstance(voice, Upload):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if not voice.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(voice.data) > MAX_VOICE_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if not is_ogg_opus(voice.data):
            raise ApiError(400, "Bad Request: VOICE_FILE_INVALID (this fake takes OGG/Opus only)")
        if len(str(params.get("caption") or "")) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup)
        with self._lock:
            chat = self._known_chat(params)
            n = len(bot.calls)
            content: dict[str, Any] = {
                "voice": {
                    "file_id": f"AwACAgIAAxkBvoice{n}",
                    "file_unique_id": f"AgADvoice{n}",
                    "duration": int(params.get("duration") or 0),
                    "mime_type": "audio/ogg",
                    "file_size": len(voice.data),
                }
            }
            if params.get("caption"):
                content["caption"] = str(params["caption"])
            return self._new_message(chat, bot.user, **content)

    def voices(self, token: str, chat_id: int) -> list[dict]:
        """The sendVoice calls the bot made to a chat, as their parameters (`voice` is the Upload)."""
        return [c.params for c in self.calls(token, "sendVoice", chat_id)]


def check_reply_markup(markup: Any) -> None:
    """Telegram's checks on an inline keyboard."""
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButtons must be an Array")
    if sum(len(r) for r in rows) > 100:
        raise ApiError(400, "Bad Request: reply markup is too long")
    for button in (b for r in rows for b in r):
        if not isinstance(button, dict) or not str(button.get("text") or "").strip():
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
            )
        if "callback_data" in button:
            if not 1 <= len(str(button["callback_data"]).encode("utf-8")) <= MAX_CALLBACK:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        elif "url" in button:
            if urlsplit(str(button["url"])).scheme not in ("http", "https", "tg"):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        else:
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: a button must have one action")


def parse_params(query: str, content_type: str, body: bytes) -> dict:
    """A request's parameters, whichever way they came, with Telegram's types restored."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: parameters must be a JSON object")
            return {**coerce(raw), **data, **({"chat_id": as_chat_id(data["chat_id"])} if "chat_id" in data else {})}
        if ctype == "application/x-www-form-urlencoded":
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif ctype == "multipart/form-data":
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name and not part.get_filename():
                    raw[name] = part.get_content()
                elif name:  # an uploaded file (sendVoice): kept whole, with what the client said it is
                    raw[name] = Upload(part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        else:
            raise ApiError(400, f"Bad Request: unsupported Content-Type {ctype!r}")
    return coerce(raw)


def as_chat_id(value: Any) -> int | str:
    text = str(value)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def coerce(raw: dict[str, Any]) -> dict[str, Any]:
    """Form values are strings: turn numbers, booleans and JSON-serialised objects back into values."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "chat_id":
            params[key] = as_chat_id(value)
        elif key in INT_FIELDS:
            try:
                params[key] = int(value)
            except ValueError:
                raise ApiError(400, f'Bad Request: field "{key}" must be of type Integer') from None
        elif key in BOOL_FIELDS:
            params[key] = str(value).lower() in ("true", "1")
        elif key in JSON_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        else:
            params[key] = value
    return params
