"""Per-chat state in SQLite, and what happens when a platform says a chat is gone or moved."""

from __future__ import annotations

from datetime import datetime, time

from storage.models import ChatRef, DeliveryMode, QuietHours
from storage.sqlite.database import SqliteDatabase, to_db_time, to_epoch

# Outbox rows not yet delivered: waiting, being sent, held for a digest, in a digest being sent.
_UNDELIVERED = "('pending', 'sending', 'held', 'digesting')"


def _minute(moment: time | None) -> int | None:
    return None if moment is None else moment.hour * 60 + moment.minute


def _time(minute: int | None) -> time | None:
    return None if minute is None else time(minute // 60, minute % 60)


class SqliteChatRepository:
    """Chat language and delivery mode, and the chat's fate when it disappears or changes id."""

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

    async def delivery_mode(self, chat: ChatRef) -> DeliveryMode:
        """How the chat takes regular pushes (instant, no quiet hours, unless it chose)."""
        async with self._db.connection.execute(
            """SELECT digest_minute, quiet_start_minute, quiet_end_minute FROM chats
               WHERE platform = ? AND chat_id = ?""",
            (chat.platform.value, chat.chat_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return DeliveryMode()
        start, end = _time(row["quiet_start_minute"]), _time(row["quiet_end_minute"])
        quiet = None
        # Equal ends are never stored (QuietHours refuses them); read as none, not as a crash.
        if start is not None and end is not None and start != end:
            quiet = QuietHours(start, end)
        return DeliveryMode(digest_at=_time(row["digest_minute"]), quiet=quiet)

    async def set_delivery_mode(
        self, chat: ChatRef, mode: DeliveryMode, *, now: datetime, held_until: datetime
    ) -> int:
        """Set the chat's delivery mode; its held pushes wait until `held_until` now.

        Returns how many held pushes there are.
        """
        quiet = mode.quiet
        async with self._db.transaction() as connection:
            await connection.execute(
                """INSERT INTO chats (platform, chat_id, digest_minute, quiet_start_minute,
                       quiet_end_minute, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (platform, chat_id) DO UPDATE
                   SET digest_minute = excluded.digest_minute,
                       quiet_start_minute = excluded.quiet_start_minute,
                       quiet_end_minute = excluded.quiet_end_minute,
                       updated_at = excluded.updated_at""",
                (
                    chat.platform.value,
                    chat.chat_id,
                    _minute(mode.digest_at),
                    _minute(quiet.start if quiet else None),
                    _minute(quiet.end if quiet else None),
                    to_db_time(now),
                ),
            )
            # Held pushes follow the chat's new mode: at once (as one digest) when it no longer
            # holds them, else at its next digest or the end of its quiet hours.
            cursor = await connection.execute(
                """UPDATE outbox SET due_at = ?
                   WHERE platform = ? AND chat_id = ? AND status = 'held'""",
                (to_epoch(held_until), chat.platform.value, chat.chat_id),
            )
            held = cursor.rowcount
            await cursor.close()
        return held

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
                f"""UPDATE outbox SET status = 'dropped', last_error = ?
                   WHERE platform = ? AND chat_id = ? AND status IN {_UNDELIVERED}""",  # noqa: S608 - a constant list
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
                f"""UPDATE OR IGNORE outbox SET chat_id = ?
                   WHERE platform = ? AND chat_id = ? AND status IN {_UNDELIVERED}""",  # noqa: S608 - a constant list
                (new_id, *old_key),
            )
            await connection.execute(
                f"""UPDATE outbox SET status = 'dropped', last_error = 'chat moved'
                   WHERE platform = ? AND chat_id = ? AND status IN {_UNDELIVERED}""",  # noqa: S608 - a constant list
                old_key,
            )
            await connection.execute(
                """INSERT INTO chats (platform, chat_id, language, digest_minute,
                       quiet_start_minute, quiet_end_minute, updated_at)
                   SELECT platform, ?, language, digest_minute, quiet_start_minute,
                       quiet_end_minute, ?
                   FROM chats WHERE platform = ? AND chat_id = ?
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
