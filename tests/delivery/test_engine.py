"""The delivery engine's rules, tested once for both kinds of work it carries: a push (one chat
head) and a digest (a chat's held pushes as one message). What is specific to each is in
test_scheduler.py and test_digest.py."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.delivery import scheduler as scheduler_module
from bot.delivery.errors import RetryAfter, UnknownOutcome
from bot.delivery.scheduler import DeliveryScheduler
from tests.support import FakeClock, FakePlatform, draft, until

CHAT = "10"
WIB = ZoneInfo("Asia/Jakarta")


@dataclass
class Work:
    """One piece of work of a kind, due now: its chat has nothing else waiting."""

    kind: str
    app: App
    platform: FakePlatform
    clock: FakeClock

    def rows(self) -> list[tuple[str, int, int]]:
        """(status, attempts, possible duplicate) of the chat's push rows."""
        with sqlite3.connect(self.app.settings.database) as connection:
            return connection.execute(
                "SELECT status, attempts, possible_duplicate FROM outbox WHERE chat_id = ?",
                (CHAT,),
            ).fetchall()


@pytest.fixture(params=["push", "digest"])
async def work(
    request: pytest.FixtureRequest, app: App, platform: FakePlatform, clock: FakeClock
) -> Work:
    clock.now = datetime(2026, 11, 24, 10, tzinfo=WIB)
    await platform.say("/subscribe ekonomi", chat=CHAT)
    if request.param == "digest":
        await platform.say("/digest 07:00", chat=CHAT)
    await app.deps.newsroom.publish([draft("Rupiah menguat", section="ekonomi")])
    if request.param == "digest":
        await app.delivery_worker(platform).deliver_due()  # held for tomorrow's digest
        assert platform.sent == []
        clock.now = datetime(2026, 11, 25, 7, tzinfo=WIB)
    return Work(request.param, app, platform, clock)


def _engine(work: Work) -> DeliveryScheduler:
    return work.app.delivery_worker(work.platform)


async def test_retry_after_waits_exactly_that_long_and_counts_no_attempt(work: Work) -> None:
    work.platform.failures = {CHAT: [RetryAfter(37)]}
    engine = _engine(work)
    await engine.deliver_due()
    work.clock.advance(36.9)
    await engine.deliver_due()
    assert work.platform.sent == []
    work.clock.advance(0.1)
    await engine.deliver_due()
    assert len(work.platform.sent) == 1
    assert work.rows() == [("sent", 0, 0)]


async def test_an_unknown_outcome_is_tried_once_more_after_the_late_answer_wait_and_marked(
    work: Work,
) -> None:
    work.platform.failures = {CHAT: [UnknownOutcome("no answer")]}
    engine = _engine(work)
    await engine.deliver_due()
    work.clock.advance(work.app.settings.delivery_late_answer_seconds - 0.1)
    await engine.deliver_due()
    assert work.platform.sent == []  # its answer may yet come
    work.clock.advance(0.1)
    await engine.deliver_due()
    assert len(work.platform.sent) == 1
    assert work.rows() == [("sent", 0, 1)]  # it may have arrived twice


async def test_an_outcome_unknown_twice_is_given_up_never_tried_a_third_time(work: Work) -> None:
    work.platform.failures = {CHAT: [UnknownOutcome("no answer"), UnknownOutcome("no answer")]}
    engine = _engine(work)
    await engine.deliver_due()
    work.clock.advance(work.app.settings.delivery_late_answer_seconds)
    await engine.deliver_due()
    work.clock.advance(3600)
    await engine.deliver_due()
    assert work.platform.sent == []
    assert work.rows() == [("failed", 0, 1)]


async def test_a_send_whose_record_fails_is_recorded_again_not_sent_again(
    work: Work, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "RECORD_PAUSES", (0.01,))
    repository = work.app.storage.digests if work.kind == "digest" else work.app.storage.outbox
    real_mark_sent = repository.mark_sent
    failures = [sqlite3.OperationalError("database is locked")] * 3

    async def busy_then_free(*args: object, **kwargs: object) -> None:
        if failures:
            raise failures.pop()
        await real_mark_sent(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "mark_sent", busy_then_free)
    await _engine(work).deliver_due()
    assert failures == []
    assert len(work.platform.sent) == 1
    assert work.rows() == [("sent", 0, 0)]


async def _while_sending(
    work: Work, engine: DeliveryScheduler, during: Callable[[], Awaitable[None]]
) -> None:
    """Run the engine until its send waits for a slot that never comes; then `during`."""
    never = asyncio.Event()

    async def no_slot(*args: object, **kwargs: object) -> None:
        await never.wait()

    work.platform.budget.take = no_slot  # type: ignore[method-assign]
    running = asyncio.create_task(engine.run(stop := asyncio.Event()))
    try:
        await until(lambda: _claimed(work), within=5)
        await during()
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


def _claimed(work: Work) -> bool:
    return any(status in ("sending", "digesting") for status, *_ in work.rows())


async def test_stopping_before_the_slot_puts_the_work_back_as_it_was(work: Work) -> None:
    engine = _engine(work)

    async def nothing() -> None:
        return

    await _while_sending(work, engine, nothing)
    assert work.platform.sent == []
    assert work.rows() == [("held" if work.kind == "digest" else "pending", 0, 0)]


async def test_a_process_whose_lease_lapsed_sends_nothing_and_puts_the_work_back(
    work: Work,
) -> None:
    engine = _engine(work)
    granted = asyncio.Event()

    async def slot_after_the_lease_lapsed(*args: object, **kwargs: object) -> None:
        engine._lease_good_until = float("-inf")  # white-box: as if paused past the lease
        granted.set()

    work.platform.budget.take = slot_after_the_lease_lapsed  # type: ignore[method-assign]
    running = asyncio.create_task(engine.run(stop := asyncio.Event()))
    await asyncio.wait_for(granted.wait(), 5)
    await until(lambda: not _claimed(work), within=5)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert work.platform.sent == []
    assert work.rows() == [("held" if work.kind == "digest" else "pending", 0, 0)]
