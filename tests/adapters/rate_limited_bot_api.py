"""The fake Bot API with Telegram's flood limits: 429 with `retry_after` past them.

Telegram allows about 30 messages a second overall, 1 a second to one private chat and 20 a
minute to one group or channel. `speed` runs the same limits faster in time (`speed=10`: 300 a
second overall, 10 a second to a private chat, 20 in 6 seconds to a group), so that a test sees
a broadcast to thousands of chats in seconds with every limit in force; the bot's pacing
settings are scaled alike.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.adapters.fake_bot_api import ApiError, FakeBotApi


@dataclass
class RateLimitedBotApi(FakeBotApi):
    """The fake Bot API, refusing sends over Telegram's limits with 429."""

    speed: float = 1.0
    global_per_second: int = 30
    group_per_minute: int = 20
    refused: int = 0
    # Every send taken: (when, chat id), in order.
    taken: list[tuple[float, int]] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)

    def _check_send(self, params: dict[str, Any]) -> int:
        chat_id = super()._check_send(params)
        now = time.monotonic()
        second = 1.0 / self.speed
        while self._recent and now - self._recent[0] >= second:
            self._recent.popleft()
        window, allowed = (second, 1) if chat_id > 0 else (60 * second, self.group_per_minute)
        chat_sends = self._per_chat.setdefault(chat_id, deque())
        while chat_sends and now - chat_sends[0] >= window:
            chat_sends.popleft()
        waits = []
        if len(self._recent) >= self.global_per_second:
            waits.append(second - (now - self._recent[0]))
        if len(chat_sends) >= allowed:
            waits.append(window - (now - chat_sends[0]))
        if waits:
            self.refused += 1
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self._recent.append(now)
        chat_sends.append(now)
        self.taken.append((now, chat_id))
        return chat_id

    def most_in_any_second(self) -> int:
        """The most sends taken within any one (scaled) second."""
        times = [when for when, _ in self.taken]
        second = 1.0 / self.speed
        most, start = 0, 0
        for end, when in enumerate(times):
            while when - times[start] >= second:
                start += 1
            most = max(most, end - start + 1)
        return most
