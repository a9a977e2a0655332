"""Section subscriptions and keyword follows in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.models import ChatRef, KeywordFollow, Platform, SubscriptionChange
from storage.sqlite.database import SqliteDatabase, to_db_time


def _follow(row: aiosqlite.Row) -> KeywordFollow:
    return KeywordFollow(
        id=row["id"],
        chat=ChatRef(Platform(row["platform"]), row["chat_id"]),
        words=row["words"],
        terms=tuple(row["terms"].split()),
    )


class SqliteSubscriptionRepository:
    """Which chats get which new stories."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def subscribe(
        self, chat: ChatRef, sections: Sequence[str], *, now: datetime
    ) -> dict[str, SubscriptionChange]:
        """Subscribe `chat` to each section (reactivating one the chat had before)."""
        changes: dict[str, SubscriptionChange] = {}
        async with self._db.transaction() as connection:
            for section in sections:
                cursor = await connection.execute(
                    """INSERT INTO subscriptions (platform, chat_id, section, active, created_at)
                       VALUES (?, ?, ?, 1, ?)
                       ON CONFLICT (platform, chat_id, section) DO UPDATE SET active = 1,
                           created_at = excluded.created_at
                       WHERE active = 0""",
                    (chat.platform.value, chat.chat_id, section, to_db_time(now)),
                )
                added = cursor.rowcount > 0
                await cursor.close()
                changes[section] = (
                    SubscriptionChange.ADDED if added else SubscriptionChange.ALREADY
                )
            # A chat that subscribes again after being marked gone is evidently back.
            await connection.execute(
                "UPDATE chats SET gone_reason = NULL WHERE platform = ? AND chat_id = ?",
                (chat.platform.value, chat.chat_id),
            )
        return changes

    async def unsubscribe(
        self, chat: ChatRef, sections: Sequence[str] | None
    ) -> dict[str, SubscriptionChange]:
        """Unsubscribe `chat` from each section, or from every section when None."""
        async with self._db.transaction() as connection:
            if sections is None:
                async with connection.execute(
                    """DELETE FROM subscriptions WHERE platform = ? AND chat_id = ? AND active = 1
                       RETURNING section""",
                    (chat.platform.value, chat.chat_id),
                ) as cursor:
                    removed = sorted(row[0] for row in await cursor.fetchall())
                return dict.fromkeys(removed, SubscriptionChange.REMOVED)
            changes: dict[str, SubscriptionChange] = {}
            for section in sections:
                cursor = await connection.execute(
                    """DELETE FROM subscriptions
                       WHERE platform = ? AND chat_id = ? AND section = ? AND active = 1""",
                    (chat.platform.value, chat.chat_id, section),
                )
                changes[section] = (
                    SubscriptionChange.REMOVED if cursor.rowcount else SubscriptionChange.ABSENT
                )
                await cursor.close()
            return changes

    async def sections_of(self, chat: ChatRef) -> list[str]:
        """The sections `chat` is subscribed to."""
        async with self._db.connection.execute(
            """SELECT section FROM subscriptions WHERE platform = ? AND chat_id = ? AND active = 1
               ORDER BY section""",
            (chat.platform.value, chat.chat_id),
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def follow(
        self, chat: ChatRef, words: str, terms: Sequence[str], *, now: datetime
    ) -> tuple[KeywordFollow, bool]:
        """Add a keyword follow, or return the chat's follow with the same terms."""
        key = " ".join(sorted(set(terms)))
        async with self._db.transaction() as connection:
            async with connection.execute(
                """SELECT id, platform, chat_id, words, terms, active FROM follows
                   WHERE platform = ? AND chat_id = ? AND terms = ?""",
                (chat.platform.value, chat.chat_id, key),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row["active"]:
                return _follow(row), False
            if row is not None:
                await connection.execute(
                    "UPDATE follows SET active = 1, words = ?, created_at = ? WHERE id = ?",
                    (words, to_db_time(now), row["id"]),
                )
                return KeywordFollow(row["id"], chat, words, tuple(key.split())), True
            async with connection.execute(
                """INSERT INTO follows (platform, chat_id, words, terms, term_count, created_at)
                   VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
                (chat.platform.value, chat.chat_id, words, key, len(key.split()), to_db_time(now)),
            ) as cursor:
                inserted = await cursor.fetchone()
            assert inserted is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
            follow_id = int(inserted[0])
            await connection.executemany(
                "INSERT INTO follow_terms (term, follow_id) VALUES (?, ?)",
                [(term, follow_id) for term in key.split()],
            )
        return KeywordFollow(follow_id, chat, words, tuple(key.split())), True

    async def unfollow(self, chat: ChatRef, terms: Sequence[str] | None) -> list[KeywordFollow]:
        """Remove the follow with exactly these terms, or all of the chat's; those removed."""
        async with self._db.transaction() as connection:
            if terms is None:
                cursor = await connection.execute(
                    """DELETE FROM follows WHERE platform = ? AND chat_id = ? AND active = 1
                       RETURNING id, platform, chat_id, words, terms""",
                    (chat.platform.value, chat.chat_id),
                )
            else:
                cursor = await connection.execute(
                    """DELETE FROM follows
                       WHERE platform = ? AND chat_id = ? AND terms = ? AND active = 1
                       RETURNING id, platform, chat_id, words, terms""",
                    (chat.platform.value, chat.chat_id, " ".join(sorted(set(terms)))),
                )
            async with cursor:
                removed = [_follow(row) for row in await cursor.fetchall()]
        # RETURNING gives rows in no promised order.
        return sorted(removed, key=lambda follow: follow.id)

    async def follows_of(self, chat: ChatRef) -> list[KeywordFollow]:
        """The chat's active keyword follows, oldest first."""
        async with self._db.connection.execute(
            """SELECT id, platform, chat_id, words, terms FROM follows
               WHERE platform = ? AND chat_id = ? AND active = 1 ORDER BY id""",
            (chat.platform.value, chat.chat_id),
        ) as cursor:
            return [_follow(row) for row in await cursor.fetchall()]
