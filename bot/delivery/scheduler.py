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
from bot.delivery.digest import DIGEST_CLAIM_BATCH, HeldRows, compose_digest
from bot.delivery.errors import (
    DeliveryError,
    TransientError,
    UnknownOutcome,
)
from bot.delivery.outage import Outage, OutageWatch, duration_text, probe_delays
from bot.delivery.outcomes import DeliveryRules, Unsent
from bot.delivery.policy import DeliveryPolicy
from bot.logging_config import chat_fields, platform_fields
from bot.platform import PlatformAdapter
from bot.render import BACKLOG_STORIES, ArticleRenderer
from storage import Storage
from storage.models import (
    PROCESS,
    Article,
    ChatRef,
    DeliveryKind,
    DigestClaim,
    Lane,
    OutboxItem,
    PushRecord,
)
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
    (`delete`) the removal of that message. `bundled`: the rows after the head that a chat's
    coalesced backlog carries too, each with the version of its story it shows."""

    reply: Reply
    version: str
    replaces: str | None = None
    delete: bool = False
    bundled: tuple[tuple[OutboxItem, str], ...] = ()


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
        coalesce_after_seconds: float = 0.0,
        push_max_age_seconds: float | None = None,
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
        # A chat with more regular pushes waiting than it can take in this long (by its
        # interval) gets them as one message; 0: never.
        self._coalesce_after = coalesce_after_seconds
        # A regular push still waiting when its story is older than this is news no more:
        # dropped, not sent late (the window in which a new story is pushed at all).
        self._max_age = (
            None if push_max_age_seconds is None else timedelta(seconds=push_max_age_seconds)
        )
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
        self._digests_sent = 0
        # The platform (or console chat) this scheduler delivers for, one process at a time.
        platform = adapter.platform.value
        self._scope = platform if chat_id is None else f"{platform}:{chat_id}"
        self._holder = f"{PROCESS}{uuid.uuid4().hex}"
        self._recovered_at = float("-inf")

    async def deliver_due(self) -> int:
        """Deliver every row due now, and the rows behind them in their chats' queues, and the
        digests due, then return; how many push rows were handled (`digests_sent` says how
        many digests went out). Rows that fall due later are left for later."""
        self._handled = 0
        self._digests_sent = 0
        self._lease_good_until = float("inf")  # one pass, under no lease: nobody to fence off
        await self._recover()
        await self._pump(until_idle=True)
        return self._handled

    @property
    def digests_sent(self) -> int:
        """The digests the last `deliver_due` sent."""
        return self._digests_sent

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
        """Claim work for the free slots, chat heads first, then due digests, each sent by a
        task of its own; how many."""
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0 or self._waiting_out_outage() or not self._lease_good():
            return 0
        platform, now = self._adapter.platform, self._clock()
        items: list[OutboxItem] = []
        claims: list[DigestClaim] = []
        try:
            # Reads first: with nothing due, no write and no lock is taken.
            due = await self._storage.outbox.next_due(platform, self._chat_id)
            if due is not None and due <= now:
                items = await self._storage.outbox.claim(
                    platform, now=now, lease_seconds=self._lease, limit=free, chat_id=self._chat_id
                )
            digests_due = await self._storage.digests.next_due(platform, self._chat_id)
            if free > len(items) and digests_due is not None and digests_due <= now:
                claims = await self._storage.digests.claim(
                    platform,
                    now=now,
                    lease_seconds=self._lease,
                    limit=min(free - len(items), DIGEST_CLAIM_BATCH),
                    chat_id=self._chat_id,
                )
        except Exception as error:
            self._log_storage_trouble("claiming deliveries", error)
        work = [(self._deliver(item), f"deliver {item.id}") for item in items]
        work += [(self._deliver_digest(claim), f"digest {claim.chat.chat_id}") for claim in claims]
        for coroutine, name in work:
            task = asyncio.create_task(coroutine, name=name)
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(work)

    async def _wait_for_work(self, claimed: int) -> None:
        """Until a send finishes, new rows are announced, the next row falls due, or a poll."""
        if claimed and len(self._in_flight) < self._max_in_flight:
            return  # there may be more to claim at once
        # Taken before anything is awaited: a send that finishes meanwhile ends the wait.
        finished = set(self._in_flight)
        delay = self._poll
        with contextlib.suppress(Exception):
            for queue in (self._storage.outbox, self._storage.digests):
                next_due = await queue.next_due(self._adapter.platform, self._chat_id)
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
            stale = await self._drop_stale()
        except Exception as error:
            self._log_storage_trouble("taking back what a dead process left", error)
            return
        if stale:
            logger.info(
                "dropped %d waiting pushes of stories published more than %s ago",
                stale,
                duration_text(self._max_age or timedelta()),
                extra=platform_fields(self._adapter.platform),
            )
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

    async def _drop_stale(self) -> int:
        if self._max_age is None or self._chat_id is not None:
            return 0
        return await self._storage.outbox.drop_stale(
            self._adapter.platform,
            published_before=self._clock() - self._max_age,
            reason=f"published more than {duration_text(self._max_age)} ago, still waiting",
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

    async def _carry(
        self,
        unsent: Callable[[], Unsent],
        send: Callable[[], Awaitable[Callable[[], Awaitable[object]] | None]],
    ) -> None:
        """The engine's one way with a piece of work, a push or a digest: `send` prepares it,
        sends it through `_send`, and returns how to record what went out (None: nothing was
        to be sent, the work settled itself). Whatever comes of it is recorded by the one set
        of rules, for `unsent()`, the rows as they stand when it failed."""
        try:
            record = await send()
            if record is None:
                return
        except _Stopped:
            outcome: Callable[[], Awaitable[object]] = functools.partial(
                unsent().put_back, "delivery stopped before sending"
            )
        except _LeaseSpent:
            outcome = functools.partial(
                unsent().put_back, "the delivery lease lapsed before sending"
            )
        except DeliveryError as error:
            outcome = functools.partial(
                self._rules.failed, unsent(), error, platform_down=self._waiting_out_outage()
            )
        except _Abandoned:
            # Stopping while the send was on the wire: it may have arrived.
            abandoned = UnknownOutcome("abandoned when stopping")
            await asyncio.shield(
                self._record(functools.partial(self._rules.failed, unsent(), abandoned))
            )
            raise asyncio.CancelledError from None
        except Exception as error:
            # A bug or a database hiccup must not lose the rows: a transient failure.
            logger.exception("delivering failed", extra=chat_fields(unsent().chat))
            transient = TransientError(f"delivery failed: {error!r}")
            outcome = functools.partial(self._rules.failed, unsent(), transient)
        else:
            self._answered()
            outcome = record
        # Shielded: a stop must not cut the recording of what already happened.
        await asyncio.shield(self._record(outcome))

    async def _deliver(self, item: OutboxItem) -> None:
        """Send one chat head (with the backlog it carries, if any) and record it."""
        self._handled += 1
        # The rows a coalesced backlog carries with this one: they share its fate.
        bundled: tuple[OutboxItem, ...] = ()

        async def send() -> Callable[[], Awaitable[object]] | None:
            nonlocal bundled
            outgoing = await self._prepare(item)
            if outgoing is None:
                return None
            bundled = tuple(row for row, _version in outgoing.bundled)
            self._handled += len(bundled)
            message_id = await self._send(
                item.chat, Lane(item.lane), functools.partial(self._request, item, outgoing)
            )
            if outgoing.bundled:
                return functools.partial(
                    self._storage.outbox.mark_sent_together,
                    [(item, outgoing.version), *outgoing.bundled],
                    message_id,
                    now=self._clock(),
                )
            return functools.partial(
                self._storage.outbox.mark_sent,
                item,
                message_id,
                now=self._clock(),
                shown_revision=outgoing.version,
            )

        await self._carry(lambda: self._row(item, bundled), send)

    async def _deliver_digest(self, claim: DigestClaim) -> None:
        """Send one chat's digest of its held pushes and record it."""
        rows = HeldRows(claim, self._storage.digests, self._clock)

        async def send() -> Callable[[], Awaitable[object]] | None:
            nonlocal rows
            composed = await compose_digest(
                claim,
                storage=self._storage,
                renderer=self._renderer,
                default_language=self._default_language,
                now=self._clock(),
            )
            if composed is None:
                return None
            kept, reply = composed
            rows = HeldRows(kept, self._storage.digests, self._clock)
            # The claim was made before a slot came free: still ours, and good for a lease.
            if not await self._storage.digests.renew(
                kept, now=self._clock(), lease_seconds=self._lease
            ):
                logger.warning(
                    "the digest was claimed by another sender", extra=chat_fields(kept.chat)
                )
                return None
            # Claimed again after a crash, the same rows make the same key.
            key = f"nbd{min(item.id for item in kept.items)}"
            message_id = await self._send(
                kept.chat,
                Lane.PUSH,
                functools.partial(self._adapter.send, kept.chat, reply, key=key),
            )
            self._digests_sent += 1
            return functools.partial(
                self._storage.digests.mark_sent, kept, message_id, now=self._clock()
            )

        await self._carry(lambda: rows, send)

    def _row(self, item: OutboxItem, bundled: tuple[OutboxItem, ...] = ()) -> _OutboxRow:
        return _OutboxRow((item, *bundled), self._storage.outbox, self._clock)

    async def _prepare(self, item: OutboxItem) -> _Outgoing | None:
        """The message for a row; None when there is none to send (the row is settled)."""
        if item.kind is DeliveryKind.DELETE:
            # A deletion shows nothing: it needs no story (a retracted one is not found).
            target = await self._message_to_correct(item, version=None)
            return None if target is None else _Outgoing(Reply(), "", target, delete=True)
        if item.kind is DeliveryKind.EDIT and item.edit_of is not None:
            push = await self._storage.outbox.push_record(item.edit_of)
            if push is not None and push.status == "sent" and push.bundle_of and push.message_id:
                return await self._edit_bundle(item, push, push.bundle_of, push.message_id)
        article = await self._storage.articles.get(item.article_id)
        if article is None:
            await self._storage.outbox.give_up(item, "article no longer stored")
            return None
        if item.kind is DeliveryKind.EDIT:
            replaces = await self._message_to_correct(item, article.version)
            if replaces is None:
                return None
            language = await self._language(item.chat)
            return _Outgoing(self._renderer.push(article, language), article.version, replaces)
        return await self._prepare_push(item, article)

    async def _prepare_push(self, item: OutboxItem, article: Article) -> _Outgoing | None:
        """A new story's message: its card, or the chat's backlog with it; None when it is
        held for the chat's digest."""
        if not article.breaking:
            held_until = await self._policy.hold_until(item.chat, self._clock())
            if held_until is not None:
                # The chat takes its regular pushes in a digest, or is in its quiet hours:
                # the digest sender sends this one with the others when the hold ends.
                await self._storage.outbox.hold(item, held_until)
                return None
        language = await self._language(item.chat)
        if item.lane == Lane.PUSH:
            backlog = await self._coalesce(item, article, language)
            if backlog is not None:
                return backlog
        return _Outgoing(self._renderer.push(article, language), article.version)

    async def _language(self, chat: ChatRef) -> str:
        return await self._storage.chats.language(chat) or self._default_language

    async def _coalesce(
        self, head: OutboxItem, article: Article, language: str
    ) -> _Outgoing | None:
        """The chat's backlog of regular pushes as one message, when it holds more than the
        chat can take one by one soon; None otherwise. The rows it carries are claimed with
        `head`, and put back if the message cannot be made."""
        interval = self._adapter.budget.chat_interval(head.chat)
        if self._coalesce_after <= 0 or interval <= 0:
            return None
        rows = await self._storage.outbox.take_backlog(
            head,
            now=self._clock(),
            lease_seconds=self._lease,
            more_than=max(1, int(self._coalesce_after / interval)),
            limit=BACKLOG_STORIES,
        )
        if not rows:
            return None
        try:
            bundled, articles = [], [article]
            for row in rows:
                story = await self._storage.articles.get(row.article_id)
                if story is None:
                    await self._storage.outbox.give_up(row, "article no longer stored")
                    continue
                bundled.append((row, story.version))
                articles.append(story)
            reply = self._renderer.backlog(articles, language, self._clock())
        except BaseException:
            await asyncio.shield(
                _OutboxRow(tuple(rows), self._storage.outbox, self._clock).put_back(
                    "the backlog could not be made"
                )
            )
            raise
        return _Outgoing(reply, article.version, bundled=tuple(bundled))

    async def _edit_bundle(
        self, item: OutboxItem, push: PushRecord, bundle_of: int, message_id: str
    ) -> _Outgoing | None:
        """A correction or retraction of a story sent in a chat's coalesced backlog: the
        message made again from its stories as they are now (a retracted one left out)."""
        article = await self._storage.articles.get(item.article_id)
        if article is not None and push.shown_revision == article.version:
            await self._storage.outbox.give_up(
                item, "the copy already shows this version", dropped=True
            )
            return None
        stories = []
        for article_id in await self._storage.outbox.bundle(bundle_of):
            story = await self._storage.articles.get(article_id)
            if story is not None:
                stories.append(story)
        if not stories:
            return _Outgoing(Reply(), "", message_id, delete=True)
        reply = self._renderer.backlog(stories, await self._language(item.chat), self._clock())
        version = article.version if article is not None else ""
        return _Outgoing(reply, version, message_id)

    async def _send(self, chat: ChatRef, lane: Lane, request: Callable[[], Awaitable[str]]) -> str:
        """Take a slot from the budget (the last thing before the network), then make the
        request while this process's lease is good; the message id it returns."""
        # The row fell due only when its chat's hold (a retry-after) had passed, by the clock
        # that times the outbox: the outbox holds the whole chat, whichever row is its head.
        slot = asyncio.ensure_future(self._adapter.budget.take(chat, lane, mind_hold=False))
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
        sent_at = time.monotonic()
        sending = asyncio.ensure_future(request())
        try:
            done, _ = await asyncio.wait({sending}, timeout=self._overdue)
            if not done:
                # Still awaited (its answer may come late, and is recorded then), but a sign
                # that the platform may be down. When it was sent, not when this loop noticed:
                # a loaded loop notices late, and a send made before the platform answered
                # again must not start another outage.
                self._unanswered(chat, sent_at)
            return await sending
        except (TransientError, UnknownOutcome):
            # No answer, or no connection: the same sign.
            self._unanswered(chat, sent_at)
            raise
        except asyncio.CancelledError:
            sending.cancel()
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
    """Outbox rows under this process's claim that went as one message (a push, or a chat's
    coalesced backlog: its head first), as the delivery rules see them."""

    items: tuple[OutboxItem, ...]
    outbox: OutboxRepository
    clock: Callable[[], datetime]

    @property
    def chat(self) -> ChatRef:
        return self.items[0].chat

    @property
    def attempts(self) -> int:
        return self.items[0].attempts

    @property
    def unknown_outcomes(self) -> int:
        return max(item.unknown_outcomes for item in self.items)

    async def retry_at(
        self,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool,
        hold_chat: bool = False,
    ) -> None:
        for item in self.items:
            await self.outbox.retry_at(
                item,
                due_at,
                reason,
                count_attempt=count_attempt,
                outcome_unknown=outcome_unknown,
                hold_chat=hold_chat,
            )

    async def put_back(self, reason: str) -> None:
        """As they were, due now: nothing was sent."""
        await self.retry_at(self.clock(), reason, count_attempt=False, outcome_unknown=False)

    async def give_up(self, reason: str) -> None:
        for item in self.items:
            await self.outbox.give_up(item, reason)
