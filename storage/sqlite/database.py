"""One aiosqlite connection in WAL mode, with explicit write transactions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

# Several processes (a chat, an ingest, the delivery loop) share one file; a writer waits this
# long for another's transaction before SQLite reports the database as locked.
BUSY_TIMEOUT_MS = 15_000


class SqliteDatabase:
    """The connection and the lock that keeps one task's transaction from mixing with another's."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SqliteDatabase:
        """Open (creating if needed) the database file and set the connection up."""
        target = Path(path)
        if str(path) != ":memory:":
            target.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are ours to begin (BEGIN IMMEDIATE, see below).
        connection = await aiosqlite.connect(target, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        return cls(connection)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction, committed on success and rolled back on any exception.

        BEGIN IMMEDIATE takes the write lock up front, so two processes never both read and
        then fail to upgrade to a write (SQLite's deadlock answer is SQLITE_BUSY at once).
        """
        async with self._write_lock:
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

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()


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
