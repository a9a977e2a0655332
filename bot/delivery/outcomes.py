"""What a failed send means for what was being sent: the delivery rules, in one place.

A push (one outbox row) and a digest (a chat's held rows, together) fail the same ways and are
treated the same way: a retry-after waits exactly that long and is no failure; a send whose
outcome is unknown is tried once more; a chat gone stops its subscriptions; a chat moved moves
them; a bad request is never retried; anything else backs off, then gives up with a reason.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.delivery.errors import (
    ChatGone,
    ChatMoved,
    DeliveryError,
    OutputClosed,
    PermanentError,
    RetryAfter,
    UnknownOutcome,
)
from bot.logging_config import chat_fields
from bot.platform.budget import SendBudget
from storage.models import ChatRef
from storage.repositories import ChatRepository

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """Jittered exponential backoff before attempt number `attempt + 1` (attempt >= 1)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


class Unsent(Protocol):
    """What failed to go out (a push, or a digest's rows): where it was going, and how it is
    put back or given up."""

    @property
    def chat(self) -> ChatRef:
        """The chat it was going to."""

    @property
    def attempts(self) -> int:
        """Its failed attempts so far."""

    @property
    def unknown_outcomes(self) -> int:
        """Its sends whose outcome was never known."""

    async def retry_at(
        self,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool,
        hold_chat: bool = False,
    ) -> None:
        """Put it back, due at `due_at`; `hold_chat`: send nothing to the chat before."""

    async def put_back(self, reason: str) -> None:
        """As it was, due now: it was not sent (delivery stopped, the lease lapsed)."""

    async def give_up(self, reason: str) -> None:
        """Never send it: it failed. (A chat gone drops it with the chat's other rows.)"""


class DeliveryRules:
    """Applies the delivery rules to a failed send."""

    def __init__(
        self,
        *,
        chats: ChatRepository,
        budget: SendBudget,
        max_attempts: int,
        clock: Callable[[], datetime],
        rng: random.Random,
        stop: Callable[[], None],
        unknown_retry_seconds: float,
    ) -> None:
        self._chats = chats
        # A send whose outcome is unknown is tried again this much later (once): its answer
        # may yet come, late (NEWSBOT_DELIVERY_LATE_ANSWER_SECONDS).
        self._unknown_retry = unknown_retry_seconds
        self._budget = budget
        self._max_attempts = max_attempts
        self._clock = clock
        self._rng = rng
        # Called when the platform can take nothing more from this process.
        self._stop = stop

    async def failed(
        self, unsent: Unsent, error: DeliveryError, *, platform_down: bool = False
    ) -> None:
        """Record what `error` means for `unsent`.

        `platform_down`: the platform is down (see `bot.delivery.outage`): a send that was not
        answered is no failed attempt; it waits, due when the platform answers again.
        """
        now = self._clock()
        reason = str(error) or type(error).__name__
        if isinstance(error, OutputClosed):
            # Nothing was seen: it is as it was, for whoever delivers next.
            await unsent.retry_at(now, reason, count_attempt=False, outcome_unknown=False)
            self._stop()
        elif isinstance(error, RetryAfter):
            # Not the chat's fault and not a failed attempt: the chat waits exactly as long as
            # asked, this at its place in its queue, and nothing else goes to it meanwhile.
            self._budget.hold(unsent.chat, error.seconds)
            await unsent.retry_at(
                now + timedelta(seconds=error.seconds),
                reason,
                count_attempt=False,
                outcome_unknown=False,
                hold_chat=True,
            )
        elif isinstance(error, UnknownOutcome):
            await self._unknown(unsent, reason, now, platform_down=platform_down)
        elif isinstance(error, ChatGone):
            logger.info(
                "the chat is gone (%s): deactivating its subscriptions",
                reason,
                extra=chat_fields(unsent.chat),
            )
            # One write drops this row with the chat's other waiting rows and stops its
            # subscriptions: a row never reads dropped while its chat is still subscribed, and
            # if the write fails the row stays claimed, to be found gone again.
            await self._chats.deactivate(unsent.chat, f"chat gone: {reason}", now=now)
        elif isinstance(error, ChatMoved) and unsent.attempts + 1 < self._max_attempts:
            new_chat = ChatRef(unsent.chat.platform, error.new_chat_id)
            logger.info(
                "the chat moved to %s: moving its subscriptions",
                new_chat.chat_id,
                extra=chat_fields(unsent.chat),
            )
            await self._chats.move(unsent.chat, new_chat, now=now)
            # It belongs to the new id now; counting the attempt bounds a chain of moves.
            await unsent.retry_at(now, reason, count_attempt=True, outcome_unknown=False)
        elif isinstance(error, PermanentError):
            logger.warning("a delivery was refused: %s", reason, extra=chat_fields(unsent.chat))
            await unsent.give_up(f"refused: {reason}")
        elif platform_down:
            await unsent.retry_at(now, reason, count_attempt=False, outcome_unknown=False)
        else:
            await self._back_off(unsent, reason, now)

    async def _unknown(
        self, unsent: Unsent, reason: str, now: datetime, *, platform_down: bool
    ) -> None:
        if unsent.unknown_outcomes >= 1:
            logger.warning(
                "a delivery's outcome was unknown twice; not sent again",
                extra=chat_fields(unsent.chat),
            )
            await unsent.give_up(f"outcome unknown twice ({reason}); may have arrived")
            return
        # Perhaps it arrived: one more try, marked a possible duplicate; while the platform is
        # down, that try waits for it to answer again.
        retry = 0.0 if platform_down else self._unknown_retry
        await unsent.retry_at(
            now + timedelta(seconds=retry),
            f"outcome unknown: {reason}",
            count_attempt=False,
            outcome_unknown=True,
        )

    async def _back_off(self, unsent: Unsent, reason: str, now: datetime) -> None:
        attempt = unsent.attempts + 1
        if attempt >= self._max_attempts:
            logger.warning(
                "giving up a delivery after %d attempts", attempt, extra=chat_fields(unsent.chat)
            )
            await unsent.give_up(f"gave up after {attempt} attempts: {reason}")
            return
        delay = backoff_seconds(attempt, self._rng)
        await unsent.retry_at(
            now + timedelta(seconds=delay), reason, count_attempt=True, outcome_unknown=False
        )
