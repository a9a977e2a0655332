"""One platform's sending budget: every send in this process takes a slot, by priority.

The platforms limit messages overall and per chat (Telegram: about 30/s overall, 1/s to a
private chat, 20/min to a group). Answers to commands, breaking news, corrections and ordinary
pushes all count against the same limits, so they all draw on one budget, and when a slot comes
free the most urgent waiting send takes it: a reader's `/latest` is answered at once in the
middle of a broadcast to every chat. A slot is taken immediately before the network request,
after every database write, so a stalled database never turns into a burst of sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.models import ChatRef, Lane

# Each chat's least interval is kept this much longer than the platform's own: the time a
# request takes to reach the platform varies by a few milliseconds, so two sends granted exactly
# 1 s apart may arrive 0.994 s apart, and a strict server answers 429 to the second.
PER_CHAT_MARGIN = 1.05
# How long after its hold ended a chat told to retry after keeps its place at the front, when
# the budget forgets old chats: its send comes when the hold ends (its outbox row falls due
# then), perhaps behind a full queue; one given up meanwhile never comes.
KEEP_RETRY_PLACE_SECONDS = 60.0


@dataclass(order=True)
class _Waiter:
    lane: int
    ticket: int
    chat: ChatRef = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)
    mind_hold: bool = field(compare=False, default=True)


class Pace:
    """The global rate: a timeline of slots `1 / sends_per_second` apart, and a cap on the sends
    started within any second and half a slot.

    A send that starts a little late (the event loop woke up a few milliseconds late) does not
    move the timeline: the next slot is still due on time, so the rate holds. A send more than
    half a slot late starts the timeline afresh: the loop was stalled, the requests in flight
    reached the platform late, and making the time up would crowd the sends that follow onto
    them. The cap is the guard: never more sends within any second and half a slot than the
    rate puts there, rounded up to the next whole number (one more when it comes out whole, so
    that the cap never slows the rate). At 29/s, no 31 sends start within 1.017 s: Telegram
    allows 30 in any second, and the rest is left for the time a request takes to vary.
    """

    # The most lateness made up, in slots; beyond it the loop was stalled.
    CATCH_UP = 0.5

    def __init__(self, sends_per_second: float | None) -> None:
        self._gap = 1.0 / sends_per_second if sends_per_second else 0.0
        self._next = 0.0
        # The half slot past the second is the margin for jitter; the cap leaves the rate room
        # to make up a late send, so that it holds back bunching only.
        self._window = 1.0 + self._gap / 2
        most = math.floor(sends_per_second + 0.5) + 1 if sends_per_second else 0
        # When the last `most` sends started (none kept without a rate).
        self._recent: deque[float] = deque(maxlen=most)

    @property
    def next_at(self) -> float:
        """When the next send may start."""
        if self._recent.maxlen and len(self._recent) == self._recent.maxlen:
            return max(self._next, self._recent[0] + self._window)
        return self._next

    def spend(self, now: float) -> None:
        """A send starts `now` (at or after `next_at`)."""
        if now - self._next <= self.CATCH_UP * self._gap:
            self._next += self._gap
        else:
            self._next = now + self._gap
        self._recent.append(now)

    def stop_until(self, until: float) -> None:
        """Nothing starts before `until`."""
        self._next = max(self._next, until)


class SendBudget:
    """Hands out send slots under a global rate and a least interval per chat, by lane.

    An answer to a command does not wait for its chat's interval (a reader expects it at once,
    and a short burst in one chat is tolerated), but it counts: the chat's next push waits.
    A chat told to retry after N seconds gets nothing for N seconds, answers included; its next
    send then goes first in its lane, so it waits N seconds and a slot, not N seconds and the
    queue that built up meanwhile (at 29/s, 63 sends ahead are 2.2 s more).
    """

    def __init__(
        self,
        *,
        sends_per_second: float | None,
        interval: Callable[[ChatRef], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pace = Pace(sends_per_second)
        self._interval = interval
        self._clock = clock
        self._next_for: dict[ChatRef, float] = {}
        self._held_until: dict[ChatRef, float] = {}
        # Chats told to retry after, whose next send has not been granted yet.
        self._retrying: set[ChatRef] = set()
        self._waiting: list[_Waiter] = []
        self._tickets = itertools.count()
        self._changed = asyncio.Event()
        self._granting: asyncio.Task[None] | None = None

    async def take(self, chat: ChatRef, lane: Lane, *, mind_hold: bool = True) -> None:
        """Return when one message may be sent to `chat` now; the slot is then used up.

        `mind_hold` False: the caller's own schedule already waited out the chat's hold (an
        outbox row told to retry after N seconds falls due N seconds later).
        """
        granted = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, _Waiter(lane, next(self._tickets), chat, granted, mind_hold))
        self._changed.set()
        if self._granting is None or self._granting.done():
            self._granting = asyncio.create_task(self._grant_all(), name="send budget")
        try:
            await granted
        except asyncio.CancelledError:
            # Stopping: leave the queue (a slot granted at that very moment goes unused).
            granted.cancel()
            raise

    def chat_interval(self, chat: ChatRef) -> float:
        """The seconds between two sends to `chat`, its margin included: how fast a chat's
        backlog can drain."""
        return self._gap(chat)

    def _gap(self, chat: ChatRef) -> float:
        return self._interval(chat) * PER_CHAT_MARGIN

    def hold(self, chat: ChatRef, seconds: float) -> None:
        """Send nothing to `chat` for `seconds` (the platform said retry after)."""
        until = self._clock() + seconds
        self._held_until[chat] = max(self._held_until.get(chat, 0.0), until)
        self._retrying.add(chat)
        self._changed.set()

    def pause(self, seconds: float) -> None:
        """Send nothing at all for `seconds`: the platform refuses every request (a refused
        token, an address banned for too many invalid requests), and each one sent anyway
        counts against us."""
        self._pace.stop_until(self._clock() + seconds)
        self._changed.set()

    def _place(self, waiter: _Waiter) -> tuple[int, bool, int]:
        """A waiter's place in the queue: by lane; in a lane, a chat that was told to retry
        after (and has waited) first, then in the order they asked."""
        return (waiter.lane, waiter.chat not in self._retrying, waiter.ticket)

    def _ready_at(self, waiter: _Waiter) -> float:
        held = self._held_until.get(waiter.chat, 0.0) if waiter.mind_hold else 0.0
        if waiter.lane == Lane.ANSWER:
            return held
        return max(held, self._next_for.get(waiter.chat, 0.0))

    async def _grant_all(self) -> None:
        """Grant slots while anyone waits: the first ready waiter by lane, when the rate
        allows one more send."""
        while True:
            # Waiters that gave up (stopping, cancelled) leave.
            self._waiting = [w for w in self._waiting if not w.granted.done()]
            heapq.heapify(self._waiting)
            if not self._waiting:
                return
            self._changed.clear()
            now = self._clock()
            if now < self._pace.next_at:
                await self._wait_for_change(self._pace.next_at - now)
                continue
            chosen = None
            soonest = float("inf")
            for waiter in sorted(self._waiting, key=self._place):
                ready_at = self._ready_at(waiter)
                if ready_at <= now:
                    chosen = waiter
                    break
                soonest = min(soonest, ready_at)
            if chosen is None:
                await self._wait_for_change(soonest - now)
                continue
            self._waiting.remove(chosen)
            self._pace.spend(now)
            self._next_for[chosen.chat] = now + self._gap(chosen.chat)
            self._retrying.discard(chosen.chat)
            chosen.granted.set_result(None)
            self._forget_old(now)

    async def _wait_for_change(self, seconds: float) -> None:
        """Sleep `seconds`, or less when a waiter arrives or a chat is held."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=max(seconds, 0.0))

    def _forget_old(self, now: float) -> None:
        # A broadcast to a million chats must not leave a million entries behind.
        if len(self._next_for) > 10_000:
            self._next_for = {c: t for c, t in self._next_for.items() if t > now}
            kept = now - KEEP_RETRY_PLACE_SECONDS
            self._retrying = {c for c in self._retrying if self._held_until.get(c, 0.0) > kept}
            self._held_until = {c: t for c, t in self._held_until.items() if t > now}
