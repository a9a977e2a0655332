"""The repositories of one database, opened together and closed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.repositories import (
    ArticleRepository,
    AuditRepository,
    ChatRepository,
    OutboxRepository,
    SectionRepository,
    SubscriptionRepository,
)


@dataclass(frozen=True)
class Storage:
    """Every repository over one database connection."""

    sections: SectionRepository
    articles: ArticleRepository
    subscriptions: SubscriptionRepository
    chats: ChatRepository
    outbox: OutboxRepository
    audit: AuditRepository
    close: Callable[[], Awaitable[None]]


class UnsupportedDatabaseError(Exception):
    """The configured database is not one this newsbot can open."""


async def open_storage(database: str) -> Storage:
    """Open the database named by the `NEWSBOT_DATABASE` setting: a SQLite path, or a URL."""
    if database.startswith(("postgresql://", "postgres://")):
        raise UnsupportedDatabaseError(
            "PostgreSQL is not supported by this version yet; set NEWSBOT_DATABASE to a SQLite "
            "file path such as newsbot.db"
        )
    if "://" in database:
        raise UnsupportedDatabaseError(
            f"NEWSBOT_DATABASE={database!r} is neither a file path nor a postgresql:// URL"
        )
    # Imported here: storage.sqlite imports this module for Storage.
    from storage.sqlite import open_sqlite_storage  # noqa: PLC0415 - see the comment above

    return await open_sqlite_storage(database)
