"""The pacer keeps each chat and the platform under their limits without blocking other chats."""

from __future__ import annotations

import asyncio

from bot.delivery.pacing import Pacer
from storage.models import ChatRef, Platform


class VirtualTime:
    """A clock and a sleep that only move time forward on paper."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _chat(chat_id: str) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, chat_id)


async def test_one_chat_waits_its_interval() -> None:
    time = VirtualTime()
    pacer = Pacer(
        sends_per_second=None, interval=lambda _: 1.0, clock=time.clock, sleep=time.sleep
    )
    moments = []
    for _ in range(3):
        await pacer.wait_turn(_chat("1"))
        moments.append(time.now)
    assert moments == [0.0, 1.0, 2.0]


async def test_global_rate_spaces_different_chats() -> None:
    time = VirtualTime()
    pacer = Pacer(sends_per_second=30, interval=lambda _: 1.0, clock=time.clock, sleep=time.sleep)
    for number in range(31):
        await pacer.wait_turn(_chat(str(number)))
    assert abs(time.now - 1.0) < 1e-9  # 31 sends to 31 chats take one second at 30/s


async def test_hold_delays_only_that_chat() -> None:
    time = VirtualTime()
    pacer = Pacer(
        sends_per_second=None, interval=lambda _: 0.0, clock=time.clock, sleep=time.sleep
    )
    pacer.hold(_chat("1"), 10)
    await pacer.wait_turn(_chat("2"))
    assert time.now == 0.0
    await pacer.wait_turn(_chat("1"))
    assert time.now == 10.0
