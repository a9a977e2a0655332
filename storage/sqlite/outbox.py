"""The delivery outbox in SQLite: claims with a lease, so a dead claimer's rows come back."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime

from storage.models import (
    ChatRef,
    DeliveryKind,
    DeliveryTally,
    OutboxItem,
    Platform,
    PushRecord,
)
from storage.sqlite.database import SqliteDatabase, from_epoch, to_db_time, to_epoch

# A row claimed this many times without an answer is poison (it kills whoever sends it);
# give up on it rather than crash every worker in turn.
MAX_CLAIMS = 10

_WORKER = f"{socket.gethostname()}:{os.getpid()}"

# A story's pushes (found through the one-push index), then the edits and deletions of them
# (through the index on edit_of): two index walks, never a scan of the outbox.
_TALLY = """
SELECT o.platform, o.kind, o.status, COUNT(*) AS count,
       SUM(o.status = 'dropped' AND c.gone_reason IS NOT NULL) AS gone
  FROM outbox AS o
  LEFT JOIN chats AS c ON c.platform = o.platform AND c.chat_id = o.chat_id
 WHERE o.article_id = :article_id AND o.kind = 'send'
 GROUP BY o.platform, o.kind, o.status
UNION ALL
SELECT o.platform, o.kind, o.status, COUNT(*) AS count,
       SUM(o.status = 'dropped' AND c.gone_reason IS NOT NULL) AS gone
  FROM outbox AS s
  JOIN outbox AS o ON o.edit_of = s.id
  LEFT JOIN chats AS c ON c.platform = o.platform AND c.chat_id = o.chat_id
 WHERE s.article_id = :article_id AND s.kind = 'send'
 GROUP BY o.platform, o.kind, o.status
"""
_STILL_CLAIMED = "id = ? AND claimed_by = ? AND status = 'sending'"


class SqliteOutboxRepository:
    """Deliveries waiting, claimed, sent or given up."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def claim(
        self,
        platform: Platform,
        *,
        now: datetime,
        lease_seconds: float,
        limit: int,
        chat_id: str | None = None,
    ) -> list[OutboxItem]:
        """Claim up to `limit` due rows for `lease_seconds`, oldest due first."""
        now_epoch = to_epoch(now)
        # One token per claim, not per process: it tells this claim from a later one of the
        # same row by anybody, this process included.
        claim = f"{_WORKER}:{uuid.uuid4().hex}"
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE outbox SET status = 'failed',
                       last_error = 'claimed too often without an answer'
                   WHERE platform = ? AND status = 'sending' AND due_at <= ? AND claims >= ?""",
                (platform.value, now_epoch, MAX_CLAIMS),
            )
            async with connection.execute(
                """UPDATE outbox SET status = 'sending', due_at = :lease_end,
                       claims = claims + 1, claimed_by = :worker
                   WHERE id IN (
                       SELECT id FROM outbox
                        WHERE platform = :platform AND status IN ('pending', 'sending')
                          AND due_at <= :now AND (:chat_id IS NULL OR chat_id = :chat_id)
                        ORDER BY due_at, id LIMIT :limit)
                   RETURNING id, article_id, platform, chat_id, attempts, kind, edit_of""",
                {
                    "lease_end": now_epoch + lease_seconds,
                    "worker": claim,
                    "platform": platform.value,
                    "now": now_epoch,
                    "chat_id": chat_id,
                    "limit": limit,
                },
            ) as cursor:
                rows = await cursor.fetchall()
        items = [
            OutboxItem(
                id=row["id"],
                article_id=row["article_id"],
                chat=ChatRef(Platform(row["platform"]), row["chat_id"]),
                attempts=row["attempts"],
                claim=claim,
                kind=DeliveryKind(row["kind"]),
                edit_of=row["edit_of"],
            )
            for row in rows
        ]
        # RETURNING gives no order guarantee; keep the oldest first as claimed.
        return sorted(items, key=lambda item: item.id)

    async def renew(self, item: OutboxItem, *, now: datetime, lease_seconds: float) -> bool:
        """Extend the claim just before sending; False when the claim was lost."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                f"UPDATE outbox SET due_at = ? WHERE {_STILL_CLAIMED}",  # noqa: S608 - a constant condition
                (to_epoch(now) + lease_seconds, item.id, item.claim),
            )
            renewed = cursor.rowcount > 0
            await cursor.close()
        return renewed

    async def mark_sent(self, item: OutboxItem, message_id: str, *, now: datetime) -> None:
        """Record a delivery and the platform's message id."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?,
                       last_error = NULL
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                (message_id, to_db_time(now), item.id, item.claim),
            )

    async def retry_at(
        self, item: OutboxItem, due_at: datetime, reason: str, *, count_attempt: bool
    ) -> None:
        """Put a claimed row back, due at `due_at`."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'pending', due_at = ?, last_error = ?,
                       attempts = attempts + ?, claims = 0, claimed_by = NULL
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                (to_epoch(due_at), reason, int(count_attempt), item.id, item.claim),
            )

    async def give_up(self, item: OutboxItem, reason: str, *, dropped: bool = False) -> None:
        """Never send this row."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"UPDATE outbox SET status = ?, last_error = ? WHERE {_STILL_CLAIMED}",  # noqa: S608 - a constant condition
                ("dropped" if dropped else "failed", reason, item.id, item.claim),
            )

    async def push_record(self, push_id: int) -> PushRecord | None:
        """The status and message id of the push row `push_id` (what an edit corrects)."""
        async with self._db.connection.execute(
            "SELECT status, message_id FROM outbox WHERE id = ?", (push_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return PushRecord(row["status"], row["message_id"]) if row else None

    async def next_due(self, platform: Platform, chat_id: str | None = None) -> datetime | None:
        """When the earliest pending or claimed row of this platform (and chat) falls due."""
        async with self._db.connection.execute(
            """SELECT MIN(due_at) FROM outbox
               WHERE platform = :platform AND status IN ('pending', 'sending')
                 AND (:chat_id IS NULL OR chat_id = :chat_id)""",
            {"platform": platform.value, "chat_id": chat_id},
        ) as cursor:
            row = await cursor.fetchone()
        return from_epoch(row[0]) if row and row[0] is not None else None

    async def status_counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        async with self._db.connection.execute(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status"
        ) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def tally(self, article_id: int) -> list[DeliveryTally]:
        """How the deliveries of one story stand, by platform, kind and status."""
        async with self._db.connection.execute(_TALLY, {"article_id": article_id}) as cursor:
            rows = await cursor.fetchall()
        return [
            DeliveryTally(
                platform=Platform(row["platform"]),
                kind=DeliveryKind(row["kind"]),
                status=row["status"],
                count=int(row["count"]),
                chats_gone=int(row["gone"] or 0),
            )
            for row in rows
        ]
