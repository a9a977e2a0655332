"""One process delivers for a platform at a time; the others stand by and take over."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bot.app import App
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN
from tests.adapters.rate_limited_bot_api import RateLimitedBotApi
from tests.delivery.test_database_contention import _subscribe_chats, publish_fresh_story
from tests.support import QUICK_DELIVERY_POLL, FakeClock, Newsbot


async def test_the_lease_is_one_holders_until_it_lapses_or_is_released(
    app: App, clock: FakeClock
) -> None:
    outbox = app.storage.outbox
    # Holders on other hosts: whether they live cannot be told, only whether their lease does.
    first, second = "lain-1.example:1:a", "lain-2.example:2:b"
    assert await outbox.take_lease("telegram", first, now=clock(), lease_seconds=20)
    assert not await outbox.take_lease("telegram", second, now=clock(), lease_seconds=20)
    assert await outbox.take_lease("telegram", first, now=clock(), lease_seconds=20)  # renewed
    assert await outbox.take_lease("console:meja", second, now=clock(), lease_seconds=20)
    clock.advance(19)
    assert not await outbox.take_lease("telegram", second, now=clock(), lease_seconds=20)
    clock.advance(2)  # the first stopped renewing: its lease lapses
    assert await outbox.take_lease("telegram", second, now=clock(), lease_seconds=20)
    assert not await outbox.take_lease("telegram", first, now=clock(), lease_seconds=20)
    await outbox.release_lease("telegram", second)
    assert await outbox.take_lease("telegram", first, now=clock(), lease_seconds=20)


# Telegram's limits run this many times faster in the fake Bot API, and the bot's pacing alike
# (as in tests/adapters/test_telegram_broadcast.py): 116 sends a second from one deliverer
# against 120 allowed. Two deliverers would still send about twice the limit.
SPEED = 4
# The platform lease: a process standing by looks every quarter of it (0.5 s instead of 5 s).
PLATFORM_LEASE_SECONDS = "2"


def _run(newsbot: Newsbot, server: BotApiServer, log: Path) -> subprocess.Popen[str]:
    return newsbot.start(
        "run",
        env={
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            "NEWSBOT_TELEGRAM_SENDS_PER_SECOND": str(29 * SPEED),
            "NEWSBOT_TELEGRAM_PRIVATE_SENDS_PER_SECOND": str(1 * SPEED),
            "NEWSBOT_TELEGRAM_GROUP_SENDS_PER_MINUTE": str(20 * SPEED),
            "NEWSBOT_DELIVERY_PLATFORM_LEASE_SECONDS": PLATFORM_LEASE_SECONDS,
            **QUICK_DELIVERY_POLL,  # the stories are stored by the test's process
        },
        output=log,
    )


def _until(condition: Callable[[], bool], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.02)


def _pause_outside_a_write(process: subprocess.Popen[str], database: Path) -> None:
    """SIGSTOP `process` at a moment it holds no write lock on `database`.

    Paused inside a write transaction, it would stop every process on the file: SQLite's own
    limit, which no lease can help, and not the pause this test is about. So when the file
    is locked just after the pause, the process is woken for a moment and paused again.
    """
    for _ in range(50):
        process.send_signal(signal.SIGSTOP)
        connection = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            process.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        finally:
            connection.close()
    raise AssertionError("the process held the write lock at every one of 50 pauses")


def _reached(api: RateLimitedBotApi, story: int) -> int:
    """How many chats received fresh story number `story`."""
    headline = f"Kabar daerah nomor {story}"
    return len({call.params["chat_id"] for call in api.sent() if headline in call.params["text"]})


def _holder(database: Path) -> str | None:
    with sqlite3.connect(database, timeout=30) as connection:
        row = connection.execute(
            "SELECT holder FROM delivery_leases WHERE scope = 'telegram'"
        ).fetchone()
    return str(row[0]) if row else None


def test_two_newsbot_runs_on_one_database_deliver_within_one_budget_and_hand_over(
    tmp_path: Path,
) -> None:
    """Two runs: one delivers, the other stands by. The deliverer is paused (SIGSTOP, as a
    frozen VM) mid-broadcast past its lease: the other takes over, and the paused one, woken,
    sends nothing beside it (its lease is spent by its own clock; its claimed rows go back).
    Then the deliverer stops (SIGTERM) and the other takes over at once."""
    newsbot = Newsbot(tmp_path)
    chats = [82_000 + n for n in range(150)]
    database = _subscribe_chats(newsbot, chats)
    api = RateLimitedBotApi(speed=SPEED)  # Telegram's own limits, 4 times faster
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with BotApiServer(api) as server:
        runs = [_run(newsbot, server, log) for log in logs]  # started together
        try:
            # One takes the lease; the other stands by.
            _until(lambda: _holder(database) is not None)
            leader = _holder(database)
            assert leader is not None
            [first] = [run for run in runs if leader.split(":")[1] == str(run.pid)]
            [second] = [run for run in runs if run is not first]
            second_log = logs[runs.index(second)]
            _until(lambda: "standing by" in second_log.read_text(encoding="utf-8"))
            assert _holder(database) == leader  # the second stands by
            publish_fresh_story(database, 0)
            _until(lambda: len(api.taken) >= len(chats))
            # Both processes ran, one delivering: together they kept within one budget. Two
            # pacing at 116/s each would draw a 429 for nearly every other send; one draws
            # none, or a rare one when a loaded machine bunches sends on their way.
            assert api.refused <= len(chats) // 20

            refused_before = api.refused
            publish_fresh_story(database, 1)
            _until(lambda: len(api.taken) >= len(chats) + 20)
            _pause_outside_a_write(first, database)
            try:
                _until(lambda: _holder(database) not in (None, leader), within=30)
            finally:
                first.send_signal(signal.SIGCONT)
            _until(lambda: _reached(api, 1) == len(chats))
            # Woken, the first sent nothing beside the second: no burst over the budget.
            assert api.refused - refused_before <= len(chats) // 20
            assert api.most_in_any_second() <= 30

            successor = _holder(database)
            [holding] = [
                run for run in runs if successor and successor.split(":")[1] == str(run.pid)
            ]
            holding.send_signal(signal.SIGTERM)
            holding.wait(timeout=30)
            _until(lambda: _holder(database) not in (None, successor), within=30)
            publish_fresh_story(database, 2)
            _until(lambda: _reached(api, 2) == len(chats))
        finally:
            for process in runs:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
    output = "".join(log.read_text(encoding="utf-8") for log in logs)
    received = [call.params["chat_id"] for call in api.sent()]
    # Every chat every story; a copy more only of a send on the wire when the first was paused.
    assert set(received) == set(chats)
    assert len(received) <= 3 * len(chats) + 64
    assert [run.returncode for run in runs] == [0, 0], output
    assert "Traceback" not in output
