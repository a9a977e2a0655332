"""Several processes on one SQLite file: nobody holds the write lock for long, and a long lock
held by another process costs no duplicate and no reader's answer.

Real `newsbot` processes, a real Bot API server on 127.0.0.1, and other processes taking
SQLite's write lock as any other program could.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_app
from storage.models import ArticleDraft
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi
from tests.support import QUICK_DELIVERY_POLL, WRITE_LOCK_PROBE, Newsbot, draft, settings_on

# How long another process may wait for the write lock: "about a second" (the longest write
# transaction of ours), with room for a loaded machine's scheduling.
LONGEST_WAIT = 1.5


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


async def _create_database(database: Path) -> None:
    async with open_app(settings_on(database)):
        pass


async def _publish_in(database: Path, number: int) -> None:
    async with open_app(settings_on(database)) as app:
        await app.deps.newsroom.publish([_fresh_story(number)])


def publish_fresh_story(database: Path, number: int) -> None:
    """Story `number` of `_fresh_stories`, stored and fanned out by this process (not the
    `newsbot run` under test) as an ingest elsewhere would: run learns of it by polling."""
    asyncio.run(_publish_in(database, number))


def _fresh_story(number: int) -> ArticleDraft:
    return draft(
        f"Kabar daerah nomor {number}",
        body=f"Isi kabar daerah nomor {number}.",
        section="nasional",
        published_at=datetime.now(UTC) - timedelta(minutes=20),
        identity=f"kabar-{number}",
    )


def _subscribe_chats(newsbot: Newsbot, chats: list[int]) -> Path:
    """The database, with `chats` (Telegram) subscribed to nasional. Made in this process: the
    tests are about the processes started on it afterwards."""
    database = newsbot.directory / "newsbot.db"
    asyncio.run(_create_database(database))
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO subscriptions (platform, chat_id, section, created_at) "
            "VALUES ('telegram', ?, 'nasional', '2026-11-01T00:00:00+00:00')",
            [(str(chat),) for chat in chats],
        )
    return database


def _fresh_stories(path: Path, count: int) -> Path:
    now = datetime.now(UTC)
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"kabar-{n}",
                    "title": f"Kabar daerah nomor {n}",
                    "body": f"Isi kabar daerah nomor {n}.",
                    "section": "nasional",
                    "published_at": (now - timedelta(minutes=20, seconds=n)).isoformat(),
                }
            )
            + "\n"
            for n in range(count)
        ),
        encoding="utf-8",
    )
    return path


StartProbe = Callable[[Path], "subprocess.Popen[str]"]


@pytest.fixture
def start_probe() -> Iterator[StartProbe]:
    """Starts the lock probe on a database once it exists; every probe is ended after."""
    started: list[subprocess.Popen[str]] = []

    def start(database: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", WRITE_LOCK_PROBE, str(database)],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def _longest_wait(process: subprocess.Popen[str]) -> float:
    process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=10)
    waits = [float(line) for line in output.split()]
    assert waits, "the probe never got the lock"
    return waits[-1]


def test_a_large_ingest_never_holds_the_write_lock_for_long(
    newsbot: Newsbot, start_probe: StartProbe
) -> None:
    chats = [80_000 + n for n in range(2_000)]
    database = _subscribe_chats(newsbot, chats)
    stories = _fresh_stories(newsbot.directory / "kabar.jsonl", 150)
    watching = start_probe(database)
    assert watching.stdout is not None
    watching.stdout.readline()  # its first lock taken and given back: it is watching
    result = newsbot("ingest", str(stories), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "150 new" in result.stdout
    longest = _longest_wait(watching)
    with sqlite3.connect(database) as connection:
        [(queued,)] = connection.execute("SELECT COUNT(*) FROM outbox").fetchall()
    assert queued == 150 * 2_000  # every story to every chat, once
    assert longest < LONGEST_WAIT, f"another process waited {longest:.2f} s for the lock"


# A lock held mid-broadcast outlasts the busy timeout of the processes that meet it, so that
# their claims and their recordings of sends fail with "database is locked" and are tried
# again. 0.5 s and 1.5 s stand for the default 15 s and a 20 s lock: the same edge, crossed
# twice by each recording the lock holds up, in seconds instead of half a minute.
BUSY_TIMEOUT = 0.5
LOCK_HELD = 1.5


def test_a_lock_held_past_the_busy_timeout_makes_no_duplicate_and_a_reader_is_answered(
    newsbot: Newsbot,
) -> None:
    """Mid-broadcast, another process holds the write lock longer than the busy timeout."""
    chats = [81_000 + n for n in range(150)]
    database = _subscribe_chats(newsbot, chats)
    api = FakeBotApi()
    busy = {"NEWSBOT_DATABASE_BUSY_TIMEOUT_SECONDS": f"{BUSY_TIMEOUT:g}"}
    with BotApiServer(api) as server:
        env = {
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            # 1.5 s for the 150 chats: the lock lands mid-broadcast, with most still to send.
            "NEWSBOT_TELEGRAM_SENDS_PER_SECOND": "100",
            **busy,
            **QUICK_DELIVERY_POLL,  # the story is stored by this process
        }
        bot = newsbot.start("run", env=env)
        try:
            _until(lambda: bool(api.of_method("getUpdates")), bot)
            publish_fresh_story(database, 0)
            _until(lambda: len(api.sent()) >= 30, bot, every=0.01)

            holder = sqlite3.connect(database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # another process in a long write
            locked_at = time.monotonic()
            try:
                sent_before_the_lock = len(api.sent())
                # With the same short busy timeout: a reader that needed the write lock would
                # give up while the lock is still held, and fail here.
                reader = newsbot("chat", stdin="/latest kabar\n", env=busy, timeout=60)
                time.sleep(max(0.0, LOCK_HELD - (time.monotonic() - locked_at)))
            finally:
                holder.execute("COMMIT")
                holder.close()
            _until(lambda: len(api.sent()) >= len(chats), bot, within=120)
            _until(lambda: _sent_rows(database) == len(chats), bot, within=60)
        finally:
            bot.send_signal(signal.SIGTERM)
            _, stderr = bot.communicate(timeout=30)

    assert sent_before_the_lock < len(chats)  # the lock came mid-broadcast
    assert reader.returncode == 0, reader.stderr
    assert "Kabar daerah nomor 0" in reader.stdout
    assert "Traceback" not in reader.stderr
    # The lock outlasted the busy timeout: sends made meanwhile could not be recorded at once.
    assert "recording a delivery: the database is busy; trying again" in stderr
    received = [call.params["chat_id"] for call in api.sent()]
    assert sorted(received) == sorted(chats)  # each chat once: no duplicate
    assert bot.returncode == 0, stderr
    assert "Traceback" not in stderr


def _sent_rows(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        [(sent,)] = connection.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"
        ).fetchall()
    return int(sent)


def _until(
    condition: Callable[[], bool],
    process: subprocess.Popen[str],
    within: float = 30.0,
    every: float = 0.1,
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            raise AssertionError(f"newsbot run did not get there; its stderr:\n{stderr}")
        time.sleep(every)
