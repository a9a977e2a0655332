"""The command definitions last sent to each platform, in SQLite."""

from __future__ import annotations

from datetime import datetime

from storage.models import Platform
from storage.sqlite.database import SqliteDatabase, to_db_time


class SqliteCommandSyncRepository:
    """One digest per (platform, scope): a global command set, or one guild's."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def last_digest(self, platform: Platform, scope: str) -> str | None:
        """The digest of the definitions last sent to `platform` for `scope`, if any."""
        async with self._db.connection.execute(
            "SELECT digest FROM command_syncs WHERE platform = ? AND scope = ?",
            (platform.value, scope),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def record(self, platform: Platform, scope: str, digest: str, *, now: datetime) -> None:
        """Remember that the definitions with `digest` were sent."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """INSERT INTO command_syncs (platform, scope, digest, synced_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (platform, scope)
                   DO UPDATE SET digest = excluded.digest, synced_at = excluded.synced_at""",
                (platform.value, scope, digest, to_db_time(now)),
            )
