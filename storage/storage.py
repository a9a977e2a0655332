"""The repositories of one database, opened together and closed together."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.repositories import (
    ArticleRepository,
    AuditRepository,
    ChatRepository,
    CommandSyncRepository,
    DigestRepository,
    DraftRepository,
    FeedRepository,
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
    digests: DigestRepository
    audit: AuditRepository
    drafts: DraftRepository
    command_syncs: CommandSyncRepository
    feeds: FeedRepository
    close: Callable[[], Awaitable[None]]


class DatabaseUnusableError(Exception):
    """The configured database cannot be used: where it is and what is wrong with it.

    `str(error)` is one line, "'<location>' <problem>", for the operator; whoever knows the
    setting that named the location adds its name.
    """

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location!r} {problem}")
        self.location = location
        self.problem = problem


# Several processes (a chat, an ingest, the delivery loop) share one database; a write waits this
# long for another's transaction before the database is reported locked. The default of
# NEWSBOT_DATABASE_BUSY_TIMEOUT_SECONDS.
BUSY_TIMEOUT_SECONDS = 15.0

# user:password@ in a database URL: the password is a secret, never shown.
_URL_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")


# What a PostgreSQL URL gets from a command that opens the database.
POSTGRES_NOT_YET = (
    "PostgreSQL is not supported by this version yet; use a SQLite file path such as newsbot.db"
)


async def open_storage(database: str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Storage:
    """Open the database named by the `NEWSBOT_DATABASE` setting: a SQLite path, or a URL; a
    write waits up to `busy_timeout` seconds for another process's transaction.

    Raises:
        DatabaseUnusableError: it cannot be used; no connection is left open.
    """
    path = sqlite_path(database, for_postgres=POSTGRES_NOT_YET)
    # Imported here: storage.sqlite imports this module for Storage.
    from storage.sqlite import open_sqlite_storage  # noqa: PLC0415 - see the comment above

    return await open_sqlite_storage(path, busy_timeout=busy_timeout)


def sqlite_path(database: str, *, for_postgres: str) -> str:
    """The SQLite file the `NEWSBOT_DATABASE` setting names.

    Raises:
        DatabaseUnusableError: it is a URL; for a PostgreSQL one, `for_postgres` says what to
            do instead. The URL is shown without its password.
    """
    if "://" not in database:
        return database
    shown = _URL_PASSWORD.sub(r"\1:***@", database)
    if database.startswith(("postgresql://", "postgres://")):
        raise DatabaseUnusableError(shown, f"is a PostgreSQL URL: {for_postgres}")
    raise DatabaseUnusableError(shown, "is neither a SQLite file path nor a postgresql:// URL")
