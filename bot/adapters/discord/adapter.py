"""`DiscordAdapter`: one discord.py client in the bot's event loop.

Slash commands come from the router's specs (`commands.py`), interactions become `Command`s
for the dispatcher, replies become embeds (`render.py`), and pushes go to channels by REST with
a nonce per outbox row, so that a resend after a crash or a timeout is not posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Self, TypeVar

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.app_commands import Choice

from bot.adapters.discord.commands import RouterTranslator, build_command, sync_commands
from bot.adapters.discord.errors import delivery_error, refuses_every_request
from bot.adapters.discord.render import (
    DiscordMessage,
    button_custom_id,
    command_from_custom_id,
    render_reply,
)
from bot.chat import ChatKind, Command, Reply, UserRef, parse_command_text
from bot.delivery.errors import DeliveryError, PermanentError, RetryAfter
from bot.i18n import translate
from bot.logging_config import chat_fields, platform_fields
from bot.newsroom.suggestions import Suggester
from bot.platform import CommandSink, PlatformLostError, PlatformStartError
from bot.platform.budget import SendBudget
from bot.router import CommandSpec, Param, ParamKind, Permission
from bot.settings import Settings
from storage.models import ChatRef, Lane, Platform
from storage.repositories import ChatRepository, CommandSyncRepository

logger = logging.getLogger(__name__)
# Discord's own REST base, as discord.py has it before anything changes it.
DISCORDS_OWN_API: str = discord.http.Route.BASE

_Result = TypeVar("_Result")

# Discord wants an interaction answered within 3 s of its creation: an answer not ready this
# long after it was created is deferred (Discord shows "thinking…") and sent when it is. The
# margin covers the way back to Discord.
DEFER_AFTER_SECONDS = 2.0
# An interaction's token lets its answer be edited for 15 minutes; a minute is kept in hand.
INTERACTION_EDITABLE_FOR = timedelta(minutes=14)
# Commands after which the bot posts in the chat: the bot's own permissions there are checked
# before anything is stored, so that the first push does not fail (and end the subscription).
_POSTING_COMMANDS = frozenset({"subscribe", "follow"})
# What the bot needs in a channel to post stories there, as Discord's settings name them.
_POSTING_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)
# discord.py sleeps through a 429 shorter than this and retries the request itself (in the
# task of that one chat, not counted as a failure); a longer one is raised as RateLimited and
# the chat's queue waits in the scheduler. 30 s is the least discord.py accepts.
MAX_RATELIMIT_SLEEP_SECONDS = 30.0


class DiscordAdapter:
    """Connects the core to Discord through discord.py 2.

    Use it as `async with adapter:` (logs in, syncs the slash commands when they changed),
    then `run` keeps the gateway connection (interactions, guild events) while `send`
    delivers pushes.
    """

    platform = Platform.DISCORD
    # Seconds after an interaction's creation when an answer not ready is deferred (tests
    # shorten it on their adapter, with the time they make an answer take).
    defer_after = DEFER_AFTER_SECONDS

    def __init__(
        self,
        *,
        settings: Settings,
        sink: CommandSink,
        commands: Sequence[CommandSpec],
        chats: ChatRepository,
        syncs: CommandSyncRepository,
        suggester: Suggester,
        clock: Callable[[], datetime],
    ) -> None:
        if settings.discord_token is None:
            raise ValueError("the Discord adapter needs NEWSBOT_DISCORD_TOKEN")
        self._token = settings.discord_token.get_secret_value()
        self._settings = settings
        self._sink = sink
        self._chats = chats
        self._syncs = syncs
        self._suggester = suggester
        self._clock = clock
        # Commands a button may carry: those that change nothing, and the desk's Send and
        # Cancel (the dispatcher checks that the presser is a bot admin).
        self._buttons = frozenset(
            spec.name
            for spec in commands
            if (spec.permission is Permission.ANYONE and not spec.chat_settings)
            or spec.permission is Permission.BOT_ADMIN
        )
        self.budget = SendBudget(
            sends_per_second=settings.discord_sends_per_second, interval=self.send_interval
        )
        # discord.py keeps its REST base on a class; the gateway's address is asked of it at
        # login. Set whichever way: an adapter made before in this process may have changed it.
        discord.http.Route.BASE = (
            settings.discord_api_url.rstrip("/") if settings.discord_api_url else DISCORDS_OWN_API
        )
        intents = discord.Intents.none()
        # Guild and channel create/delete events; slash commands need no message content.
        intents.guilds = True
        # The bot joins no voice channel: discord.py's switches for its warnings that the
        # voice libraries (PyNaCl, davey) are missing, which it logs as the client is made.
        # Its other warnings stay.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        self.client = discord.Client(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATELIMIT_SLEEP_SECONDS,
        )
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self.client)
        guild = discord.Object(settings.discord_guild) if settings.discord_guild else None
        for spec in commands:
            command = build_command(spec, self._on_command, self._suggest)
            self.tree.add_command(command, guild=guild)
        # discord.py's documented way to handle a command's errors is to replace this hook.
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.client.event(self.on_interaction)
        self.client.event(self.on_guild_remove)
        self.client.event(self.on_guild_channel_delete)
        self._answering: set[asyncio.Task[Any]] = set()
        # When each announcement channel may publish again, after Discord said to wait.
        self._publishing_resumes: dict[ChatRef, float] = {}
        self._connection: asyncio.Task[None] | None = None

    # Lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Log in (Discord checks the token) and sync the slash commands if they changed."""
        # The REST base discord.py asks: NEWSBOT_DISCORD_API_URL's, else Discord's own.
        where = discord.http.Route.BASE
        await self.client.__aenter__()
        try:
            await self.client.login(self._token)
            if self._settings.discord_api_url:
                # discord.py connects to Discord's own gateway unless told otherwise: ask this
                # server where its gateway is, as a sharded client would.
                _shards, gateway, _limits = await self.client.http.get_bot_gateway()
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
            await self.tree.set_translator(RouterTranslator())
            application_id = self.client.application_id
            if application_id is None:
                raise PlatformStartError("Discord gave no application id for this bot token")
            await sync_commands(
                self.tree,
                application_id=application_id,
                guild=self._settings.discord_guild,
                syncs=self._syncs,
                now=self._clock(),
            )
        except discord.LoginFailure as error:
            await self.client.close()
            raise PlatformStartError(
                "Discord refused NEWSBOT_DISCORD_TOKEN (401 Unauthorized); copy the bot token "
                "from the developer portal (Applications > your app > Bot > Reset Token)"
            ) from error
        except discord.RateLimited as error:
            # Syncing commands too often (Discord limits how many may be created a day).
            await self.client.close()
            raise PlatformStartError(
                f"Discord asks to wait {error.retry_after:.0f} s before the commands can be "
                "synced; start again then"
            ) from error
        except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
            await self.client.close()
            raise PlatformStartError(f"cannot reach Discord at {where}: {error}") from error
        except BaseException:
            await self.client.close()
            raise
        user = self.client.user
        logger.info(
            "connected to Discord as %s",
            user.name if user else "?",
            extra=platform_fields(Platform.DISCORD),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the gateway and the HTTP session."""
        await self.client.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the gateway connection (it reconnects by itself) until `stop` is set; then
        finish the interactions already received."""
        self._connection = asyncio.create_task(self.client.connect(reconnect=True))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({stopping, self._connection}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if self._connection.done():
            error = self._connection.exception()
            if not stop.is_set():
                raise PlatformLostError(
                    f"Discord's gateway closed for good ({error or 'no reason given'}); newsbot "
                    "stopped so that it can be restarted"
                ) from error
        else:
            # No new interaction comes in; the HTTP session stays open for the pushes still
            # being sent, until `__aexit__`.
            self._connection.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connection
        if self._answering:
            await asyncio.wait(self._answering)

    # Receiving ---------------------------------------------------------------------------

    async def _on_command(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        """A slash command, answered within Discord's deadline. The desk's commands are
        answered to the admin alone (what it shows is not for the channel)."""
        private = spec.permission is Permission.BOT_ADMIN
        reply = self._command_reply(interaction, spec, values)
        await self._answer(interaction, reply, private=private)

    async def _command_reply(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> Reply:
        """The reply to a slash command: the chat it is aimed at, the user's rights there, the
        bot's own rights where it will post, then the dispatch."""
        chat, kind = _chat_of(interaction)
        can_manage = _may_manage(interaction)
        chat_param = next((p for p in spec.params if p.kind is ParamKind.CHAT), None)
        target = values.get(chat_param.name) if chat_param else None
        if target is not None and str(target.id) != chat.chat_id:
            language = await self._sink.language(chat)
            chat = ChatRef(Platform.DISCORD, str(target.id))
            # Discord resolves the invoking member's permissions in the named channel.
            can_manage = bool(target.permissions.manage_channels)
            if spec.permission is Permission.CHAT_MANAGER and not can_manage:
                text = translate(language, "discord.not_manager_there", channel=target.mention)
                return Reply.text(text, private=True)
        if spec.name in _POSTING_COMMANDS and can_manage:
            missing = self._missing_posting_permissions(interaction, int(chat.chat_id))
            if missing:
                language = await self._sink.language(chat)
                where = f"<#{chat.chat_id}>"
                text = translate(
                    language, "discord.bot_missing", channel=where, permissions=missing
                )
                return Reply.text(text, private=True)
        command = Command(
            name=spec.name,
            args=spec.text_args(values),
            chat=chat,
            user=_user(interaction),
            chat_kind=kind,
            can_manage_chat=can_manage,
            options=spec.options(values),
        )
        return await self._sink.dispatch(command)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A button pressed under one of our messages: its command, answered to the presser
        alone, so that a channel is never flooded by readers pressing *Baca*."""
        if interaction.type is not discord.InteractionType.component or interaction.data is None:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        text = command_from_custom_id(custom_id)
        parsed = parse_command_text(text) if text else None
        if parsed is None or parsed[0] not in self._buttons:
            return
        name, _bot, args = parsed
        chat, kind = _chat_of(interaction)
        command = Command(
            name=name,
            args=args,
            chat=chat,
            user=_user(interaction),
            chat_kind=kind,
            can_manage_chat=_may_manage(interaction),
        )
        await self._answer(interaction, self._sink.dispatch(command), private=True)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot was removed from a server (or the server deleted): its channels' subscriptions
        end now, not at the next failed push."""
        channels = [*guild.channels, *guild.threads]
        for channel in channels:
            await self._deactivate(str(channel.id), f"removed from the server {guild.id}")

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A channel was deleted: its subscriptions end now."""
        await self._deactivate(str(channel.id), "channel deleted")

    async def _deactivate(self, channel_id: str, reason: str) -> None:
        chat = ChatRef(Platform.DISCORD, channel_id)
        try:
            await self._chats.deactivate(chat, reason, now=self._clock())
        except Exception:
            logger.exception(
                "could not end the chat's subscriptions (%s)", reason, extra=chat_fields(chat)
            )

    async def _suggest(
        self, interaction: discord.Interaction, spec: CommandSpec, param: Param, current: str
    ) -> list[Choice[Any]]:
        """Sections or stories for an option as the user types it."""
        try:
            if param.kind is ParamKind.STORY:
                found = await self._suggester.stories(current)
            else:
                chat, _kind = _chat_of(interaction)
                language = await self._sink.language(chat)
                found = self._suggester.sections(current, language, extra=param.choices)
        except Exception:
            logger.exception(
                "suggestions for /%s %s failed",
                spec.name,
                param.name,
                extra=chat_fields(_chat_of(interaction)[0]),
            )
            return []
        return [Choice(name=item.label, value=item.value) for item in found]

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """An option discord.py could not convert, or a bug: the user gets a short private
        answer, the log the whole story."""
        logger.error(
            "Discord command failed: %s",
            error,
            exc_info=error,
            extra=chat_fields(_chat_of(interaction)[0]),
        )
        await self._answer(interaction, self._apology(interaction), private=True)

    async def _apology(self, interaction: discord.Interaction) -> Reply:
        chat, _kind = _chat_of(interaction)
        return Reply.text(translate(await self._sink.language(chat), "error.internal"))

    # Answering ---------------------------------------------------------------------------

    async def _answer(
        self, interaction: discord.Interaction, answer: Awaitable[Reply], *, private: bool
    ) -> None:
        """Answer an interaction with the reply `answer` gives: at once if it is ready in time,
        else deferred (Discord shows "thinking…") within Discord's 3 s and sent when ready.
        `private` answers are shown to the user alone from the start; a reply that turns out
        private (`Reply.private`: a refusal, a usage line, an error) is shown to them alone too.

        Interaction answers use the interaction's own token and are not counted against the
        bot's global rate limit: they take no slot of the push budget.
        """
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
        try:
            work = asyncio.ensure_future(answer)
            done, _pending = await asyncio.wait(
                {work}, timeout=_time_to_defer(interaction, self.defer_after)
            )
            deferred = not done
            if deferred:
                await interaction.response.defer(thinking=True, ephemeral=private)
            try:
                reply = await work
            except Exception:
                logger.exception(
                    "answering an interaction failed", extra=chat_fields(_chat_of(interaction)[0])
                )
                apology = translate(self._settings.language, "error.internal")
                reply = Reply.text(apology, private=True)
            await self._show(interaction, reply, private=private, deferred=deferred)
        except discord.HTTPException as error:
            logger.warning(
                "could not answer an interaction: %s",
                error,
                extra=chat_fields(_chat_of(interaction)[0]),
            )
        finally:
            if task is not None:
                self._answering.discard(task)

    async def _show(
        self, interaction: discord.Interaction, reply: Reply, *, private: bool, deferred: bool
    ) -> None:
        ephemeral = private or reply.private
        messages = render_reply(reply) or [DiscordMessage(content="…", embeds=(), buttons=())]
        first, rest = messages[0], messages[1:]
        shown: discord.WebhookMessage | None = None
        if not deferred:
            await interaction.response.send_message(
                **_message_arguments(first), ephemeral=ephemeral
            )
        elif ephemeral and not private:
            # Deferred in public, but the answer is for the user alone: the public "thinking"
            # message goes first (a follow-up would otherwise take its place, and its
            # visibility), then the answer comes privately.
            await interaction.delete_original_response()
            shown = await interaction.followup.send(
                **_message_arguments(first), ephemeral=True, wait=True
            )
        else:
            await interaction.edit_original_response(**_message_arguments(first))
        for message in rest:
            await interaction.followup.send(**_message_arguments(message), ephemeral=ephemeral)
        if reply.follow_up is not None:
            reply.follow_up.shown(_EditedResponse(interaction, shown))

    def _missing_posting_permissions(
        self, interaction: discord.Interaction, channel_id: int
    ) -> str:
        """The permissions the bot lacks to post stories in the channel, comma-separated.

        In the channel of the interaction, Discord says what the bot may do there; for another
        channel the server's cached roles and overwrites tell. A thread needs Send Messages in
        Threads instead of Send Messages.
        """
        if interaction.guild_id is None:
            return ""  # a direct message: the bot may always answer there
        needed = list(_POSTING_PERMISSIONS)
        guild = interaction.guild
        channel = guild.get_channel_or_thread(channel_id) if guild is not None else None
        if channel_id == interaction.channel_id:
            granted = interaction.app_permissions
            channel = channel or interaction.channel  # type: ignore[assignment]  # either is a place to post
        elif channel is None or guild is None:
            # Not in the cache (the server is still arriving after a start): nothing can be
            # told, and nothing is stored until it can.
            return ", ".join(label for _name, label in needed)
        else:
            granted = channel.permissions_for(guild.me)
        if isinstance(channel, discord.Thread):
            needed[1] = ("send_messages_in_threads", "Send Messages in Threads")
        return ", ".join(label for name, label in needed if not getattr(granted, name))

    # Sending -----------------------------------------------------------------------------

    async def send(self, chat: ChatRef, reply: Reply, *, key: str | None = None) -> str:
        """Push `reply` to a channel; the id of the first message sent.

        Each message carries the nonce `key.n` with `enforce_nonce`: Discord answers a resend
        within a few minutes with the message it already posted. The scheduler has taken the
        first message's slot from the budget; any further message takes its own.
        """
        messages = render_reply(reply)
        if not messages:
            raise PermanentError("nothing to send")
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        sent: list[discord.Message] = []
        for index, message in enumerate(messages):
            if index > 0:
                await self.budget.take(chat, Lane.PUSH)
            arguments = _message_arguments(message)
            if key:
                arguments["nonce"] = f"{key}.{index}"
            sent.append(await self._request(channel.send(**arguments), chat))
        if self._settings.discord_crosspost:
            await self._publish(chat, sent)
        return str(sent[0].id)

    async def _request(self, request: Awaitable[_Result], chat: ChatRef) -> _Result:
        """What a request to a channel gave (the message posted), or the delivery error it met.

        The request runs shielded: a time-out (or a stop) here must not cancel discord.py in
        the middle of its own rate-limit bookkeeping (a global 429's pause would then never
        end for any request). Given up on, it goes on in the background; a resend carries the
        same nonce, so Discord posts it once. The time-out leaves room for the longest
        rate-limit wait discord.py takes itself.
        """
        task = asyncio.ensure_future(request)
        task.add_done_callback(_retrieve_outcome)
        timeout = self._settings.discord_send_timeout_seconds + MAX_RATELIMIT_SLEEP_SECONDS
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=timeout)
        except (
            discord.DiscordException,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
            RuntimeError,  # "Session is closed": the gateway closed for good while sending
        ) as error:
            logger.debug("a request failed: %r", error, extra=chat_fields(chat))
            raise self.failure(error) from error

    async def _publish(self, chat: ChatRef, messages: Sequence[discord.Message]) -> None:
        """Crosspost pushes in an announcement channel to the servers following it.

        Best effort: the story reached the channel, which is what the subscription asked.
        Discord lets a channel publish 10 messages an hour; told to wait, the channel's
        publishing stops until then (logged once), rather than asking again for each push.
        """
        channel = self.client.get_channel(int(chat.chat_id))
        if not isinstance(channel, discord.TextChannel) or not channel.is_news():
            return
        if self._publishing_resumes.get(chat, 0.0) > time.monotonic():
            return
        for message in messages:
            await self.budget.take(chat, Lane.PUSH)
            try:
                await self._request(channel.get_partial_message(message.id).publish(), chat)
            except RetryAfter as limit:
                self._publishing_resumes[chat] = time.monotonic() + limit.seconds
                logger.warning(
                    "Discord allows no more publishing in this channel for %.0f s (10 an "
                    "hour): pushes there are posted but not published until then",
                    limit.seconds,
                    extra=chat_fields(chat),
                )
                return
            except DeliveryError as error:
                logger.warning(
                    "could not publish message %s: %s", message.id, error, extra=chat_fields(chat)
                )
                return

    async def direct_chat(self, user_id: str) -> ChatRef:
        """The direct-message channel with a user, opened if need be."""
        if not user_id.isdigit():
            raise PermanentError(f"{user_id!r} is no Discord user id")

        async def open_dm() -> discord.DMChannel:
            user = await self.client.fetch_user(int(user_id))
            return await user.create_dm()

        channel = await self._request(open_dm(), ChatRef(Platform.DISCORD, user_id))
        return ChatRef(Platform.DISCORD, str(channel.id))

    async def probe(self) -> None:
        """GET /users/@me: the bot's own user, the cheapest request Discord answers."""
        me = ChatRef(Platform.DISCORD, "@me")
        await self._request(self.client.http.get_user("@me"), me)

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message sent earlier with `reply`'s first message (a correction)."""
        messages = render_reply(reply)
        if not messages:
            raise PermanentError("nothing to send")
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        arguments = _message_arguments(messages[0])
        # Without buttons in the new version, the old ones must go too.
        arguments.setdefault("view", None)
        await self._request(channel.get_partial_message(int(message_id)).edit(**arguments), chat)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message sent earlier; one already gone counts as deleted."""
        message = self.client.get_partial_messageable(int(chat.chat_id)).get_partial_message(
            int(message_id)
        )

        async def delete_unless_gone() -> None:
            with contextlib.suppress(discord.NotFound):
                await message.delete()

        await self._request(delete_unless_gone(), chat)

    def failure(self, error: Exception) -> DeliveryError:
        """The delivery error for `error`. A refused token or a ban by Discord's edge (a 429
        without Discord's own headers) refuses every request alike: every send pauses, since
        each one sent anyway would count towards a longer ban."""
        failure = delivery_error(error)
        if refuses_every_request(error) and isinstance(failure, RetryAfter):
            logger.error(
                "Discord refuses every request (%s): pausing every send",
                error,
                extra=platform_fields(Platform.DISCORD),
            )
            self.budget.pause(failure.seconds)
        return failure

    def send_interval(self, chat: ChatRef) -> float:
        """Discord's per-channel limit: 5 messages in 5 s, one a second by default."""
        return 1.0 / self._settings.discord_channel_sends_per_second


class _EditedResponse:
    """An interaction's answer kept up to date (the desk's live counters) by editing it: the
    original response, or the follow-up that took its place. Its token allows that for
    15 minutes; later updates are refused here, without asking Discord (whose refusal, a 401,
    would count as an invalid request)."""

    def __init__(
        self, interaction: discord.Interaction, message: discord.WebhookMessage | None
    ) -> None:
        self._interaction = interaction
        self._message = message

    @property
    def min_interval(self) -> float:
        """One edit a second, like the channel's messages."""
        return 1.0

    async def update(self, reply: Reply, *, final: bool) -> None:
        """Show `reply` in place of the answer."""
        age = discord.utils.utcnow() - self._interaction.created_at
        if age > INTERACTION_EDITABLE_FOR:
            raise PermanentError("the interaction's token has expired: it can be edited no more")
        messages = render_reply(reply)
        if not messages:
            return
        arguments = _message_arguments(messages[0])
        try:
            if self._message is not None:
                await self._message.edit(**arguments)
            else:
                await self._interaction.edit_original_response(**arguments)
        except discord.HTTPException as error:
            if error.status in (401, 404):
                # The token expired, or the answer was deleted: never retried.
                raise PermanentError(str(error)) from error
            raise delivery_error(error) from error
        except (aiohttp.ClientError, OSError) as error:
            raise delivery_error(error) from error


def _message_arguments(message: DiscordMessage) -> dict[str, Any]:
    """What discord.py's send and edit take for a rendered message; never a ping."""
    arguments: dict[str, Any] = {
        "content": message.content,
        "embeds": list(message.embeds),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if message.buttons:
        view = discord.ui.View(timeout=None)
        for button in message.buttons:
            view.add_item(
                discord.ui.Button(label=button.label, custom_id=button_custom_id(button))
            )
        # A stopped view is only a set of components: discord.py does not keep it in memory
        # for every push; presses arrive in `on_interaction`.
        view.stop()
        arguments["view"] = view
    return arguments


def _retrieve_outcome(task: asyncio.Task[Any]) -> None:
    """Read a shielded request's outcome, so that one given up on logs no "never retrieved"."""
    if not task.cancelled():
        task.exception()


def _time_to_defer(interaction: discord.Interaction, defer_after: float) -> float:
    """Seconds left before the answer must be deferred, `defer_after` seconds after the
    interaction's creation (its snowflake), since it may have waited in this process before
    its turn. A clock ahead of Discord's defers at once, which costs nothing but a
    "thinking…"."""
    waited = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    return min(max(defer_after - max(waited, 0.0), 0.0), defer_after)


def _chat_of(interaction: discord.Interaction) -> tuple[ChatRef, ChatKind]:
    """The chat an interaction came from: a guild channel, or a direct message."""
    kind = ChatKind.PRIVATE if interaction.guild_id is None else ChatKind.CHANNEL
    return ChatRef(Platform.DISCORD, str(interaction.channel_id)), kind


def _may_manage(interaction: discord.Interaction) -> bool:
    """In a direct message the user manages their own; in a server, Manage Channels in this
    channel, from the permissions Discord resolved for the interaction (server admins may
    have changed who sees the command, but not what it may do)."""
    if interaction.guild_id is None:
        return True
    return bool(interaction.permissions.manage_channels)


def _user(interaction: discord.Interaction) -> UserRef:
    return UserRef(str(interaction.user.id), interaction.user.display_name)
