"""The delivery loop: claim due outbox rows, pace them, send them, and apply the error rules."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.chat import Reply
from bot.delivery.errors import (
    ChatGone,
    ChatMoved,
    DeliveryError,
    OutputClosed,
    PermanentError,
    RetryAfter,
    TransientError,
)
from bot.delivery.pacing import Pacer
from bot.platform import PlatformAdapter
from bot.render import ArticleRenderer
from storage import Storage
from storage.models import ChatRef, DeliveryKind, OutboxItem

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0
# Sends in flight at once per platform: enough to keep a 30/s pace with slow round trips.
MAX_IN_FLIGHT = 32
CLAIM_BATCH = 100
# Other processes add rows (ingest, /breaking elsewhere) without telling us: look this often.
POLL_SECONDS = 1.0
# An edit whose push is still being sent waits this long before it looks again.
EDIT_WAIT_SECONDS = 5.0


class _Released(DeliveryError):
    """The worker is stopping: the row was handed back unsent, due again at once."""


@dataclass(frozen=True)
class _Outgoing:
    """A message ready to go: a new push, the corrected text of the message `replaces`, or
    (`delete`) the removal of that message."""

    reply: Reply
    replaces: str | None = None
    delete: bool = False


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """Jittered exponential backoff before attempt number `attempt + 1` (attempt >= 1)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


class DeliveryWorker:
    """Sends the outbox of one platform through its adapter."""

    def __init__(
        self,
        *,
        storage: Storage,
        adapter: PlatformAdapter,
        renderer: ArticleRenderer,
        default_language: str,
        lease_seconds: float,
        max_attempts: int,
        clock: Callable[[], datetime],
        chat_id: str | None = None,
        rng: random.Random | None = None,
        wake: asyncio.Event | None = None,
    ) -> None:
        self._storage = storage
        self._adapter = adapter
        self._renderer = renderer
        self._default_language = default_language
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._clock = clock
        self._chat_id = chat_id
        # Set by this process's newsroom when it queues pushes (/breaking): deliver at once
        # instead of at the next poll.
        self._wake = wake
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._pacer = Pacer(
            sends_per_second=adapter.sends_per_second,
            interval=adapter.send_interval,
            clock=lambda: clock().timestamp(),
        )
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        # Set while stopping: `run`'s stop event, once it runs.
        self._stopping = asyncio.Event()

    async def deliver_due(self) -> int:
        """Send every row due now (in batches); how many rows were handled."""
        handled = 0
        while not self._stopping.is_set():
            items = await self._storage.outbox.claim(
                self._adapter.platform,
                now=self._clock(),
                lease_seconds=self._lease,
                limit=CLAIM_BATCH,
                chat_id=self._chat_id,
            )
            if not items:
                return handled
            by_chat: dict[ChatRef, list[OutboxItem]] = {}
            for item in items:
                by_chat.setdefault(item.chat, []).append(item)
            outcomes = await asyncio.gather(
                *(self._deliver_to_chat(queue) for queue in by_chat.values()),
                return_exceptions=True,
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    # Its rows stay claimed and come back when their lease runs out.
                    logger.error("a chat's deliveries failed", exc_info=outcome)
            handled += len(items)
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, waking for due rows and polling for new ones.

        On `stop`, sends already under way finish and are recorded; rows still waiting for
        their turn are handed back, due at once, for the next start.
        """
        self._stopping = stop
        while not stop.is_set():
            delay = POLL_SECONDS
            try:
                await self.deliver_due()
                next_due = await self._storage.outbox.next_due(
                    self._adapter.platform, self._chat_id
                )
                if next_due is not None:
                    delay = min(delay, max((next_due - self._clock()).total_seconds(), 0.05))
            except Exception:
                # The database was busy past its timeout, or the like: log and try again.
                logger.exception("delivery pass for %s failed", self._adapter.platform)
            await self._pause(stop, delay)

    async def _pause(self, stop: asyncio.Event, delay: float) -> None:
        """Sleep `delay` seconds, or less if stopping or woken for new pushes."""
        events = [stop] if self._wake is None else [stop, self._wake]
        waits = [asyncio.ensure_future(event.wait()) for event in events]
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        if self._wake is not None:
            self._wake.clear()

    async def _deliver_to_chat(self, queue: list[OutboxItem]) -> None:
        """Send one chat's rows in order; after a failure that concerns the whole chat, stop.

        The rest of the chat's rows are then put back: due after a retry-after, due at once
        after a move (they now carry the new id), or dropped with the chat when it is gone.
        """
        for position, item in enumerate(queue):
            error = await self._deliver(item)
            if isinstance(error, RetryAfter | ChatGone | ChatMoved | OutputClosed | _Released):
                due = self._clock()
                if isinstance(error, RetryAfter):
                    due += timedelta(seconds=error.seconds)
                for later in queue[position + 1 :]:
                    await self._storage.outbox.retry_at(
                        later, due, str(error), count_attempt=False
                    )
                return

    async def _deliver(self, item: OutboxItem) -> DeliveryError | None:
        """Send one row and record the outcome; the delivery error, if the send failed."""
        async with self._in_flight:
            try:
                prepared = await self._prepare(item)
            except Exception as error:
                return await self._unexpected(item, "preparing", error)
            if not isinstance(prepared, _Outgoing):
                return prepared
            try:
                if prepared.replaces is None:
                    message_id = await self._adapter.send(item.chat, prepared.reply)
                elif prepared.delete:
                    await self._adapter.delete(item.chat, prepared.replaces)
                    message_id = prepared.replaces
                else:
                    await self._adapter.edit(item.chat, prepared.replaces, prepared.reply)
                    message_id = prepared.replaces
            except DeliveryError as error:
                await self._handle_failure(item, error)
                return error
            except Exception as error:
                return await self._unexpected(item, "sending", error)
            await self._storage.outbox.mark_sent(item, message_id, now=self._clock())
            return None

    async def _prepare(self, item: OutboxItem) -> _Outgoing | _Released | None:
        """The message for a row once it is the chat's turn; None if there is none to send."""
        delete = item.kind is DeliveryKind.DELETE
        # A deletion shows nothing: it needs no story (a retracted one is not found).
        article = None if delete else await self._storage.articles.get(item.article_id)
        if article is None and not delete:
            await self._storage.outbox.give_up(item, "article no longer stored")
            return None
        replaces = None
        if item.kind in (DeliveryKind.EDIT, DeliveryKind.DELETE):
            replaces = await self._message_to_correct(item)
            if replaces is None:
                return None
        message = Reply()
        if article is not None:
            language = await self._storage.chats.language(item.chat)
            message = self._renderer.push(article, language or self._default_language)
        if not await self._wait_turn(item.chat):
            released = _Released("delivery stopped before sending")
            await self._storage.outbox.retry_at(
                item, self._clock(), str(released), count_attempt=False
            )
            return released
        # The wait may have been long (a busy group): make sure the row is still ours, so that
        # no other worker sends it too.
        if not await self._storage.outbox.renew(
            item, now=self._clock(), lease_seconds=self._lease
        ):
            logger.warning("outbox row %d was claimed by another worker", item.id)
            return None
        return _Outgoing(message, replaces, delete=delete)

    async def _message_to_correct(self, item: OutboxItem) -> str | None:
        """The message id an edit (or deletion) row acts on; None when there is none (yet),
        the row then put back or dropped."""
        push = await self._storage.outbox.push_record(item.edit_of) if item.edit_of else None
        if push is not None and push.status == "sent" and push.message_id:
            return push.message_id
        if push is not None and push.status == "sending":
            # The push is on its way, perhaps with the old text: correct it once recorded.
            await self._storage.outbox.retry_at(
                item,
                self._clock() + timedelta(seconds=EDIT_WAIT_SECONDS),
                "waiting for the push to be recorded",
                count_attempt=False,
            )
        elif push is not None and push.status == "pending":
            await self._storage.outbox.give_up(
                item, "the push has not gone out; it will carry the correction", dropped=True
            )
        else:
            await self._storage.outbox.give_up(item, "the push was never delivered", dropped=True)
        return None

    async def _wait_turn(self, chat: ChatRef) -> bool:
        """Wait for the chat's turn under the platform's limits; False if stopping first."""
        if self._stopping.is_set():
            return False
        turn = asyncio.ensure_future(self._pacer.wait_turn(chat))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({turn, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if turn.done():
            return True
        turn.cancel()
        return False

    async def _unexpected(self, item: OutboxItem, stage: str, error: Exception) -> DeliveryError:
        """A bug or a database hiccup must not lose the row: count it as a transient failure."""
        logger.exception("%s outbox row %d for %s failed", stage, item.id, item.chat)
        transient = TransientError(f"{stage} failed: {error!r}")
        await self._handle_failure(item, transient)
        return transient

    async def _handle_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        now = self._clock()
        reason = str(error) or type(error).__name__
        if isinstance(error, OutputClosed):
            # Nothing was seen: the row is as it was, for whoever delivers next.
            await self._storage.outbox.retry_at(item, now, reason, count_attempt=False)
            self._stopping.set()
        elif isinstance(error, RetryAfter):
            # Not the chat's fault and not a failed attempt: wait exactly as long as asked.
            self._pacer.hold(item.chat, error.seconds)
            await self._storage.outbox.retry_at(
                item, now + timedelta(seconds=error.seconds), reason, count_attempt=False
            )
        elif isinstance(error, ChatGone):
            logger.info("%s is gone (%s): deactivating its subscriptions", item.chat, reason)
            await self._storage.outbox.give_up(item, f"chat gone: {reason}", dropped=True)
            await self._storage.chats.deactivate(item.chat, reason, now=now)
        elif isinstance(error, ChatMoved) and item.attempts + 1 < self._max_attempts:
            new_chat = ChatRef(item.chat.platform, error.new_chat_id)
            logger.info("%s moved to %s: moving its subscriptions", item.chat, new_chat)
            await self._storage.chats.move(item.chat, new_chat, now=now)
            # The row now belongs to the new id; counting the attempt bounds a chain of moves.
            await self._storage.outbox.retry_at(item, now, reason, count_attempt=True)
        elif isinstance(error, PermanentError):
            logger.warning("outbox row %d to %s refused: %s", item.id, item.chat, reason)
            await self._storage.outbox.give_up(item, f"refused: {reason}")
        else:
            attempt = item.attempts + 1
            if attempt >= self._max_attempts:
                logger.warning("giving up outbox row %d after %d attempts", item.id, attempt)
                await self._storage.outbox.give_up(
                    item, f"gave up after {attempt} attempts: {reason}"
                )
                return
            delay = backoff_seconds(attempt, self._rng)
            await self._storage.outbox.retry_at(
                item, now + timedelta(seconds=delay), reason, count_attempt=True
            )
