"""The delivery scheduler: chat queues fed from the outbox, one send budget, the outcome rules.

Every chat's rows form a queue in publication order; the scheduler keeps as many chat heads in
flight as it is allowed, each its own task, so no chat waits for another's slow answer. A send
takes its slot from the platform's budget at the last moment, after every database write. What
a send's outcome says is recorded; a successful send is recorded however long the database is
busy, and is never sent again because its recording failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.chat import Reply
from bot.delivery.errors import (
    DeliveryError,
    TransientError,
    UnknownOutcome,
)
from bot.delivery.outage import Outage, OutageWatch, duration_text, probe_delays
from bot.delivery.outcomes import DeliveryRules
from bot.delivery.policy import DeliveryPolicy
from bot.logging_config import chat_fields, platform_fields
from bot.platform import PlatformAdapter
from bot.render import ArticleRenderer
from storage import Storage
from storage.models import PROCESS, ChatRef, DeliveryKind, Lane, OutboxItem
from storage.repositories import OutboxRepository

logger = logging.getLogger(__name__)

# Chat heads out at once: enough to keep a platform's pace with slow round trips, while a hung
# send holds one of them, never the others.
MAX_IN_FLIGHT = 64
# An edit whose push is still being sent waits this long before it looks again.
EDIT_WAIT_SECONDS = 5.0
# On stop, sends already on the wire get this long to be answered before they are abandoned
# (their outcome then unknown), so that stopping never hangs on a send that never answers.
STOP_GRACE_SECONDS = 1.0
# Recording an outcome while the database is busy: tried again after these pauses, then
# every last one, until it is stored.
RECORD_PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0)
# A delivering process renews its lease on the platform this many times per lease: a few
# missed renewals (a busy database) do not lose it; a process standing by looks as often.
RENEWALS_PER_LEASE = 4
# How often claims of dead processes of this host, and unfinished fan-outs, are looked for.
RECOVER_EVERY_SECONDS = 10.0
# A process sends only while its delivery lease is good by its own clock, with this share of
# the lease to spare: a process paused past its lease (a frozen VM, SIGSTOP) finds it spent
# when it wakes, before a successor that took over can be crowded.
LEASE_SPARE_SHARE = 0.25

T = TypeVar("T")


def _is_busy(error: BaseException) -> bool:
    """SQLite's "database is locked": another process writes; wait and try again."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error).lower()


@dataclass(frozen=True)
class _Outgoing:
    """A message ready to go: a new push, the corrected text of the message `replaces`, or
    (`delete`) the removal of that message."""

    reply: Reply
    version: str
    replaces: str | None = None
    delete: bool = False


class _Stopped(Exception):
    """Delivery stopped before this row was sent: it goes back as it was."""


class _Abandoned(Exception):
    """Delivery stopped while this row's request was on the wire: its outcome is unknown."""


class _LeaseSpent(Exception):
    """This process's delivery lease ran out before the row was sent (the process was paused
    past it, or could not renew it): the row goes back as it was, for whoever holds it."""


class DeliveryScheduler:
    """Delivers one platform's outbox (or one console chat's) through its adapter."""

    def __init__(
        self,
        *,
        storage: Storage,
        adapter: PlatformAdapter,
        renderer: ArticleRenderer,
        policy: DeliveryPolicy,
        default_language: str,
        lease_seconds: float,
        platform_lease_seconds: float,
        max_attempts: int,
        late_answer_seconds: float,
        poll_seconds: float,
        clock: Callable[[], datetime],
        overdue_seconds: float = 10.0,
        give_up_seconds: float = 86_400.0,
        outage_over: Callable[[Outage], Coroutine[Any, Any, None]] | None = None,
        chat_id: str | None = None,
        rng: random.Random | None = None,
        wake: asyncio.Event | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._storage = storage
        self._adapter = adapter
        self._renderer = renderer
        self._policy = policy
        self._default_language = default_language
        self._lease = lease_seconds
        self._platform_lease = platform_lease_seconds
        # Other processes add rows (ingest, /breaking elsewhere) without telling us: look this
        # often.
        self._poll = poll_seconds
        self._clock = clock
        self._chat_id = chat_id
        self._max_in_flight = max_in_flight
        # A send unanswered this long counts towards an outage (its answer is still awaited).
        self._overdue = overdue_seconds
        # An outage this long: rows are tried and given up by the usual rules again.
        self._give_up = timedelta(seconds=give_up_seconds)
        self._outage = OutageWatch(clock=clock)
        self._outage_over = outage_over
        self._probing: asyncio.Task[None] | None = None
        # By the monotonic clock: until when this process may send (its lease, less a spare).
        # Without a lease (one console chat's delivery) there is nobody to fence off.
        self._lease_good_until = float("inf") if chat_id is not None else float("-inf")
        # Set by this process's newsroom when it queues pushes (/breaking): deliver at once
        # instead of at the next poll.
        self._wake = wake
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
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._handled = 0
        # The platform (or console chat) this scheduler delivers for, one process at a time.
        platform = adapter.platform.value
        self._scope = platform if chat_id is None else f"{platform}:{chat_id}"
        self._holder = f"{PROCESS}{uuid.uuid4().hex}"
        self._recovered_at = float("-inf")

    async def deliver_due(self) -> int:
        """Deliver every row due now, and the rows behind them in their chats' queues, then
        return; how many rows were handled. Rows that fall due later are left for later."""
        self._handled = 0
        self._lease_good_until = float("inf")  # one pass, under no lease: nobody to fence off
        await self._recover()
        await self._pump(until_idle=True)
        return self._handled

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: hold the platform's delivery lease (standing by while
        another process holds it), claim chat heads as slots free up, poll for new rows.

        On `stop`, sends on the wire get a moment to be answered and are recorded; rows still
        waiting for a slot go back as they were, for the next start.
        """
        self._stopping = stop
        standing_by = False
        renew_every = self._platform_lease / RENEWALS_PER_LEASE
        while not stop.is_set():
            asked = time.monotonic()
            try:
                leading = await self._storage.outbox.take_lease(
                    self._scope,
                    self._holder,
                    now=self._clock(),
                    lease_seconds=self._platform_lease,
                )
            except Exception as error:  # the database is busy, or the like
                self._log_storage_trouble("taking the delivery lease", error)
                leading = False
            if leading:
                # Counted from before it was asked for: the lease may have begun then.
                spare = self._platform_lease * LEASE_SPARE_SHARE
                self._lease_good_until = asked + self._platform_lease - spare
            if not leading:
                if not standing_by:
                    logger.info(
                        "another process delivers for %s; standing by",
                        self._scope,
                        extra=platform_fields(self._adapter.platform),
                    )
                    standing_by = True
                await self._pause(renew_every)
                continue
            if standing_by:
                logger.info(
                    "delivering for %s", self._scope, extra=platform_fields(self._adapter.platform)
                )
                standing_by = False
            await self._recover()
            await self._pump(until_idle=False, lease_every=renew_every)
        await self._finish_in_flight()
        if self._probing is not None:
            self._probing.cancel()
        with contextlib.suppress(Exception):
            await self._storage.outbox.release_lease(self._scope, self._holder)

    # The loop ---------------------------------------------------------------------------

    async def _pump(self, *, until_idle: bool, lease_every: float | None = None) -> None:
        """Keep chat heads in flight; return when idle (`until_idle`), when stopping, or when
        the delivery lease is due for renewal."""
        started = time.monotonic()
        while not self._stopping.is_set():
            if lease_every is not None and time.monotonic() - started >= lease_every:
                return
            claimed = await self._claim_more()
            if until_idle and not claimed and not self._in_flight:
                return
            await self._wait_for_work(claimed)

    async def _claim_more(self) -> int:
        """Claim chat heads for the free slots, each sent by a task of its own; how many."""
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0 or self._waiting_out_outage() or not self._lease_good():
            return 0
        try:
            due = await self._storage.outbox.next_due(self._adapter.platform, self._chat_id)
            if due is None or due > self._clock():
                return 0  # nothing to claim: no write, no lock taken
            items = await self._storage.outbox.claim(
                self._adapter.platform,
                now=self._clock(),
                lease_seconds=self._lease,
                limit=free,
                chat_id=self._chat_id,
            )
        except Exception as error:
            self._log_storage_trouble("claiming deliveries", error)
            return 0
        for item in items:
            task = asyncio.create_task(self._deliver(item), name=f"deliver {item.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(items)

    async def _wait_for_work(self, claimed: int) -> None:
        """Until a send finishes, new rows are announced, the next row falls due, or a poll."""
        if claimed and len(self._in_flight) < self._max_in_flight:
            return  # there may be more to claim at once
        # Taken before anything is awaited: a send that finishes meanwhile ends the wait.
        finished = set(self._in_flight)
        delay = self._poll
        with contextlib.suppress(Exception):
            next_due = await self._storage.outbox.next_due(self._adapter.platform, self._chat_id)
            if next_due is not None and next_due > self._clock():
                delay = min(delay, (next_due - self._clock()).total_seconds())
        waits: set[asyncio.Future[object]] = {asyncio.ensure_future(self._stopping.wait())}
        if self._wake is not None:
            waits.add(asyncio.ensure_future(self._wake.wait()))
        await asyncio.wait(
            waits | finished, timeout=max(delay, 0.01), return_when=asyncio.FIRST_COMPLETED
        )
        for waiting in waits:
            waiting.cancel()
        if self._wake is not None:
            self._wake.clear()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _finish_in_flight(self) -> None:
        """On stop: sends on the wire get a grace to be answered; then what is left is
        abandoned (its tasks record it)."""
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS)

    async def _recover(self) -> None:
        """Now and then, take back what a dead process left: its claims (on this host), and
        fan-outs it had not finished."""
        if time.monotonic() - self._recovered_at < RECOVER_EVERY_SECONDS:
            return
        self._recovered_at = time.monotonic()
        try:
            released = await self._storage.outbox.release_claims_of_dead_processes(
                self._adapter.platform, now=self._clock()
            )
            finished = await self._storage.articles.fan_out(now=self._clock())
        except Exception as error:
            self._log_storage_trouble("taking back what a dead process left", error)
            return
        if released:
            logger.info(
                "took back %d deliveries claimed by a process that died",
                released,
                extra=platform_fields(self._adapter.platform),
            )
        if finished:
            logger.info(
                "finished the fan-out of %d stories",
                len(finished),
                extra=platform_fields(self._adapter.platform),
            )

    def _log_storage_trouble(self, doing: str, error: Exception) -> None:
        if _is_busy(error):
            logger.warning(
                "%s: the database is busy (another process writes); later",
                doing,
                extra=platform_fields(self._adapter.platform),
            )
        else:
            logger.error(
                "%s failed", doing, exc_info=error, extra=platform_fields(self._adapter.platform)
            )

    # One row ----------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> None:
        """Send one chat head and record what came of it."""
        self._handled += 1
        started = time.monotonic()
        try:
            outgoing = await self._prepare(item)
            if outgoing is None:
                return
            message_id = await self._send(item, outgoing)
        except _Stopped:
            outcome: Callable[[], Awaitable[None]] = functools.partial(
                self._storage.outbox.retry_at,
                item,
                self._clock(),
                "delivery stopped before sending",
                count_attempt=False,
            )
        except _LeaseSpent:
            outcome = functools.partial(
                self._storage.outbox.retry_at,
                item,
                self._clock(),
                "the delivery lease lapsed before sending",
                count_attempt=False,
            )
        except DeliveryError as error:
            if isinstance(error, TransientError | UnknownOutcome):
                self._unanswered(item.chat, started)
            outcome = functools.partial(
                self._rules.failed,
                self._row(item),
                error,
                platform_down=self._waiting_out_outage(),
            )
        except _Abandoned:
            # Stopping while the send was on the wire: it may have arrived.
            abandoned = UnknownOutcome("abandoned when stopping")
            await asyncio.shield(
                self._record(functools.partial(self._rules.failed, self._row(item), abandoned))
            )
            raise asyncio.CancelledError from None
        except Exception as error:
            # A bug or a database hiccup must not lose the row: a transient failure.
            logger.exception(
                "delivering outbox row %d failed", item.id, extra=chat_fields(item.chat)
            )
            transient = TransientError(f"delivery failed: {error!r}")
            outcome = functools.partial(self._rules.failed, self._row(item), transient)
        else:
            self._answered()
            outcome = functools.partial(
                self._storage.outbox.mark_sent,
                item,
                message_id,
                now=self._clock(),
                shown_revision=outgoing.version,
            )
        # Shielded: a stop must not cut the recording of what already happened.
        await asyncio.shield(self._record(outcome))

    def _row(self, item: OutboxItem) -> _OutboxRow:
        return _OutboxRow(item, self._storage.outbox)

    async def _prepare(self, item: OutboxItem) -> _Outgoing | None:
        """The message for a row; None when there is none to send (the row is settled)."""
        if item.kind is DeliveryKind.DELETE:
            # A deletion shows nothing: it needs no story (a retracted one is not found).
            target = await self._message_to_correct(item, version=None)
            return None if target is None else _Outgoing(Reply(), "", target, delete=True)
        article = await self._storage.articles.get(item.article_id)
        if article is None:
            await self._storage.outbox.give_up(item, "article no longer stored")
            return None
        replaces = None
        if item.kind is DeliveryKind.EDIT:
            replaces = await self._message_to_correct(item, article.version)
            if replaces is None:
                return None
        elif not article.breaking:
            held_until = await self._policy.hold_until(item.chat, self._clock())
            if held_until is not None:
                # The chat takes its regular pushes in a digest, or is in its quiet hours:
                # the digest sender sends this one with the others when the hold ends.
                await self._storage.outbox.hold(item, held_until)
                return None
        language = await self._storage.chats.language(item.chat) or self._default_language
        return _Outgoing(self._renderer.push(article, language), article.version, replaces)

    async def _send(self, item: OutboxItem, outgoing: _Outgoing) -> str:
        """Take a slot from the budget (the last thing before the network) and send."""
        # The row fell due only when its chat's hold (a retry-after) had passed, by the clock
        # that times the outbox: the outbox holds the whole chat, whichever row is its head.
        slot = asyncio.ensure_future(
            self._adapter.budget.take(item.chat, Lane(item.lane), mind_hold=False)
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({slot, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not slot.done():
            slot.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await slot
            raise _Stopped
        slot.result()
        if not self._lease_good():
            raise _LeaseSpent
        request = asyncio.ensure_future(self._request(item, outgoing))
        try:
            done, _ = await asyncio.wait({request}, timeout=self._overdue)
            if not done:
                # Still awaited (its answer may come late, and is recorded then), but a sign
                # that the platform may be down.
                self._unanswered(item.chat, time.monotonic() - self._overdue)
            return await request
        except asyncio.CancelledError:
            request.cancel()
            raise _Abandoned from None

    async def _request(self, item: OutboxItem, outgoing: _Outgoing) -> str:
        """The network request of a row: the message id it sent or acted on."""
        if outgoing.replaces is None:
            return await self._adapter.send(item.chat, outgoing.reply, key=f"nb{item.id}")
        if outgoing.delete:
            await self._adapter.delete(item.chat, outgoing.replaces)
        else:
            await self._adapter.edit(item.chat, outgoing.replaces, outgoing.reply)
        return outgoing.replaces

    def _lease_good(self) -> bool:
        """Whether this process may still send: its lease is good by its own clock."""
        return time.monotonic() < self._lease_good_until

    # Outages ----------------------------------------------------------------------------

    def _waiting_out_outage(self) -> bool:
        """Whether the platform is down, and not yet for so long that rows are given up."""
        since = self._outage.down_since
        return since is not None and self._clock() - since < self._give_up

    def _unanswered(self, chat: ChatRef, sent_at: float) -> None:
        """A send made at `sent_at` went unanswered: when that makes an outage, stop and
        probe."""
        if not self._outage.unanswered(chat, sent_at):
            return
        logger.warning(
            "%s does not answer: delivery waits, probing it until it does",
            self._platform_name,
            extra=platform_fields(self._adapter.platform),
        )
        if self._probing is None or self._probing.done():
            self._probing = asyncio.create_task(self._probe(), name="outage probe")

    def _answered(self) -> None:
        """The platform answered: an outage, if one was on, is over."""
        outage = self._outage.answered()
        if outage is None:
            return
        logger.warning(
            "%s answers again after %s: delivery resumes",
            self._platform_name,
            duration_text(outage.length),
            extra=platform_fields(self._adapter.platform),
        )
        if self._wake is not None:
            self._wake.set()
        if self._outage_over is not None:
            task = asyncio.create_task(self._outage_over(outage), name="outage notice")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _probe(self) -> None:
        """Ask the platform whether it answers, with backoff, until it does."""
        delays = probe_delays()
        for attempt in itertools.count():
            await self._pause(delays[min(attempt, len(delays) - 1)])
            if self._stopping.is_set() or not self._outage.down:
                return
            try:
                await asyncio.wait_for(self._adapter.probe(), timeout=self._overdue)
            except (DeliveryError, TimeoutError):
                continue
            self._answered()
            return

    @property
    def _platform_name(self) -> str:
        return self._adapter.platform.value.capitalize()

    async def _message_to_correct(self, item: OutboxItem, version: str | None) -> str | None:
        """The message id an edit (or deletion) row acts on; None when there is none (yet),
        the row then put back or dropped. An edit to the `version` the copy already shows is
        dropped."""
        push = await self._storage.outbox.push_record(item.edit_of) if item.edit_of else None
        sent = push is not None and push.status == "sent"
        if sent and version is not None and push is not None and push.shown_revision == version:
            await self._storage.outbox.give_up(
                item, "the copy already shows this version", dropped=True
            )
            return None
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

    async def _record(self, write: Callable[[], Awaitable[T]]) -> T | None:
        """Store an outcome, trying again while the database is busy, until it is stored.

        Giving up would be worse: a sent row not recorded is sent again when its claim runs
        out. When stopping, the tries end after the pauses are used up once.
        """
        pauses = iter(RECORD_PAUSES)
        while True:
            try:
                return await write()
            except Exception as error:
                if not _is_busy(error):
                    logger.exception(
                        "recording a delivery failed",
                        extra=platform_fields(self._adapter.platform),
                    )
                    return None
                pause = next(pauses, None)
                if pause is None:
                    if self._stopping.is_set():
                        logger.error(
                            "could not record a delivery before stopping: the database stays "
                            "busy; it may be sent once more",
                            extra=platform_fields(self._adapter.platform),
                        )
                        return None
                    pause = RECORD_PAUSES[-1]
                logger.warning(
                    "recording a delivery: the database is busy; trying again",
                    extra=platform_fields(self._adapter.platform),
                )
                await asyncio.sleep(pause)


@dataclass(frozen=True)
class _OutboxRow:
    """An outbox row under this process's claim, as the delivery rules see it."""

    item: OutboxItem
    outbox: OutboxRepository

    @property
    def chat(self) -> ChatRef:
        return self.item.chat

    @property
    def attempts(self) -> int:
        return self.item.attempts

    @property
    def unknown_outcomes(self) -> int:
        return self.item.unknown_outcomes

    async def retry_at(
        self,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool,
        hold_chat: bool = False,
    ) -> None:
        await self.outbox.retry_at(
            self.item,
            due_at,
            reason,
            count_attempt=count_attempt,
            outcome_unknown=outcome_unknown,
            hold_chat=hold_chat,
        )

    async def give_up(self, reason: str) -> None:
        await self.outbox.give_up(self.item, reason)
