"""Telegram channel: a relay between Telegram and Rasa's relay door (bot/rasa_side/channels/relay.py), on
python-telegram-bot.

Runs in the action-server environment (.venv-actions), as its own process:

    TELEGRAM_BOT_TOKEN=... RELAY_SECRET=... python -m bot.relay.telegram

RELAY_SECRET is the same value Rasa has: the relay sends it in X-Relay-Secret, and only the relay door may speak
for `tg-` conversations.

Polling (default) needs no public address; webhook mode (TELEGRAM_MODE=webhook) serves Telegram's
POSTs and rejects every request whose X-Telegram-Bot-Api-Secret-Token is missing or wrong (403).
Settings: `bot/relay/config.py`; the rules for texts, buttons and groups:
`bot/messengers/telegram_format.py`; the operator's guide: `docs/telegram.md`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import tornado.httpserver
import tornado.web
from telegram import (
    Bot as TelegramBot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core import logs
from bot.core.privacy import mask
from bot.messengers.telegram_format import (
    APOLOGY,
    EDITED,
    EXPIRED_BUTTON,
    GROUP_HINT,
    TEXT_ONLY,
    UNKNOWN_COMMAND,
    WELCOME,
    CallbackStore,
    Outgoing,
    VoiceNote,
    addressed_text,
    chat_tag,
    deliberately_quiet,
    secret_matches,
    sender_id,
    to_telegram,
)
from bot.relay.config import ConfigError, TelegramSettings
from bot.speech.tts import AUDIO_ROUTE

AudioSource = Callable[[str], Awaitable[bytes]]  # a spoken reply's file by its served name

log = logging.getLogger("bot.relay.telegram")

RELAY = "relay"  # key of the Relay in application.bot_data
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RELAY_SECRET_HEADER = "X-Relay-Secret"  # bot/rasa_side/channels/relay.py checks it (that module needs Rasa: not
                                        # imported)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for 5 s, or until the next message
MAX_WEBHOOK_BODY = 1 << 20
MAX_VOICE_BYTES = 20 << 20  # Telegram takes up to 50 MB; a 1,500-character answer is about 0.3 MB
COMMANDS = [BotCommand("start", "Bắt đầu, giới thiệu"), BotCommand("help", "Hướng dẫn cách hỏi")]
# Media that gets the "please type" note (a caption alone is not treated as a question).
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.Document.ALL
    | filters.ANIMATION
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)


class RasaUnavailable(Exception):
    """Rasa did not answer in time, or answered with something other than a list of messages."""


class RasaClient:
    """Talks to Rasa's relay door with the shared secret; every failure becomes RasaUnavailable."""

    def __init__(self, url: str, timeout: float, client: httpx.AsyncClient | None = None, secret: str = "") -> None:
        """Post to `url` with `secret` in X-Relay-Secret, giving up after `timeout` seconds for the whole turn."""
        self.url = url
        self.timeout = timeout
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self.headers = {RELAY_SECRET_HEADER: secret} if secret else {}

    async def ask(self, sender: str, text: str) -> list[dict]:
        """One user turn: Rasa's messages for `text` from `sender`."""
        try:
            response = await asyncio.wait_for(
                self.client.post(self.url, json={"sender": sender, "message": text}, headers=self.headers),
                self.timeout,
            )
        except (asyncio.TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as err:
            raise RasaUnavailable(type(err).__name__) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable("reply is not JSON") from None
        if not isinstance(data, list):
            raise RasaUnavailable("reply is not a list of messages")
        return [m for m in data if isinstance(m, dict)]

    async def audio(self, name: str) -> bytes:
        """A spoken reply's file from the Rasa server's audio route (`bot.speech.tts.AUDIO_ROUTE`), at most 20 MB."""
        url = urljoin(self.url, AUDIO_ROUTE + name)
        try:
            response = await asyncio.wait_for(self.client.get(url), self.timeout)
        except (asyncio.TimeoutError, httpx.HTTPError) as err:
            raise RasaUnavailable(f"audio: {type(err).__name__}") from None
        if response.status_code != 200 or not response.content or len(response.content) > MAX_VOICE_BYTES:
            raise RasaUnavailable(f"audio: HTTP {response.status_code}, {len(response.content)} bytes")
        return response.content

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


class ChatLocks:
    """One lock per chat, so a chat's turns reach Rasa in order while other chats run concurrently."""

    def __init__(self) -> None:
        """No chat is busy yet."""
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for the chat's earlier turns, then run this one; forget the lock when nobody needs it."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class Relay:
    """What the handlers share: the Rasa client, remembered button payloads, per-chat locks."""

    rasa: RasaClient
    buttons: CallbackStore
    locks: ChatLocks
    log_key: str  # keys chat tags in logs, so chat ids are never written


@contextlib.asynccontextmanager
async def keep_typing(bot: TelegramBot, chat_id: int, every: float = TYPING_EVERY_S) -> AsyncIterator[None]:
    """Show "typing…" while the body runs, renewed every few seconds; on exit, wait for any action
    already sent so that it never lands after the reply."""
    stop = asyncio.Event()

    async def renew() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as err:
                log.debug("chat action failed: %s", err)
            try:
                await asyncio.wait_for(stop.wait(), every)
                return
            except asyncio.TimeoutError:
                continue

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        stop.set()
        await task


def relay_of(context: ContextTypes.DEFAULT_TYPE) -> Relay:
    """The Relay stored in the application."""
    return context.bot_data[RELAY]


def markup(outgoing: Outgoing) -> InlineKeyboardMarkup | None:
    """The inline keyboard of one outgoing message."""
    if not outgoing.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.title, url=b.url)
                if b.url
                else InlineKeyboardButton(b.title, callback_data=b.callback_data)
                for b in row
            ]
            for row in outgoing.keyboard
        ]
    )


async def send_voice(bot: TelegramBot, chat_id: int, note: VoiceNote, audio: AudioSource | None) -> bool:
    """Send a spoken reply as a voice message; False when the audio or Telegram failed (logged)."""
    if audio is None:
        return False
    try:
        data = await audio(note.name)
        await bot.send_voice(chat_id, voice=data, duration=note.duration_s, filename="ban-doc.ogg")
    except (RasaUnavailable, TelegramError) as err:
        log.warning("voice message not sent (%s: %s): sent the apology", type(err).__name__, err)
        return False
    return True


async def send(
    bot: TelegramBot,
    chat_id: int,
    outgoing: Sequence[Outgoing],
    reply_to: int | None = None,
    audio: AudioSource | None = None,
) -> None:
    """Send messages in order, as plain text (no Markdown to escape), the first one quoting `reply_to`.
    Flood control: wait as Telegram says and retry once. Buttons Telegram refuses: send the text alone.
    Voice messages get their OGG file from `audio`; without it (or when that fails) their text is sent."""
    for i, out in enumerate(outgoing):
        if out.voice is not None and await send_voice(bot, chat_id, out.voice, audio):
            continue
        kwargs: dict[str, Any] = {
            "reply_markup": markup(out), "link_preview_options": LinkPreviewOptions(is_disabled=True),
        }
        if reply_to is not None and i == 0:
            kwargs["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        for attempt in range(3):
            try:
                await bot.send_message(chat_id, out.text, **kwargs)
                break
            except RetryAfter as err:
                if attempt:
                    raise
                wait = err.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait))
            except BadRequest as err:
                if kwargs["reply_markup"] is None:
                    raise
                log.warning("Telegram refused the buttons (%s): sent the text without them", err)
                kwargs["reply_markup"] = None


async def answer_turn(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, quote: bool = False) -> None:
    """Relay one user turn to Rasa and send its reply; an apology if Rasa is down, slow or silent."""
    relay = relay_of(context)
    chat_id = update.effective_chat.id
    tag = chat_tag(chat_id, relay.log_key)
    async with relay.locks.hold(chat_id):
        started = time.monotonic()
        async with keep_typing(context.bot, chat_id):
            try:
                messages = await relay.rasa.ask(sender_id(chat_id), text)
            except RasaUnavailable as err:
                log.warning("chat %s: Rasa unavailable (%s): sent an apology", tag, err)
                messages = []
        outgoing = to_telegram(messages, relay.buttons)
        if not outgoing and not deliberately_quiet(messages):
            outgoing = [Outgoing(APOLOGY)]
        reply_to = update.effective_message.message_id if quote and update.effective_message else None
        await send(context.bot, chat_id, outgoing, reply_to, audio=relay.rasa.audio)
    log.info("chat %s: %d chars in, %d messages out, %.2f s", tag, len(text), len(outgoing), time.monotonic() - started)
    log.debug("chat %s: asked %r", tag, mask(text)[:300])


def mentions(message: Message) -> list[str]:
    """The @usernames mentioned in a message (from Telegram's entities, not by guessing)."""
    return list(message.parse_entities([MessageEntity.MENTION]).values())


def replied_to_bot(message: Message, bot: TelegramBot) -> bool:
    """Whether the message answers one of the bot's own messages."""
    original = message.reply_to_message
    return bool(original and original.from_user and original.from_user.id == bot.id)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user and say what the bot can help with (/start, /help)."""
    await update.effective_message.reply_text(WELCOME, link_preview_options=LinkPreviewOptions(is_disabled=True))


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Relay a text message in a private chat to Rasa."""
    await answer_turn(update, context, update.effective_message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, relay only messages that mention the bot or reply to it; ignore the rest."""
    message = update.effective_message
    text = addressed_text(message.text, mentions(message), context.bot.username, replied_to_bot(message, context.bot))
    if text is None:
        return
    if not text:
        await message.reply_text(GROUP_HINT.format(username=context.bot.username))
        return
    await answer_turn(update, context, text, quote=True)


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a typed question instead of a sticker, photo, voice note or file (in groups: only in reply to us)."""
    message = update.effective_message
    if message.chat.type != "private" and not replied_to_bot(message, context.bot):
        return
    await message.reply_text(TEXT_ONLY)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain that edits are not read: the answer to the original message was already given."""
    if update.effective_chat.type == "private":
        await context.bot.send_message(update.effective_chat.id, EDITED)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help for a command the bot does not have."""
    await update.effective_message.reply_text(UNKNOWN_COMMAND)


async def added_to_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask in a group when the bot has just been added to it."""
    message = update.effective_message
    if message.group_chat_created or any(u.id == context.bot.id for u in message.new_chat_members or ()):
        await context.bot.send_message(message.chat.id, GROUP_HINT.format(username=context.bot.username))


async def button_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge a button press and relay the button's payload to Rasa as the user's message."""
    query = update.callback_query
    payload = relay_of(context).buttons.decode(query.data or "")
    if payload is None:
        await query.answer(EXPIRED_BUTTON)
        return
    await query.answer()
    if query.message is None or update.effective_chat is None:  # message too old to be delivered
        return
    await answer_turn(update, context, payload)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update without its content; Telegram errors are expected, others get a traceback."""
    err = context.error
    if isinstance(err, TelegramError):
        log.warning("Telegram call failed: %s: %s", type(err).__name__, err)
    else:
        log.error("update failed", exc_info=err)


async def post_init(application: Application) -> None:
    """After connecting: list /start and /help in Telegram's command menu."""
    try:
        await application.bot.set_my_commands(COMMANDS)
    except TelegramError as err:
        log.warning("could not set the command menu: %s", err)
    log.info("connected as @%s", application.bot.username)


async def post_shutdown(application: Application) -> None:
    """After stopping: close the connection to Rasa."""
    await relay_of_app(application).rasa.aclose()


def relay_of_app(application: Application) -> Relay:
    """The Relay stored in an application."""
    return application.bot_data[RELAY]


def add_handlers(application: Application) -> None:
    """Route every kind of update to its handler (order matters: the first match wins)."""
    message = filters.UpdateType.MESSAGE
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    application.add_handler(CommandHandler(["start", "help"], start, filters=message))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited))
    application.add_handler(MessageHandler(message & private & filters.TEXT & ~filters.COMMAND, private_text))
    application.add_handler(MessageHandler(message & groups & filters.TEXT & ~filters.COMMAND, group_text))
    application.add_handler(MessageHandler(message & private & filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(
            message & (filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.CHAT_CREATED), added_to_group
        )
    )
    application.add_handler(MessageHandler(message & NON_TEXT, non_text))
    application.add_handler(CallbackQueryHandler(button_press))
    application.add_error_handler(on_error)


def build_application(settings: TelegramSettings, polling: bool = True, rasa: RasaClient | None = None) -> Application:
    """The PTB application, pointed at `settings.api_base_url`; without an Updater for webhook mode."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(f"{settings.api_base_url}/bot")
        .base_file_url(f"{settings.api_base_url}/file/bot")
        .concurrent_updates(64)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[RELAY] = Relay(
        rasa=rasa or RasaClient(settings.rasa_url, settings.rasa_timeout, secret=settings.relay_secret),
        buttons=CallbackStore(),
        locks=ChatLocks(),
        log_key=settings.token,
    )
    add_handlers(application)
    return application


def read_update(body: bytes, bot: TelegramBot) -> Update | None:
    """The update in a webhook body; None for anything else (not JSON, nested past Python's limit, not an update)."""
    try:
        data = json.loads(body)
        return Update.de_json(data, bot) if isinstance(data, dict) else None
    except Exception:  # RecursionError included: a hostile body is a 400, never a crash
        return None


class WebhookHandler(tornado.web.RequestHandler):
    """Receives Telegram's POSTs: checks the secret token, then hands the update to PTB's queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, ptb: Application, secret: str) -> None:
        """Feed `ptb`'s update queue, accepting only requests that carry `secret`."""
        self.ptb = ptb
        self.secret = secret

    async def post(self) -> None:
        """Queue one update; 403 without the right secret token, 400 for a body that is not an update."""
        if not secret_matches(self.request.headers.get(SECRET_HEADER), self.secret):
            log.warning("webhook: rejected a request without the right secret token")
            raise tornado.web.HTTPError(403)
        update = read_update(self.request.body, self.ptb.bot)
        if update is None:
            raise tornado.web.HTTPError(400)
        await self.ptb.update_queue.put(update)
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: object) -> None:
        """A bare status line, no HTML page and no traceback."""
        self.finish(f"{status_code} {self._reason}\n")

    def log_exception(self, typ: object, value: object, tb: object) -> None:
        """Log only the status of a rejected request, never its body."""
        if not isinstance(value, tornado.web.HTTPError):
            log.error("webhook handler failed: %s", type(value).__name__)


def webhook_server(application: Application, settings: TelegramSettings) -> tornado.httpserver.HTTPServer:
    """A small HTTP server that feeds Telegram's webhook POSTs into the application's update queue."""
    app = tornado.web.Application(
        [(settings.webhook_path, WebhookHandler, {"ptb": application, "secret": settings.webhook_secret})],
        log_function=lambda handler: None,
    )
    return tornado.httpserver.HTTPServer(app, max_body_size=MAX_WEBHOOK_BODY)


def polling_error(err: TelegramError) -> None:
    """A failed getUpdates (Telegram unreachable for a moment): one line, PTB retries on its own."""
    log.warning("polling: %s: %s", type(err).__name__, err)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGINT or SIGTERM (Ctrl-C, systemd, docker stop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(settings: TelegramSettings, stop: asyncio.Event | None = None) -> None:
    """Run the relay until `stop` is set (without one: until SIGINT or SIGTERM).

    Polling: delete any webhook, then long-poll getUpdates. Webhook: listen, register the webhook
    with its secret at Telegram, and queue what Telegram POSTs. Errors while connecting (a rejected
    token, an unreachable API) propagate to the caller before anything is served."""
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    polling = settings.mode == "polling"
    application = build_application(settings, polling=polling)
    server = None if polling else webhook_server(application, settings)
    try:
        await application.initialize()  # getMe: checks the token
        await post_init(application)
        if polling:
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3, error_callback=polling_error
            )
            log.info("polling mode: waiting for updates")
        else:
            server.listen(settings.port, settings.listen)
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info(
                "webhook mode: listening on %s:%d%s",
                settings.listen,
                settings.port,
                settings.webhook_path,
                extra={"trusted": True},
            )
        await application.start()
        await stop.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.stop()
        if application.updater and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await post_shutdown(application)


class RedactingFormatter(logging.Formatter):
    """Masks personal numbers (bot.core.privacy.mask) and secrets in every formatted line, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        """Format with `fmt`, replacing each of `secrets` by a placeholder."""
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        """The masked line (a record logged with extra={"trusted": True} holds settings only: not masked)."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text if getattr(record, "trusted", False) else mask(text)


def configure_logging(settings: TelegramSettings) -> None:
    """Log through the redacting formatter (stderr, or <BOT_LOG_DIR>/telegram.log rotated: bot/core/logs.py); keep
    chatty libraries (URLs hold the token) quiet."""
    formatter = RedactingFormatter(logs.FORMAT, [settings.token, settings.webhook_secret or "", settings.relay_secret])
    logs.configure("telegram", settings.log_level, formatter=formatter)
    root = logging.getLogger()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # logs every request URL, which contains the token
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))  # its DEBUG logs whole updates
    logging.getLogger("tornado").setLevel(logging.WARNING)
    logging.getLogger("asyncio").setLevel(logging.WARNING)


def main(env: dict[str, str] | None = None) -> int:
    """Start the relay in the configured mode; exit 2 on a settings problem, 1 if Telegram refuses."""
    try:
        settings = TelegramSettings.from_env(os.environ if env is None else env)
    except ConfigError as err:
        print(f"telegram: {err}", file=sys.stderr)
        return 2
    configure_logging(settings)
    log.info(
        "starting in %s mode; Rasa at %s (timeout %g s); Telegram API at %s",
        settings.mode,
        settings.rasa_url,
        settings.rasa_timeout,
        settings.api_base_url,
        extra={"trusted": True},
    )
    try:
        asyncio.run(serve(settings))
    except InvalidToken:
        print(
            "telegram: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather (/mybots → API Token).",
            file=sys.stderr,
        )
        return 1
    except (NetworkError, OSError) as err:
        print(f"telegram: cannot reach {settings.api_base_url} or open the port: {err}", file=sys.stderr)
        return 1
    except TelegramError as err:
        print(f"telegram: Telegram refused to start the bot: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
