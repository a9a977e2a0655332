"""The backend that serves the database a `NEWSBOT_DATABASE` setting names, and opening it."""

from __future__ import annotations

import re

from storage.models import BUSY_TIMEOUT_SECONDS
from storage.storage import DatabaseUnusableError, Storage

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
    # Imported here: the storage package, which every import of its models loads (even
    # `newsbot --version`'s), loads this module; the backend and aiosqlite wait for a database.
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
