"""One aiosqlite connection in WAL mode, with explicit write transactions.

Opening is also where an unusable database file is found out and named: a directory, a file
that is not SQLite, a read-only file, a lock held by another process. Each becomes one
`DatabaseUnusableError`, and no connection (an aiosqlite connection is a thread that keeps the
process alive) is left open behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import aiosqlite

from storage.models import BUSY_TIMEOUT_SECONDS
from storage.storage import DatabaseUnusableError

# Write transactions closer together than this are one stretch of writing; after a stretch of
# this long, the next one waits long enough for another process's busy handler, which polls
# at most every 100 ms, to take the lock.
BACK_TO_BACK_SECONDS = 0.005
WRITE_STRETCH_SECONDS = 0.5
YIELD_SECONDS = 0.12
# Page cache of the connection, in KiB.
CACHE_KIB = 64 * 1024

MEMORY = ":memory:"

T = TypeVar("T")


class SqliteDatabase:
    """The connection and the lock that keeps one task's transaction from mixing with another's."""

    def __init__(self, connection: aiosqlite.Connection, location: str) -> None:
        self.connection = connection
        self.location = location
        self._write_lock = asyncio.Lock()
        self._last_write_end = float("-inf")
        self._stretch_started = float("-inf")

    @classmethod
    async def open(
        cls, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
    ) -> SqliteDatabase:
        """Open (creating if needed) the database file and set the connection up; a write
        waits up to `busy_timeout` seconds for another process's transaction.

        Raises:
            DatabaseUnusableError: the file cannot be used; its connection is closed again.
        """
        location = str(path)
        if location != MEMORY:
            check_location(Path(path))
        try:
            # isolation_level=None: transactions are ours to begin (BEGIN IMMEDIATE, see below).
            # timeout: how long a statement waits for another process's lock (SQLite's busy
            # timeout), set by the driver as a backup's connection sets it.
            connection = await aiosqlite.connect(
                location, isolation_level=None, timeout=busy_timeout
            )
        except sqlite3.Error as error:
            raise unusable(location, error, busy_timeout) from error
        try:
            connection.row_factory = aiosqlite.Row
            # The first statement that reads the file: "not a database" and damage show here.
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            # A large fan-out writes index entries all over the outbox's b-trees: with SQLite's
            # default 2 MB of cache each page is read back from disk again and again.
            await connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except BaseException as error:
            await asyncio.shield(connection.close())
            if isinstance(error, sqlite3.Error):
                raise unusable(location, error, busy_timeout) from error
            raise
        return cls(connection, location)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction, committed on success and rolled back on any exception.

        BEGIN IMMEDIATE takes the write lock up front, so two processes never both read and
        then fail to upgrade to a write (SQLite's deadlock answer is SQLITE_BUSY at once).
        """
        async with self._write_lock:
            await self._let_others_write()
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
                yield self.connection
                await self.connection.commit()
            except BaseException:
                # Also after a failed commit or a cancellation mid-BEGIN: a transaction left
                # open would make every later BEGIN on this shared connection fail.
                if self.connection.in_transaction:
                    await asyncio.shield(self.connection.rollback())
                raise
            finally:
                self._last_write_end = time.monotonic()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` called with the plain sqlite3 connection on the connection's own thread.

        One hand-over to that thread for all of `work`'s statements, instead of one per
        statement: each hand-over costs more than a typical statement (about 160 µs against a
        few), which made many small statements the slowest part of storing a batch.
        """
        # aiosqlite has no public way to run a function on its thread; `_execute` is how its
        # own methods do it, and `_conn` is the sqlite3 connection they use.
        connection = self.connection
        return await connection._execute(work, connection._conn)  # type: ignore[no-untyped-call,no-any-return]  # aiosqlite leaves it untyped

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` run like `run`, inside one write transaction (see `transaction`)."""
        async with self.transaction():
            return await self.run(work)

    async def _let_others_write(self) -> None:
        """After a long stretch of back-to-back writes (a big ingest's batches and fan-out
        pages), pause once so that another process waiting for the lock gets it: SQLite's
        waiting is polling, and a writer that takes the lock straight back would keep it."""
        now = time.monotonic()
        if now - self._last_write_end > BACK_TO_BACK_SECONDS:
            self._stretch_started = now
        elif now - self._stretch_started > WRITE_STRETCH_SECONDS:
            await asyncio.sleep(YIELD_SECONDS)
            self._stretch_started = time.monotonic()

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()


# Called several times for each story stored, mostly with the same few moments (the batch's "now").
@functools.lru_cache(maxsize=1_024)
def to_db_time(moment: datetime) -> str:
    """An aware datetime as stored: ISO 8601 in UTC, which also sorts as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(text: str) -> datetime:
    """A stored time back as an aware datetime in UTC."""
    return datetime.fromisoformat(text)


def to_epoch(moment: datetime) -> float:
    """An aware datetime as Unix seconds, the form of outbox due times."""
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """Unix seconds back as an aware datetime in UTC."""
    return datetime.fromtimestamp(seconds, UTC)


def check_location(path: Path) -> None:
    """Refuse a path SQLite could not use, with a clearer reason than SQLite would give.

    Creates the missing directories of a new file, as opening it would.

    Raises:
        DatabaseUnusableError: the path is a directory, not a regular file, not readable or
            not writable (or sits in a directory where SQLite cannot write its journals).
    """
    location = str(path)
    try:
        if path.is_dir():
            raise DatabaseUnusableError(
                location, f"is a directory; name a file in it, such as {path / 'newsbot.db'}"
            )
        if path.exists():
            _check_existing_file(path)
        else:
            _make_directory_for(path)
    except OSError as error:
        raise DatabaseUnusableError(
            location, f"cannot be used ({error.strerror or error})"
        ) from error


def _check_existing_file(path: Path) -> None:
    location = str(path)
    if not path.is_file():
        raise DatabaseUnusableError(location, "is not a regular file")
    if not os.access(path, os.R_OK):
        raise DatabaseUnusableError(location, "cannot be read (permission denied)")
    if not os.access(path, os.W_OK):
        raise DatabaseUnusableError(location, "is read-only; newsbot needs to write to it")
    journals = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for journal in journals:
        if journal.exists() and not os.access(journal, os.R_OK | os.W_OK):
            # Left behind by another user's process (root running an ingest, say).
            raise DatabaseUnusableError(
                location, f"cannot be used: its journal {journal} is read-only"
            )
    if not all(journal.exists() for journal in journals) and not os.access(
        path.parent, os.W_OK | os.X_OK
    ):
        # In WAL mode SQLite creates the -wal and -shm files beside the database.
        raise DatabaseUnusableError(
            location,
            f"cannot be used: its directory {path.parent} is read-only (SQLite writes the "
            "-wal and -shm journals there)",
        )


def _make_directory_for(path: Path) -> None:
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DatabaseUnusableError(str(path), f"cannot be created: {ancestor} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnusableError(
            str(path),
            f"cannot be created: its directory {path.parent} cannot be made "
            f"({error.strerror or error})",
        ) from error
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseUnusableError(
            str(path), f"cannot be created: its directory {path.parent} is read-only"
        )


def unusable(location: str, error: sqlite3.Error, busy_timeout: float) -> DatabaseUnusableError:
    """The operator's reading of an error SQLite gave while opening the database, whose
    writes waited `busy_timeout` seconds for another process's lock."""
    name = error.sqlite_errorname or ""
    if name == "SQLITE_NOTADB":
        problem = "is not an SQLite database"
    elif name.startswith("SQLITE_CORRUPT"):
        problem = "is damaged (SQLite: database disk image is malformed); restore a backup"
    elif name == "SQLITE_READONLY_DIRECTORY":
        problem = f"cannot be used: its directory {Path(location).parent} is read-only"
    elif name.startswith("SQLITE_READONLY"):
        problem = "is read-only; newsbot needs to write to it"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        waited = f"{busy_timeout:g} s"
        problem = f"is locked by another process (still after waiting {waited})"
    elif name == "SQLITE_FULL":
        problem = "cannot be written: the disk is full"
    elif name.startswith("SQLITE_IOERR"):
        problem = f"cannot be read or written (disk I/O error, {name})"
    elif name.startswith("SQLITE_CANTOPEN"):
        problem = "cannot be opened"
    elif name.startswith(("SQLITE_PERM", "SQLITE_AUTH")):
        problem = "cannot be opened (permission denied)"
    else:
        problem = f"cannot be used (SQLite: {error}{f', {name}' if name else ''})"
    return DatabaseUnusableError(location, problem)
