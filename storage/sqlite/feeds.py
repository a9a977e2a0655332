"""The feed registry, in SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from storage.models import Feed, PollOutcome
from storage.sqlite.database import SqliteDatabase, from_db_time, to_db_time

_SELECT = """SELECT id, url, section, interval_seconds, full_text, enabled, next_poll_at, etag,
    last_modified, first_polled_at, last_polled_at, last_new_at, failures, last_error
    FROM feeds"""
_BY_ID = f"{_SELECT} WHERE id = ?"
_BY_URL = f"{_SELECT} WHERE url = ?"
_ALL = f"{_SELECT} ORDER BY id"
_DUE = f"""{_SELECT} WHERE enabled AND next_poll_at <= ?
    ORDER BY next_poll_at, id LIMIT ?"""


def _time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


def _feed(row: aiosqlite.Row) -> Feed:
    return Feed(
        id=row[0],
        url=row[1],
        section=row[2],
        interval=timedelta(seconds=row[3]),
        full_text=bool(row[4]),
        enabled=bool(row[5]),
        next_poll_at=from_db_time(row[6]),
        etag=row[7],
        last_modified=row[8],
        first_polled_at=_time(row[9]),
        last_polled_at=_time(row[10]),
        last_new_at=_time(row[11]),
        failures=row[12],
        last_error=row[13],
    )


class SqliteFeedRepository:
    """Feeds by number and URL; polling state kept beside each."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def add(
        self, url: str, section: str, *, interval: timedelta, full_text: bool, now: datetime
    ) -> Feed | None:
        """Register a feed, due for its first poll at `now`; None when the URL is registered."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                """INSERT INTO feeds (url, section, interval_seconds, full_text, created_at,
                       next_poll_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO NOTHING""",
                (
                    url,
                    section,
                    int(interval.total_seconds()),
                    int(full_text),
                    to_db_time(now),
                    to_db_time(now),
                ),
            )
            if cursor.rowcount == 0:
                return None
            feed_id = cursor.lastrowid
        return await self.get(feed_id) if feed_id is not None else None

    async def update(
        self, feed_id: int, *, section: str, interval: timedelta, full_text: bool
    ) -> None:
        """Change a feed's section, interval and full-text choice."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE feeds SET section = ?, interval_seconds = ?, full_text = ?
                   WHERE id = ?""",
                (section, int(interval.total_seconds()), int(full_text), feed_id),
            )

    async def get(self, feed_id: int) -> Feed | None:
        """The feed with this number."""
        return await self._one(_BY_ID, (feed_id,))

    async def find(self, url: str) -> Feed | None:
        """The feed registered at this URL."""
        return await self._one(_BY_URL, (url,))

    async def all(self) -> list[Feed]:
        """Every feed, in the order they were added."""
        async with self._db.connection.execute(_ALL) as cursor:
            return [_feed(row) async for row in cursor]

    async def remove(self, feed_id: int) -> bool:
        """Forget a feed (its stories stay); False when there was none."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            return cursor.rowcount > 0

    async def set_enabled(self, feed_id: int, enabled: bool, *, now: datetime) -> bool:
        """Enable (due at once, failures forgotten) or disable a feed; False when none."""
        async with self._db.transaction() as connection:
            if enabled:
                cursor = await connection.execute(
                    """UPDATE feeds SET enabled = 1, failures = 0, next_poll_at = ?
                       WHERE id = ?""",
                    (to_db_time(now), feed_id),
                )
            else:
                cursor = await connection.execute(
                    "UPDATE feeds SET enabled = 0 WHERE id = ?", (feed_id,)
                )
            return cursor.rowcount > 0

    async def due(self, now: datetime, limit: int) -> list[Feed]:
        """Enabled feeds whose next poll is due by `now`, the longest waiting first."""
        async with self._db.connection.execute(_DUE, (to_db_time(now), limit)) as cursor:
            return [_feed(row) async for row in cursor]

    async def claim_due(self, now: datetime, *, hold_until: datetime, limit: int) -> list[Feed]:
        """Take the feeds due by `now` for this process: their next poll moves to `hold_until`
        in the same transaction, so another process polling the same database skips them
        (and polls them then, if this one died before recording how the poll went)."""
        async with self._db.transaction() as connection:
            async with connection.execute(_DUE, (to_db_time(now), limit)) as cursor:
                due = [_feed(row) async for row in cursor]
            await connection.executemany(
                "UPDATE feeds SET next_poll_at = ? WHERE id = ?",
                [(to_db_time(hold_until), feed.id) for feed in due],
            )
        return due

    async def next_due(self) -> datetime | None:
        """When the next enabled feed falls due, if any is enabled."""
        async with self._db.connection.execute(
            "SELECT MIN(next_poll_at) FROM feeds WHERE enabled"
        ) as cursor:
            row = await cursor.fetchone()
        return _time(row[0]) if row else None

    async def record(self, feed_id: int, outcome: PollOutcome, *, now: datetime) -> Feed | None:
        """Record a poll: validators and new stories of a good one (failures reset), or the
        error of a failed one (failures counted, disabled if asked). The feed as it is now."""
        async with self._db.transaction() as connection:
            if outcome.error is None:
                await connection.execute(
                    """UPDATE feeds SET next_poll_at = ?, etag = ?, last_modified = ?,
                           first_polled_at = COALESCE(first_polled_at, ?),
                           last_polled_at = ?,
                           last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,
                           failures = 0, last_error = NULL
                       WHERE id = ?""",
                    (
                        to_db_time(outcome.next_poll_at),
                        outcome.etag,
                        outcome.last_modified,
                        to_db_time(now),
                        to_db_time(now),
                        outcome.new,
                        to_db_time(now),
                        feed_id,
                    ),
                )
            else:
                await connection.execute(
                    """UPDATE feeds SET next_poll_at = ?, last_polled_at = ?,
                           failures = failures + 1, last_error = ?,
                           enabled = CASE WHEN ? THEN 0 ELSE enabled END
                       WHERE id = ?""",
                    (
                        to_db_time(outcome.next_poll_at),
                        to_db_time(now),
                        outcome.error,
                        int(outcome.disable),
                        feed_id,
                    ),
                )
        return await self.get(feed_id)

    async def _one(self, sql: str, parameters: tuple[object, ...]) -> Feed | None:
        async with self._db.connection.execute(sql, parameters) as cursor:
            row = await cursor.fetchone()
        return _feed(row) if row else None
