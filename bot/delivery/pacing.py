"""Pacing of pushes under a platform's limits: a global rate and a least interval per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from storage.models import ChatRef


class Pacer:
    """Hands out send times so that no chat and no platform goes over its limit.

    Each caller waits for its chat's turn first and only then takes a global slot, so one slow
    chat (1 message/s, or held after a retry-after) never holds up the others.
    """

    def __init__(
        self,
        *,
        sends_per_second: float | None,
        interval: Callable[[ChatRef], float],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._global_gap = 1.0 / sends_per_second if sends_per_second else 0.0
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._global_next = 0.0
        self._chat_next: dict[ChatRef, float] = {}

    async def wait_turn(self, chat: ChatRef) -> None:
        """Return when a message may be sent to `chat` now."""
        now = self._clock()
        chat_at = max(now, self._chat_next.get(chat, 0.0))
        self._chat_next[chat] = chat_at + self._interval(chat)
        self._prune()
        if chat_at > now:
            await self._sleep(chat_at - now)
            now = self._clock()
        global_at = max(now, self._global_next)
        self._global_next = global_at + self._global_gap
        if global_at > now:
            await self._sleep(global_at - now)

    def hold(self, chat: ChatRef, seconds: float) -> None:
        """Send nothing to `chat` for `seconds` (the platform said retry after)."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self._clock() + seconds)

    def _prune(self) -> None:
        # Forget chats whose turn has long passed, so a broadcast to a million chats does not
        # leave a million entries behind.
        if len(self._chat_next) > 10_000:
            now = self._clock()
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
