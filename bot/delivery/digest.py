"""The digest sender: a chat's held pushes, once due, go out together as one digest.

Delivery holds a regular push (see `bot.delivery.policy`) when its chat takes a daily digest or
is in its quiet hours. When the hold ends, this loop claims all of that chat's held pushes at
once, sends them as one message (which the adapter splits if the platform needs it), and
records every push it covered as sent with the digest's (first) message id.

Crash safety is that of pushes: the rows are claimed under a lease before the send, so a
process that dies between sending and recording leaves them to come due again when the lease
runs out; that digest is then sent once more, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.chat import Reply
from bot.delivery.errors import DeliveryError, TransientError
from bot.delivery.outcomes import DeliveryRules
from bot.logging_config import chat_fields, platform_fields
from bot.platform import PlatformAdapter
from bot.render import ArticleRenderer
from storage import Storage
from storage.models import Article, ChatRef, DigestClaim, Lane
from storage.repositories import DigestRepository

logger = logging.getLogger(__name__)

# Chats whose due digests are claimed in one pass, and digests being sent at once.
CLAIM_BATCH = 50
MAX_IN_FLIGHT = 16
# A digest sent but not recorded (the database busy) is recorded again after these waits,
# the last one repeated, until it is stored: sending it again would repeat it.
RECORD_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class DigestSender:
    """Sends the due digests of one platform (and, for the console, one chat)."""

    def __init__(
        self,
        *,
        storage: Storage,
        adapter: PlatformAdapter,
        renderer: ArticleRenderer,
        default_language: str,
        lease_seconds: float,
        max_attempts: int,
        late_answer_seconds: float,
        poll_seconds: float,
        clock: Callable[[], datetime],
        chat_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._storage = storage
        self._adapter = adapter
        self._renderer = renderer
        self._default_language = default_language
        self._lease = lease_seconds
        # Holds end without anyone telling this process (a digest time passes, another
        # process's /digest off): look this often.
        self._poll = poll_seconds
        self._clock = clock
        self._chat_id = chat_id
        self._rules = DeliveryRules(
            chats=storage.chats,
            budget=adapter.budget,
            max_attempts=max_attempts,
            clock=clock,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not a secret
            # `run` swaps in its own stop event: look it up when the time comes.
            stop=lambda: self._stopping.set(),  # noqa: PLW0108 - see above
            unknown_retry_seconds=late_answer_seconds,
        )
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        # Set while stopping: `run`'s stop event, once it runs.
        self._stopping = asyncio.Event()
        # When the earliest held row falls due, as the last pass found it.
        self._next_due: datetime | None = None

    async def send_due(self) -> int:
        """Send every digest due now; how many were sent."""
        sent = 0
        while not self._stopping.is_set():
            # A read first: an idle pass, every second, must not take the write lock.
            self._next_due = await self._storage.digests.next_due(
                self._adapter.platform, self._chat_id
            )
            if self._next_due is None or self._next_due > self._clock():
                return sent
            claims = await self._storage.digests.claim(
                self._adapter.platform,
                now=self._clock(),
                lease_seconds=self._lease,
                limit=CLAIM_BATCH,
                chat_id=self._chat_id,
            )
            if not claims:
                return sent
            outcomes = await asyncio.gather(
                *(self._deliver(claim) for claim in claims), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    # Its rows stay claimed and come back when their lease runs out.
                    logger.error(
                        "a digest failed",
                        exc_info=outcome,
                        extra=platform_fields(self._adapter.platform),
                    )
                elif outcome:
                    sent += 1
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Send digests as they fall due until `stop` is set.

        On `stop`, digests already being sent finish and are recorded; those still waiting
        for their turn are held again, due at once, for the next start.
        """
        self._stopping = stop
        while not stop.is_set():
            delay = self._poll
            try:
                await self.send_due()
                if self._next_due is not None:
                    wait = (self._next_due - self._clock()).total_seconds()
                    delay = min(delay, max(wait, 0.05))
            except Exception:
                # The database was busy past its timeout, or the like: log and try again.
                logger.exception(
                    "a digest pass failed", extra=platform_fields(self._adapter.platform)
                )
            await self._pause(delay)

    async def _pause(self, delay: float) -> None:
        """Sleep `delay` seconds, or less if stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            return

    async def _deliver(self, claim: DigestClaim) -> bool:
        """Send one chat's digest and record the outcome; whether it was sent."""
        async with self._in_flight:
            try:
                composed = await self._compose(claim)
            except Exception as error:
                await self._unexpected(claim, "preparing", error)
                return False
            if composed is None:
                return False
            claim, reply = composed
            if not await self._wait_turn(claim.chat):
                await self._storage.digests.put_back(
                    claim, self._clock(), "delivery stopped before sending", count_attempt=False
                )
                return False
            # The wait may have been long (a busy group): make sure the rows are still ours,
            # so that no other sender sends them too.
            if not await self._storage.digests.renew(
                claim, now=self._clock(), lease_seconds=self._lease
            ):
                logger.warning(
                    "the digest was claimed by another sender", extra=chat_fields(claim.chat)
                )
                return False
            return await self._send(claim, reply)

    async def _send(self, claim: DigestClaim, reply: Reply) -> bool:
        """Send the digest of a claim whose turn it is, and record it; whether it was sent."""
        try:
            # Claimed again after a crash, the same rows make the same key.
            key = f"nbd{min(item.id for item in claim.items)}"
            message_id = await self._adapter.send(claim.chat, reply, key=key)
        except DeliveryError as error:
            await self._handle_failure(claim, error)
            return False
        except Exception as error:
            await self._unexpected(claim, "sending", error)
            return False
        await self._record(claim, message_id)
        return True

    async def _compose(self, claim: DigestClaim) -> tuple[DigestClaim, Reply] | None:
        """The digest of the claim's stories, and the claim without any story no longer
        stored (those rows are dropped); None when no story is left."""
        kept, articles, gone = [], [], []
        for item in claim.items:
            article: Article | None = await self._storage.articles.get(item.article_id)
            if article is None:
                gone.append(item)
            else:
                kept.append(item)
                articles.append(article)
        if gone:
            await self._storage.digests.give_up(
                replace(claim, items=tuple(gone)), "article no longer stored", dropped=True
            )
        if not articles:
            return None
        language = await self._storage.chats.language(claim.chat) or self._default_language
        digest = self._renderer.digest(articles, language, self._clock())
        return replace(claim, items=tuple(kept)), digest

    async def _record(self, claim: DigestClaim, message_id: str) -> None:
        """Record a digest that went out; while the database refuses, keep trying, since
        leaving the rows claimed would send the digest again when their lease ends."""
        delays = iter(RECORD_RETRY_SECONDS)
        while True:
            try:
                await self._storage.digests.mark_sent(claim, message_id, now=self._clock())
            except Exception:
                if self._stopping.is_set():
                    logger.exception(
                        "the digest sent could not be recorded; it will be sent again",
                        extra=chat_fields(claim.chat),
                    )
                    return
                delay = next(delays, RECORD_RETRY_SECONDS[-1])
                logger.warning(
                    "recording the digest sent failed; trying again in %g s",
                    delay,
                    exc_info=True,
                    extra=chat_fields(claim.chat),
                )
                await self._pause(delay)
            else:
                return

    async def _wait_turn(self, chat: ChatRef) -> bool:
        """Wait for a slot of the platform's budget (the push lane); False if stopping first."""
        if self._stopping.is_set():
            return False
        turn = asyncio.ensure_future(self._adapter.budget.take(chat, Lane.PUSH, mind_hold=False))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({turn, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if turn.done():
            return True
        turn.cancel()
        return False

    async def _unexpected(self, claim: DigestClaim, stage: str, error: Exception) -> None:
        """A bug or a database hiccup must not lose the rows: count it as a transient failure."""
        logger.exception("%s the digest failed", stage, extra=chat_fields(claim.chat))
        await self._handle_failure(claim, TransientError(f"{stage} failed: {error!r}"))

    async def _handle_failure(self, claim: DigestClaim, error: DeliveryError) -> None:
        """The delivery rules of pushes, for a whole digest."""
        await self._rules.failed(_HeldRows(claim, self._storage.digests), error)


@dataclass(frozen=True)
class _HeldRows:
    """A claimed digest's rows, as the delivery rules see them."""

    claim: DigestClaim
    digests: DigestRepository

    @property
    def chat(self) -> ChatRef:
        return self.claim.chat

    @property
    def attempts(self) -> int:
        return self.claim.attempts

    @property
    def unknown_outcomes(self) -> int:
        return max((item.unknown_outcomes for item in self.claim.items), default=0)

    async def retry_at(
        self,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool,
        hold_chat: bool = False,
    ) -> None:
        # The rows are held again: a digest whose outcome is unknown is counted as an
        # attempt, so that it too is tried a bounded number of times. `hold_chat`: the
        # chat's pushes are held by the send budget alone (its hold, on the budget's clock).
        await self.digests.put_back(
            self.claim, due_at, reason, count_attempt=count_attempt or outcome_unknown
        )

    async def give_up(self, reason: str) -> None:
        await self.digests.give_up(self.claim, reason)
