"""`DiscordAdapter`: one discord.py client in the bot's event loop.

Slash commands come from the router's specs (`commands.py`), interactions become `Command`s
for the dispatcher, replies become embeds (`render.py`), and pushes go to channels by REST with
a nonce per outbox row, so that a resend after a crash or a timeout is not posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Self

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
from bot.delivery.budget import Lane, SendBudget
from bot.delivery.errors import DeliveryError, PermanentError, RetryAfter
from bot.i18n import translate
from bot.platform import CommandSink, PlatformLostError, PlatformStartError
from bot.router import CommandSpec, Param, ParamKind, Permission
from bot.settings import Settings
from bot.suggestions import Suggester
from storage.models import ChatRef, Platform
from storage.repositories import ChatRepository, CommandSyncRepository

logger = logging.getLogger(__name__)

# Discord wants an interaction answered within 3 s: an answer not ready by then is deferred
# (Discord shows "thinking…") and sent when it is.
DEFER_AFTER_SECONDS = 2.0
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
        self._specs = {spec.name: spec for spec in commands}
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
        if settings.discord_api_url:
            # discord.py keeps its REST base on a class; the gateway's address is asked of it
            # at login.
            discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
        intents = discord.Intents.none()
        # Guild and channel create/delete events; slash commands need no message content.
        intents.guilds = True
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
        self._connection: asyncio.Task[None] | None = None

    # Lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Log in (Discord checks the token) and sync the slash commands if they changed."""
        where = self._settings.discord_api_url or "Discord"
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
        except (
            discord.HTTPException,
            discord.GatewayNotFound,
            aiohttp.ClientError,
            OSError,
        ) as error:
            await self.client.close()
            raise PlatformStartError(f"cannot reach Discord at {where}: {error}") from error
        except BaseException:
            await self.client.close()
            raise
        user = self.client.user
        logger.info("connected to Discord as %s", user.name if user else "?")
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
        """A slash command: the chat it is aimed at, the user's rights there, the dispatch."""
        chat, kind = _chat_of(interaction)
        can_manage = _may_manage(interaction)
        chat_param = next((p for p in spec.params if p.kind is ParamKind.CHAT), None)
        target = values.get(chat_param.name) if chat_param else None
        language = await self._sink.language(chat)
        if target is not None and str(target.id) != chat.chat_id:
            chat = ChatRef(Platform.DISCORD, str(target.id))
            # Discord resolves the invoking member's permissions in the named channel.
            can_manage = bool(target.permissions.manage_channels)
            if spec.permission is Permission.CHAT_MANAGER and not can_manage:
                await self._answer_privately(
                    interaction,
                    translate(language, "discord.not_manager_there", channel=target.mention),
                )
                return
        if spec.name in _POSTING_COMMANDS and can_manage:
            missing = self._missing_posting_permissions(interaction, int(chat.chat_id))
            if missing:
                where = f"<#{chat.chat_id}>"
                await self._answer_privately(
                    interaction,
                    translate(language, "discord.bot_missing", channel=where, permissions=missing),
                )
                return
        command = Command(
            name=spec.name,
            args=spec.text_args(values),
            chat=chat,
            user=_user(interaction),
            chat_kind=kind,
            can_manage_chat=can_manage,
        )
        await self._answer(interaction, self._sink.dispatch(command))

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
            logger.exception("could not end the subscriptions of %s (%s)", chat, reason)

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
            logger.exception("suggestions for /%s %s failed", spec.name, param.name)
            return []
        return [Choice(name=item.label, value=item.value) for item in found]

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """An option discord.py could not convert, or a bug: the user gets a short private
        answer, the log the whole story."""
        logger.error("Discord command failed: %s", error, exc_info=error)
        chat, _kind = _chat_of(interaction)
        language = await self._sink.language(chat)
        await self._answer_privately(interaction, translate(language, "error.internal"))

    # Answering ---------------------------------------------------------------------------

    async def _answer(
        self, interaction: discord.Interaction, answer: Awaitable[Reply], *, private: bool = False
    ) -> None:
        """Answer an interaction with the reply `answer` gives: at once if it is ready within
        `DEFER_AFTER_SECONDS`, else deferred and sent when it is. Refusals, usage lines and
        errors (`Reply.private`) are shown to the user alone.

        Interaction answers use the interaction's own token and are not counted against the
        bot's global rate limit: they take no slot of the push budget.
        """
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
        try:
            work = asyncio.ensure_future(answer)
            done, _pending = await asyncio.wait({work}, timeout=DEFER_AFTER_SECONDS)
            deferred = not done
            if deferred:
                await interaction.response.defer(thinking=True, ephemeral=private)
            reply: Reply = await work
            await self._show(interaction, reply, private=private, deferred=deferred)
        except discord.HTTPException as error:
            logger.warning(
                "could not answer an interaction in %s: %s", interaction.channel_id, error
            )
        finally:
            if task is not None:
                self._answering.discard(task)

    async def _show(
        self, interaction: discord.Interaction, reply: Reply, *, private: bool, deferred: bool
    ) -> None:
        ephemeral = private or reply.private
        messages = render_reply(reply) or [DiscordMessage(content="…", embeds=(), buttons=())]
        if deferred and ephemeral and not private:
            # Deferred in public, but the answer is for the user alone: the public "thinking"
            # message goes, the answer follows privately.
            await interaction.delete_original_response()
        first, rest = messages[0], messages[1:]
        if not deferred:
            await interaction.response.send_message(
                **_message_arguments(first), ephemeral=ephemeral
            )
        elif ephemeral and not private:
            await interaction.followup.send(**_message_arguments(first), ephemeral=True)
        else:
            await interaction.edit_original_response(**_message_arguments(first))
        for message in rest:
            await interaction.followup.send(**_message_arguments(message), ephemeral=ephemeral)
        if reply.follow_up is not None:
            reply.follow_up.shown(_EditedResponse(self, interaction))

    async def _answer_privately(self, interaction: discord.Interaction, text: str) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as error:
            logger.warning(
                "could not answer an interaction in %s: %s", interaction.channel_id, error
            )

    def _missing_posting_permissions(
        self, interaction: discord.Interaction, channel_id: int
    ) -> str:
        """The permissions the bot lacks to post stories in the channel, comma-separated."""
        if interaction.guild is None:
            return ""  # a direct message: the bot may always answer there
        if channel_id == interaction.channel_id:
            granted = interaction.app_permissions
        else:
            channel = interaction.guild.get_channel(channel_id)
            if channel is None:
                return ", ".join(label for _name, label in _POSTING_PERMISSIONS)
            granted = channel.permissions_for(interaction.guild.me)
        return ", ".join(
            label for name, label in _POSTING_PERMISSIONS if not getattr(granted, name)
        )

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
            try:
                sent.append(
                    await asyncio.wait_for(
                        channel.send(**arguments),
                        timeout=self._settings.discord_send_timeout_seconds,
                    )
                )
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
                raise self.failure(error) from error
        if self._settings.discord_crosspost:
            await self._publish(chat, sent)
        return str(sent[0].id)

    async def _publish(self, chat: ChatRef, messages: Sequence[discord.Message]) -> None:
        """Crosspost pushes in an announcement channel to the servers following it. A refusal
        is logged: the story reached the channel, which is what the subscription asked."""
        channel = self.client.get_channel(int(chat.chat_id))
        if not isinstance(channel, discord.TextChannel) or not channel.is_news():
            return
        for message in messages:
            await self.budget.take(chat, Lane.PUSH)
            try:
                await channel.get_partial_message(message.id).publish()
            except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
                logger.warning("could not publish message %s in %s: %s", message.id, chat, error)

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message sent earlier with `reply`'s first message (a correction)."""
        messages = render_reply(reply)
        if not messages:
            raise PermanentError("nothing to send")
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        try:
            arguments = _message_arguments(messages[0])
            # Without buttons in the new version, the old ones must go too.
            arguments.setdefault("view", None)
            await channel.get_partial_message(int(message_id)).edit(**arguments)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self.failure(error) from error

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message sent earlier; one already gone counts as deleted."""
        channel = self.client.get_partial_messageable(int(chat.chat_id))
        try:
            await channel.get_partial_message(int(message_id)).delete()
        except discord.NotFound:
            return
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self.failure(error) from error

    def failure(self, error: Exception) -> DeliveryError:
        """The delivery error for `error`. A refused token or a ban by Discord's edge (a 429
        without Discord's own headers) refuses every request alike: every send pauses, since
        each one sent anyway would count towards a longer ban."""
        failure = delivery_error(error)
        if refuses_every_request(error) and isinstance(failure, RetryAfter):
            logger.error("Discord refuses every request (%s): pausing every send", error)
            self.budget.pause(failure.seconds)
        return failure

    def send_interval(self, chat: ChatRef) -> float:
        """Discord's per-channel limit: 5 messages in 5 s, one a second by default."""
        return 1.0 / self._settings.discord_channel_sends_per_second


class _EditedResponse:
    """An interaction's answer kept up to date (the desk's live counters) by editing it, which
    its token allows for 15 minutes."""

    def __init__(self, adapter: DiscordAdapter, interaction: discord.Interaction) -> None:
        self._adapter = adapter
        self._interaction = interaction

    @property
    def min_interval(self) -> float:
        """One edit a second, like the channel's messages."""
        return 1.0

    async def update(self, reply: Reply, *, final: bool) -> None:
        """Show `reply` in place of the answer."""
        messages = render_reply(reply)
        if not messages:
            return
        try:
            await self._interaction.edit_original_response(**_message_arguments(messages[0]))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self._adapter.failure(error) from error


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
