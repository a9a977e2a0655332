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
from tests.delivery.test_database_contention import _fresh_stories, _subscribe_chats
from tests.support import FakeClock, Newsbot


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


def _run(newsbot: Newsbot, server: BotApiServer) -> subprocess.Popen[str]:
    return newsbot.start(
        "run",
        env={
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            # Quiet: nobody reads the pipes until the end.
            "NEWSBOT_LOG_LEVEL": "WARNING",
        },
    )


def _until(condition: Callable[[], bool], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.1)


def _holder(database: Path) -> str | None:
    with sqlite3.connect(database, timeout=30) as connection:
        row = connection.execute(
            "SELECT holder FROM delivery_leases WHERE scope = 'telegram'"
        ).fetchone()
    return str(row[0]) if row else None


def test_two_newsbot_runs_on_one_database_deliver_within_one_budget_and_hand_over(
    tmp_path: Path,
) -> None:
    newsbot = Newsbot(tmp_path)
    chats = [82_000 + n for n in range(150)]
    database = _subscribe_chats(newsbot, chats)
    api = RateLimitedBotApi()  # Telegram's own limits: 30 a second overall
    with BotApiServer(api) as server:
        first = _run(newsbot, server)
        _until(lambda: _holder(database) is not None)
        leader = _holder(database)
        second = _run(newsbot, server)
        try:
            time.sleep(2)
            assert _holder(database) == leader  # the second stands by
            assert newsbot("ingest", str(_fresh_stories(tmp_path / "a.jsonl", 1))).returncode == 0
            _until(lambda: len(api.taken) >= len(chats))
            # Both processes ran, one delivering: together they kept within one budget. Two
            # pacing at 28/s each would draw a 429 for nearly every other send; one draws none,
            # or a rare one when a loaded machine bunches sends on their way.
            assert api.refused <= len(chats) // 20

            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
            _until(lambda: _holder(database) not in (None, leader), within=30)
            more = tmp_path / "b.jsonl"
            more.write_text(
                (tmp_path / "a.jsonl")
                .read_text()
                .replace("kabar-0", "kabar-baru")
                .replace("nomor 0", "nomor baru"),
                encoding="utf-8",
            )
            assert newsbot("ingest", str(more)).returncode == 0
            _until(lambda: len(api.taken) >= 2 * len(chats))
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.communicate(timeout=30)
    received = [call.params["chat_id"] for call in api.sent()]
    assert sorted(received) == sorted(chats * 2)  # every chat both stories, once each
    assert first.returncode == 0
    assert second.returncode == 0
