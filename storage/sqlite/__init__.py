"""The SQLite implementation of the repositories."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from storage.models import BUSY_TIMEOUT_SECONDS, SchemaChange
from storage.sqlite.articles import SqliteArticleRepository, SqliteSectionRepository
from storage.sqlite.audit import SqliteAuditRepository
from storage.sqlite.chats import SqliteChatRepository
from storage.sqlite.command_syncs import SqliteCommandSyncRepository
from storage.sqlite.database import SqliteDatabase, unusable
from storage.sqlite.digests import SqliteDigestRepository
from storage.sqlite.drafts import SqliteDraftRepository
from storage.sqlite.feeds import SqliteFeedRepository
from storage.sqlite.migrations import migrate
from storage.sqlite.outbox import SqliteOutboxRepository
from storage.sqlite.subscriptions import SqliteSubscriptionRepository
from storage.storage import DatabaseUnusableError, Storage

logger = logging.getLogger(__name__)


async def open_sqlite_storage(
    path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> Storage:
    """Open the SQLite file at `path`, bring its schema up to date, and wrap it in repositories;
    a write waits up to `busy_timeout` seconds for another process's transaction.

    A schema brought up to date is logged in one line; a current one is not.

    Raises:
        DatabaseUnusableError: the file cannot be used (see `SqliteDatabase.open`), its schema
            is newer than this code, or another process holds its lock; nothing is left open.
    """
    database = await SqliteDatabase.open(path, busy_timeout=busy_timeout)
    try:
        change = await _migrated(database, busy_timeout)
    except BaseException:
        await asyncio.shield(database.close())
        raise
    if change.before != change.after:
        logger.info("database %s: %s", database.location, change.text())
    return Storage(
        sections=SqliteSectionRepository(database),
        articles=SqliteArticleRepository(database),
        subscriptions=SqliteSubscriptionRepository(database),
        chats=SqliteChatRepository(database),
        outbox=SqliteOutboxRepository(database),
        digests=SqliteDigestRepository(database),
        audit=SqliteAuditRepository(database),
        drafts=SqliteDraftRepository(database),
        command_syncs=SqliteCommandSyncRepository(database),
        feeds=SqliteFeedRepository(database),
        close=database.close,
    )


async def upgrade_sqlite(
    path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> SchemaChange:
    """Apply the migrations an existing SQLite file lacks; its version before and after. A
    write waits up to `busy_timeout` seconds for another process's transaction.

    Raises:
        DatabaseUnusableError: the file does not exist (an upgrade creates nothing), cannot be
            used, or is newer than this code.
    """
    _check_exists(path)
    database = await SqliteDatabase.open(path, busy_timeout=busy_timeout)
    try:
        return await _migrated(database, busy_timeout)
    finally:
        await asyncio.shield(database.close())


async def _migrated(database: SqliteDatabase, busy_timeout: float) -> SchemaChange:
    """`migrate`, with an SQLite error (a lock held longer than `busy_timeout`, damage) read
    for the operator."""
    try:
        return await migrate(database)
    except sqlite3.Error as error:
        raise unusable(database.location, error, busy_timeout) from error


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise DatabaseUnusableError(
            str(path),
            "does not exist; nothing to upgrade (newsbot makes a new database at the current "
            "schema when it first opens one)",
        )
