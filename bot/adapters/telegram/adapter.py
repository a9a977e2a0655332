"""The Telegram platform on python-telegram-bot: receives commands, sends replies and pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram import error as tg_error
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
    Updater,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.adapters.telegram.errors import delivery_error, retry_after_seconds
from bot.adapters.telegram.render import ButtonStyle, TelegramMessage, render_reply
from bot.adapters.telegram.updates import (
    Incoming,
    chat_kind,
    chat_ref,
    command_from_callback,
    command_from_message,
    split_target,
)
from bot.chat import ChatKind, Command, Reply, Text, UserError
from bot.delivery.errors import PermanentError
from bot.i18n import LANGUAGES, translate
from bot.logging_config import chat_fields, platform_fields, redact_also
from bot.platform import CommandSink, PlatformLostError, PlatformStartError
from bot.platform.budget import SendBudget
from bot.router import CommandSpec, Permission, offered_commands
from bot.settings import Settings
from storage.models import ChatRef, Lane, Platform
from storage.repositories import ChatRepository

logger = logging.getLogger(__name__)

# What the bot asks Telegram for; edited messages are not commands.
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)
# Updates handled at once. Each chat's updates run one after another, in order, and a chat
# waiting for its turn takes no slot from the others.
CONCURRENT_UPDATES = 32
# Updates received and waiting (for their chat's turn or a slot) before PTB stops taking more.
WAITING_UPDATES = 10_000
# "Cached briefly": an admin who was just demoted keeps their rights at most this long.
ADMIN_CACHE_SECONDS = 60.0
ADMIN_CACHE_SIZE = 10_000
# A command's answer told to wait this long or less (429) waits and is sent; longer, it is not.
ANSWER_RETRY_AFTER_LIMIT_SECONDS = 5.0
_MANAGER_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
# PTB's retry loop (telegram/ext/_utils/networkloop.py, logging as `telegram.ext`) logs a failed
# start of update fetching (setWebhook refused, say) with its traceback, then raises the error
# that becomes newsbot's one start error line.
_PTB_LOG = logging.getLogger("telegram.ext")
_PTB_RETRY_MODULE = "networkloop"


class TelegramAdapter:
    """Connects the core to the Telegram Bot API.

    Use it as `async with adapter:` (checks the token, sets the command menu), then `run`
    receives updates by long polling or webhook while `send` delivers pushes.
    """

    platform = Platform.TELEGRAM

    def __init__(
        self,
        *,
        settings: Settings,
        sink: CommandSink,
        commands: Sequence[CommandSpec],
        chats: ChatRepository,
        clock: Callable[[], datetime],
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
    ) -> None:
        if settings.telegram_token is None:
            raise ValueError("the Telegram adapter needs NEWSBOT_TELEGRAM_TOKEN")
        self._settings = settings
        self._sink = sink
        self._specs = {spec.name: spec for spec in commands}
        # Commands a link or a button may run: those that change nothing.
        self._linkable = frozenset(
            spec.name
            for spec in commands
            if spec.permission is Permission.ANYONE and not spec.chat_settings
        )
        # Admin commands a button may carry (the desk's Send and Cancel), answered in the chat
        # where it was pressed; the dispatcher checks the presser is a bot admin.
        self._admin_buttons = frozenset(
            spec.name for spec in commands if spec.permission is Permission.BOT_ADMIN
        )
        self._chats = chats
        self._clock = clock
        self.budget = SendBudget(
            sends_per_second=settings.telegram_sends_per_second, interval=self.send_interval
        )
        configured_secret = settings.telegram_webhook_secret
        self._webhook_secret = (
            configured_secret.get_secret_value()
            if configured_secret
            else secrets.token_urlsafe(32)
        )
        # PTB logs setWebhook's parameters at DEBUG; a generated secret must not show there.
        redact_also(self._webhook_secret)
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_token.get_secret_value())
            .concurrent_updates(_ChatOrderedUpdates(CONCURRENT_UPDATES))
        )
        if settings.telegram_api_url:
            builder = builder.base_url(settings.telegram_api_url)
        if request is not None:
            builder = builder.request(request)
        # PTB stops polling for good, quietly, when the Bot API refuses the token (401/404): a
        # revoked token, a self-hosted server restarting. The watch lets `run` notice.
        self._token_refused = asyncio.Event()
        builder = builder.get_updates_request(
            _RefusalWatch(
                updates_request or HTTPXRequest(connection_pool_size=1), self._token_refused
            )
        )
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._admin_cache: dict[tuple[int, int], tuple[float, bool]] = {}

    # Lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Check the token with Telegram (getMe) and set the command menu."""
        where = self._settings.telegram_api_url or "Telegram"
        try:
            await self.application.initialize()
        except tg_error.InvalidToken as error:
            # PTB's own message quotes the token: it is not repeated here.
            raise PlatformStartError(
                "Telegram refused NEWSBOT_TELEGRAM_TOKEN (401 Unauthorized); get a token from "
                "@BotFather"
            ) from error
        except tg_error.TelegramError as error:
            token = self.application.bot.token
            detail = str(error).replace(token, "[secret]")
            raise PlatformStartError(f"cannot reach the Bot API at {where}: {detail}") from error
        logger.info(
            "connected to Telegram as @%s",
            self.application.bot.username,
            extra=platform_fields(Platform.TELEGRAM),
        )
        await self._set_command_menu()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Release PTB's connections."""
        await self.application.shutdown()

    async def run(self, stop: asyncio.Event) -> None:
        """Receive updates until `stop` is set; then finish every update already received."""
        updater = self.application.updater
        if updater is None:
            raise RuntimeError("the PTB application was built without an updater")
        try:
            with _start_failure_unlogged():
                await self._start_receiving(updater)
        except (OSError, tg_error.TelegramError) as error:
            # A port already taken, a webhook URL Telegram refuses, the Bot API unreachable.
            detail = str(error).replace(self.application.bot.token, "[secret]")
            raise PlatformStartError(f"cannot receive Telegram updates: {detail}") from error
        await self.application.start()
        stopping = asyncio.ensure_future(stop.wait())
        refused = asyncio.ensure_future(self._token_refused.wait())
        try:
            await asyncio.wait({stopping, refused}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            refused.cancel()
            await self._stop_receiving(updater)
        if self._token_refused.is_set() and not stop.is_set():
            raise PlatformLostError(
                "Telegram stopped accepting NEWSBOT_TELEGRAM_TOKEN while running (revoked, or "
                "the Bot API server restarting); newsbot stopped so that it can be restarted"
            )

    async def _stop_receiving(self, updater: Updater) -> None:
        """The updater first, so nothing new comes in; then the application, which handles
        every update already fetched before it returns."""
        if updater.running:
            try:
                await updater.stop()
            except Exception:
                # It re-raises what ended polling (a refused token); the application must
                # still stop and finish its updates.
                logger.exception(
                    "stopping Telegram's update fetching failed",
                    extra=platform_fields(Platform.TELEGRAM),
                )
        if self.application.running:
            await self.application.stop()

    async def _start_receiving(self, updater: Updater) -> None:
        webhook_url = self._settings.telegram_webhook_url
        if not webhook_url:
            await updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            logger.info(
                "receiving Telegram updates by long polling",
                extra=platform_fields(Platform.TELEGRAM),
            )
            return
        listen, port = self._settings.telegram_webhook_listen, self._settings.telegram_webhook_port
        await updater.start_webhook(
            listen=listen,
            port=port,
            url_path=urlsplit(webhook_url).path,
            webhook_url=webhook_url,
            secret_token=self._webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        logger.info(
            "receiving Telegram updates by webhook on %s:%d",
            listen,
            port,
            extra=platform_fields(Platform.TELEGRAM),
        )

    async def _set_command_menu(self) -> None:
        """The command menu in each UI language, from the router's descriptions.

        Bot admins also see the admin commands, in their private chat with the bot.
        """
        bot = self.application.bot
        try:
            for language in LANGUAGES:
                await bot.set_my_commands(
                    self._menu(language, admin=False), language_code=language
                )
            await bot.set_my_commands(self._menu(self._settings.language, admin=False))
        except tg_error.TelegramError as error:
            logger.warning(
                "could not set the Telegram command menu: %s",
                error,
                extra=platform_fields(Platform.TELEGRAM),
            )
        for admin in sorted(self._settings.admins):
            platform, _, user_id = admin.partition(":")
            if platform != Platform.TELEGRAM.value or not user_id.lstrip("-").isdigit():
                continue
            try:
                await bot.set_my_commands(
                    self._menu(self._settings.language, admin=True),
                    scope=BotCommandScopeChat(int(user_id)),
                )
            except tg_error.TelegramError as error:
                # Until the admin has opened a chat with the bot, Telegram knows no such chat.
                logger.info(
                    "no admin command menu for %s yet: %s",
                    admin,
                    error,
                    extra=platform_fields(Platform.TELEGRAM),
                )

    def _menu(self, language: str, *, admin: bool) -> list[BotCommand]:
        return [
            BotCommand(spec.name, spec.description(language)[:256])
            for spec in offered_commands(self._specs.values(), bot_admin=admin)
        ]

    # Receiving ---------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.my_chat_member is not None:
            await self._on_membership(update.my_chat_member)
        elif update.message is not None or update.channel_post is not None:
            await self._on_message(update.message or update.channel_post)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error(
            "handling a Telegram update failed",
            exc_info=context.error,
            extra=platform_fields(Platform.TELEGRAM),
        )

    async def _on_message(self, message: Message | None) -> None:
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            # A group became a supergroup: its subscriptions follow it to the new id.
            new_chat = chat_ref(message.migrate_to_chat_id)
            await self._chats.move(chat_ref(message.chat.id), new_chat, now=self._clock())
            return
        incoming = command_from_message(
            message,
            bot_username=self.application.bot.username,
            known=self._specs,
            linkable=self._linkable,
        )
        if incoming is not None:
            await self._handle(incoming)
        elif chat_kind(message.chat.type) is ChatKind.PRIVATE and message.text:
            chat = chat_ref(message.chat.id)
            await self._answer(chat, ChatKind.PRIVATE, await self._sink.not_a_command(chat))

    async def _on_callback(self, query: CallbackQuery) -> None:
        incoming = command_from_callback(query, linkable=self._linkable, admin=self._admin_buttons)
        if incoming is not None:
            await self._handle(incoming)
        with contextlib.suppress(tg_error.TelegramError):
            # Stops the button's spinner once the answer is out; harmless if the query is old.
            await query.answer()

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            # Blocked in a private chat, removed from a group or channel: stop pushing there.
            chat = chat_ref(change.chat.id)
            dropped = await self._chats.deactivate(chat, f"bot {status}", now=self._clock())
            logger.info(
                "bot %s; subscriptions stopped, %d pushes dropped",
                status,
                dropped,
                extra=chat_fields(chat),
            )

    async def _handle(self, incoming: Incoming) -> None:
        """Answer one command (in its chat's turn: see `_ChatOrderedUpdates`)."""
        try:
            reply = await self._reply_to(incoming)
        except Exception:
            # The dispatcher answers for handlers; this covers the adapter's own checks.
            logger.exception("/%s failed", incoming.name, extra=chat_fields(incoming.chat))
            language = await self._sink.language(incoming.chat)
            reply = Reply.text(translate(language, "error.internal"))
        await self._answer(
            incoming.chat, incoming.kind, reply, incoming.message_id, incoming.thread_id
        )

    async def _reply_to(self, incoming: Incoming) -> Reply:
        spec = self._specs.get(incoming.name)
        if spec is not None and spec.chat_settings and incoming.kind is ChatKind.PRIVATE:
            target, rest = split_target(incoming.args)
            if target is not None:
                return await self._for_other_chat(incoming, target, rest)
        can_manage = incoming.kind is ChatKind.PRIVATE or incoming.speaks_for_chat
        if not can_manage and spec is not None and spec.permission is Permission.CHAT_MANAGER:
            checked = await self._is_manager(
                int(incoming.chat.chat_id), int(incoming.user.user_id)
            )
            if checked is None:
                language = await self._sink.language(incoming.chat)
                return Reply.text(translate(language, "telegram.check_failed"))
            can_manage = checked
        return await self._sink.dispatch(self._command(incoming, can_manage=can_manage))

    async def _for_other_chat(self, incoming: Incoming, target: str, args: str) -> Reply:
        """`/subscribe internasional @channel` from a private chat: act for that channel."""
        language = await self._sink.language(incoming.chat)
        try:
            chat, kind, label = await self._resolve_target(target, int(incoming.user.user_id))
        except UserError as refusal:
            return Reply.text(translate(language, refusal.key, **refusal.values))
        command = Command(
            name=incoming.name,
            args=args,
            chat=chat,
            user=incoming.user,
            chat_kind=kind,
            can_manage_chat=True,
        )
        reply = await self._sink.dispatch(command)
        heading = Text(translate(language, "telegram.for_target", target=label))
        return Reply(parts=(heading, *reply.parts), buttons=reply.buttons)

    async def _resolve_target(self, target: str, user_id: int) -> tuple[ChatRef, ChatKind, str]:
        """The chat `target` names, its kind and how to call it, once the user is found to be
        its admin and the bot able to post there; else the refusal, as a UserError."""
        bot = self.application.bot
        try:
            chat = await bot.get_chat(int(target) if target.lstrip("-").isdigit() else target)
        except (tg_error.BadRequest, tg_error.Forbidden):
            raise UserError("telegram.target_not_found", target=target) from None
        except tg_error.TelegramError:
            raise UserError("telegram.check_failed") from None
        kind = chat_kind(chat.type)
        if kind is ChatKind.PRIVATE:
            raise UserError("telegram.target_is_private", target=target)
        label = f"@{chat.username}" if chat.username else (chat.title or target)
        is_admin = await self._is_manager(chat.id, user_id)
        if is_admin is None:
            raise UserError("telegram.check_failed")
        if not is_admin:
            raise UserError("telegram.target_not_admin", target=label)
        try:
            can_post = _can_post(await bot.get_chat_member(chat.id, bot.id), kind)
        except tg_error.TelegramError:
            can_post = False
        if not can_post:
            raise UserError("telegram.bot_cannot_post", target=label)
        return chat_ref(chat.id), kind, label

    async def _is_manager(self, chat_id: int, user_id: int) -> bool | None:
        """Whether the user is an admin of the chat (cached briefly); None if unknown now."""
        key = (chat_id, user_id)
        now = time.monotonic()
        cached = self._admin_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member = await self.application.bot.get_chat_member(chat_id, user_id)
        except (tg_error.BadRequest, tg_error.Forbidden):
            is_admin = False  # not a member, or the bot cannot see the members
        except tg_error.TelegramError as error:
            logger.warning(
                "getChatMember %s failed: %s", user_id, error, extra=chat_fields(chat_ref(chat_id))
            )
            return None
        else:
            is_admin = member.status in _MANAGER_STATUSES
        if len(self._admin_cache) >= ADMIN_CACHE_SIZE:
            self._admin_cache = {k: v for k, v in self._admin_cache.items() if v[0] > now}
        self._admin_cache[key] = (now + ADMIN_CACHE_SECONDS, is_admin)
        return is_admin

    def _command(self, incoming: Incoming, *, can_manage: bool) -> Command:
        return Command(
            name=incoming.name,
            args=incoming.args,
            chat=incoming.chat,
            user=incoming.user,
            chat_kind=incoming.kind,
            can_manage_chat=can_manage,
        )

    async def _answer(
        self,
        chat: ChatRef,
        kind: ChatKind,
        reply: Reply,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Send a command's reply first of all: it takes the first free slot of the budget,
        ahead of any broadcast.

        A part told to wait a few seconds (429) waits and is sent: an answer is worth it.
        """
        destination = _Destination(int(chat.chat_id), reply_to, thread_id)
        try:
            sent = await self._send_messages(
                destination,
                self._render(reply, kind),
                lane=Lane.ANSWER,
                patience=ANSWER_RETRY_AFTER_LIMIT_SECONDS,
            )
        except tg_error.TelegramError as error:
            logger.warning("could not answer: %s", error, extra=chat_fields(chat))
            return
        if reply.follow_up is not None and sent:
            reply.follow_up.shown(_EditedInPlace(self, chat, str(sent[0])))

    # Sending -----------------------------------------------------------------------------

    async def send(self, chat: ChatRef, reply: Reply, *, key: str | None = None) -> str:
        """Push `reply` to `chat`; the id of the first message sent. (`sendMessage` has no
        idempotency key: `key` is not used.)

        The delivery scheduler has taken the first message's slot from the budget; any further
        message (a story too long for one) takes its own.
        """
        chat_id = _telegram_id(chat)
        messages = self._render(reply, ChatKind.PRIVATE if chat_id > 0 else ChatKind.GROUP)
        if not messages:
            raise PermanentError("nothing to send")
        try:
            sent = await self._send_messages(
                _Destination(chat_id), messages, lane=Lane.PUSH, first_paid=True
            )
        except tg_error.TelegramError as error:
            raise delivery_error(error) from error
        return str(sent[0])

    async def direct_chat(self, user_id: str) -> ChatRef:
        """A user's private chat with the bot has the user's id (it exists once they have
        started the bot; before that, sending to it is refused)."""
        return ChatRef(Platform.TELEGRAM, user_id)

    async def probe(self) -> None:
        """getMe: the cheapest request the Bot API answers."""
        try:
            await self.application.bot.get_me(
                read_timeout=self._settings.telegram_send_timeout_seconds
            )
        except tg_error.TelegramError as error:
            raise delivery_error(error) from error

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message sent earlier with `reply`'s first message, buttons included.

        A push with an image went out as a photo, or as text if Telegram refused the image:
        the caption is edited, else the text.
        """
        chat_id = _telegram_id(chat)
        messages = self._render(reply, ChatKind.PRIVATE if chat_id > 0 else ChatKind.GROUP)
        if not messages:
            raise PermanentError("nothing to send")
        first, bot = messages[0], self.application.bot
        markup = _keyboard(messages[-1]) if len(messages) == 1 else None

        async def edit_caption() -> None:
            await bot.edit_message_caption(
                chat_id,
                int(message_id),
                caption=first.html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )

        async def edit_text() -> None:
            await bot.edit_message_text(
                first.html,
                chat_id,
                int(message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )

        likely, other = (edit_caption, edit_text) if first.photo_url else (edit_text, edit_caption)
        try:
            try:
                await likely()
            except tg_error.BadRequest as error:
                # "there is no caption/text in the message to edit": it went out the other way.
                if "there is no" not in error.message.lower():
                    raise
                await other()
        except tg_error.BadRequest as error:
            # The message already shows this text (an edit repeated after a lost answer, or a
            # push sent after the correction): that is what we wanted.
            if "message is not modified" not in error.message.lower():
                raise delivery_error(error) from error
        except tg_error.TelegramError as error:
            raise delivery_error(error) from error

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message sent earlier; one already gone (deleted in the chat) counts."""
        try:
            await self.application.bot.delete_message(_telegram_id(chat), int(message_id))
        except tg_error.BadRequest as error:
            if "message to delete not found" not in error.message.lower():
                raise delivery_error(error) from error
        except tg_error.TelegramError as error:
            raise delivery_error(error) from error

    def send_interval(self, chat: ChatRef) -> float:
        """1 s between messages to a private chat, 3 s to a group or channel (by default)."""
        if _telegram_id(chat) > 0:
            return 1.0 / self._settings.telegram_private_sends_per_second
        return 60.0 / self._settings.telegram_group_sends_per_minute

    def _render(self, reply: Reply, kind: ChatKind) -> list[TelegramMessage]:
        style = ButtonStyle(
            private_chat=kind is ChatKind.PRIVATE,
            bot_username=self.application.bot.username,
            in_chat=self._admin_buttons,
        )
        return render_reply(reply, style)

    async def _send_messages(
        self,
        destination: _Destination,
        messages: Sequence[TelegramMessage],
        *,
        lane: Lane,
        first_paid: bool = False,
        patience: float = 0.0,
    ) -> list[int]:
        """Send the messages in order, each in a slot of the budget taken in `lane` (but the
        first when `first_paid`); the ids of those sent. Raises PTB's errors.

        A message told to wait at most `patience` seconds (429) waits and is sent once more,
        so the parts already sent are not sent again.
        """
        sent: list[int] = []
        chat = chat_ref(destination.chat_id)
        for index, message in enumerate(messages):
            if index > 0 or not first_paid:
                await self.budget.take(chat, lane)
            answering = (
                ReplyParameters(destination.reply_to, allow_sending_without_reply=True)
                if destination.reply_to is not None and not sent
                else None
            )
            try:
                sent.append(await self._send_one(destination, message, answering))
            except tg_error.RetryAfter as error:
                wait = retry_after_seconds(error)
                if wait > patience:
                    raise
                await asyncio.sleep(wait)
                sent.append(await self._send_one(destination, message, answering))
        return sent

    async def _send_one(
        self,
        destination: _Destination,
        message: TelegramMessage,
        answering: ReplyParameters | None,
    ) -> int:
        bot = self.application.bot
        chat_id, thread_id = destination.chat_id, destination.thread_id
        markup = _keyboard(message)
        if message.photo_url:
            try:
                photo = await bot.send_photo(
                    chat_id,
                    message.photo_url,
                    caption=message.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    reply_parameters=answering,
                    message_thread_id=thread_id,
                    read_timeout=self._settings.telegram_send_timeout_seconds,
                )
            except tg_error.BadRequest as error:
                # Telegram could not fetch or use the image: the story goes out as text.
                logger.info(
                    "photo refused (%s); sending text",
                    error.message,
                    extra=chat_fields(chat_ref(chat_id)),
                )
            else:
                return photo.message_id
        text = await bot.send_message(
            chat_id,
            message.html,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=not message.link_preview),
            reply_markup=markup,
            reply_parameters=answering,
            message_thread_id=thread_id,
            read_timeout=self._settings.telegram_send_timeout_seconds,
        )
        return text.message_id


class _EditedInPlace:
    """An answer kept up to date by editing it (the desk's live counters), no more often than
    the chat may be sent to."""

    def __init__(self, adapter: TelegramAdapter, chat: ChatRef, message_id: str) -> None:
        self._adapter = adapter
        self._chat = chat
        self._message_id = message_id

    @property
    def min_interval(self) -> float:
        """Telegram's least interval for the chat: an edit counts like a message."""
        return self._adapter.send_interval(self._chat)

    async def update(self, reply: Reply, *, final: bool) -> None:
        """Edit the answer to show `reply`, in a slot of the budget like any correction."""
        await self._adapter.budget.take(self._chat, Lane.CORRECTION)
        await self._adapter.edit(self._chat, self._message_id, reply)


class _RetryLoopWithoutTraceback(logging.Filter):
    """Drops the records of PTB's retry loop that carry a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None or record.module != _PTB_RETRY_MODULE


@contextlib.contextmanager
def _start_failure_unlogged() -> Iterator[None]:
    """While update fetching starts, PTB's traceback of a failure is not logged: the failure
    is raised, and said once, as a start error (`cannot receive Telegram updates: ...`)."""
    without_traceback = _RetryLoopWithoutTraceback()
    _PTB_LOG.addFilter(without_traceback)
    try:
        yield
    finally:
        _PTB_LOG.removeFilter(without_traceback)


@dataclass(frozen=True, slots=True)
class _Destination:
    """Where messages go: the chat, the message they answer, the forum topic."""

    chat_id: int
    reply_to: int | None = None
    thread_id: int | None = None


class _ChatTurn:
    """One chat's lock and how many updates hold or await it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class _ChatOrderedUpdates(BaseUpdateProcessor):
    """Runs updates concurrently, but each chat's one at a time and in the order received.

    PTB's own gate only bounds how many updates wait; the real limit on handlers at work is
    taken after the chat's turn, so one busy chat cannot fill every slot and hold up the
    others. A chat's lock lives while an update holds or awaits it.
    """

    def __init__(self, handlers_at_once: int) -> None:
        super().__init__(max_concurrent_updates=WAITING_UPDATES)
        self._working = asyncio.BoundedSemaphore(handlers_at_once)
        self._turns: dict[int, _ChatTurn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's turn (first come, first served), then for a free slot."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._working:
                await coroutine
            return
        turn = self._turns.setdefault(chat.id, _ChatTurn())
        turn.users += 1
        try:
            async with turn.lock, self._working:
                await coroutine
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class _RefusalWatch(BaseRequest):
    """The getUpdates transport, noting when the Bot API refuses the token (401 or 404)."""

    def __init__(self, inner: BaseRequest, refused: asyncio.Event) -> None:
        self._inner = inner
        self._refused = refused

    @property
    def read_timeout(self) -> float | None:
        """The wrapped transport's read timeout."""
        return self._inner.read_timeout

    async def initialize(self) -> None:
        """Open the wrapped transport."""
        await self._inner.initialize()

    async def shutdown(self) -> None:
        """Close the wrapped transport."""
        await self._inner.shutdown()

    # The time-outs are PTB's "default or value" type, which PTB keeps private: Any here.
    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Pass the request on; note a refused token."""
        status, payload = await self._inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):
            self._refused.set()
        return status, payload


def _keyboard(message: TelegramMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    row = [
        InlineKeyboardButton(button.label, url=button.url)
        if button.url
        else InlineKeyboardButton(button.label, callback_data=button.callback_data)
        for button in message.buttons
    ]
    return InlineKeyboardMarkup([row])


def _can_post(member: ChatMember, kind: ChatKind) -> bool:
    """Whether the bot, as this member, can post in a channel (an admin allowed to post) or a
    group (a member not muted)."""
    if member.status == ChatMemberStatus.OWNER:
        return True
    if kind is ChatKind.CHANNEL:
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return member.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)


def _telegram_id(chat: ChatRef) -> int:
    try:
        return int(chat.chat_id)
    except ValueError:
        raise PermanentError(f"{chat.chat_id!r} is not a Telegram chat id") from None
