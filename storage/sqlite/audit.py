"""The audit log of admin and chat-management actions, in SQLite."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from storage.models import AuditEntry, ChatRef, Platform
from storage.sqlite.database import SqliteDatabase, from_db_time, to_db_time


class SqliteAuditRepository:
    """Append-only record of who changed what."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def record(self, entry: AuditEntry, *, now: datetime) -> None:
        """Append one entry."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """INSERT INTO audit_log (at, actor, platform, chat_id, action, detail, article_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    to_db_time(now),
                    entry.actor,
                    entry.chat.platform.value,
                    entry.chat.chat_id,
                    entry.action,
                    entry.detail,
                    entry.article_id,
                ),
            )

    async def recent(
        self, limit: int, *, actions: Collection[str] | None = None
    ) -> list[AuditEntry]:
        """The newest entries (of these actions, if given), newest first."""
        async with self._db.connection.execute(
            """SELECT at, actor, platform, chat_id, action, detail, article_id FROM audit_log
                WHERE :actions IS NULL OR action IN (SELECT value FROM json_each(:actions))
                ORDER BY id DESC LIMIT :limit""",
            {
                "actions": None if actions is None else json.dumps(sorted(actions)),
                "limit": limit,
            },
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            AuditEntry(
                actor=row["actor"],
                chat=ChatRef(Platform(row["platform"]), row["chat_id"]),
                action=row["action"],
                detail=row["detail"],
                at=from_db_time(row["at"]),
                article_id=row["article_id"],
            )
            for row in rows
        ]
