"""Several processes on one SQLite file: nobody holds the write lock for long, and a long lock
held by another process costs no duplicate and no reader's answer.

Real `newsbot` processes, a real Bot API server on 127.0.0.1, and other processes taking
SQLite's write lock as any other program could.
"""

from __future__ import annotations

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

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi
from tests.support import WRITE_LOCK_PROBE, Newsbot

# How long another process may wait for the write lock: "about a second" (the longest write
# transaction of ours), with room for a loaded machine's scheduling.
LONGEST_WAIT = 1.5


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _subscribe_chats(newsbot: Newsbot, chats: list[int]) -> Path:
    """The database, with `chats` (Telegram) subscribed to nasional."""
    assert newsbot("sample-news").returncode == 0
    database = newsbot.directory / "newsbot.db"
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
    time.sleep(0.5)
    result = newsbot("ingest", str(stories), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "150 new" in result.stdout
    longest = _longest_wait(watching)
    with sqlite3.connect(database) as connection:
        [(queued,)] = connection.execute("SELECT COUNT(*) FROM outbox").fetchall()
    assert queued == 150 * 2_000  # every story to every chat, once
    assert longest < LONGEST_WAIT, f"another process waited {longest:.2f} s for the lock"


def test_a_lock_held_20_s_mid_broadcast_makes_no_duplicate_and_a_reader_is_answered(
    newsbot: Newsbot,
) -> None:
    chats = [81_000 + n for n in range(300)]
    database = _subscribe_chats(newsbot, chats)
    api = FakeBotApi()
    with BotApiServer(api) as server:
        env = {
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            "NEWSBOT_TELEGRAM_SENDS_PER_SECOND": "30",
        }
        bot = newsbot.start("run", env=env)
        try:
            _until(lambda: bool(api.of_method("getUpdates")), bot)
            stories = _fresh_stories(newsbot.directory / "satu.jsonl", 1)
            assert newsbot("ingest", str(stories)).returncode == 0
            _until(lambda: len(api.sent()) >= 30, bot)

            holder = sqlite3.connect(database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # another process in a 20 s write
            try:
                reader = newsbot("chat", stdin="/latest kabar\n", timeout=60)
                time.sleep(max(0.0, 20 - 1))
            finally:
                holder.execute("COMMIT")
                holder.close()
            _until(lambda: len(api.sent()) >= len(chats), bot, within=120)
            _until(lambda: _sent_rows(database) == len(chats), bot, within=60)
        finally:
            bot.send_signal(signal.SIGTERM)
            _, stderr = bot.communicate(timeout=30)

    assert reader.returncode == 0, reader.stderr
    assert "Kabar daerah nomor 0" in reader.stdout
    assert "Traceback" not in reader.stderr
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
    condition: Callable[[], bool], process: subprocess.Popen[str], within: float = 30.0
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            raise AssertionError(f"newsbot run did not get there; its stderr:\n{stderr}")
        time.sleep(0.1)
