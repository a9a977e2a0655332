"""Per-chat state in SQLite, and what happens when a platform says a chat is gone or moved."""

from __future__ import annotations

from datetime import datetime

from storage.models import ChatRef
from storage.sqlite.database import SqliteDatabase, to_db_time


class SqliteChatRepository:
    """Chat language, and the chat's fate when it disappears or changes id."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def language(self, chat: ChatRef) -> str | None:
        """The language the chat chose, if it chose one."""
        async with self._db.connection.execute(
            "SELECT language FROM chats WHERE platform = ? AND chat_id = ?",
            (chat.platform.value, chat.chat_id),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def set_language(self, chat: ChatRef, language: str, *, now: datetime) -> None:
        """Remember the chat's UI language."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """INSERT INTO chats (platform, chat_id, language, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (platform, chat_id) DO UPDATE
                   SET language = excluded.language, updated_at = excluded.updated_at""",
                (chat.platform.value, chat.chat_id, language, to_db_time(now)),
            )

    async def deactivate(self, chat: ChatRef, reason: str, *, now: datetime) -> int:
        """Stop the chat's subscriptions and follows and drop its pending deliveries."""
        key = (chat.platform.value, chat.chat_id)
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE subscriptions SET active = 0 WHERE platform = ? AND chat_id = ?", key
            )
            await connection.execute(
                "UPDATE follows SET active = 0 WHERE platform = ? AND chat_id = ?", key
            )
            cursor = await connection.execute(
                """UPDATE outbox SET status = 'dropped', last_error = ?
                   WHERE platform = ? AND chat_id = ? AND status IN ('pending', 'sending')""",
                (reason, *key),
            )
            dropped = cursor.rowcount
            await cursor.close()
            await connection.execute(
                """INSERT INTO chats (platform, chat_id, gone_reason, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (platform, chat_id) DO UPDATE
                   SET gone_reason = excluded.gone_reason, updated_at = excluded.updated_at""",
                (*key, reason, to_db_time(now)),
            )
        return dropped

    async def move(self, old: ChatRef, new: ChatRef, *, now: datetime) -> None:
        """Move everything of `old` to `new`; where `new` already has the same, keep that."""
        old_key = (old.platform.value, old.chat_id)
        new_id = new.chat_id
        new_key = (new.platform.value, new_id)
        async with self._db.transaction() as connection:
            # Where the new id already has the same row, inactive (it was gone once), the old
            # chat's active row must not be lost: reactivate the new one before the old goes.
            for table, column in (("subscriptions", "section"), ("follows", "terms")):
                await connection.execute(
                    f"UPDATE {table} SET active = 1 WHERE platform = ? AND chat_id = ? "  # noqa: S608 - table and column names are ours
                    f"AND {column} IN (SELECT {column} FROM {table} "
                    "WHERE platform = ? AND chat_id = ? AND active = 1)",
                    (*new_key, *old_key),
                )
            for table in ("subscriptions", "follows"):
                # OR IGNORE: a row the new chat already has stays; the old duplicate goes below.
                await connection.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = ? "  # noqa: S608 - table names are ours
                    "WHERE platform = ? AND chat_id = ?",
                    (new_id, *old_key),
                )
                await connection.execute(
                    f"DELETE FROM {table} WHERE platform = ? AND chat_id = ?",  # noqa: S608 - table names are ours
                    old_key,
                )
            await connection.execute(
                """UPDATE OR IGNORE outbox SET chat_id = ?
                   WHERE platform = ? AND chat_id = ? AND status IN ('pending', 'sending')""",
                (new_id, *old_key),
            )
            await connection.execute(
                """UPDATE outbox SET status = 'dropped', last_error = 'chat moved'
                   WHERE platform = ? AND chat_id = ? AND status IN ('pending', 'sending')""",
                old_key,
            )
            await connection.execute(
                """INSERT INTO chats (platform, chat_id, language, updated_at)
                   SELECT platform, ?, language, ? FROM chats WHERE platform = ? AND chat_id = ?
                   ON CONFLICT (platform, chat_id) DO NOTHING""",
                (new_id, to_db_time(now), *old_key),
            )
            await connection.execute(
                """UPDATE chats SET gone_reason = ?, updated_at = ?
                   WHERE platform = ? AND chat_id = ?""",
                (f"moved to {new_id}", to_db_time(now), *old_key),
            )
            await connection.execute(
                "UPDATE chats SET gone_reason = NULL WHERE platform = ? AND chat_id = ?", new_key
            )
