"""What the core asks of a chat platform."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol, Self

from bot.chat import Command, Reply
from bot.platform.budget import SendBudget
from storage.models import ChatRef, Platform

# How long after sending a message each platform still lets a bot delete it; a platform that is
# absent sets no limit. A retraction, in whichever process it is typed, counts the copies past
# it as beyond deleting.
DELETE_WINDOW: Mapping[Platform, timedelta] = {
    # Bot API deleteMessage: "a message can only be deleted if it was sent less than 48 hours
    # ago", in private chats, groups and channels alike.
    Platform.TELEGRAM: timedelta(hours=48),
}


class CommandSink(Protocol):
    """Where an adapter sends the commands it receives (the dispatcher)."""

    async def dispatch(self, command: Command) -> Reply:
        """The reply to one command."""

    async def not_a_command(self, chat: ChatRef) -> Reply:
        """The hint for a message that is not a command, in the chat's language."""

    async def language(self, chat: ChatRef) -> str:
        """The chat's UI language, for what an adapter says itself."""


class PlatformStartError(Exception):
    """A platform could not start: its token was refused, or its server cannot be reached;
    or none is configured and nobody is at the console either."""


class PlatformLostError(Exception):
    """A running platform stopped working for good (its token was revoked): the process ends."""


class PlatformAdapter(Protocol):
    """One platform (console, Telegram, Discord): receives commands and sends messages.

    `send`, `edit` and `delete` raise `bot.delivery.errors.DeliveryError` subclasses, never the
    SDK's own errors.
    """

    platform: Platform

    async def run(self, stop: asyncio.Event) -> None:
        """Receive commands and dispatch them until `stop` is set (or input ends)."""

    async def send(self, chat: ChatRef, reply: Reply, *, key: str | None = None) -> str:
        """Send `reply` to `chat`; the platform's id of the (first) message sent.

        `key` names this delivery (its outbox row) and is the same when it is sent again: a
        platform that can de-duplicate a resend (Discord's message nonce) uses it.
        """

    async def direct_chat(self, user_id: str) -> ChatRef:
        """The private chat with a user, where the bot tells an admin what they must know.

        Raises `bot.delivery.errors.DeliveryError` subclasses when there can be none.
        """

    async def probe(self) -> None:
        """Ask the platform whether it answers at all (while delivery waits out an outage).

        Raises `bot.delivery.errors.DeliveryError` subclasses when it does not.
        """

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message sent earlier (a correction)."""

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Remove a message sent earlier (a retraction)."""

    @property
    def budget(self) -> SendBudget:
        """The platform's sending budget: every send to it, answers included, takes a slot."""


class ConnectedPlatform(PlatformAdapter, Protocol):
    """A platform behind a network connection: opened before `run` and sending, closed after.

    `__aenter__` raises `PlatformStartError` when the platform cannot be used at all.
    """

    async def __aenter__(self) -> Self:
        """Connect (check the token, prepare the SDK) so that `send` works."""

    async def __aexit__(self, *exc_info: object) -> None:
        """Disconnect and release the SDK's resources."""
