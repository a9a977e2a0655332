"""The send budget: every send takes a slot, by lane, under a global rate and per-chat intervals.

Real time with short intervals where the assertions are about the order slots are granted in;
a fake clock where they are about when, never about how long anything took.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Callable

import pytest

from bot.platform.budget import PER_CHAT_MARGIN, Pace, SendBudget
from storage.models import ChatRef, Lane, Platform


def _chat(chat_id: str) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, chat_id)


async def _take_all(budget: SendBudget, requests: list[tuple[str, Lane]]) -> list[str]:
    """Ask for every slot at once, in list order; the order they were granted in."""
    granted: list[str] = []

    async def take(name: str, lane: Lane) -> None:
        await budget.take(_chat(name), lane)
        granted.append(name)

    tasks = [asyncio.create_task(take(name, lane)) for name, lane in requests]
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    return granted


async def test_the_most_urgent_waiting_send_takes_the_next_slot() -> None:
    budget = SendBudget(sends_per_second=40, interval=lambda _chat: 0.0)
    pushes = [(f"p{n}", Lane.PUSH) for n in range(6)]
    order = await _take_all(
        budget,
        [*pushes, ("edit", Lane.CORRECTION), ("breaking", Lane.BREAKING), ("answer", Lane.ANSWER)],
    )
    # Everyone waits when slots start to be handed out: answers first, then breaking news,
    # corrections, and the pushes in the order they asked.
    assert order == ["answer", "breaking", "edit", *(f"p{n}" for n in range(6))]


async def test_a_chat_waits_its_interval_without_holding_up_other_chats() -> None:
    budget = SendBudget(
        sends_per_second=None, interval=lambda chat: 0.3 if chat.chat_id == "a" else 0
    )
    order = await _take_all(
        budget, [("a", Lane.PUSH), ("a", Lane.PUSH), ("b", Lane.PUSH), ("b", Lane.PUSH)]
    )
    assert order == ["a", "b", "b", "a"]


async def test_an_answer_skips_its_chats_interval_but_the_next_push_waits() -> None:
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.3)
    await budget.take(_chat("a"), Lane.PUSH)
    order = await _take_all(budget, [("a", Lane.PUSH), ("b", Lane.PUSH), ("a", Lane.ANSWER)])
    # The answer to "a" at once, "b" next, and the push to "a" only after its interval.
    assert order == ["a", "b", "a"]


async def test_a_held_chat_gets_nothing_until_the_hold_ends_answers_included() -> None:
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.0)
    budget.hold(_chat("a"), 0.3)
    order = await _take_all(budget, [("a", Lane.ANSWER), ("a", Lane.PUSH), ("b", Lane.PUSH)])
    assert order[0] == "b"
    assert sorted(order[1:]) == ["a", "a"]


async def test_a_chats_interval_has_a_margin_over_the_platforms() -> None:
    now = [100.0]
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 1.0, clock=lambda: now[0])
    await budget.take(_chat("a"), Lane.PUSH)
    second = asyncio.create_task(budget.take(_chat("a"), Lane.PUSH))
    # Exactly the platform's interval later: a request a millisecond quicker than the first
    # would reach a strict server too early.
    now[0] = 101.0
    budget.pause(0)  # any change wakes the budget up
    await asyncio.sleep(0.05)
    assert not second.done()
    assert 1.02 <= PER_CHAT_MARGIN <= 1.1  # tens of milliseconds a second, not a slower chat
    now[0] = 100.0 + 1.0 * PER_CHAT_MARGIN
    budget.pause(0)
    await asyncio.wait_for(second, 5)


async def test_a_chat_told_to_retry_after_takes_the_next_slot_of_its_lane() -> None:
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.0)
    budget.hold(_chat("a"), 0.0)  # told to retry after a while, which has passed
    pushes = [(f"p{n}", Lane.PUSH) for n in range(4)]
    order = await _take_all(budget, [*pushes, ("a", Lane.PUSH), ("breaking", Lane.BREAKING)])
    # Ahead of the pushes that asked before it (it waited its turn already), not of a higher
    # lane.
    assert order == ["breaking", "a", *(name for name, _ in pushes)]
    # Once sent, the chat queues like any other.
    assert await _take_all(budget, [("b", Lane.PUSH), ("a", Lane.PUSH)]) == ["b", "a"]


async def test_a_waiter_that_gives_up_takes_no_slot() -> None:
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.3)
    await budget.take(_chat("a"), Lane.PUSH)
    waiting = asyncio.create_task(budget.take(_chat("a"), Lane.PUSH))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    # The cancelled waiter is gone: another chat is served at once, and "a" once its interval
    # (from the first send) has passed.
    order = await _take_all(budget, [("b", Lane.PUSH), ("a", Lane.PUSH)])
    assert order == ["b", "a"]


async def test_a_pause_holds_every_chat_and_lane_until_it_ends() -> None:
    now = [100.0]
    budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.0, clock=lambda: now[0])
    budget.pause(600)
    waiting = [
        asyncio.create_task(budget.take(_chat(name), lane))
        for name, lane in [("a", Lane.PUSH), ("b", Lane.ANSWER)]
    ]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)
    now[0] += 600
    budget.pause(0)  # any change wakes the budget up; the pause is over by the clock
    await asyncio.wait_for(asyncio.gather(*waiting), 5)


# The global rate, against Telegram's limit: at most 30 sends in any one second. Pacing at 29/s,
# any 31 sends in a row must span more than a second by a margin, for the time a request takes
# to reach Telegram to vary.
RATE = 29.0
SLOT = 1 / RATE
TELEGRAM_PER_SECOND = 30
JITTER_MARGIN = 0.015


def _assert_no_burst(starts: list[float], *, resolution: float = 0.0) -> None:
    """`starts` (in order) never crowd Telegram's second: no more than 30 within any second,
    nor 31 in a row within a second and the jitter margin (`resolution`: how late the clock
    lets a send start)."""
    limit = TELEGRAM_PER_SECOND
    most_in_a_second = max(
        index + 1 - bisect.bisect_right(starts, when - 1) for index, when in enumerate(starts)
    )
    assert most_in_a_second <= limit
    spans = [starts[n + limit] - starts[n] for n in range(len(starts) - limit)]
    assert min(spans) >= 1 + JITTER_MARGIN - resolution, min(spans)


def _run(pace: Pace, start: float, lateness: Callable[[int], float], sends: int) -> list[float]:
    """Start `sends` sends, each as soon as the pace allows plus `lateness(n)` (the event loop
    waking late); when each started."""
    starts = []
    now = start
    for number in range(sends):
        now = max(now, pace.next_at) + lateness(number)
        pace.spend(now)
        starts.append(now)
    return starts


def test_a_send_that_starts_late_does_not_slow_the_rate() -> None:
    pace = Pace(RATE)
    # Every other send starts up to almost half a slot late.
    starts = _run(pace, 1000.0, lambda n: (n % 2) * 0.45 * SLOT, 2_900)
    # 2,900 sends at 29/s: 100 s, late by no more than the last one's lateness.
    assert starts[-1] - starts[0] <= 2_899 * SLOT + 0.45 * SLOT + 1e-9
    _assert_no_burst(starts)


@pytest.mark.parametrize("rate", [0.5, 3.0, 25.0, 29.0, 29.5, 50.0])
def test_the_cap_never_slows_the_rate_only_bunching(rate: float) -> None:
    pace = Pace(rate)
    slot = 1 / rate
    # Every other send starts almost half a slot late; the next one makes it up.
    starts = _run(pace, 1000.0, lambda n: (n % 2) * 0.45 * slot, 1_000)
    assert starts[-1] - starts[0] <= 999 * slot + 0.45 * slot + 1e-6


def test_late_wake_ups_never_crowd_the_sends_that_follow() -> None:
    pace = Pace(RATE)
    draw = random.Random(11)
    # Mostly on time, one send in 20 late by up to two slots, one in 200 after a long stall.
    lateness = [
        draw.choice([draw.uniform(0, 2 * SLOT)] * 10 + [draw.uniform(0, 0.3)] + [0.0] * 189)
        for _ in range(5_000)
    ]
    starts = _run(pace, 1000.0, lateness.__getitem__, len(lateness))
    _assert_no_burst(starts)


def test_after_a_stall_the_sends_resume_at_the_rate_with_no_burst() -> None:
    pace = Pace(RATE)
    starts = _run(pace, 1000.0, lambda _n: 0.0, 40)
    # The loop stalls for 5 s: 145 slots missed, none made up.
    resumed = _run(pace, starts[-1] + 5, lambda _n: 0.0, 100)
    _assert_no_burst(starts + resumed)
    assert resumed[-1] - resumed[0] == pytest.approx(99 * SLOT)


def test_a_little_lateness_is_made_up_but_not_a_stall() -> None:
    pace = Pace(RATE)
    _run(pace, 1000.0, lambda _n: 0.0, 40)
    # The loop wakes 0.4 slot late: the next send is still due on its slot.
    late = pace.next_at + 0.4 * SLOT
    pace.spend(late)
    assert pace.next_at == pytest.approx(late + 0.6 * SLOT)
    # A stall of 1.5 slots: the sends in flight reached Telegram late as well, so the next one
    # waits a whole slot, not crowding onto them.
    stalled = pace.next_at + 1.5 * SLOT
    pace.spend(stalled)
    assert pace.next_at == pytest.approx(stalled + SLOT)


def test_a_pause_moves_the_next_send_and_the_rate_resumes_after_it() -> None:
    pace = Pace(RATE)
    pace.spend(1000.0)
    pace.stop_until(1600.0)
    assert pace.next_at == 1600.0
    starts = _run(pace, 1000.0, lambda _n: 0.0, 3)
    assert starts[0] == 1600.0
    assert starts[2] - starts[1] == pytest.approx(SLOT)


async def test_the_budget_grants_no_burst_when_its_loop_wakes_late() -> None:
    """The whole budget on a fake clock that moves a millisecond at a time, and jumps ahead
    now and then as a busy event loop would: late by most of a slot, and stalled for 2 s."""
    milliseconds = [1_000_000]
    budget = SendBudget(
        sends_per_second=RATE,
        interval=lambda _chat: 1.0,
        clock=lambda: milliseconds[0] / 1000,
    )
    started: list[float] = []

    async def push(chat: str) -> None:
        await budget.take(_chat(chat), Lane.PUSH)
        started.append(milliseconds[0] / 1000)

    pushes = [asyncio.create_task(push(f"c{number}")) for number in range(120)]
    jumps = {300: 30, 700: 2_000, 1_500: 30, 1_530: 30}
    step = 0
    while not all(task.done() for task in pushes):
        step += 1
        milliseconds[0] += 1 + jumps.get(step, 0)
        # Any change wakes the budget up (a hold on a chat that is not sent to); it then grants
        # what the clock allows, and the granted sends start, before the clock moves again.
        budget.hold(_chat("idle"), 0)
        for _ in range(20):
            await asyncio.sleep(0)
        assert step < 100_000, f"{len(started)} of 120 granted"
    _assert_no_burst(started, resolution=0.001)
