"""The SQLite implementation of the repositories."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

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
from storage.storage import Storage


async def open_sqlite_storage(path: str | Path) -> Storage:
    """Open the SQLite file at `path`, bring its schema up to date, and wrap it in repositories.

    Raises:
        DatabaseUnusableError: the file cannot be used (see `SqliteDatabase.open`), its schema
            is newer than this code, or another process holds its lock; nothing is left open.
    """
    database = await SqliteDatabase.open(path)
    try:
        await migrate(database)
    except BaseException as error:
        await asyncio.shield(database.close())
        if isinstance(error, sqlite3.Error):
            raise unusable(database.location, error) from error
        raise
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
