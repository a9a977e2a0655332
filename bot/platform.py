"""What the core asks of a chat platform."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.chat import Reply
from storage.models import ChatRef, Platform


class PlatformAdapter(Protocol):
    """One platform (console, Telegram, Discord): receives commands and sends messages.

    `send`, `edit` and `delete` raise `bot.delivery.errors.DeliveryError` subclasses, never the
    SDK's own errors.
    """

    platform: Platform

    async def run(self, stop: asyncio.Event) -> None:
        """Receive commands and dispatch them until `stop` is set (or input ends)."""

    async def send(self, chat: ChatRef, reply: Reply) -> str:
        """Send `reply` to `chat`; the platform's id of the (first) message sent."""

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message sent earlier (a correction)."""

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Remove a message sent earlier (a retraction)."""

    def send_interval(self, chat: ChatRef) -> float:
        """The least time between two pushes to this chat, in seconds (platform limits)."""

    @property
    def sends_per_second(self) -> float | None:
        """The most pushes per second across all chats; None for no limit."""
