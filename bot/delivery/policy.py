"""Whether a chat takes a regular push now, or holds it for a digest (daily, or after quiet hours).

Breaking news is never asked about: it always goes at once. Times of day are local to the
configured time zone (NEWSBOT_TIMEZONE).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Protocol

from storage.models import ChatRef, DeliveryMode, QuietHours
from storage.repositories import ChatRepository


class DeliveryPolicy(Protocol):
    """What delivery asks before it sends a regular (non-breaking) push."""

    async def hold_until(self, chat: ChatRef, now: datetime) -> datetime | None:
        """None when `chat` takes a regular push now; else the time to hold it until, when
        it goes out with the chat's other held pushes as one digest."""


class ChatDeliveryPolicy:
    """Each chat's own choice: instant pushes, a daily digest, quiet hours (`DeliveryMode`)."""

    def __init__(self, chats: ChatRepository, timezone: tzinfo) -> None:
        self._chats = chats
        self._timezone = timezone

    async def hold_until(self, chat: ChatRef, now: datetime) -> datetime | None:
        """None to send now; else when the chat's held pushes go out as one digest."""
        return release_time(await self._chats.delivery_mode(chat), now, self._timezone)


def release_time(mode: DeliveryMode, now: datetime, timezone: tzinfo) -> datetime | None:
    """When a regular push arriving at `now` goes out under `mode`; None for at once.

    A digest chat's pushes wait for its next digest. Quiet hours hold pushes until they end,
    and a digest due during quiet hours waits for their end too: nothing but breaking news
    arrives in those hours.
    """
    if mode.digest_at is not None:
        due = next_local_time(mode.digest_at, now, timezone)
    elif mode.quiet is not None and in_quiet_hours(mode.quiet, now, timezone):
        return next_local_time(mode.quiet.end, now, timezone)
    else:
        return None
    if mode.quiet is not None and in_quiet_hours(mode.quiet, due, timezone):
        return next_local_time(mode.quiet.end, due, timezone)
    return due


def in_quiet_hours(quiet: QuietHours, moment: datetime, timezone: tzinfo) -> bool:
    """Whether `moment` falls within the quiet hours: from `start` up to, not including, `end`."""
    clock = moment.astimezone(timezone).time()
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end  # across midnight


def next_local_time(at: time, after: datetime, timezone: tzinfo) -> datetime:
    """The first moment later than `after` at which the local clock shows `at`, in UTC.

    A local time that a daylight-saving change skips is read with the offset before the
    change (02:30 on the night clocks jump from 02:00 to 03:00 is 03:30); one that it repeats
    is its first occurrence.
    """
    day = after.astimezone(timezone).date()
    while True:
        candidate = datetime.combine(day, at, tzinfo=timezone)
        if candidate > after:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
