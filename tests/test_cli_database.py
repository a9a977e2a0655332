"""A database newsbot cannot use: the command says so in one line and exits 2, quickly.

Each case runs `newsbot chat` as an operator would, with NEWSBOT_DATABASE pointing at something
unusable. The timeout is what proves "never a hang": before this was fixed, a file that is not
SQLite left aiosqlite's thread running and the process never ended (`tests.support.Newsbot`
fails a run that leaves such a thread, as a process that would not exit).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.sqlite.migrations import SCHEMA_VERSION
from tests.support import Newsbot, assert_cannot_write

# Generous for a loaded CI machine: the process takes about a second, and a hang never ends.
EXITS_WITHIN = 15.0
STORY = "Sekjen NATO Kunjungi Tokyo"


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _chat(
    newsbot: Newsbot,
    database: str,
    *,
    stdin: str = "/latest\n",
    timeout: float = EXITS_WITHIN,
    as_unprivileged: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return newsbot(
        "chat",
        stdin=stdin,
        env={"NEWSBOT_DATABASE": database, **(env or {})},
        timeout=timeout,
        as_unprivileged=as_unprivileged,
    )


def _assert_refused(result: subprocess.CompletedProcess[str], location: str, problem: str) -> None:
    """Exit 2 and exactly one line on stderr (so no traceback), naming the setting."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"newsbot: NEWSBOT_DATABASE: {location!r} {problem}"]
    assert result.stdout == ""


def _newsbot_database(newsbot: Newsbot, path: Path) -> None:
    """A real newsbot database at `path`, with the sample stories."""
    result = newsbot("sample-news", env={"NEWSBOT_DATABASE": str(path)})
    assert result.returncode == 0, result.stderr


@pytest.fixture
def restore_permissions(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths a test makes read-only, given their permissions back so tmp_path can be removed."""
    changed: list[Path] = []
    yield changed
    for path in changed:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_a_file_that_is_not_sqlite_is_refused_and_left_as_it_was(newsbot: Newsbot) -> None:
    notes = newsbot.directory / "catatan.txt"
    notes.write_text("Catatan redaksi: rapat jam 9 pagi.\n", encoding="utf-8")

    result = _chat(newsbot, str(notes))

    _assert_refused(result, str(notes), "is not an SQLite database")
    assert notes.read_text(encoding="utf-8") == "Catatan redaksi: rapat jam 9 pagi.\n"
    assert sorted(path.name for path in newsbot.directory.iterdir()) == ["catatan.txt"]


def test_a_damaged_database_is_refused(newsbot: Newsbot) -> None:
    database = newsbot.directory / "rusak.db"
    _newsbot_database(newsbot, database)
    content = bytearray(database.read_bytes())
    content[100:300] = b"\xff" * 200  # page 1's b-tree header and cell pointers, after the header
    database.write_bytes(bytes(content))

    result = _chat(newsbot, str(database))

    _assert_refused(
        result,
        str(database),
        "is damaged (SQLite: database disk image is malformed); restore a backup",
    )
    assert database.read_bytes() == bytes(content)


def test_a_schema_newer_than_this_newsbot_is_refused(newsbot: Newsbot) -> None:
    database = newsbot.directory / "baru.db"
    with sqlite3.connect(database) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3:d}")

    result = _chat(newsbot, str(database))

    _assert_refused(
        result,
        str(database),
        f"has schema version {SCHEMA_VERSION + 3}, newer than this newsbot knows "
        f"({SCHEMA_VERSION}); upgrade newsbot to use it",
    )


def test_a_directory_is_refused(newsbot: Newsbot) -> None:
    folder = newsbot.directory / "data"
    folder.mkdir()

    result = _chat(newsbot, str(folder))

    _assert_refused(
        result, str(folder), f"is a directory; name a file in it, such as {folder / 'newsbot.db'}"
    )
    assert list(folder.iterdir()) == []


def test_an_empty_value_is_refused(newsbot: Newsbot) -> None:
    result = _chat(newsbot, "")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "newsbot: NEWSBOT_DATABASE: is empty; remove the line to use the default (newsbot.db)"
    ]
    assert not (newsbot.directory / "newsbot.db").exists()


def test_a_path_under_a_regular_file_is_refused(newsbot: Newsbot) -> None:
    blocker = newsbot.directory / "arsip"
    blocker.write_text("bukan folder", encoding="utf-8")
    database = blocker / "2026" / "newsbot.db"

    result = _chat(newsbot, str(database))

    _assert_refused(result, str(database), f"cannot be created: {blocker} is not a directory")


def test_something_that_is_not_a_regular_file_is_refused(newsbot: Newsbot) -> None:
    # A FIFO would make SQLite's first read wait forever for a writer.
    pipe = newsbot.directory / "antrean"
    os.mkfifo(pipe)

    result = _chat(newsbot, str(pipe))

    _assert_refused(result, str(pipe), "is not a regular file")


def test_a_read_only_file_is_refused_and_left_as_it_was(
    newsbot: Newsbot, restore_permissions: list[Path]
) -> None:
    database = newsbot.directory / "arsip.db"
    _newsbot_database(newsbot, database)
    before = database.read_bytes()
    database.chmod(0o444)
    restore_permissions.append(database)
    assert_cannot_write(database)  # so that the case below is really read-only, even for root

    result = _chat(newsbot, str(database), as_unprivileged=True)

    _assert_refused(result, str(database), "is read-only; newsbot needs to write to it")
    assert database.read_bytes() == before
    assert not database.with_name("arsip.db-wal").exists()


def test_a_database_in_a_read_only_directory_is_refused(
    newsbot: Newsbot, restore_permissions: list[Path]
) -> None:
    folder = newsbot.directory / "arsip"
    folder.mkdir()
    database = folder / "newsbot.db"
    _newsbot_database(newsbot, database)
    folder.chmod(0o555)
    restore_permissions.append(folder)
    assert_cannot_write(folder / "newsbot.db-wal")

    result = _chat(newsbot, str(database), as_unprivileged=True)

    _assert_refused(
        result,
        str(database),
        f"cannot be used: its directory {folder} is read-only (SQLite writes the -wal and "
        "-shm journals there)",
    )


def test_a_directory_that_cannot_be_created_is_refused(
    newsbot: Newsbot, restore_permissions: list[Path]
) -> None:
    locked = newsbot.directory / "terkunci"
    locked.mkdir()
    locked.chmod(0o555)
    restore_permissions.append(locked)
    assert_cannot_write(locked / "percobaan")
    database = locked / "2026" / "newsbot.db"

    result = _chat(newsbot, str(database), as_unprivileged=True)

    _assert_refused(
        result,
        str(database),
        f"cannot be created: its directory {locked / '2026'} cannot be made (Permission denied)",
    )


def test_a_database_locked_while_it_needs_its_schema_is_refused(newsbot: Newsbot) -> None:
    database = newsbot.directory / "sibuk.db"
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        # Another process holds a new file that still needs its schema: opening must write.
        holder.execute("BEGIN EXCLUSIVE")
        # It waits the busy timeout for the lock before giving up: 1 s instead of the default
        # 15, the lock being held for longer either way.
        started = time.monotonic()
        result = _chat(
            newsbot,
            str(database),
            env={"NEWSBOT_DATABASE_BUSY_TIMEOUT_SECONDS": "1"},
        )
        elapsed = time.monotonic() - started
    finally:
        holder.close()

    _assert_refused(
        result, str(database), "is locked by another process (still after waiting 1 s)"
    )
    assert elapsed >= 1.0  # it did wait for the lock, not give up at once


def test_a_reader_is_answered_while_another_process_writes(newsbot: Newsbot) -> None:
    """A current schema is only read at start: `/latest` works during another's long write."""
    database = newsbot.directory / "sibuk.db"
    _newsbot_database(newsbot, database)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        started = time.monotonic()
        result = _chat(newsbot, str(database), stdin="/latest nato\n", timeout=EXITS_WITHIN)
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    assert result.returncode == 0, result.stderr
    assert STORY in result.stdout
    assert "Traceback" not in result.stderr
    assert elapsed < EXITS_WITHIN


def test_a_postgresql_url_is_refused_without_its_password(newsbot: Newsbot) -> None:
    result = _chat(newsbot, "postgresql://redaksi:rahasia-sekali@127.0.0.1/berita")

    _assert_refused(
        result,
        "postgresql://redaksi:***@127.0.0.1/berita",
        "is a PostgreSQL URL: PostgreSQL is not supported by this version yet; use a SQLite "
        "file path such as newsbot.db",
    )
    assert "rahasia" not in result.stderr


def test_a_relative_path_is_taken_from_the_working_directory(newsbot: Newsbot) -> None:
    (newsbot.directory / "data").mkdir()
    notes = newsbot.directory / "data" / "catatan.txt"
    notes.write_text("bukan basis data", encoding="utf-8")

    result = _chat(newsbot, "data/catatan.txt")

    _assert_refused(result, str(notes), "is not an SQLite database")
