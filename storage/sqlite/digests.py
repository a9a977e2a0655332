"""Pushes held for digests in SQLite: outbox rows claimed chat by chat, with a lease."""

from __future__ import annotations

import json
from datetime import datetime

from storage.models import ChatRef, DeliveryKind, DigestClaim, OutboxItem, Platform
from storage.sqlite.claims import new_claim_token
from storage.sqlite.database import SqliteDatabase, from_epoch, to_db_time, to_epoch
from storage.sqlite.outbox import MAX_CLAIMS

# The rows of a claim: still claimed by it, and among the ids it was given (a claim's rows may
# be handled apart, e.g. a story no longer stored).
_STILL_CLAIMED = (
    "claimed_by = :claim AND status = 'digesting' AND id IN (SELECT value FROM json_each(:ids))"
)


def _bound(claim: DigestClaim) -> dict[str, str]:
    return {"claim": claim.claim, "ids": json.dumps([item.id for item in claim.items])}


class SqliteDigestRepository:
    """Held pushes, claimed per chat so that each chat's go out together as one digest."""

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
    ) -> list[DigestClaim]:
        """Claim the due held rows of up to `limit` chats, one claim per chat."""
        now_epoch = to_epoch(now)
        claims: list[DigestClaim] = []
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE outbox SET status = 'failed',
                       last_error = 'claimed too often without an answer'
                   WHERE platform = ? AND status = 'digesting' AND due_at <= ? AND claims >= ?""",
                (platform.value, now_epoch, MAX_CLAIMS),
            )
            async with connection.execute(
                """SELECT chat_id FROM outbox
                    WHERE platform = :platform AND status IN ('held', 'digesting')
                      AND due_at <= :now AND (:chat_id IS NULL OR chat_id = :chat_id)
                    GROUP BY chat_id ORDER BY MIN(due_at), MIN(id) LIMIT :limit""",
                {"platform": platform.value, "now": now_epoch, "chat_id": chat_id, "limit": limit},
            ) as cursor:
                chat_ids = [row[0] for row in await cursor.fetchall()]
            for due_chat in chat_ids:
                token = new_claim_token()
                async with connection.execute(
                    """UPDATE outbox SET status = 'digesting', due_at = :lease_end,
                           claims = claims + 1, claimed_by = :claim
                       WHERE platform = :platform AND chat_id = :chat_id
                         AND status IN ('held', 'digesting') AND due_at <= :now
                       RETURNING id, article_id, attempts, kind, edit_of, unknown_outcomes""",
                    {
                        "lease_end": now_epoch + lease_seconds,
                        "claim": token,
                        "platform": platform.value,
                        "chat_id": due_chat,
                        "now": now_epoch,
                    },
                ) as cursor:
                    rows = await cursor.fetchall()
                chat = ChatRef(platform, due_chat)
                items = sorted(
                    (
                        OutboxItem(
                            id=row["id"],
                            article_id=row["article_id"],
                            chat=chat,
                            attempts=row["attempts"],
                            claim=token,
                            kind=DeliveryKind(row["kind"]),
                            edit_of=row["edit_of"],
                            unknown_outcomes=row["unknown_outcomes"],
                        )
                        for row in rows
                    ),
                    key=lambda item: item.id,
                )
                claims.append(DigestClaim(chat=chat, claim=token, items=tuple(items)))
        return claims

    async def renew(self, claim: DigestClaim, *, now: datetime, lease_seconds: float) -> bool:
        """Extend the claim just before sending; False when it was lost."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                f"UPDATE outbox SET due_at = :lease_end WHERE {_STILL_CLAIMED}",  # noqa: S608 - a constant condition
                {"lease_end": to_epoch(now) + lease_seconds, **_bound(claim)},
            )
            renewed = cursor.rowcount > 0
            await cursor.close()
        return renewed

    async def mark_sent(self, claim: DigestClaim, message_id: str, *, now: datetime) -> None:
        """Record the digest: every row of the claim sent, with the digest's message id."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'sent', message_id = :message_id, sent_at = :now,
                       last_error = NULL, in_digest = 1
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                {"message_id": message_id, "now": to_db_time(now), **_bound(claim)},
            )

    async def put_back(
        self,
        claim: DigestClaim,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool = False,
    ) -> None:
        """Hold the claim's rows again, due at `due_at`; `outcome_unknown`: the digest may
        have arrived, its rows are marked possible duplicates."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'held', due_at = :due_at, last_error = :reason,
                       attempts = attempts + :counted, claims = 0, claimed_by = NULL,
                       unknown_outcomes = unknown_outcomes + :unknown,
                       possible_duplicate = MAX(possible_duplicate, :unknown)
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                {
                    "due_at": to_epoch(due_at),
                    "reason": reason,
                    "counted": int(count_attempt),
                    "unknown": int(outcome_unknown),
                    **_bound(claim),
                },
            )

    async def give_up(self, claim: DigestClaim, reason: str, *, dropped: bool = False) -> None:
        """Never send the claim's rows."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = :status, last_error = :reason
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                {"status": "dropped" if dropped else "failed", "reason": reason, **_bound(claim)},
            )

    async def next_due(self, platform: Platform, chat_id: str | None = None) -> datetime | None:
        """When the earliest held or claimed digest row of this platform (and chat) falls due."""
        async with self._db.connection.execute(
            """SELECT MIN(due_at) FROM outbox
               WHERE platform = :platform AND status IN ('held', 'digesting')
                 AND (:chat_id IS NULL OR chat_id = :chat_id)""",
            {"platform": platform.value, "chat_id": chat_id},
        ) as cursor:
            row = await cursor.fetchone()
        return from_epoch(row[0]) if row and row[0] is not None else None
