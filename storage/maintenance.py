"""Operations on a whole database, for its operator: a schema upgrade and a backup."""

from __future__ import annotations

from pathlib import Path

from storage.backends import POSTGRES_NOT_YET, sqlite_path
from storage.models import BUSY_TIMEOUT_SECONDS, BackupReport, SchemaChange

BACKUP_IS_FOR_SQLITE = (
    "newsbot db backup copies a SQLite file; back up a PostgreSQL database with pg_dump "
    "(pg_dump --format=custom --file=newsbot.dump URL)"
)


async def upgrade_database(
    database: str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> SchemaChange:
    """Apply the migrations the database named by `NEWSBOT_DATABASE` lacks; a write waits up
    to `busy_timeout` seconds for another process's transaction.

    Raises:
        DatabaseUnusableError: it does not exist, cannot be used, or is newer than this code.
    """
    path = sqlite_path(database, for_postgres=POSTGRES_NOT_YET)
    # Imported here, as storage.backends does: the backend loads when its database is used.
    from storage.sqlite import upgrade_sqlite  # noqa: PLC0415 - see the comment above

    return await upgrade_sqlite(Path(path), busy_timeout=busy_timeout)


def backup_database(
    database: str, target: Path, *, replace: bool, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> BackupReport:
    """A consistent copy of the database named by `NEWSBOT_DATABASE` at `target`, taken while
    other processes may be writing to it (waiting up to `busy_timeout` seconds for a lock).

    Raises:
        DatabaseUnusableError: the database does not exist or cannot be read; a PostgreSQL URL
            (pg_dump is its tool).
        BackupError: `target` exists (and not `replace`), cannot be written, or the copy failed.
    """
    path = sqlite_path(database, for_postgres=BACKUP_IS_FOR_SQLITE)
    # Imported here, as storage.backends does: the backend loads when its database is used.
    from storage.sqlite.backup import backup_sqlite  # noqa: PLC0415 - see the comment above

    return backup_sqlite(Path(path), target, replace=replace, busy_timeout=busy_timeout)
