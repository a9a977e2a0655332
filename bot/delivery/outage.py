"""Telling "the platform is down" from "this message's outcome is unknown".

One send that times out says little: that chat's message may be slow, or lost. When sends to
several different chats go unanswered or fail to connect within a short window, the platform
itself is down (Telegram's outages look like this: requests taken, no answer). Delivery then
stops sending, probes the platform with backoff, and resumes when it answers; nothing sent
during the outage counts as a failed attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import ChatRef

# Different chats whose sends went unanswered (or could not connect) within the window: a
# platform down, not one chat's slow message. Three: two can be two hung chats.
TROUBLED_CHATS = 3
TROUBLE_WINDOW_SECONDS = 60.0
# Probes of a platform that is down: the first after this long, doubling up to the cap.
PROBE_FIRST_SECONDS = 1.0
PROBE_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Outage:
    """A stretch of time the platform did not answer."""

    started_at: datetime
    ended_at: datetime

    @property
    def length(self) -> timedelta:
        """How long it lasted."""
        return self.ended_at - self.started_at


class OutageWatch:
    """Watches one platform's sends for the signs of an outage, and says when one is on."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        # Chat -> when its last send went unanswered, within the window.
        self._troubled: dict[ChatRef, float] = {}
        self._down_since: datetime | None = None
        # When the platform last answered anything (a send, a probe): a send made before then
        # that is overdue or times out only now says nothing of the platform, which has
        # answered since (a slow chat, a loaded machine, or a send that went out into the
        # outage that ended then).
        self._answered_at = float("-inf")

    @property
    def down(self) -> bool:
        """Whether the platform is taken to be down (until a probe or a send is answered)."""
        return self._down_since is not None

    @property
    def down_since(self) -> datetime | None:
        """When the outage on now began; None when there is none."""
        return self._down_since

    def unanswered(self, chat: ChatRef, sent_at: float | None = None) -> bool:
        """A send to `chat` (made at `sent_at`, by the monotonic clock) timed out, is overdue,
        or could not connect; whether that made an outage begin."""
        now = self._monotonic()
        if sent_at is not None and sent_at < self._answered_at:
            return False
        self._troubled = {
            troubled: at
            for troubled, at in self._troubled.items()
            if now - at <= TROUBLE_WINDOW_SECONDS
        }
        self._troubled[chat] = now
        if self._down_since is None and len(self._troubled) >= TROUBLED_CHATS:
            self._down_since = self._clock()
            return True
        return False

    def answered(self) -> Outage | None:
        """The platform answered (a send, or a probe): the outage that this ends, if any."""
        self._troubled.clear()
        self._answered_at = self._monotonic()
        if self._down_since is None:
            return None
        outage = Outage(self._down_since, self._clock())
        self._down_since = None
        return outage


def duration_text(length: timedelta) -> str:
    """`40 s`, `2 min 5 s`, `3 h 10 min`, `48 h`: a length of time for a log line or a notice,
    to the second under an hour, to the minute beyond."""
    seconds = round(length.total_seconds())
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def probe_delays() -> list[float]:
    """The pauses before each probe of a platform that is down, the last repeated."""
    delays = [PROBE_FIRST_SECONDS]
    while delays[-1] < PROBE_CAP_SECONDS:
        delays.append(min(delays[-1] * 2, PROBE_CAP_SECONDS))
    return delays
