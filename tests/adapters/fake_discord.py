"""A fake Discord on 127.0.0.1: the REST API and the gateway that discord.py talks to.

`FakeDiscord` is an aiohttp server holding a small world (guilds, channels, roles, members) and
the state Discord keeps for a bot: messages, synced application commands, gateway sessions,
interactions and their responses. A real `discord.Client` logs in (`GET /users/@me`, then
`GET /oauth2/applications/@me`), connects to the gateway (HELLO, IDENTIFY, READY, one
GUILD_CREATE per guild, zlib-stream frames when asked for), and sends messages and interaction
responses as it would to Discord. Everything is recorded (`calls`, `unexpected_calls`,
`connections`, `identifies`, each `InteractionRecord`), and tests script what Discord does:
send an interaction, remove the bot from a guild, delete a channel, drop the gateway, fail or
hang a channel's message sends, apply Discord's rate limits.

`point_discord_at(fake)` points discord.py at the fake for the duration of a block. Both
`discord.http.Route.BASE` and `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` must be
set: a plain `discord.Client` never asks `GET /gateway/bot`, it connects to its default
gateway URL (and goes back to it after an INVALID_SESSION).

Run as a process (`python -m tests.adapters.fake_discord --port-file PATH`), the fake also
answers a small control API under `/_fake/` so that a test in another process can drive it;
`FakeDiscordProcess` is that test's side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import enum
import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from aiohttp import WSMsgType, web

JSON = dict[str, Any]

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_TOKEN = "fake-token"  # noqa: S105 - a made-up token for the fake API
DEFAULT_BOT_USER_ID = 1_100_000_000_000_000_001
DEFAULT_BOT_NAME = "newsbot-test"
DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250
# Discord's message limits, answered with 400 (50035 Invalid Form Body) when exceeded.
CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
ACTION_ROWS_LIMIT = 5
ROW_COMPONENTS_LIMIT = 5
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
NONCE_LIMIT = 25
AUTOCOMPLETE_CHOICES_LIMIT = 25
# The X-RateLimit-Bucket of message creates: one hash for the route, whichever the channel
# (discord.py keys its buckets by hash and channel id, and re-keys when a route's hash changes).
MESSAGE_BUCKET = "fake0message0create"
# How long Discord remembers an enforced nonce, and how long an interaction waits for its
# initial response.
NONCE_WINDOW_SECONDS = 300.0
INTERACTION_DEADLINE_SECONDS = 3.0
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Message flags and types used below.
FLAG_CROSSPOSTED = 1 << 0
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15
MESSAGE_DEFAULT = 0
MESSAGE_CHAT_INPUT_COMMAND = 20

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_ANNOUNCEMENT = 5

# Gateway intents.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1
# Application flags announcing the privileged intents (the "limited" variants).
APP_FLAGS_PRIVILEGED = (1 << 13) | (1 << 15) | (1 << 19)

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11
# Close codes after which Discord will not resume the session.
SESSION_ENDING_CLOSE_CODES = frozenset({1000, 1001, 4007, 4009})

# Interaction types, and the callback types Discord accepts for each.
INTERACTION_TYPES = {"command": 2, "component": 3, "autocomplete": 4}
CALLBACK_TYPES = {"command": {4, 5, 9}, "component": {4, 5, 6, 7, 9}, "autocomplete": {8}}
# Option types holding ids that Discord resolves into data.resolved.
OPTION_SUBCOMMAND = 1
OPTION_SUBCOMMAND_GROUP = 2
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9


class Perm(enum.IntFlag):
    """Discord's permission bits (the ones the tests and the fake's checks name)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = ((1 << 53) - 1) & ~(1 << 47)
# The permissions that channel overwrites can grant or take away.
_CHANNEL_PERMISSION_BITS = (
    0, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 28, 29, 31, 32,
    34, 35, 36, 37, 38, 39, 42, 45, 46, 49, 50, 51, 52,
)  # fmt: skip
CHANNEL_PERMISSIONS = sum(1 << bit for bit in _CHANNEL_PERMISSION_BITS)
# What a member cannot do in a text channel where they may not send messages.
_NEEDS_SEND = Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.EMBED_LINKS | Perm.ATTACH_FILES
DEFAULT_EVERYONE_PERMISSIONS = int(
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = int(
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
)
# What a bot may do in a DM, sent as app_permissions of a DM interaction.
DM_PERMISSIONS = int(
    Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
)

# The world of subprocess mode when no --world is given.
# DM channels the bot opens itself (POST /users/@me/channels) are numbered from here.
DM_CHANNEL_BASE = 870_000_000_000_000_000
DEFAULT_GUILD_ID = 800_000_000_000_000_001
DEFAULT_NEWS_CHANNEL_ID = 800_000_000_000_000_002
DEFAULT_EDITOR_ID = 800_000_000_000_000_003
DEFAULT_OWNER_ID = 800_000_000_000_000_004
DEFAULT_READER_ID = 800_000_000_000_000_005

_ERROR_MESSAGES = {
    0: "",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10008: "Unknown Message",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    20012: "You are not authorized to perform this action on this application",
    40033: "This message has already been crossposted.",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50013: "Missing Permissions",
    50024: "Cannot execute action on this channel type",
    50035: "Invalid Form Body",
}
_STATUS_MESSAGES = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "403: Forbidden",
    404: "404: Not Found",
    405: "405: Method Not Allowed",
    429: "You are being rate limited.",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
# What the middleware read of a request's body: the JSON (or payload_json), the file names.
_BODY: web.RequestKey[object] = web.RequestKey("body")
_FILES: web.RequestKey[list[str]] = web.RequestKey("files")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Snowflakes:
    """Discord ids: milliseconds since 2015 in the high bits, so `snowflake_time` reads them."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


# --------------------------------------------------------------------------------------------
# The world: guilds, roles, channels, members, and the permissions Discord computes from them.


@dataclass
class Overwrite:
    """A channel permission overwrite: `type` 0 for a role, 1 for a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeRole:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class FakeMember:
    """A guild member: a user with roles (their permissions come from the roles)."""

    user_id: int
    name: str
    roles: list[int] = field(default_factory=list)
    bot: bool = False
    joined_at: str = field(default_factory=_now_iso)

    def user_payload(self) -> JSON:
        return _user_payload(self.user_id, self.name, bot=self.bot)

    def payload(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(role) for role in self.roles],
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user_payload()
        return data


@dataclass
class FakeChannel:
    """A guild text (type 0) or announcement (type 5) channel."""

    id: int
    guild_id: int
    name: str
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None

    @property
    def news(self) -> bool:
        return self.type == GUILD_ANNOUNCEMENT

    def set_overwrite(
        self, target_id: int, *, allow: int = 0, deny: int = 0, role: bool = False
    ) -> Overwrite:
        """Set the overwrite for a member (or a role, `role=True`); replaces an earlier one.

        After the bot has connected, `await fake.update_channel(id)` tells the bot.
        """
        overwrite = Overwrite(target_id, 0 if role else 1, int(allow), int(deny))
        self.overwrites[target_id] = overwrite
        return overwrite

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "parent_id": None,
            "topic": self.topic,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "default_auto_archive_duration": 1440,
            "flags": 0,
        }


class FakeGuild:
    """A guild: roles (@everyone has the guild's id), channels, members, and the bot's place."""

    def __init__(
        self,
        guild_id: int,
        name: str,
        *,
        owner_id: int,
        bot_user_id: int,
        bot_name: str,
        bot_permissions: int,
        everyone_permissions: int,
        locale: str,
        ids: _Snowflakes,
    ) -> None:
        self.id = guild_id
        self.name = name
        self.owner_id = owner_id
        self.locale = locale
        self.bot_user_id = bot_user_id
        self.bot_present = True
        self.joined_at = _now_iso()
        self._ids = ids
        self.roles: dict[int, FakeRole] = {
            guild_id: FakeRole(guild_id, "@everyone", everyone_permissions, position=0)
        }
        self.channels: dict[int, FakeChannel] = {}
        self.members: dict[int, FakeMember] = {}
        bot_role = self.add_role(
            ids.next(), bot_name, bot_permissions, managed=True, bot_id=bot_user_id
        )
        self.bot_role_id = bot_role.id
        self.members[bot_user_id] = FakeMember(bot_user_id, bot_name, [bot_role.id], bot=True)
        if owner_id not in self.members:
            self.members[owner_id] = FakeMember(owner_id, f"owner-{owner_id}")

    # -- building ----------------------------------------------------------------------------

    def add_role(
        self,
        role_id: int,
        name: str,
        permissions: int,
        *,
        managed: bool = False,
        bot_id: int | None = None,
    ) -> FakeRole:
        """Add a role (higher `position` than the roles before it)."""
        role = FakeRole(role_id, name, int(permissions), len(self.roles), managed, bot_id)
        self.roles[role_id] = role
        return role

    def add_text_channel(
        self,
        channel_id: int,
        name: str,
        *,
        news: bool = False,
        overwrites: Iterable[Overwrite] = (),
        bot_allow: int = 0,
        bot_deny: int = 0,
        topic: str | None = None,
    ) -> FakeChannel:
        """Add a text channel (an announcement channel, type 5, with `news=True`).

        `bot_allow` / `bot_deny` set a member overwrite for the bot, e.g.
        `bot_deny=Perm.SEND_MESSAGES` for a channel the bot may read but not post in.
        """
        channel = FakeChannel(
            channel_id,
            self.id,
            name,
            GUILD_ANNOUNCEMENT if news else GUILD_TEXT,
            position=len(self.channels),
            topic=topic,
        )
        for overwrite in overwrites:
            channel.overwrites[overwrite.id] = overwrite
        if bot_allow or bot_deny:
            channel.set_overwrite(self.bot_user_id, allow=bot_allow, deny=bot_deny)
        self.channels[channel_id] = channel
        return channel

    def add_member(
        self, user_id: int, name: str, *, permissions: int = 0, roles: Iterable[int] = ()
    ) -> FakeMember:
        """Add a member; `permissions` (beyond @everyone's) come from a role of their own."""
        member_roles = list(roles)
        if permissions:
            role = self.add_role(self._ids.next(), f"{name}-role", permissions)
            member_roles.append(role.id)
        member = FakeMember(user_id, name, member_roles)
        self.members[user_id] = member
        return member

    def set_everyone_permissions(self, permissions: int) -> None:
        """What every member may do before their own roles and the channels' overwrites."""
        self.roles[self.id].permissions = int(permissions)

    def set_bot_permissions(self, permissions: int) -> None:
        """The guild-wide permissions of the bot's own (managed) role."""
        self.roles[self.bot_role_id].permissions = int(permissions)

    # -- permissions, as Discord computes them ----------------------------------------------

    def base_permissions(self, user_id: int) -> int:
        """A member's guild-wide permissions: @everyone, their roles, owner and administrator."""
        member = self.members.get(user_id)
        if member is None:
            return 0
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        permissions = self.roles[self.id].permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                permissions |= role.permissions
        if permissions & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return permissions

    def permissions_in(self, channel_id: int, user_id: int) -> int:
        """A member's permissions in a channel, overwrites applied (everyone, roles, member)."""
        permissions = self.base_permissions(user_id)
        if permissions == ALL_PERMISSIONS:
            return permissions
        channel = self.channels.get(channel_id)
        member = self.members.get(user_id)
        if channel is None or member is None:
            return permissions
        everyone = channel.overwrites.get(self.id)
        if everyone is not None:
            permissions = (permissions & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            overwrite = channel.overwrites.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                allow |= overwrite.allow
                deny |= overwrite.deny
        permissions = (permissions & ~deny) | allow
        own = channel.overwrites.get(user_id)
        if own is not None and own.type == 1:
            permissions = (permissions & ~own.deny) | own.allow
        if not permissions & Perm.VIEW_CHANNEL:
            return permissions & ~CHANNEL_PERMISSIONS
        if not permissions & Perm.SEND_MESSAGES:
            permissions &= ~_NEEDS_SEND
        return permissions

    # -- payloads ------------------------------------------------------------------------------

    def payload(self, *, all_members: bool) -> JSON:
        """The GUILD_CREATE payload: the whole guild, members only the bot's unless asked for."""
        members = [
            member.payload()
            for member in self.members.values()
            if all_members or member.user_id == self.bot_user_id
        ]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "features": [],
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [channel.payload() for channel in self.channels.values()],
            "threads": [],
            "members": members,
            "member_count": len(self.members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "application_id": None,
            "max_members": 500_000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
        }


def _user_payload(user_id: int, name: str, *, bot: bool = False) -> JSON:
    data: JSON = {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": None if bot else name,
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        data["bot"] = True
    return data


# --------------------------------------------------------------------------------------------
# Records.


@dataclass
class RecordedCall:
    """One REST request as the fake received it.

    `path` is relative to the API base (`/channels/1/messages`); `json` is the JSON body, or
    the `payload_json` part of a multipart body; `files` names the uploaded files; `status` is
    what the fake answered.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[str]
    headers: dict[str, str]
    at: float
    status: int | None = None


@dataclass
class InteractionCallback:
    """The initial response to an interaction: `type` 4, 5, 6, 7, 8 or 9 and its `data`."""

    type: int
    data: JSON
    at: float
    delay: float  # seconds from the interaction's dispatch to this callback

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)


class InteractionRecord:
    """An interaction the fake sent, and everything the bot answered to it.

    `callback` is the initial response (None until it comes); `original` the response message
    as it stands (after edits; None for a deferred update or an autocomplete); `followups` the
    follow-up messages; `edits` the bodies of each `PATCH .../messages/@original`; `rejected`
    the answers Discord refused (late, twice, invalid).
    """

    def __init__(
        self,
        *,
        interaction_id: int,
        token: str,
        kind: str,
        payload: JSON,
        channel_id: int,
        guild_id: int | None,
        dispatched_at: float,
    ) -> None:
        self.id = interaction_id
        self.token = token
        self.kind = kind
        self.payload = payload
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.dispatched_at = dispatched_at
        self.callback: InteractionCallback | None = None
        self.original: JSON | None = None
        self.followups: list[JSON] = []
        self.edits: list[JSON] = []
        self.original_deleted = False
        self.rejected: list[JSON] = []
        # The message a component sits on, which a type 6 / 7 callback updates.
        self.target_message: JSON | None = None
        self._changed = asyncio.Condition()

    @property
    def response_delay(self) -> float | None:
        """Seconds from dispatch to the initial response (None when there was none)."""
        return None if self.callback is None else self.callback.delay

    async def wait_until(
        self, predicate: Callable[[InteractionRecord], bool], within: float = 5.0
    ) -> None:
        """Wait until `predicate(self)` holds, `within` seconds; TimeoutError (saying what
        came) otherwise."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: predicate(self))
        except TimeoutError:
            raise TimeoutError(
                f"interaction {self.id} after {within}s: {self.summary()}"
            ) from None

    async def wait_response(self, within: float = 5.0) -> InteractionCallback:
        """The initial response, once it has come."""
        await self.wait_until(lambda record: record.callback is not None, within)
        assert self.callback is not None
        return self.callback

    async def wait_followups(self, count: int = 1, within: float = 5.0) -> list[JSON]:
        """The follow-up messages, once there are `count` of them."""
        await self.wait_until(lambda record: len(record.followups) >= count, within)
        return list(self.followups)

    async def wait_edits(self, count: int = 1, within: float = 5.0) -> list[JSON]:
        """The edits of the original response, once there are `count` of them."""
        await self.wait_until(lambda record: len(record.edits) >= count, within)
        return list(self.edits)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def summary(self) -> str:
        callback = "none" if self.callback is None else f"type {self.callback.type}"
        return (
            f"callback {callback}, {len(self.followups)} followups, {len(self.edits)} edits, "
            f"{len(self.rejected)} rejected"
        )

    def to_json(self) -> JSON:
        """The record as JSON (for the control API)."""
        callback = None
        if self.callback is not None:
            callback = {
                "type": self.callback.type,
                "data": self.callback.data,
                "flags": self.callback.flags,
                "ephemeral": self.callback.ephemeral,
                "delay": self.callback.delay,
            }
        return {
            "id": str(self.id),
            "token": self.token,
            "kind": self.kind,
            "channel_id": str(self.channel_id),
            "guild_id": None if self.guild_id is None else str(self.guild_id),
            "payload": self.payload,
            "callback": callback,
            "original": self.original,
            "original_deleted": self.original_deleted,
            "followups": self.followups,
            "edits": self.edits,
            "rejected": self.rejected,
        }


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection to the fake gateway.

    `query` is the connection URL's query (`v`, `encoding`, `compress`); `identify` / `resume`
    the d of the IDENTIFY / RESUME it sent; `ready` whether it got READY or RESUMED; `frames`
    every frame the fake sent on it; `close_code` how it ended.
    """

    number: int
    query: dict[str, str]
    opened_at: float
    identify: JSON | None = None
    resume: JSON | None = None
    ready: bool = False
    invalidated: bool = False
    heartbeats: int = 0
    frames: list[JSON] = field(default_factory=list, repr=False)
    other_ops: list[JSON] = field(default_factory=list, repr=False)
    closed_at: float | None = None
    close_code: int | None = None
    closed_by_fake: bool = False
    _sent_close_code: int | None = field(default=None, repr=False)
    _ws: web.WebSocketResponse | None = field(default=None, repr=False)
    _request: web.Request | None = field(default=None, repr=False)
    _zlib: Any = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _closed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _session: _Session | None = field(default=None, repr=False)

    @property
    def compressed(self) -> bool:
        """Whether the fake sent zlib-stream binary frames on this connection."""
        return self._zlib is not None

    @property
    def events(self) -> list[str]:
        """The names of the dispatches sent on this connection, in order."""
        return [str(frame["t"]) for frame in self.frames if frame.get("op") == OP_DISPATCH]


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    log: list[JSON] = field(default_factory=list)
    conn: GatewayConnection | None = None
    alive: bool = True


@dataclass
class _Fault:
    status: int
    code: int
    retry_after: float | None
    times: int | None


@dataclass
class _Window:
    started: float
    count: int = 0


class DiscordError(Exception):
    """An error answer: status, Discord's JSON error code and message, optional form errors."""

    def __init__(
        self,
        status: int,
        code: int = 0,
        message: str | None = None,
        *,
        errors: JSON | None = None,
        headers: dict[str, str] | None = None,
        body: JSON | None = None,
    ) -> None:
        text = message or _ERROR_MESSAGES.get(code) or _STATUS_MESSAGES.get(status, "Error")
        super().__init__(f"{status} {code} {text}")
        self.status = status
        self.code = code
        self.message = text
        self.errors = errors
        self.headers = headers or {}
        self.body = body

    def response(self) -> web.Response:
        body: JSON = self.body or {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return _json(body, status=self.status, headers=self.headers)


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer as Discord sends it. discord.py parses a body as JSON only when the
    Content-Type is exactly `application/json` (no charset), so no aiohttp json_response."""
    all_headers = {"Content-Type": "application/json", "Via": "1.1 google"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


class _FormErrors:
    """Problems with a request body, answered as Discord's 50035 Invalid Form Body."""

    def __init__(self) -> None:
        self.errors: JSON = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        node = self.errors
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: Iterable[str | int], value: Any, limit: int) -> None:
        if isinstance(value, str | list) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def required(self, path: Iterable[str | int], value: Any) -> None:
        if value is None or value == "":
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def raise_if_any(self) -> None:
        if self.errors:
            raise DiscordError(400, 50035, errors=self.errors)


def _validate_message_body(body: JSON, errors: _FormErrors) -> None:
    """Discord's limits on content, embeds, components and nonce."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(["content"], "BASE_TYPE_STRING", "Must be a string.")
    errors.too_long(["content"], content, CONTENT_LIMIT)
    embeds = body.get("embeds") or []
    errors.too_long(["embeds"], embeds, EMBEDS_LIMIT)
    total = 0
    for index, embed in enumerate(embeds):
        path: list[str | int] = ["embeds", index]
        title = embed.get("title") or ""
        description = embed.get("description") or ""
        errors.too_long([*path, "title"], title, EMBED_TITLE_LIMIT)
        errors.too_long([*path, "description"], description, EMBED_DESCRIPTION_LIMIT)
        total += len(title) + len(description)
        fields = embed.get("fields") or []
        errors.too_long([*path, "fields"], fields, EMBED_FIELDS_LIMIT)
        for number, item in enumerate(fields):
            name = item.get("name") or ""
            value = item.get("value") or ""
            errors.required([*path, "fields", number, "name"], name)
            errors.required([*path, "fields", number, "value"], value)
            errors.too_long([*path, "fields", number, "name"], name, EMBED_FIELD_NAME_LIMIT)
            errors.too_long([*path, "fields", number, "value"], value, EMBED_FIELD_VALUE_LIMIT)
            total += len(name) + len(value)
        footer = (embed.get("footer") or {}).get("text") or ""
        errors.too_long([*path, "footer", "text"], footer, EMBED_FOOTER_LIMIT)
        author = (embed.get("author") or {}).get("name") or ""
        errors.too_long([*path, "author", "name"], author, EMBED_AUTHOR_LIMIT)
        total += len(footer) + len(author)
    if total > EMBED_TOTAL_LIMIT:
        errors.add(
            ["embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}",
        )
    if not int(body.get("flags") or 0) & FLAG_COMPONENTS_V2:
        _validate_action_rows(body.get("components") or [], errors)
    nonce = body.get("nonce")
    if isinstance(nonce, str):
        errors.too_long(["nonce"], nonce, NONCE_LIMIT)


def _validate_action_rows(rows: list[JSON], errors: _FormErrors) -> None:
    errors.too_long(["components"], rows, ACTION_ROWS_LIMIT)
    for index, row in enumerate(rows):
        if row.get("type") != 1:
            errors.add(["components", index, "type"], "UNION_TYPE_CHOICES", "Must be 1.")
            continue
        children = row.get("components") or []
        errors.too_long(["components", index, "components"], children, ROW_COMPONENTS_LIMIT)
        for number, child in enumerate(children):
            path: list[str | int] = ["components", index, "components", number]
            custom_id = child.get("custom_id")
            errors.too_long([*path, "custom_id"], custom_id, CUSTOM_ID_LIMIT)
            if child.get("type") == 2:
                errors.too_long([*path, "label"], child.get("label"), BUTTON_LABEL_LIMIT)
                if child.get("style") == 5:
                    errors.required([*path, "url"], child.get("url"))
                elif child.get("style") != 6:
                    errors.required([*path, "custom_id"], custom_id)
            else:
                errors.required([*path, "custom_id"], custom_id)


def _is_empty(message: JSON) -> bool:
    """Whether Discord would refuse the message as empty (50006)."""
    if int(message.get("flags") or 0) & FLAG_COMPONENTS_V2 and message.get("components"):
        return False
    return not (
        message.get("content")
        or message.get("embeds")
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("sticker_items")
        or message.get("poll")
    )


def _normalised_embeds(embeds: list[JSON]) -> list[JSON]:
    result = []
    for embed in embeds:
        item = copy.deepcopy(embed)
        item.setdefault("type", "rich")
        item.setdefault("content_scan_version", 0)
        result.append(item)
    return result


# --------------------------------------------------------------------------------------------
# The server.


class FakeDiscord:
    """A Discord REST API and gateway on 127.0.0.1 for tests.

    `async with FakeDiscord() as fake:` serves at `fake.api_base` and `fake.gateway_url`.
    Build the world with `add_guild` (before the bot connects, or announce later changes with
    `add_bot_to_guild` / `update_channel`); drive it with `interaction`, `remove_bot_from_guild`,
    `delete_channel`, `drop_gateway`, `fail_channel`, `hang_channel`; read `calls`,
    `unexpected_calls`, `messages(channel_id)`, `commands()`, `connections`, `identifies`.

    `global_limit_per_second` applies Discord's global limit (50/s) to bot-authenticated
    requests; `channel_limit=(5, 5.0)` allows 5 message creates per 5 s per channel, with
    X-RateLimit headers on each answer, as Discord does. `latency` holds back every REST answer.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        application_id: int | None = None,
        bot_user_id: int = DEFAULT_BOT_USER_ID,
        bot_name: str = DEFAULT_BOT_NAME,
        global_limit_per_second: float | None = None,
        channel_limit: tuple[int, float] | None = None,
        latency: float = 0.0,
        heartbeat_interval_ms: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
        privileged_intents: bool = False,
        interaction_deadline: float = INTERACTION_DEADLINE_SECONDS,
        port: int = 0,
        control_api: bool = False,
    ) -> None:
        self.token = token
        self.bot_user_id = bot_user_id
        self.application_id = application_id if application_id is not None else bot_user_id
        self.bot_name = bot_name
        self.global_limit_per_second = global_limit_per_second
        self.channel_limit = channel_limit
        self.latency = latency
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        self.interaction_deadline = interaction_deadline
        # "resume": RESUME replays the missed events and answers RESUMED; "invalidate": it is
        # answered INVALID_SESSION (d false), so the client IDENTIFYs anew.
        self.resume_mode: Literal["resume", "invalidate"] = "resume"
        self.ack_heartbeats = True
        self._requested_port = port
        self._control_api = control_api
        self._ids = _Snowflakes()

        self.guilds: dict[int, FakeGuild] = {}
        self._dm_channels: dict[int, int] = {}  # channel id -> the user at the other end

        self.calls: list[RecordedCall] = []
        self.unexpected_calls: list[RecordedCall] = []
        self.rate_limited = 0
        self.global_rate_limited = 0
        self.dropped_embeds = 0
        self.connections: list[GatewayConnection] = []
        self.identifies: list[JSON] = []
        self.resumes: list[JSON] = []
        self.crossposts: list[tuple[int, int]] = []

        self._messages: dict[int, list[JSON]] = {}
        self._message_index: dict[int, JSON] = {}
        self._deleted: dict[int, list[JSON]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._global_commands: list[JSON] = []
        self._guild_commands: dict[int, list[JSON]] = {}
        self._interactions: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._sessions: dict[str, _Session] = {}
        self._open: set[GatewayConnection] = set()
        self._gateway_changed = asyncio.Condition()
        self._faults: dict[int, _Fault] = {}
        self._hung: set[int] = set()
        self._held: dict[int, int] = {}
        self._release: dict[int, asyncio.Event] = {}
        self._stopping = asyncio.Event()
        self._global_window: deque[float] = deque()
        self._channel_windows: dict[int, _Window] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (port 0 picks a free one)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close the gateway connections, drop held requests, stop listening."""
        self._stopping.set()
        for conn in list(self._open):
            await self._close_connection(conn, 1001, "Fake Discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake Discord has not been started")
        return self._port

    @property
    def api_base(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return _api_base(self.port)

    @property
    def gateway_url(self) -> str:
        """The value for `DiscordWebSocket.DEFAULT_GATEWAY` (and what /gateway/bot answers)."""
        return _gateway_url(self.port)

    # -- the world ---------------------------------------------------------------------------

    def add_guild(
        self,
        guild_id: int,
        name: str,
        *,
        owner_id: int,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        locale: str = "id",
    ) -> FakeGuild:
        """A guild the bot is in, with its @everyone role, the bot's role and the owner."""
        guild = FakeGuild(
            guild_id,
            name,
            owner_id=owner_id,
            bot_user_id=self.bot_user_id,
            bot_name=self.bot_name,
            bot_permissions=bot_permissions,
            everyone_permissions=everyone_permissions,
            locale=locale,
            ids=self._ids,
        )
        self.guilds[guild_id] = guild
        return guild

    def guild(self, guild_id: int) -> FakeGuild:
        return self.guilds[guild_id]

    def channel(self, channel_id: int) -> FakeChannel:
        """A guild channel by id (KeyError when there is none)."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        raise KeyError(channel_id)

    def _find_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel] | None:
        for guild in self.guilds.values():
            channel = guild.channels.get(channel_id)
            if channel is not None:
                return guild, channel
        return None

    async def add_bot_to_guild(self, guild_id: int) -> None:
        """The bot joins (or rejoins) a guild: GUILD_CREATE to the connected bot."""
        guild = self.guilds[guild_id]
        guild.bot_present = True
        guild.joined_at = _now_iso()
        await self._dispatch_guild_create(guild)

    async def remove_bot_from_guild(self, guild_id: int) -> None:
        """The bot is kicked: GUILD_DELETE (without `unavailable`), and its REST access ends."""
        guild = self.guilds[guild_id]
        guild.bot_present = False
        await self._dispatch("GUILD_DELETE", {"id": str(guild_id)}, intent=INTENT_GUILDS)

    async def delete_channel(self, channel_id: int) -> None:
        """A channel is deleted: CHANNEL_DELETE; sends to it get 404 Unknown Channel."""
        guild, channel = self._require_channel(channel_id)
        del guild.channels[channel_id]
        await self._dispatch("CHANNEL_DELETE", channel.payload(), intent=INTENT_GUILDS)

    async def update_channel(self, channel_id: int) -> None:
        """Tell the bot about a changed channel (e.g. new overwrites): CHANNEL_UPDATE."""
        _, channel = self._require_channel(channel_id)
        await self._dispatch("CHANNEL_UPDATE", channel.payload(), intent=INTENT_GUILDS)

    def _require_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        found = self._find_channel(channel_id)
        if found is None:
            raise KeyError(f"no channel {channel_id} in the fake's world")
        return found

    # -- faults ------------------------------------------------------------------------------

    def fail_channel(
        self,
        channel_id: int,
        status: int,
        *,
        code: int = 0,
        retry_after: float | None = None,
        times: int | None = None,
    ) -> None:
        """Answer message creates in a channel with an error: 403 (code 50001 / 50013), 404
        (10003), 429 (with `retry_after`, default 1 s), 500... `times` requests fail, then
        sends succeed again (None: all of them).

        discord.py retries a 429 after `retry_after` (up to 5 tries, then HTTPException; with
        `max_ratelimit_timeout` set, a longer retry_after raises RateLimited at once), and
        retries 500/502/504 after 1, 3, 5, 7 and 9 s before raising DiscordServerError.
        """
        self._faults[channel_id] = _Fault(status, code, retry_after, times)

    def hang_channel(self, channel_id: int) -> None:
        """Hold message creates in a channel unanswered, until `release_channel` or stop."""
        self._hung.add(channel_id)

    def release_channel(self, channel_id: int) -> None:
        """Let held message creates in a channel go on (they are then handled normally)."""
        self._hung.discard(channel_id)
        event = self._release.pop(channel_id, None)
        if event is not None:
            event.set()

    def held_requests(self, channel_id: int) -> int:
        """How many message creates to a hung channel are being held now."""
        return self._held.get(channel_id, 0)

    def clear_faults(self) -> None:
        self._faults.clear()
        for channel_id in list(self._hung):
            self.release_channel(channel_id)

    # -- records -----------------------------------------------------------------------------

    def messages(self, channel_id: int, *, interactions: bool = False) -> list[JSON]:
        """The channel's messages as Discord returns them, edits applied, deleted ones gone.

        Only those the bot posted through the channel API, unless `interactions` is true
        (then non-ephemeral interaction responses and follow-ups too).
        """
        return [
            copy.deepcopy(message)
            for message in self._messages.get(channel_id, [])
            if interactions or "interaction_metadata" not in message
        ]

    def deleted_messages(self, channel_id: int) -> list[JSON]:
        return copy.deepcopy(self._deleted.get(channel_id, []))

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The application commands last synced (globally, or for a guild), with their ids."""
        source = self._global_commands if guild_id is None else self._guild_commands.get(guild_id)
        return copy.deepcopy(source or [])

    def interactions(self) -> list[InteractionRecord]:
        return list(self._interactions.values())

    def calls_to(self, method: str, path: str) -> list[RecordedCall]:
        """The recorded calls with this method whose path matches `path` (a regex, whole)."""
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    def peak_requests_per_second(
        self, *, method: str | None = None, path: str | None = None, window: float = 1.0
    ) -> int:
        """The most requests (of a method / path regex) seen within any `window` seconds."""
        pattern = None if path is None else re.compile(path)
        times = [
            c.at
            for c in self.calls
            if (method is None or c.method == method)
            and (pattern is None or pattern.fullmatch(c.path))
        ]
        best = 0
        start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- gateway control ---------------------------------------------------------------------

    @property
    def requested_intents(self) -> int | None:
        """The intents of the latest IDENTIFY (None before any)."""
        return None if not self.identifies else self.identifies[-1].get("intents")

    async def wait_gateway(self, *, count: int = 1, within: float = 5.0) -> GatewayConnection:
        """Wait until `count` connections have got READY or RESUMED; the last of them."""

        def ready() -> list[GatewayConnection]:
            return [conn for conn in self.connections if conn.ready]

        try:
            async with asyncio.timeout(within), self._gateway_changed:
                await self._gateway_changed.wait_for(lambda: len(ready()) >= count)
        except TimeoutError:
            raise TimeoutError(
                f"{len(ready())} of {count} gateway connections ready after {within}s "
                f"({len(self.connections)} opened)"
            ) from None
        return ready()[count - 1]

    async def drop_gateway(self, *, code: int | None = None) -> None:
        """Cut the gateway connections: abruptly (no close frame) when `code` is None, else a
        close frame with `code` (4000 and most others: the client resumes; 4004, 4010-4014:
        it gives up; 4007 and 4009 end the session, so its RESUME is refused)."""
        for conn in list(self._open):
            if code is None:
                conn.closed_by_fake = True
                request = conn._request
                transport = None if request is None else request.transport
                if transport is not None:
                    transport.abort()
            else:
                await self._close_connection(conn, code, "Fake Discord dropped the connection")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn._closed.wait(), 2.0)

    async def request_reconnect(self) -> None:
        """Send RECONNECT (op 7): the client closes and resumes."""
        for conn in list(self._open):
            await self._send_frame(conn, {"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    # -- interactions ------------------------------------------------------------------------

    async def interaction(
        self,
        *,
        channel_id: int,
        user_id: int,
        guild_id: int | None = None,
        command: str | None = None,
        options: list[JSON] | dict[str, Any] | None = None,
        kind: Literal["command", "component", "autocomplete"] = "command",
        custom_id: str | None = None,
        component_type: int = 2,
        values: list[str] | None = None,
        message_id: int | None = None,
        focused: str | None = None,
        locale: str = "id",
        check_visibility: bool = True,
    ) -> InteractionRecord:
        """Send INTERACTION_CREATE to the connected bot, as Discord does when a user acts.

        In a guild channel the interaction is the guild's (`guild_id` may be left out); in
        any other channel id it is a DM with `user_id`. `command` names a synced command
        (guild commands first, then global ones) whose id goes in `data.id`. `options` is
        Discord's option list, or a {name: value} dict typed from the synced definition;
        users, channels and roles in options are put in `data.resolved`. `kind="component"`
        clicks `custom_id` on `message_id` (default: the latest message carrying it);
        `kind="autocomplete"` marks the `focused` option. With `check_visibility`, a command
        Discord would not show the user (default_member_permissions, contexts) is refused
        here with PermissionError.
        """
        if kind not in INTERACTION_TYPES:
            raise ValueError(f"unknown interaction kind {kind!r}")
        if not any(session.alive for session in self._sessions.values()):
            raise RuntimeError("no bot is connected to the fake gateway")
        guild = self._interaction_guild(channel_id, user_id, guild_id)
        interaction_id = self._ids.next()
        token = f"fake-interaction-{secrets.token_urlsafe(24)}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": INTERACTION_TYPES[kind],
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel_id),
        }
        if guild is not None:
            payload.update(self._guild_context(guild, channel_id, user_id))
        else:
            payload.update(self._dm_context(channel_id, user_id))

        target_message: JSON | None = None
        if kind == "component":
            if custom_id is None:
                raise ValueError("a component interaction needs a custom_id")
            target_message = self._component_message(channel_id, custom_id, message_id)
            data: JSON = {"custom_id": custom_id, "component_type": component_type}
            if values is not None or component_type != 2:
                data["values"] = list(values or [])
            payload["data"] = data
            payload["message"] = copy.deepcopy(target_message)
        else:
            if command is None:
                raise ValueError(f"a {kind} interaction needs a command name")
            definition = self._command_for(command, guild)
            if check_visibility:
                self._check_visibility(definition, guild, channel_id, user_id)
            payload["data"] = self._command_data(
                definition=definition,
                options=options,
                guild=guild,
                channel_id=channel_id,
                user_id=user_id,
                focused=None if kind == "command" else focused,
            )
            if kind == "autocomplete" and not _has_focused(payload["data"].get("options", [])):
                raise ValueError("an autocomplete interaction needs a focused option")

        record = InteractionRecord(
            interaction_id=interaction_id,
            token=token,
            kind=kind,
            payload=payload,
            channel_id=channel_id,
            guild_id=None if guild is None else guild.id,
            dispatched_at=time.monotonic(),
        )
        record.target_message = target_message
        self._interactions[interaction_id] = record
        self._interactions_by_token[token] = record
        await self._dispatch("INTERACTION_CREATE", payload)
        return record

    def _interaction_guild(
        self, channel_id: int, user_id: int, guild_id: int | None
    ) -> FakeGuild | None:
        """The guild of an interaction in this channel (None: a DM), checked."""
        found = self._find_channel(channel_id)
        if found is None:
            if guild_id is not None:
                raise KeyError(f"no channel {channel_id} in guild {guild_id}")
            return None
        guild = found[0]
        if guild_id is not None and guild_id != guild.id:
            raise ValueError(f"channel {channel_id} is in guild {guild.id}, not {guild_id}")
        if user_id not in guild.members:
            raise KeyError(f"user {user_id} is not a member of guild {guild.id}")
        return guild

    def _guild_context(self, guild: FakeGuild, channel_id: int, user_id: int) -> JSON:
        """The guild half of an interaction: member (with their permissions in the channel),
        channel, app_permissions (the bot's in the channel), guild locale."""
        channel_data = guild.channels[channel_id].payload()
        channel_data["permissions"] = str(guild.permissions_in(channel_id, user_id))
        member_data = guild.members[user_id].payload()
        member_data["permissions"] = str(guild.permissions_in(channel_id, user_id))
        return {
            "guild_id": str(guild.id),
            "guild_locale": guild.locale,
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
            "channel": channel_data,
            "member": member_data,
            "app_permissions": str(guild.permissions_in(channel_id, self.bot_user_id)),
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
        }

    def _dm_context(self, channel_id: int, user_id: int) -> JSON:
        """The DM half of an interaction: user instead of member, and the DM channel."""
        user = self._user(user_id)
        self._dm_channels[channel_id] = user_id
        return {
            "user": user,
            "channel": {
                "id": str(channel_id),
                "type": DM,
                "recipients": [user],
                "last_message_id": None,
                "flags": 0,
            },
            "app_permissions": str(DM_PERMISSIONS),
            # A guild-installed app in a DM with its bot: the guild owner key is "0".
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
        }

    def _user(self, user_id: int) -> JSON:
        for guild in self.guilds.values():
            member = guild.members.get(user_id)
            if member is not None:
                return member.user_payload()
        return _user_payload(user_id, f"user-{user_id}")

    def _command_for(self, name: str, guild: FakeGuild | None) -> JSON:
        if guild is not None:
            for definition in self._guild_commands.get(guild.id, []):
                if definition["name"] == name and definition.get("type", 1) == 1:
                    return definition
        for definition in self._global_commands:
            if definition["name"] == name and definition.get("type", 1) == 1:
                return definition
        where = "globally" if guild is None else f"for guild {guild.id} or globally"
        raise LookupError(f"no command /{name} was synced {where}; sync the bot's tree first")

    def _check_visibility(
        self, definition: JSON, guild: FakeGuild | None, channel_id: int, user_id: int
    ) -> None:
        name = definition["name"]
        contexts = definition.get("contexts")
        if guild is None:
            if contexts is not None and 1 not in contexts:
                raise PermissionError(f"/{name} is not offered in DMs with the bot")
            if contexts is None and definition.get("dm_permission") is False:
                raise PermissionError(f"/{name} is not offered in DMs")
            return
        if contexts is not None and 0 not in contexts:
            raise PermissionError(f"/{name} is not offered in guilds")
        if not guild.permissions_in(channel_id, user_id) & Perm.USE_APPLICATION_COMMANDS:
            raise PermissionError(f"user {user_id} may not use commands in {channel_id}")
        required = definition.get("default_member_permissions")
        if required is not None:
            needed = int(required)
            if guild.base_permissions(user_id) & needed != needed:
                raise PermissionError(
                    f"Discord does not offer /{name} to user {user_id}: it needs permissions "
                    f"{needed}; pass check_visibility=False to send it anyway"
                )

    def _command_data(
        self,
        *,
        definition: JSON,
        options: list[JSON] | dict[str, Any] | None,
        guild: FakeGuild | None,
        channel_id: int,
        user_id: int,
        focused: str | None,
    ) -> JSON:
        if isinstance(options, dict):
            option_list = _typed_options(definition, options, focused)
        else:
            option_list = copy.deepcopy(options or [])
        data: JSON = {
            "id": definition["id"],
            "name": definition["name"],
            "type": definition.get("type", 1),
        }
        if option_list:
            data["options"] = option_list
        if definition.get("guild_id") is not None:
            data["guild_id"] = definition["guild_id"]
        resolved = self._resolved(option_list, guild, channel_id, user_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _resolved(
        self, options: list[JSON], guild: FakeGuild | None, channel_id: int, user_id: int
    ) -> JSON:
        """data.resolved for the options' users, members, roles and channels (a resolved
        channel carries the invoking user's permissions in it)."""
        resolved: JSON = {}
        for option in _leaf_options(options):
            kind = option.get("type")
            if kind not in (OPTION_USER, OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE):
                continue
            if option.get("focused"):
                continue
            target = int(option["value"])
            if guild is not None and kind in (OPTION_ROLE, OPTION_MENTIONABLE):
                role = guild.roles.get(target)
                if role is not None:
                    resolved.setdefault("roles", {})[str(target)] = role.payload()
                    continue
            if kind in (OPTION_USER, OPTION_MENTIONABLE):
                resolved.setdefault("users", {})[str(target)] = self._user(target)
                if guild is not None and target in guild.members:
                    member = guild.members[target].payload(with_user=False)
                    member["permissions"] = str(guild.permissions_in(channel_id, target))
                    resolved.setdefault("members", {})[str(target)] = member
            elif kind == OPTION_CHANNEL:
                found = self._find_channel(target)
                if found is None:
                    raise KeyError(f"option {option['name']}: no channel {target}")
                owner, channel = found
                data = channel.payload()
                data["permissions"] = str(owner.permissions_in(target, user_id))
                resolved.setdefault("channels", {})[str(target)] = data
        return resolved

    def _component_message(self, channel_id: int, custom_id: str, message_id: int | None) -> JSON:
        if message_id is not None:
            message = self._message_index.get(message_id)
            if message is None or int(message["channel_id"]) != channel_id:
                raise KeyError(f"no message {message_id} in channel {channel_id}")
            return message
        for message in reversed(self._messages.get(channel_id, [])):
            if custom_id in _custom_ids(message.get("components") or []):
                return message
        raise KeyError(f"no message in channel {channel_id} carries component {custom_id!r}")

    # -- gateway -----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        conn = GatewayConnection(
            number=len(self.connections) + 1, query=query, opened_at=time.monotonic()
        )
        conn._ws = ws
        conn._request = request
        if query.get("compress") == "zlib-stream":
            conn._zlib = zlib.compressobj()
        self.connections.append(conn)
        self._open.add(conn)
        try:
            if query.get("v", str(API_VERSION)) != str(API_VERSION):
                await self._close_connection(conn, 4012, "Invalid API version")
            elif query.get("encoding", "json") != "json":
                await self._close_connection(conn, 4002, "Decode error")
            else:
                hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]}
                await self._send_frame(conn, {"op": OP_HELLO, "d": hello, "s": None, "t": None})
                async for message in ws:
                    if message.type is WSMsgType.TEXT:
                        await self._on_gateway_text(conn, message.data)
                    elif message.type is WSMsgType.BINARY:
                        await self._close_connection(conn, 4002, "Decode error")
                    if ws.closed:
                        break
        finally:
            conn.closed_at = time.monotonic()
            # When the fake closes, the client's answering close frame may carry another code.
            conn.close_code = conn._sent_close_code or ws.close_code
            self._open.discard(conn)
            session = conn._session
            if session is not None and session.conn is conn:
                session.conn = None
                if not conn.closed_by_fake and ws.close_code in SESSION_ENDING_CLOSE_CODES:
                    session.alive = False  # the client closed the session on purpose
            conn._closed.set()
        return ws

    async def _close_connection(self, conn: GatewayConnection, code: int, reason: str) -> None:
        conn.closed_by_fake = True
        if conn._sent_close_code is None:
            conn._sent_close_code = code
        session = conn._session
        if session is not None and code in SESSION_ENDING_CLOSE_CODES - {1001}:
            session.alive = False
        if conn._ws is not None and not conn._ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn._ws.close(code=code, message=reason.encode())

    async def _on_gateway_text(self, conn: GatewayConnection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            await self._close_connection(conn, 4002, "Decode error")
            return
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            if self.ack_heartbeats:
                await self._send_frame(conn, {"op": OP_HEARTBEAT_ACK, "d": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE, OP_REQUEST_GUILD_MEMBERS):
            if conn._session is None:
                await self._close_connection(conn, 4003, "Not authenticated.")
            else:
                conn.other_ops.append(frame)
        else:
            await self._close_connection(conn, 4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn._session is not None:
            await self._close_connection(conn, 4005, "Already authenticated.")
            return
        conn.identify = data
        self.identifies.append(data)
        if data.get("token") != self.token:
            await self._close_connection(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents & ~ALL_INTENTS:
            await self._close_connection(conn, 4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            await self._close_connection(conn, 4014, "Disallowed intent(s).")
            return
        # A new session: sessions left without a connection will not be resumed.
        for old in self._sessions.values():
            if old.conn is None:
                old.alive = False
        session = _Session(id=secrets.token_hex(16), intents=intents, shard=data.get("shard"))
        self._sessions[session.id] = session
        session.conn = conn
        conn._session = session
        ready: JSON = {
            "v": API_VERSION,
            "user": self._bot_user(),
            "guilds": [
                {"id": str(guild.id), "unavailable": True}
                for guild in self.guilds.values()
                if guild.bot_present
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self._app_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._session_send(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild in self.guilds.values():
                if guild.bot_present:
                    await self._session_send(
                        session,
                        "GUILD_CREATE",
                        guild.payload(all_members=bool(intents & INTENT_GUILD_MEMBERS)),
                    )
        await self._mark_ready(conn)

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        conn.resume = data
        self.resumes.append(data)
        if data.get("token") != self.token:
            await self._close_connection(conn, 4004, "Authentication failed.")
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not session.alive or self.resume_mode == "invalidate":
            if session is not None:
                session.alive = False
            conn.invalidated = True
            await self._send_frame(conn, {"op": OP_INVALID_SESSION, "d": False})
            return
        previous = session.conn
        session.conn = None
        if previous is not None and previous is not conn:
            await self._close_connection(previous, 4000, "Session resumed elsewhere")
        conn._session = session
        seq = int(data.get("seq") or 0)
        index = next((i for i, frame in enumerate(session.log) if frame["s"] > seq), None)
        if index is not None:
            # Events dispatched while replaying are appended to the log and replayed too.
            while index < len(session.log):
                await self._send_frame(conn, session.log[index])
                index += 1
        session.conn = conn
        await self._session_send(session, "RESUMED", {"_trace": ["fake-discord"]})
        await self._mark_ready(conn)

    async def _mark_ready(self, conn: GatewayConnection) -> None:
        conn.ready = True
        async with self._gateway_changed:
            self._gateway_changed.notify_all()

    async def _send_frame(self, conn: GatewayConnection, frame: JSON) -> None:
        ws = conn._ws
        async with conn._lock:
            if ws is None or ws.closed:
                return
            text = json.dumps(frame)
            try:
                if conn._zlib is not None:
                    packed = conn._zlib.compress(text.encode()) + conn._zlib.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await ws.send_bytes(packed)
                else:
                    await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            conn.frames.append(frame)

    async def _session_send(self, session: _Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.conn is not None:
            await self._send_frame(session.conn, frame)

    async def _dispatch(self, event: str, data: JSON, *, intent: int = 0) -> None:
        """Send a dispatch to every live session that asked for its intent (logged for
        replay when the session is between connections)."""
        for session in list(self._sessions.values()):
            if session.alive and (intent == 0 or session.intents & intent):
                await self._session_send(session, event, copy.deepcopy(data))

    async def _dispatch_guild_create(self, guild: FakeGuild) -> None:
        for session in list(self._sessions.values()):
            if session.alive and session.intents & INTENT_GUILDS:
                all_members = bool(session.intents & INTENT_GUILD_MEMBERS)
                await self._session_send(
                    session, "GUILD_CREATE", guild.payload(all_members=all_members)
                )

    def _bot_user(self) -> JSON:
        user = _user_payload(self.bot_user_id, self.bot_name, bot=True)
        user.update(
            {"verified": True, "mfa_enabled": False, "flags": 0, "email": None, "locale": "en-US"}
        )
        return user

    def _app_flags(self) -> int:
        return APP_FLAGS_PRIVILEGED if self.privileged_intents else 0

    # -- REST plumbing -----------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        api = f"/api/v{API_VERSION}"
        router = app.router
        router.add_get("/gateway", self._gateway, name="ws")
        if self._control_api:
            self._add_control_routes(router)
        routes: list[tuple[str, str, Any, str | None]] = [
            ("GET", "/gateway", self._get_gateway, "public"),
            ("GET", "/gateway/bot", self._get_gateway_bot, None),
            ("GET", "/users/@me", self._get_me, None),
            ("POST", "/users/@me/channels", self._open_dm, None),
            ("GET", "/users/{user_id}", self._get_user, None),
            ("GET", "/oauth2/applications/@me", self._get_application, None),
            ("GET", "/applications/@me", self._get_application, None),
            ("DELETE", "/users/@me/guilds/{guild_id}", self._leave_guild, None),
            ("GET", "/guilds/{guild_id}", self._get_guild, None),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, None),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, None),
            ("GET", "/channels/{channel_id}", self._get_channel, None),
            ("POST", "/channels/{channel_id}/typing", self._typing, None),
            ("GET", "/channels/{channel_id}/messages", self._list_messages, None),
            ("POST", "/channels/{channel_id}/messages", self._create_message, None),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, None),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message, None),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message, None),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/crosspost",
                self._crosspost,
                None,
            ),
            ("GET", "/applications/{app_id}/commands", self._get_commands, None),
            ("PUT", "/applications/{app_id}/commands", self._put_commands, None),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands, None),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands, None),
            (
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                self._interaction_callback,
                "public",
            ),
            ("POST", "/webhooks/{app_id}/{token}", self._followup, "public"),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_wh, "public"),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_wh, "public"),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._delete_wh,
                "public",
            ),
        ]
        for number, (method, path, handler, kind) in enumerate(routes):
            router.add_route(method, api + path, handler, name=f"{kind or 'bot'}_{number}")
        router.add_route("*", "/{tail:.*}", self._unknown, name="unknown")

    async def _read_body(self, request: web.Request) -> tuple[Any, list[str]]:
        if request.content_type == "multipart/form-data":
            form = await request.post()
            files = [
                str(value.filename) for value in form.values() if isinstance(value, web.FileField)
            ]
            raw = form.get("payload_json")
            return (json.loads(raw) if isinstance(raw, str) else None), files
        raw_bytes = await request.read()
        if not raw_bytes:
            return None, []
        try:
            return json.loads(raw_bytes), []
        except ValueError:
            return raw_bytes.decode(errors="replace"), []

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        name = request.match_info.route.name or ""
        if name == "ws" or (name != "unknown" and request.path.startswith("/_fake/")):
            response: web.StreamResponse = await handler(request)
            return response
        api = f"/api/v{API_VERSION}"
        path = request.path[len(api) :] if request.path.startswith(api) else request.path
        body, files = await self._read_body(request)
        call = RecordedCall(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
            at=time.monotonic(),
        )
        self.calls.append(call)
        request[_BODY] = body
        request[_FILES] = files
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            if name == "unknown":
                self.unexpected_calls.append(call)
                raise DiscordError(
                    404, 0, f"404: Not Found (the fake has no {call.method} {path})"
                )
            if not name.startswith("public_"):
                if request.headers.get("Authorization") != f"Bot {self.token}":
                    raise DiscordError(401, 0, "401: Unauthorized")
                self._check_global_limit()
            response = await handler(request)
        except DiscordError as error:
            response = error.response()
        call.status = response.status
        if response.status == 429:
            self.rate_limited += 1
        return response

    def _check_global_limit(self) -> None:
        limit = self.global_limit_per_second
        if limit is None:
            return
        now = time.monotonic()
        window = self._global_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            retry_after = max(0.001, 1.0 - (now - window[0]))
            self.global_rate_limited += 1
            raise _rate_limited(
                retry_after, scope="global", is_global=True, limit=int(limit), bucket=None
            )
        window.append(now)

    def _channel_limit_headers(self, channel_id: int) -> dict[str, str]:
        """Count a message create against the channel's bucket: its headers, or a 429."""
        if self.channel_limit is None:
            return {}
        limit, per = self.channel_limit
        now = time.monotonic()
        window = self._channel_windows.get(channel_id)
        if window is None or now >= window.started + per:
            window = self._channel_windows[channel_id] = _Window(started=now)
        reset_after = max(0.001, window.started + per - now)
        bucket = MESSAGE_BUCKET
        if window.count >= limit:
            raise _rate_limited(
                reset_after, scope="user", is_global=False, limit=limit, bucket=bucket
            )
        window.count += 1
        return _bucket_headers(limit, limit - window.count, reset_after, bucket)

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        raise DiscordError(404, 0, "404: Not Found")

    # -- REST: identity ----------------------------------------------------------------------

    async def _get_gateway(self, request: web.Request) -> web.StreamResponse:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.StreamResponse:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.identifies),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.StreamResponse:
        return _json(self._bot_user())

    async def _get_user(self, request: web.Request) -> web.StreamResponse:
        return _json(self._user(int(request.match_info["user_id"])))

    async def _open_dm(self, request: web.Request) -> web.StreamResponse:
        """The DM channel with a user, the same one each time (Discord's create DM)."""
        body, _files = await self._read_body(request)
        user_id = int(body["recipient_id"])
        channel_id = next(
            (channel for channel, user in self._dm_channels.items() if user == user_id),
            None,
        )
        if channel_id is None:
            channel_id = DM_CHANNEL_BASE + len(self._dm_channels) + 1
            self._dm_channels[channel_id] = user_id
        user = self._user(user_id)
        return _json(
            {
                "id": str(channel_id),
                "type": DM,
                "recipients": [user],
                "last_message_id": None,
                "flags": 0,
            }
        )

    async def _get_application(self, request: web.Request) -> web.StreamResponse:
        owner = _user_payload(DEFAULT_OWNER_ID, "app-owner")
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "team": None,
                "flags": self._app_flags(),
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
                "approximate_guild_count": len(self.guilds),
                "bot": _user_payload(self.bot_user_id, self.bot_name, bot=True),
            }
        )

    async def _leave_guild(self, request: web.Request) -> web.StreamResponse:
        guild = self._bot_guild(int(request.match_info["guild_id"]))
        await self.remove_bot_from_guild(guild.id)
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _bot_guild(self, guild_id: int) -> FakeGuild:
        guild = self.guilds.get(guild_id)
        if guild is None or not guild.bot_present:
            raise DiscordError(404, 10004) if guild is None else DiscordError(403, 50001)
        return guild

    async def _get_guild(self, request: web.Request) -> web.StreamResponse:
        guild = self._bot_guild(int(request.match_info["guild_id"]))
        data = guild.payload(all_members=False)
        for key in ("channels", "members", "threads", "presences", "voice_states", "joined_at"):
            data.pop(key, None)
        return _json(data)

    async def _get_guild_channels(self, request: web.Request) -> web.StreamResponse:
        guild = self._bot_guild(int(request.match_info["guild_id"]))
        return _json([channel.payload() for channel in guild.channels.values()])

    async def _get_member(self, request: web.Request) -> web.StreamResponse:
        guild = self._bot_guild(int(request.match_info["guild_id"]))
        member = guild.members.get(int(request.match_info["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return _json(member.payload())

    # -- REST: channels and messages ---------------------------------------------------------

    def _channel_for_bot(self, channel_id: int) -> tuple[FakeGuild | None, int]:
        """The channel's guild (None for a DM) and the bot's permissions in it."""
        if channel_id in self._dm_channels:
            return None, DM_PERMISSIONS
        found = self._find_channel(channel_id)
        if found is None:
            raise DiscordError(404, 10003)
        guild, _ = found
        if not guild.bot_present:
            raise DiscordError(403, 50001)
        permissions = guild.permissions_in(channel_id, self.bot_user_id)
        if not permissions & Perm.VIEW_CHANNEL:
            raise DiscordError(403, 50001)
        return guild, permissions

    async def _get_channel(self, request: web.Request) -> web.StreamResponse:
        channel_id = int(request.match_info["channel_id"])
        guild, _ = self._channel_for_bot(channel_id)
        if guild is None:
            user = self._user(self._dm_channels[channel_id])
            return _json({"id": str(channel_id), "type": DM, "recipients": [user], "flags": 0})
        return _json(guild.channels[channel_id].payload())

    async def _typing(self, request: web.Request) -> web.StreamResponse:
        self._channel_for_bot(int(request.match_info["channel_id"]))
        return web.Response(status=204, headers={"Via": "1.1 google"})

    async def _list_messages(self, request: web.Request) -> web.StreamResponse:
        channel_id = int(request.match_info["channel_id"])
        _, permissions = self._channel_for_bot(channel_id)
        if not permissions & Perm.READ_MESSAGE_HISTORY:
            return _json([])
        limit = min(100, int(request.query.get("limit", "50")))
        messages = list(reversed(self._messages.get(channel_id, [])))
        if "before" in request.query:
            messages = [m for m in messages if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            messages = [m for m in messages if int(m["id"]) > int(request.query["after"])]
        return _json(messages[:limit])

    async def _create_message(self, request: web.Request) -> web.StreamResponse:
        channel_id = int(request.match_info["channel_id"])
        self._channel_for_bot_or_missing(channel_id)
        if channel_id in self._hung:
            await self._hold(request, channel_id)
        headers = self._channel_limit_headers(channel_id)
        self._apply_fault(channel_id)
        guild, permissions = self._channel_for_bot(channel_id)
        if not permissions & Perm.SEND_MESSAGES:
            raise DiscordError(403, 50013)
        body = request[_BODY]
        if not isinstance(body, dict):
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        errors = _FormErrors()
        _validate_message_body(body, errors)
        errors.raise_if_any()
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel_id, str(nonce)))
            if earlier is not None and time.monotonic() - earlier[1] < NONCE_WINDOW_SECONDS:
                message = self._message_index.get(earlier[0])
                if message is None:
                    raise DiscordError(404, 10008)
                return _json(message, headers=headers)
        if body.get("embeds") and not permissions & Perm.EMBED_LINKS:
            self.dropped_embeds += len(body["embeds"])
            body = {**body, "embeds": []}
        files = request[_FILES]
        attachments = [{"id": str(index), "filename": name} for index, name in enumerate(files)]
        if _is_empty({**body, "attachments": attachments}):
            raise DiscordError(400, 50006)
        message = self._new_message(
            channel_id=channel_id,
            guild_id=None if guild is None else guild.id,
            body=body,
            files=files,
        )
        self._store(channel_id, message)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel_id, str(nonce))] = (int(message["id"]), time.monotonic())
        await self._dispatch_message("MESSAGE_CREATE", message, guild)
        return _json(message, headers=headers)

    def _channel_for_bot_or_missing(self, channel_id: int) -> None:
        if channel_id not in self._dm_channels and self._find_channel(channel_id) is None:
            raise DiscordError(404, 10003)

    async def _hold(self, request: web.Request, channel_id: int) -> None:
        """Hold a request until the channel is released (go on) or the fake stops (cut)."""
        event = self._release.setdefault(channel_id, asyncio.Event())
        self._held[channel_id] = self._held.get(channel_id, 0) + 1
        stopping = asyncio.ensure_future(self._stopping.wait())
        released = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({stopping, released}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            released.cancel()
            self._held[channel_id] -= 1
        if self._stopping.is_set():
            # The fake goes away without answering: the connection is cut.
            if request.transport is not None:
                request.transport.abort()
            raise DiscordError(503, 0)

    def _apply_fault(self, channel_id: int) -> None:
        fault = self._faults.get(channel_id)
        if fault is None:
            return
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[channel_id]
        if fault.status == 429:
            retry_after = 1.0 if fault.retry_after is None else fault.retry_after
            raise _rate_limited(
                retry_after,
                scope="user",
                is_global=False,
                limit=5,
                bucket=MESSAGE_BUCKET,
            )
        raise DiscordError(fault.status, fault.code)

    def _new_message(
        self,
        *,
        channel_id: int,
        guild_id: int | None,
        body: JSON,
        files: list[str],
        message_type: int = MESSAGE_DEFAULT,
        interaction: InteractionRecord | None = None,
    ) -> JSON:
        message_id = self._ids.next()
        # Attachment URLs the fake does not serve; nothing fetches them in the tests.
        where = f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{message_id}"
        attachments = [
            {
                "id": str(self._ids.next()),
                "filename": name,
                "size": 0,
                "url": f"{where}/{name}",
                "proxy_url": f"{where}/{name}",
                "content_type": "application/octet-stream",
            }
            for name in files
        ]
        flags = int(body.get("flags") or 0) & (FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2)
        if interaction is not None:
            flags |= int(body.get("flags") or 0) & FLAG_EPHEMERAL
        message: JSON = {
            "id": str(message_id),
            "type": message_type,
            "channel_id": str(channel_id),
            "content": body.get("content") or "",
            "author": _user_payload(self.bot_user_id, self.bot_name, bot=True),
            "attachments": attachments,
            "embeds": _normalised_embeds(body.get("embeds") or []),
            "components": copy.deepcopy(body.get("components") or []),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if interaction is not None:
            user = interaction.payload.get("user") or interaction.payload["member"]["user"]
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": INTERACTION_TYPES[interaction.kind],
                "user": user,
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
        return message

    def _store(self, channel_id: int, message: JSON) -> None:
        self._messages.setdefault(channel_id, []).append(message)
        self._message_index[int(message["id"])] = message
        found = self._find_channel(channel_id)
        if found is not None:
            found[1].last_message_id = int(message["id"])

    async def _dispatch_message(self, event: str, message: JSON, guild: FakeGuild | None) -> None:
        intent = INTENT_GUILD_MESSAGES if guild is not None else INTENT_DIRECT_MESSAGES
        await self._dispatch(event, message, intent=intent)

    def _channel_message(self, request: web.Request) -> tuple[FakeGuild | None, int, JSON]:
        channel_id = int(request.match_info["channel_id"])
        guild, permissions = self._channel_for_bot(channel_id)
        message = self._message_index.get(int(request.match_info["message_id"]))
        if message is None or int(message["channel_id"]) != channel_id:
            raise DiscordError(404, 10008)
        return guild, permissions, message

    async def _get_message(self, request: web.Request) -> web.StreamResponse:
        _, permissions, message = self._channel_message(request)
        if not permissions & Perm.READ_MESSAGE_HISTORY:
            raise DiscordError(403, 50001)
        return _json(message)

    async def _edit_message(self, request: web.Request) -> web.StreamResponse:
        guild, permissions, message = self._channel_message(request)
        if message["author"]["id"] != str(self.bot_user_id):
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = _body_dict(request)
        self._apply_edit(message, body, permissions)
        await self._dispatch_message("MESSAGE_UPDATE", message, guild)
        return _json(message)

    def _apply_edit(self, message: JSON, body: JSON, permissions: int) -> None:
        errors = _FormErrors()
        _validate_message_body(body, errors)
        errors.raise_if_any()
        edited = copy.deepcopy(message)
        if "content" in body:
            edited["content"] = body["content"] or ""
        if "embeds" in body:
            embeds = body["embeds"] or []
            if embeds and not permissions & Perm.EMBED_LINKS:
                self.dropped_embeds += len(embeds)
                embeds = []
            edited["embeds"] = _normalised_embeds(embeds)
        if "components" in body:
            edited["components"] = copy.deepcopy(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = edited["flags"] & ~FLAG_SUPPRESS_EMBEDS
            edited["flags"] = keep | (int(body["flags"]) & FLAG_SUPPRESS_EMBEDS)
        if "attachments" in body and body["attachments"] is not None:
            kept = {str(a.get("id")) for a in body["attachments"]}
            edited["attachments"] = [a for a in edited["attachments"] if a["id"] in kept]
        if _is_empty(edited):
            raise DiscordError(400, 50006)
        edited["flags"] &= ~FLAG_LOADING
        edited["edited_timestamp"] = _now_iso()
        message.clear()
        message.update(edited)

    async def _delete_message(self, request: web.Request) -> web.StreamResponse:
        guild, permissions, message = self._channel_message(request)
        if message["author"]["id"] != str(self.bot_user_id) and not (
            permissions & Perm.MANAGE_MESSAGES
        ):
            raise DiscordError(403, 50013)
        self._remove(message)
        await self._dispatch_message(
            "MESSAGE_DELETE",
            {
                "id": message["id"],
                "channel_id": message["channel_id"],
                **({"guild_id": str(guild.id)} if guild else {}),
            },
            guild,
        )
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _remove(self, message: JSON) -> None:
        channel_id = int(message["channel_id"])
        messages = self._messages.get(channel_id, [])
        if message in messages:
            messages.remove(message)
            self._deleted.setdefault(channel_id, []).append(copy.deepcopy(message))
        self._message_index.pop(int(message["id"]), None)

    async def _crosspost(self, request: web.Request) -> web.StreamResponse:
        guild, permissions, message = self._channel_message(request)
        channel_id = int(request.match_info["channel_id"])
        if guild is None or not guild.channels[channel_id].news:
            raise DiscordError(400, 50024)
        own = message["author"]["id"] == str(self.bot_user_id)
        if not permissions & (Perm.SEND_MESSAGES if own else Perm.MANAGE_MESSAGES):
            raise DiscordError(403, 50013)
        if message["flags"] & FLAG_CROSSPOSTED:
            raise DiscordError(400, 40033)
        message["flags"] |= FLAG_CROSSPOSTED
        self.crossposts.append((channel_id, int(message["id"])))
        return _json(message)

    # -- REST: application commands ----------------------------------------------------------

    def _command_scope(self, request: web.Request) -> tuple[int | None, list[JSON]]:
        if request.match_info["app_id"] != str(self.application_id):
            raise DiscordError(403, 20012)
        raw_guild = request.match_info.get("guild_id")
        if raw_guild is None:
            return None, self._global_commands
        guild = self._bot_guild(int(raw_guild))
        return guild.id, self._guild_commands.setdefault(guild.id, [])

    async def _get_commands(self, request: web.Request) -> web.StreamResponse:
        _, commands = self._command_scope(request)
        return _json(commands)

    async def _put_commands(self, request: web.Request) -> web.StreamResponse:
        guild_id, existing = self._command_scope(request)
        body = request[_BODY]
        if not isinstance(body, list):
            raise DiscordError(400, 50035, errors={"_errors": [{"code": "BASE_TYPE_ARRAY"}]})
        errors = _FormErrors()
        for index, command in enumerate(body):
            name = command.get("name") or ""
            if not _COMMAND_NAME.fullmatch(name) or (
                command.get("type", 1) == 1 and name != name.lower()
            ):
                errors.add([index, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            if command.get("type", 1) == 1:
                description = command.get("description") or ""
                if not 1 <= len(description) <= 100:
                    errors.add(
                        [index, "description"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )
        errors.raise_if_any()
        by_key = {(c["name"], c.get("type", 1)): c for c in existing}
        stored = []
        for command in body:
            key = (command["name"], command.get("type", 1))
            earlier = by_key.get(key)
            item = copy.deepcopy(command)
            permissions = item.get("default_member_permissions")
            item.update(
                {
                    "id": earlier["id"] if earlier else str(self._ids.next()),
                    "application_id": str(self.application_id),
                    "version": str(self._ids.next()),
                    "type": command.get("type", 1),
                    "description": command.get("description", ""),
                    "default_member_permissions": (
                        None if permissions is None else str(permissions)
                    ),
                    "options": command.get("options") or [],
                    "nsfw": bool(command.get("nsfw", False)),
                }
            )
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        existing[:] = stored
        return _json(stored)

    # -- REST: interaction responses ---------------------------------------------------------

    async def _interaction_callback(self, request: web.Request) -> web.StreamResponse:
        record = self._interactions.get(int(request.match_info["interaction_id"]))
        body = _body_dict(request)
        now = time.monotonic()
        if record is None or record.token != request.match_info["token"]:
            raise DiscordError(404, 10062)
        try:
            response = await self._answer_interaction(record, body, request, now)
        except DiscordError as error:
            record.rejected.append(
                {"status": error.status, "code": error.code, "body": body, "at": now}
            )
            await record._notify()
            raise
        await record._notify()
        return response

    async def _answer_interaction(
        self, record: InteractionRecord, body: JSON, request: web.Request, now: float
    ) -> web.StreamResponse:
        if record.callback is not None:
            raise DiscordError(400, 40060)
        if now - record.dispatched_at > self.interaction_deadline:
            raise DiscordError(404, 10062)
        callback_type = body.get("type")
        data = body.get("data") or {}
        if callback_type not in CALLBACK_TYPES[record.kind]:
            errors = _FormErrors()
            errors.add(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")
            errors.raise_if_any()
        assert isinstance(callback_type, int)
        guild = None if record.guild_id is None else self.guilds.get(record.guild_id)
        message: JSON | None = None
        if callback_type == 4:
            message = self._interaction_message(record, data, request[_FILES], guild)
            record.original = message
        elif callback_type == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._interaction_message(
                record, {"content": "", "flags": flags}, [], guild, allow_empty=True
            )
            message["flags"] = flags
            record.original = message
        elif callback_type == 7:
            target = record.target_message
            if target is None:
                raise DiscordError(400, 10008)
            self._apply_edit(target, data, ALL_PERMISSIONS)
            message = target
        elif callback_type == 8:
            choices = data.get("choices") or []
            errors = _FormErrors()
            errors.too_long(["data", "choices"], choices, AUTOCOMPLETE_CHOICES_LIMIT)
            errors.raise_if_any()
        record.callback = InteractionCallback(
            type=callback_type, data=data, at=now, delay=now - record.dispatched_at
        )
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204, headers={"Via": "1.1 google"})
        interaction: JSON = {
            "id": str(record.id),
            "type": INTERACTION_TYPES[record.kind],
            "response_message_loading": callback_type == 5,
            "response_message_ephemeral": bool(
                message is not None and message["flags"] & FLAG_EPHEMERAL
            ),
        }
        answer: JSON = {"interaction": interaction}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            answer["resource"] = {"type": callback_type, "message": message}
        elif callback_type in (6, 9):
            answer["resource"] = {"type": callback_type}
        return _json(answer)

    def _interaction_message(
        self,
        record: InteractionRecord,
        data: JSON,
        files: list[str],
        guild: FakeGuild | None,
        *,
        allow_empty: bool = False,
    ) -> JSON:
        errors = _FormErrors()
        _validate_message_body(data, errors)
        errors.raise_if_any()
        # Interaction responses are webhook messages: their embeds need no EMBED_LINKS.
        body = dict(data)
        attachments = [{"filename": name} for name in files]
        if not allow_empty and _is_empty({**body, "attachments": attachments}):
            raise DiscordError(400, 50006)
        message_type = MESSAGE_CHAT_INPUT_COMMAND if record.kind == "command" else MESSAGE_DEFAULT
        message = self._new_message(
            channel_id=record.channel_id,
            guild_id=None if guild is None else guild.id,
            body=body,
            files=files,
            message_type=message_type,
            interaction=record,
        )
        self._message_index[int(message["id"])] = message
        if not message["flags"] & FLAG_EPHEMERAL:
            self._messages.setdefault(record.channel_id, []).append(message)
        return message

    def _webhook_record(self, request: web.Request) -> InteractionRecord:
        record = self._interactions_by_token.get(request.match_info["token"])
        if record is None or request.match_info["app_id"] != str(self.application_id):
            raise DiscordError(404, 10015)
        return record

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        record = self._webhook_record(request)
        if record.callback is None:
            raise DiscordError(404, 10015)
        body = _body_dict(request)
        guild = None if record.guild_id is None else self.guilds.get(record.guild_id)
        message = self._interaction_message(record, body, request[_FILES], guild)
        record.followups.append(message)
        await record._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message)
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> JSON:
        if message_id == "@original":
            message = record.original
            if message is None and record.callback is not None and record.callback.type in (6, 7):
                message = record.target_message
            if message is None or record.original_deleted:
                raise DiscordError(404, 10008)
            return message
        for message in record.followups:
            if message["id"] == message_id:
                return message
        raise DiscordError(404, 10008)

    async def _get_wh(self, request: web.Request) -> web.StreamResponse:
        record = self._webhook_record(request)
        return _json(self._webhook_message(record, request.match_info["message_id"]))

    async def _edit_wh(self, request: web.Request) -> web.StreamResponse:
        record = self._webhook_record(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        body = _body_dict(request)
        self._apply_edit(message, body, ALL_PERMISSIONS)
        if request.match_info["message_id"] == "@original":
            record.edits.append(body)
        await record._notify()
        return _json(message)

    async def _delete_wh(self, request: web.Request) -> web.StreamResponse:
        record = self._webhook_record(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        self._remove(message)
        if request.match_info["message_id"] == "@original":
            record.original_deleted = True
        await record._notify()
        return web.Response(status=204, headers={"Via": "1.1 google"})

    # -- control API (subprocess mode) -------------------------------------------------------

    def _add_control_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/_fake/state", self._control_state)
        router.add_get("/_fake/wait_gateway", self._control_wait_gateway)
        router.add_post("/_fake/interaction", self._control_interaction)
        router.add_get("/_fake/interactions/{interaction_id}", self._control_get_interaction)
        router.add_get("/_fake/calls", self._control_calls)
        router.add_get("/_fake/unexpected", self._control_unexpected)
        router.add_get("/_fake/messages/{channel_id}", self._control_messages)
        router.add_get("/_fake/commands", self._control_commands)
        router.add_post("/_fake/drop_gateway", self._control_drop_gateway)
        router.add_post("/_fake/fail_channel", self._control_fail_channel)
        router.add_post("/_fake/remove_bot", self._control_remove_bot)
        router.add_post("/_fake/delete_channel", self._control_delete_channel)

    async def _control_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "port": self.port,
                "api_base": self.api_base,
                "gateway_url": self.gateway_url,
                "token": self.token,
                "application_id": str(self.application_id),
                "bot_user_id": str(self.bot_user_id),
                "connections": [
                    {
                        "number": c.number,
                        "query": c.query,
                        "ready": c.ready,
                        "resumed": c.resume is not None and c.ready,
                        "close_code": c.close_code,
                        "events": c.events,
                    }
                    for c in self.connections
                ],
                "identifies": [
                    {k: v for k, v in d.items() if k != "token"} for d in self.identifies
                ],
                "rate_limited": self.rate_limited,
                "guilds": {
                    str(g.id): {
                        "name": g.name,
                        "bot_present": g.bot_present,
                        "channels": {str(c.id): c.name for c in g.channels.values()},
                        "members": {str(m.user_id): m.name for m in g.members.values()},
                    }
                    for g in self.guilds.values()
                },
            }
        )

    async def _control_wait_gateway(self, request: web.Request) -> web.StreamResponse:
        count = int(request.query.get("count", "1"))
        timeout = float(request.query.get("timeout", "10"))
        try:
            conn = await self.wait_gateway(count=count, within=timeout)
        except TimeoutError as error:
            return web.json_response({"ready": False, "error": str(error)}, status=408)
        return web.json_response({"ready": True, "number": conn.number})

    async def _control_interaction(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        wait = float(body.pop("wait", 0) or 0)
        wait_for = body.pop("wait_for", "response")
        for key in ("channel_id", "user_id", "guild_id", "message_id"):
            if body.get(key) is not None:
                body[key] = int(body[key])
        try:
            record = await self.interaction(**body)
        except (LookupError, ValueError, PermissionError, RuntimeError, TypeError) as error:
            return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        timed_out = False
        if wait:
            conditions: dict[str, Callable[[InteractionRecord], bool]] = {
                "response": lambda r: r.callback is not None or bool(r.rejected),
                "followup": lambda r: bool(r.followups),
                "edit": lambda r: bool(r.edits),
            }
            try:
                await record.wait_until(conditions[wait_for], wait)
            except TimeoutError:
                timed_out = True
        return web.json_response({**record.to_json(), "timed_out": timed_out})

    async def _control_get_interaction(self, request: web.Request) -> web.StreamResponse:
        record = self._interactions.get(int(request.match_info["interaction_id"]))
        if record is None:
            return web.json_response({"error": "no such interaction"}, status=404)
        return web.json_response(record.to_json())

    async def _control_calls(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([_call_json(c) for c in self.calls])

    async def _control_unexpected(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([_call_json(c) for c in self.unexpected_calls])

    async def _control_messages(self, request: web.Request) -> web.StreamResponse:
        interactions = request.query.get("interactions") in ("1", "true")
        channel_id = int(request.match_info["channel_id"])
        return web.json_response(self.messages(channel_id, interactions=interactions))

    async def _control_commands(self, request: web.Request) -> web.StreamResponse:
        guild_id = request.query.get("guild_id")
        return web.json_response(self.commands(None if guild_id is None else int(guild_id)))

    async def _control_drop_gateway(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else {}
        await self.drop_gateway(code=body.get("code"))
        return web.json_response({"dropped": True})

    async def _control_fail_channel(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.fail_channel(
            int(body["channel_id"]),
            int(body["status"]),
            code=int(body.get("code", 0)),
            retry_after=body.get("retry_after"),
            times=body.get("times"),
        )
        return web.json_response({"ok": True})

    async def _control_remove_bot(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await self.remove_bot_from_guild(int(body["guild_id"]))
        return web.json_response({"ok": True})

    async def _control_delete_channel(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await self.delete_channel(int(body["channel_id"]))
        return web.json_response({"ok": True})


def _body_dict(request: web.Request) -> JSON:
    body = request[_BODY]
    return body if isinstance(body, dict) else {}


def _call_json(call: RecordedCall) -> JSON:
    data = asdict(call)
    data["headers"] = {k: v for k, v in call.headers.items() if k.lower() != "authorization"}
    return data


def _bucket_headers(limit: int, remaining: int, reset_after: float, bucket: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def _rate_limited(
    retry_after: float, *, scope: str, is_global: bool, limit: int, bucket: str | None
) -> DiscordError:
    """A 429 as Discord sends it: JSON body, Retry-After, X-RateLimit-*, and the Via header
    without which discord.py takes the 429 for a Cloudflare ban."""
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(_bucket_headers(limit, 0, retry_after, bucket or "fake"))
    message = "You are being rate limited."
    body: JSON = {
        "message": message,
        "retry_after": round(retry_after, 3),
        "global": is_global,
        "code": 0,
    }
    return DiscordError(429, 0, message, headers=headers, body=body)


def _leaf_options(options: list[JSON]) -> Iterator[JSON]:
    for option in options:
        if option.get("type") in (OPTION_SUBCOMMAND, OPTION_SUBCOMMAND_GROUP):
            yield from _leaf_options(option.get("options") or [])
        else:
            yield option


def _has_focused(options: list[JSON]) -> bool:
    return any(option.get("focused") for option in _leaf_options(options))


def _custom_ids(components: list[JSON]) -> set[str]:
    found: set[str] = set()
    for component in components:
        if component.get("custom_id"):
            found.add(str(component["custom_id"]))
        found |= _custom_ids(component.get("components") or [])
    return found


def _typed_options(definition: JSON, values: dict[str, Any], focused: str | None) -> list[JSON]:
    """Discord's option list for {name: value}, each typed from the synced definition."""
    specs = {spec["name"]: spec for spec in definition.get("options") or []}
    options = []
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            raise KeyError(f"/{definition['name']} has no option {name!r}; it has {list(specs)}")
        kind = int(spec["type"])
        option: JSON = {"name": name, "type": kind}
        if name == focused:
            option["value"] = str(value)
            option["focused"] = True
        elif kind in (OPTION_USER, OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE, 11):
            option["value"] = str(value)
        else:
            option["value"] = value
        options.append(option)
    if focused is not None and focused not in values:
        if focused not in specs:
            raise KeyError(f"/{definition['name']} has no option {focused!r}")
        options.append(
            {"name": focused, "type": int(specs[focused]["type"]), "value": "", "focused": True}
        )
    return options


# --------------------------------------------------------------------------------------------
# Pointing discord.py at a fake.


class _Endpoints(Protocol):
    @property
    def api_base(self) -> str: ...

    @property
    def gateway_url(self) -> str: ...


def _api_base(port: int) -> str:
    return f"http://127.0.0.1:{port}/api/v{API_VERSION}"


def _gateway_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/gateway"


@contextlib.contextmanager
def point_discord_at(fake: _Endpoints) -> Iterator[None]:
    """Within the block, discord.py's REST base and default gateway are the fake's."""
    import yarl  # noqa: PLC0415 - discord.py's own dependencies, only when pointing it
    from discord.gateway import DiscordWebSocket  # noqa: PLC0415
    from discord.http import Route  # noqa: PLC0415

    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


# --------------------------------------------------------------------------------------------
# Subprocess mode.


def build_world(fake: FakeDiscord, world: JSON | None) -> None:
    """Build the world from JSON, or the default one: a guild with #news and an editor.

    `{"guilds": [{"id", "name", "owner_id", "locale"?, "bot_permissions"?,
    "channels": [{"id", "name", "news"?, "bot_allow"?, "bot_deny"?}],
    "members": [{"id", "name", "permissions"?}]}]}`
    """
    if world is None:
        world = {
            "guilds": [
                {
                    "id": DEFAULT_GUILD_ID,
                    "name": "Newsroom",
                    "owner_id": DEFAULT_OWNER_ID,
                    "channels": [{"id": DEFAULT_NEWS_CHANNEL_ID, "name": "news"}],
                    "members": [
                        {
                            "id": DEFAULT_EDITOR_ID,
                            "name": "editor",
                            "permissions": int(Perm.MANAGE_CHANNELS),
                        },
                        {"id": DEFAULT_READER_ID, "name": "reader"},
                    ],
                }
            ]
        }
    for spec in world.get("guilds", []):
        guild = fake.add_guild(
            int(spec["id"]),
            spec.get("name", "guild"),
            owner_id=int(spec.get("owner_id", DEFAULT_OWNER_ID)),
            bot_permissions=int(spec.get("bot_permissions", DEFAULT_BOT_PERMISSIONS)),
            locale=spec.get("locale", "id"),
        )
        for channel in spec.get("channels", []):
            guild.add_text_channel(
                int(channel["id"]),
                channel["name"],
                news=bool(channel.get("news", False)),
                bot_allow=int(channel.get("bot_allow", 0)),
                bot_deny=int(channel.get("bot_deny", 0)),
            )
        for member in spec.get("members", []):
            guild.add_member(
                int(member["id"]), member["name"], permissions=int(member.get("permissions", 0))
            )


def _parse_channel_limit(text: str | None) -> tuple[int, float] | None:
    if not text:
        return None
    count, _, seconds = text.partition("/")
    return int(count), float(seconds or "1")


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeDiscord(
        token=args.token,
        global_limit_per_second=args.global_limit,
        channel_limit=_parse_channel_limit(args.channel_limit),
        latency=args.latency,
        port=args.port,
        control_api=True,
    )
    build_world(fake, args.world)
    await fake.start()
    port_file = Path(args.port_file)
    partial = port_file.with_name(port_file.name + ".partial")
    partial.write_text(str(fake.port))
    partial.replace(port_file)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.adapters.fake_discord --port-file PATH [options]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port-file", required=True, help="where to write the port")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--world", help="the world as JSON, or @PATH of a JSON file")
    parser.add_argument("--global-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--channel-limit", help="message creates per channel, N/SECONDS")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.world:
        text = args.world
        args.world = json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    asyncio.run(_serve(args))


class FakeDiscordProcess:
    """`with FakeDiscordProcess(tmp_path) as fake:` runs the fake in its own process.

    The test drives it over the control API: `state()`, `wait_gateway()`, `interaction(...)`,
    `messages(channel_id)`, `calls()`, `unexpected_calls()`, `drop_gateway()`,
    `fail_channel(...)`. `api_base` and `gateway_url` are for the bot under test.
    """

    def __init__(self, workdir: Path, *args: str, startup_timeout: float = 15.0) -> None:
        self.workdir = workdir
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.port_file = workdir / "fake_discord.port"
        self.log_file = workdir / "fake_discord.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> FakeDiscordProcess:
        root = Path(__file__).resolve().parents[2]
        self.port_file.unlink(missing_ok=True)
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.adapters.fake_discord",
                    "--port-file",
                    str(self.port_file),
                    *self.args,
                ],
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
        deadline = time.monotonic() + self.startup_timeout
        while not self.port_file.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the fake Discord did not start: {self.log_file.read_text()}")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    @property
    def api_base(self) -> str:
        return _api_base(self.port)

    @property
    def gateway_url(self) -> str:
        return _gateway_url(self.port)

    def _request(
        self, method: str, path: str, body: JSON | None = None, timeout: float = 30.0
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/_fake/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} /_fake/{path}: {error.code} {error.read()!r}") from None

    def state(self) -> JSON:
        return dict(self._request("GET", "state"))

    def wait_gateway(self, *, count: int = 1, timeout: float = 10.0) -> JSON:
        """Wait until `count` gateway connections got READY or RESUMED."""
        return dict(
            self._request(
                "GET", f"wait_gateway?count={count}&timeout={timeout}", timeout=timeout + 5
            )
        )

    def interaction(self, *, wait: float = 5.0, wait_for: str = "response", **kwargs: Any) -> JSON:
        """Send an interaction (FakeDiscord.interaction's arguments) and wait up to `wait` s
        for its response / first followup / first edit; the record as JSON."""
        body = {**kwargs, "wait": wait, "wait_for": wait_for}
        return dict(self._request("POST", "interaction", body, timeout=wait + 10))

    def interaction_record(self, interaction_id: str | int) -> JSON:
        return dict(self._request("GET", f"interactions/{interaction_id}"))

    def messages(self, channel_id: int, *, interactions: bool = False) -> list[JSON]:
        flag = "1" if interactions else "0"
        return list(self._request("GET", f"messages/{channel_id}?interactions={flag}"))

    def calls(self) -> list[JSON]:
        return list(self._request("GET", "calls"))

    def unexpected_calls(self) -> list[JSON]:
        return list(self._request("GET", "unexpected"))

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        query = "" if guild_id is None else f"?guild_id={guild_id}"
        return list(self._request("GET", f"commands{query}"))

    def drop_gateway(self, *, code: int | None = None) -> None:
        self._request("POST", "drop_gateway", {"code": code})

    def fail_channel(
        self,
        channel_id: int,
        status: int,
        *,
        code: int = 0,
        retry_after: float | None = None,
        times: int | None = None,
    ) -> None:
        body = {
            "channel_id": channel_id,
            "status": status,
            "code": code,
            "retry_after": retry_after,
            "times": times,
        }
        self._request("POST", "fail_channel", body)

    def remove_bot_from_guild(self, guild_id: int) -> None:
        self._request("POST", "remove_bot", {"guild_id": guild_id})

    def delete_channel(self, channel_id: int) -> None:
        self._request("POST", "delete_channel", {"channel_id": channel_id})


if __name__ == "__main__":
    main()
