"""The send budget: every send takes a slot, by lane, under a global rate and per-chat intervals.

Real time with short intervals; the assertions are about the order slots are granted in, never
about how long anything took.
"""

from __future__ import annotations

import asyncio

from bot.delivery.budget import Lane, SendBudget
from storage.models import ChatRef, Platform


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
