"""Fan-out and the delivery loop, with a fake platform that fails as each test scripts."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.app import App, open_app
from bot.delivery.errors import (
    ChatGone,
    ChatMoved,
    PermanentError,
    TransientError,
)
from bot.delivery.outcomes import backoff_seconds
from bot.delivery.scheduler import DeliveryScheduler
from bot.settings import BREAKING_SLUG, Settings
from storage import search_text
from storage.models import ChatRef, Platform
from storage.sqlite import articles as articles_sql
from storage.sqlite import claims as sqlite_claims
from tests.support import START, FakeClock, FakePlatform, draft


def _worker(app: App, platform: FakePlatform) -> DeliveryScheduler:
    return app.delivery_worker(platform)


async def _outbox(app: App) -> list[tuple[str, str, int, str | None]]:
    database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
    async with database.connection.execute(
        "SELECT chat_id, status, attempts, last_error FROM outbox ORDER BY id"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]  # type: ignore[misc]


async def _subscribe(app: App, chat_id: str, *sections: str) -> None:
    await app.storage.subscriptions.subscribe(
        ChatRef(Platform.TELEGRAM, chat_id), list(sections), now=START
    )


async def test_each_matching_chat_gets_a_new_story_exactly_once(
    app: App, platform: FakePlatform
) -> None:
    await _subscribe(app, "10", "internasional")
    await _subscribe(app, "11", "nasional")
    await app.storage.subscriptions.follow(
        ChatRef(Platform.TELEGRAM, "10"), "nato", ["nato"], now=START
    )
    await app.storage.subscriptions.follow(
        ChatRef(Platform.TELEGRAM, "12"), "Jepang", ["jepang"], now=START
    )
    story = draft("NATO dan Jepang", body="Pertahanan kawasan.", section="internasional")
    [result] = await app.deps.newsroom.publish([story])
    assert result.queued == 2  # chat 10 (section and keyword: one row) and chat 12 (keyword)
    await app.deps.newsroom.publish([story])  # the same story again adds nothing
    worker = _worker(app, platform)
    assert await worker.deliver_due() == 2
    assert await worker.deliver_due() == 0
    assert sorted(m.chat.chat_id for m in platform.sent) == ["10", "12"]
    assert [row[1] for row in await _outbox(app)] == ["sent", "sent"]


async def test_an_old_story_imported_late_is_stored_but_not_pushed(app: App) -> None:
    await _subscribe(app, "10", "internasional")
    [result] = await app.deps.newsroom.publish(
        [draft("Arsip lama", section="internasional", published_at=START - timedelta(days=30))]
    )
    assert result.queued == 0
    assert await app.storage.articles.count() == 1


async def test_transient_errors_back_off_then_give_up_with_a_reason(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await _subscribe(app, "10", "nasional")
    attempts = app.settings.delivery_max_attempts
    platform.failures = {"10": [TransientError("timed out")] * attempts}
    await app.deps.newsroom.publish([draft("Satu")])
    worker = _worker(app, platform)
    for _ in range(attempts):
        await worker.deliver_due()
        clock.advance(3600)
    [(_, status, tries, reason)] = await _outbox(app)
    assert status == "failed"
    assert tries == attempts - 1
    assert reason == f"gave up after {attempts} attempts: timed out"
    assert platform.sent == []


async def test_transient_then_success(app: App, platform: FakePlatform, clock: FakeClock) -> None:
    await _subscribe(app, "10", "nasional")
    platform.failures = {"10": [TransientError("502")]}
    await app.deps.newsroom.publish([draft("Satu")])
    worker = _worker(app, platform)
    await worker.deliver_due()
    due = await app.storage.outbox.next_due(Platform.TELEGRAM)
    assert due is not None
    assert START + timedelta(seconds=1) <= due <= START + timedelta(seconds=2)
    clock.advance(2)
    await worker.deliver_due()
    assert len(platform.sent) == 1


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    assert 1 <= backoff_seconds(1, rng) <= 2
    assert 8 <= backoff_seconds(4, rng) <= 16
    assert backoff_seconds(40, rng) <= 900


async def test_chat_gone_deactivates_its_subscriptions_and_pending_rows(
    app: App, platform: FakePlatform
) -> None:
    await _subscribe(app, "10", "nasional")
    await _subscribe(app, "11", "nasional")
    platform.failures = {"10": [ChatGone("bot was blocked by the user")]}
    await app.deps.newsroom.publish([draft("Satu"), draft("Dua")])
    await _worker(app, platform).deliver_due()
    gone = ChatRef(Platform.TELEGRAM, "10")
    assert await app.storage.subscriptions.sections_of(gone) == []
    statuses = {(chat, status) for chat, status, _, _ in await _outbox(app)}
    assert statuses == {("10", "dropped"), ("11", "sent")}
    # A new story no longer reaches the gone chat.
    [result] = await app.deps.newsroom.publish([draft("Tiga")])
    assert result.queued == 1


async def test_a_chat_gone_is_never_left_subscribed_behind_a_dropped_row(
    app: App, platform: FakePlatform, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stopping the subscriptions fails once (a disk error, not a busy database). The push must
    # not read as dropped while its chat is still subscribed: it stays claimed, comes back to
    # the next process when its lease ends, and the chat is found gone then.
    await _subscribe(app, "10", "nasional")
    platform.failures = {"10": [ChatGone("bot was kicked"), ChatGone("bot was kicked")]}
    deactivate = app.storage.chats.deactivate
    failures = [sqlite3.OperationalError("disk I/O error")]

    async def failing_once(chat: ChatRef, reason: str, *, now: datetime) -> int:
        if failures:
            raise failures.pop()
        return await deactivate(chat, reason, now=now)

    monkeypatch.setattr(app.storage.chats, "deactivate", failing_once)
    await app.deps.newsroom.publish([draft("Satu")])
    worker = _worker(app, platform)
    await worker.deliver_due()
    gone = ChatRef(Platform.TELEGRAM, "10")
    assert await app.storage.subscriptions.sections_of(gone) == ["nasional"]
    [(_, status, _, _)] = await _outbox(app)
    assert status != "dropped"
    clock.advance(app.settings.delivery_lease_seconds)
    with _as_process(monkeypatch, "lain.example:4242:"):
        await _worker(app, platform).deliver_due()
    assert await app.storage.subscriptions.sections_of(gone) == []
    [(_, status, _, reason)] = await _outbox(app)
    assert (status, reason) == ("dropped", "chat gone: bot was kicked")


async def test_chat_moved_follows_the_new_id_and_sends_once(
    app: App, platform: FakePlatform
) -> None:
    await _subscribe(app, "-10", "nasional")
    platform.failures = {"-10": [ChatMoved("-100777")]}
    await app.deps.newsroom.publish([draft("Satu")])
    await _worker(app, platform).deliver_due()
    assert [m.chat.chat_id for m in platform.sent] == ["-100777"]
    assert await app.storage.subscriptions.sections_of(ChatRef(Platform.TELEGRAM, "-10")) == []
    moved = ChatRef(Platform.TELEGRAM, "-100777")
    assert await app.storage.subscriptions.sections_of(moved) == ["nasional"]
    [result] = await app.deps.newsroom.publish([draft("Dua")])
    assert result.queued == 1


async def test_bad_request_is_never_retried(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await _subscribe(app, "10", "nasional")
    platform.failures = {"10": [PermanentError("message is too long")]}
    await app.deps.newsroom.publish([draft("Satu")])
    worker = _worker(app, platform)
    await worker.deliver_due()
    clock.advance(86_400)
    assert await worker.deliver_due() == 0
    [(_, status, _, reason)] = await _outbox(app)
    assert (status, reason) == ("failed", "refused: message is too long")


async def test_an_adapter_crash_keeps_the_row_for_a_retry(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await _subscribe(app, "10", "nasional")
    platform.failures = {"10": [ValueError("adapter bug")]}
    await app.deps.newsroom.publish([draft("Satu")])
    worker = _worker(app, platform)
    await worker.deliver_due()
    clock.advance(60)
    await worker.deliver_due()
    assert len(platform.sent) == 1


@contextlib.contextmanager
def _as_process(monkeypatch: pytest.MonkeyPatch, process: str) -> Iterator[None]:
    """Claims made inside are another process's (`host:pid:`), as if it had made them."""
    with monkeypatch.context() as patched:
        patched.setattr(sqlite_claims, "PROCESS", process)
        yield


def _dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(finished.stdout)


async def test_rows_claimed_by_a_process_elsewhere_come_back_when_its_lease_ends(
    app: App, platform: FakePlatform, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _subscribe(app, "10", "nasional")
    await _subscribe(app, "11", "nasional")
    await app.deps.newsroom.publish([draft("Satu")])
    # A process on another host claims both rows and dies before sending anything.
    with _as_process(monkeypatch, "lain.example:4242:"):
        claimed = await app.storage.outbox.claim(
            Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
        )
    assert len(claimed) == 2
    worker = _worker(app, platform)
    assert await worker.deliver_due() == 0  # still leased: nobody here can tell it died
    clock.advance(60)
    assert await worker.deliver_due() == 2
    assert sorted(m.chat.chat_id for m in platform.sent) == ["10", "11"]
    # It may have sent them before it stopped answering: /status says so.
    status = await platform.say_text("/status 1", user="1")
    assert status.endswith(
        "Telegram, kiriman: 2 — terkirim 2 · antre 0 · gagal 0 · dibatalkan 0"
        " · mungkin terkirim dua kali 2"
    )


async def test_rows_claimed_by_a_dead_process_of_this_host_come_back_at_once(
    app: App, platform: FakePlatform, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _subscribe(app, "10", "nasional")
    await _subscribe(app, "11", "nasional")
    await app.deps.newsroom.publish([draft("Satu")])
    with _as_process(monkeypatch, f"{socket.gethostname()}:{_dead_pid()}:"):
        assert (
            len(
                await app.storage.outbox.claim(
                    Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
                )
            )
            == 2
        )
    # No lease to wait out: its pid is gone.
    assert await _worker(app, platform).deliver_due() == 2
    assert sorted(m.chat.chat_id for m in platform.sent) == ["10", "11"]
    status = await platform.say_text("/status 1", user="1")
    assert status.endswith("dibatalkan 0 · mungkin terkirim dua kali 2")


async def test_a_row_that_kills_every_claimer_is_given_up(
    app: App, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _subscribe(app, "10", "nasional")
    await app.deps.newsroom.publish([draft("Satu")])
    for attempt in range(10):
        with _as_process(monkeypatch, f"lain.example:{attempt}:"):
            assert await app.storage.outbox.claim(
                Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
            )
        clock.advance(61)
    assert (
        await app.storage.outbox.claim(Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10)
        == []
    )
    [(_, status, _, reason)] = await _outbox(app)
    assert (status, reason) == ("failed", "claimed too often without an answer")


async def test_push_is_rendered_in_the_chat_language(app: App, platform: FakePlatform) -> None:
    await _subscribe(app, "10", "nasional")
    await app.storage.chats.set_language(ChatRef(Platform.TELEGRAM, "10"), "en", now=START)
    await app.deps.newsroom.publish([draft("Satu", breaking=True)])
    await _worker(app, platform).deliver_due()
    [message] = platform.sent
    card = message.reply.parts[0]
    assert card.badge == "BREAKING"  # type: ignore[union-attr]
    assert card.section_name == "National"  # type: ignore[union-attr]
    assert [b.label for b in message.reply.buttons] == ["Read"]


@pytest.mark.parametrize("platform_name", [Platform.TELEGRAM, Platform.DISCORD])
async def test_workers_only_claim_their_own_platform(app: App, platform_name: Platform) -> None:
    await app.storage.subscriptions.subscribe(
        ChatRef(Platform.DISCORD, "99"), ["nasional"], now=START
    )
    await _subscribe(app, "10", "nasional")
    await app.deps.newsroom.publish([draft("Satu")])
    platform = FakePlatform(app, platform=platform_name)
    await _worker(app, platform).deliver_due()
    expected = "10" if platform_name is Platform.TELEGRAM else "99"
    assert [m.chat.chat_id for m in platform.sent] == [expected]


async def test_a_worker_whose_lease_ran_out_changes_nothing(
    app: App, platform: FakePlatform, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _subscribe(app, "10", "nasional")
    await app.deps.newsroom.publish([draft("Satu")])
    with _as_process(monkeypatch, "lain.example:7:"):
        [late] = await app.storage.outbox.claim(
            Platform.TELEGRAM, now=clock(), lease_seconds=1, limit=10
        )
    clock.advance(2)
    [current] = await app.storage.outbox.claim(
        Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
    )
    assert current.id == late.id
    assert current.claim != late.claim
    # The first claimer comes back late: none of its calls touch the row now held by another.
    assert not await app.storage.outbox.renew(late, now=clock(), lease_seconds=60)
    await app.storage.outbox.retry_at(late, clock(), "late", count_attempt=True)
    await app.storage.outbox.give_up(late, "late")
    assert (
        await app.storage.outbox.claim(Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10)
        == []
    )
    await app.storage.outbox.mark_sent(current, "m1", now=clock())
    await app.storage.outbox.give_up(late, "late")
    assert [row[1] for row in await _outbox(app)] == ["sent"]


async def test_a_move_onto_a_chat_once_gone_keeps_the_subscription(app: App) -> None:
    old, new = ChatRef(Platform.TELEGRAM, "-10"), ChatRef(Platform.TELEGRAM, "-100777")
    await _subscribe(app, new.chat_id, "nasional")
    await app.storage.chats.deactivate(new, "blocked", now=START)
    await _subscribe(app, old.chat_id, "nasional")
    await app.storage.subscriptions.follow(old, "nato", ["nato"], now=START)
    await app.storage.subscriptions.follow(new, "nato", ["nato"], now=START)
    await app.storage.chats.deactivate(new, "blocked", now=START)
    await app.storage.subscriptions.subscribe(old, ["nasional"], now=START)
    await app.storage.subscriptions.follow(old, "nato", ["nato"], now=START)
    await app.storage.chats.move(old, new, now=START)
    assert await app.storage.subscriptions.sections_of(new) == ["nasional"]
    assert [f.words for f in await app.storage.subscriptions.follows_of(new)] == ["nato"]
    assert await app.storage.subscriptions.sections_of(old) == []


async def test_a_follow_of_a_very_long_word_still_matches(app: App) -> None:
    word = "antidisestablishmentarianismeindonesiaraya" * 2
    chat = ChatRef(Platform.TELEGRAM, "10")
    await app.storage.subscriptions.follow(chat, word, search_text.query_terms(word), now=START)
    [result] = await app.deps.newsroom.publish(
        [draft("Kata panjang", body=f"Ada {word} di sini.")]
    )
    assert result.queued == 1


async def test_a_fan_out_is_done_in_pages_and_a_crash_between_them_loses_no_chat(
    app: App, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for chat in range(10):
        await _subscribe(app, str(chat), "nasional")
    monkeypatch.setattr(articles_sql, "FANOUT_PAGE", 3)
    monkeypatch.setattr(articles_sql, "FANOUT_STEP_ROWS", 3)
    real_step = articles_sql._fan_out_step  # white-box: one fan-out transaction
    steps = 0

    def crash_after_two_pages(connection: sqlite3.Connection, **step: Any) -> object:
        nonlocal steps
        steps += 1
        if steps > 2:
            raise RuntimeError("killed mid fan-out")
        return real_step(connection, **step)

    monkeypatch.setattr(articles_sql, "_fan_out_step", crash_after_two_pages)
    with pytest.raises(RuntimeError, match="killed"):
        await app.deps.newsroom.publish([draft("Satu")])
    assert len(await _outbox(app)) == 6  # two pages of three
    monkeypatch.setattr(articles_sql, "_fan_out_step", real_step)

    # The next delivery pass finishes the job it finds: every chat once.
    assert await _worker(app, platform).deliver_due() == 10
    assert sorted(int(m.chat.chat_id) for m in platform.sent) == list(range(10))


async def test_a_fan_out_another_live_process_is_doing_is_left_to_it_until_its_heart_stops(
    app: App, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for chat in range(10):
        await _subscribe(app, str(chat), "nasional")
    monkeypatch.setattr(articles_sql, "FANOUT_PAGE", 3)
    monkeypatch.setattr(articles_sql, "FANOUT_STEP_ROWS", 3)
    real_step = articles_sql._fan_out_step  # white-box: one fan-out transaction
    steps = 0

    def paused_after_two_pages(connection: sqlite3.Connection, **step: Any) -> object:
        nonlocal steps
        steps += 1
        if steps > 2:
            raise RuntimeError("the other process is busy elsewhere for a moment")
        return real_step(connection, **step)

    # A live ingest on another host is two pages into the story's fan-out.
    with _as_process(monkeypatch, "lain.example:4242:"):
        monkeypatch.setattr(articles_sql, "_fan_out_step", paused_after_two_pages)
        with pytest.raises(RuntimeError, match="busy elsewhere"):
            await app.deps.newsroom.publish([draft("Satu")])
        monkeypatch.setattr(articles_sql, "_fan_out_step", real_step)
    # Its heart beat at its last page: this process delivers what is queued, takes nothing.
    assert await _worker(app, platform).deliver_due() == 6
    # Its heart stops: the job is anybody's, and this process finishes it.
    monkeypatch.setattr(articles_sql, "FANOUT_STALE_SECONDS", 0.0)
    assert await _worker(app, platform).deliver_due() == 4
    assert sorted(int(m.chat.chat_id) for m in platform.sent) == list(range(10))


# The delivery timings operators may set (NEWSBOT_DELIVERY_*), each honoured. The two that
# pace the loop itself are in real time, kept short.


def _lease_holder(database: str) -> str | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT holder FROM delivery_leases WHERE scope = 'telegram'"
        ).fetchone()
    return None if row is None else str(row[0])


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the conditions read another connection
            await asyncio.sleep(0.01)


async def test_a_process_standing_by_takes_over_within_a_quarter_of_the_platform_lease(
    settings: Settings,
) -> None:
    """Two deliverers (as two `newsbot run`): the second looks for the lease every quarter
    of it, 0.3 s of 1.2 s here (5 s of the default 20 s would fail the bound, which leaves a
    loaded machine 0.7 s)."""
    short = settings.model_copy(update={"delivery_platform_lease_seconds": 1.2})
    async with open_app(short) as app:
        platform = FakePlatform(app)
        first_stop, second_stop = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(_worker(app, platform).run(first_stop))
        await _until(lambda: _lease_holder(short.database) is not None)
        leader = _lease_holder(short.database)
        second = asyncio.create_task(_worker(app, platform).run(second_stop))
        await asyncio.sleep(0.4)  # a look or more, and the lease is still the first's
        assert _lease_holder(short.database) == leader
        first_stop.set()
        await first
        released = time.monotonic()
        await _until(lambda: _lease_holder(short.database) not in (None, leader))
        taken_over_in = time.monotonic() - released
        second_stop.set()
        await second
    assert taken_over_in < 1.0


async def test_a_push_queued_by_another_process_is_found_within_the_poll_interval(
    settings: Settings,
) -> None:
    """Stored without waking the deliverer, as another process stores it: found at its next
    look, 0.2 s here (the default 1 s would fail the bound, which leaves a loaded machine
    0.6 s)."""
    quick = settings.model_copy(update={"delivery_poll_seconds": 0.2})
    async with open_app(quick) as app:
        platform = FakePlatform(app)
        await _subscribe(app, "10", "nasional")
        stop = asyncio.Event()
        delivering = asyncio.create_task(_worker(app, platform).run(stop))
        await _until(lambda: _lease_holder(quick.database) is not None)
        await asyncio.sleep(0.3)  # it has looked, found nothing, and waits for its next look
        await app.storage.articles.publish(
            [draft("Dari proses lain", published_at=app.clock())],
            now=app.clock(),
            push_since=None,
            breaking_section=BREAKING_SLUG,
        )
        stored = time.monotonic()
        await _until(lambda: bool(platform.sent))
        found_in = time.monotonic() - stored
        stop.set()
        await delivering
    assert found_in < 0.8
