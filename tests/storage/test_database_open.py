"""Opening the database: an unusable file is one DatabaseUnusableError and leaves no thread.

An aiosqlite connection is a thread; one left open after a failed open keeps the process
alive for ever, which is how `newsbot` used to hang on a file that is not SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import DatabaseUnusableError, open_storage
from storage.sqlite.migrations import SCHEMA_VERSION


def _not_sqlite(path: Path) -> None:
    path.write_text("Berita hari ini: bukan basis data.\n", encoding="utf-8")


def _damaged(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE catatan (isi TEXT)")
        connection.executemany("INSERT INTO catatan VALUES (?)", [("x" * 400,)] * 50)
    connection.close()
    content = bytearray(path.read_bytes())
    content[100:300] = b"\xff" * 200
    path.write_bytes(bytes(content))


def _newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1:d}")
    connection.close()


UNUSABLE: dict[str, tuple[Callable[[Path], None], str]] = {
    # Fails at the first PRAGMA, after the connection's thread has started.
    "not sqlite": (_not_sqlite, "is not an SQLite database"),
    "damaged": (_damaged, "is damaged"),
    # Fails in the migrations, after the connection is set up.
    "newer schema": (_newer_schema, "newer than this newsbot knows"),
}


def _connection_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if "_connection_worker" in thread.name}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
async def test_a_failed_open_leaves_no_connection_thread(tmp_path: Path, case: str) -> None:
    make, problem = UNUSABLE[case]
    path = tmp_path / "newsbot.db"
    make(path)
    before = _connection_threads()

    with pytest.raises(DatabaseUnusableError) as raised:
        await open_storage(str(path))

    assert raised.value.location == str(path)
    assert problem in raised.value.problem
    assert str(raised.value) == f"{str(path)!r} {raised.value.problem}"
    left = _connection_threads() - before
    for thread in left:
        thread.join(timeout=5)
    assert [thread for thread in left if thread.is_alive()] == []


async def test_a_database_locked_while_it_needs_its_schema_is_named_and_closed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newsbot.db"
    # A new file that needs its schema, while another process holds it: opening must write.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    before = _connection_threads()
    try:
        with pytest.raises(
            DatabaseUnusableError,
            match=r"is locked by another process \(still after waiting 0\.2 s\)",
        ):
            await open_storage(str(path), busy_timeout=0.2)  # not the default 15 s
    finally:
        holder.close()
    left = _connection_threads() - before
    for thread in left:
        thread.join(timeout=5)
    assert [thread for thread in left if thread.is_alive()] == []

    reopened = await open_storage(str(path))  # usable again once the lock is gone
    await reopened.close()


async def test_a_thread_is_really_started_before_the_failure(tmp_path: Path) -> None:
    # The check above means something only if opening gets as far as a connection thread.
    path = tmp_path / "newsbot.db"
    _not_sqlite(path)
    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def recording_start(thread: threading.Thread) -> None:
        started.append(thread)
        real_start(thread)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(threading.Thread, "start", recording_start)
        with pytest.raises(DatabaseUnusableError):
            await open_storage(str(path))

    assert any("_connection_worker" in thread.name for thread in started)


async def test_missing_directories_are_made(tmp_path: Path) -> None:
    path = tmp_path / "data" / "2026" / "newsbot.db"
    storage = await open_storage(str(path))
    await storage.close()
    assert path.is_file()


async def test_other_urls_are_refused_without_a_password(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnusableError) as raised:
        await open_storage("mysql://redaksi:rahasia@127.0.0.1/berita")
    assert raised.value.location == "mysql://redaksi:***@127.0.0.1/berita"
    assert "neither a SQLite file path nor a postgresql:// URL" in raised.value.problem
