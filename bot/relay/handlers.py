"""The relay's python-telegram-bot handlers: which update goes where, and one user turn relayed to Rasa (in order per
chat, with "typing…" shown) and its reply sent back through bot/messengers/telegram_api.py. The texts and the rules
for buttons and groups are in bot/messengers/telegram_format.py; the greeting is bot/core/copy.py's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import Bot as TelegramBot, BotCommand, LinkPreviewOptions, Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.copy import BUSY_APOLOGY, WELCOME
from bot.core.privacy import mask
from bot.core.settings import TelegramSettings
from bot.messengers.screen_reader import (
    MAX_IMAGE_BYTES,
    UNREADABLE,
    HttpxFetcher,
    Outcome,
    ScreenReader,
    read_lead,
)
from bot.messengers.telegram_api import send
from bot.messengers.telegram_format import (
    EDITED,
    EXPIRED_BUTTON,
    GROUP_HINT,
    TEXT_ONLY,
    UNKNOWN_COMMAND,
    CallbackStore,
    Outgoing,
    addressed_text,
    chat_tag,
    deliberately_quiet,
    sender_id,
    to_telegram,
)
from bot.relay.client import RasaClient, RasaUnavailable

log = logging.getLogger("bot.relay.telegram")  # one name for all the relay's lines, as before it was split

RELAY = "relay"  # key of the Relay in application.bot_data
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for 5 s, or until the next message
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
    screens: ScreenReader | None = None  # the action server's screenshot reader (None: pictures get "please type")


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


async def answer_turn(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, quote: bool = False,
                      screenshot: bool = False) -> None:
    """Relay one user turn to Rasa and send its reply; an apology if Rasa is down, slow or silent. `screenshot`:
    the text was read from the resident's picture (Rasa's relay door marks the turn)."""
    relay = relay_of(context)
    chat_id = update.effective_chat.id
    tag = chat_tag(chat_id, relay.log_key)
    async with relay.locks.hold(chat_id):
        started = time.monotonic()
        async with keep_typing(context.bot, chat_id):
            try:
                messages = await relay.rasa.ask(sender_id(chat_id), text, screenshot=screenshot)
            except RasaUnavailable as err:
                log.warning("chat %s: Rasa unavailable (%s): sent an apology", tag, err)
                messages = []
        if screenshot and messages:  # what was read comes first, so the resident can correct it
            messages = [{"text": read_lead(text)}, *messages]
        outgoing = to_telegram(messages, relay.buttons)
        if not outgoing and not deliberately_quiet(messages):
            outgoing = [Outgoing(BUSY_APOLOGY)]
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


async def picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (or an image sent as a file) in a private chat: read by the action server; its text goes to Rasa as
    the resident's message. A private picture (ID card, bank card, OTP) gets the warning and nothing reaches Rasa;
    an unreadable one a request to type. The bytes stay in memory for this call only, and are never logged."""
    message = update.effective_message
    reader = relay_of(context).screens
    if reader is None:
        await message.reply_text(TEXT_ONLY)
        return
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size  # the largest size Telegram made
    else:
        file_id, size = message.document.file_id, message.document.file_size
    reading = UNREADABLE
    if not size or size <= MAX_IMAGE_BYTES:
        async with keep_typing(context.bot, message.chat_id):
            data = await download(context.bot, file_id)
            if data is not None:
                reading = await reader.read(data)
            del data
    if reading.outcome is Outcome.TEXT:
        await answer_turn(update, context, reading.text, screenshot=True)
        return
    log.info("chat %s: picture not relayed (%s)", chat_tag(message.chat_id, relay_of(context).log_key),
             reading.outcome.value)
    await message.reply_text(reading.reply)


async def download(bot: TelegramBot, file_id: str) -> bytes | None:
    """A file's bytes through the Bot API (getFile, then the file URL), or None when Telegram fails or it is
    larger than the limit."""
    try:
        file = await bot.get_file(file_id)
        if file.file_size and file.file_size > MAX_IMAGE_BYTES:
            return None
        data = bytes(await file.download_as_bytearray())
    except TelegramError as err:
        log.warning("picture download failed: %s", type(err).__name__)
        return None
    return data if len(data) <= MAX_IMAGE_BYTES else None


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
    pictures = filters.PHOTO | filters.Document.IMAGE
    application.add_handler(MessageHandler(message & private & pictures, picture))
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
        screens=ScreenReader.from_env(HttpxFetcher()),
    )
    add_handlers(application)
    return application
