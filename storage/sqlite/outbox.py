"""The delivery outbox in SQLite: per-chat queues, claims with a lease, and delivery leases.

Each chat's rows are a queue by lane (breaking, corrections, pushes), then in publication order
(`seq`, then `id`); only its head may be claimed, and only while no row of the chat is out being
sent, so a chat's stories go out in order whatever happens to one of them, and a breaking story
passes the chat's backlog. Across chats, heads go by lane, then by their place in their queue:
never by when they fell due, so a row told to wait keeps its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.models import (
    ChatRef,
    DeliveryKind,
    DeliveryTally,
    Lane,
    OutboxItem,
    Platform,
    PushRecord,
)
from storage.sqlite import claims
from storage.sqlite.articles import KEY_SHIFT
from storage.sqlite.database import SqliteDatabase, from_epoch, to_db_time, to_epoch

# A row claimed this many times without an answer is poison (it kills whoever sends it);
# give up on it rather than crash every worker in turn.
MAX_CLAIMS = 10

# A story's pushes (found through the one-push index), then the edits and deletions of them
# (through the index on edit_of): two index walks, never a scan of the outbox.
_TALLY = """
SELECT o.platform, o.kind, o.status, COUNT(*) AS count,
       SUM(o.status = 'dropped' AND c.gone_reason IS NOT NULL) AS gone,
       SUM(o.possible_duplicate) AS doubtful
  FROM outbox AS o
  LEFT JOIN chats AS c ON c.platform = o.platform AND c.chat_id = o.chat_id
 WHERE o.article_id = :article_id AND o.kind = 'send'
 GROUP BY o.platform, o.kind, o.status
UNION ALL
SELECT o.platform, o.kind, o.status, COUNT(*) AS count,
       SUM(o.status = 'dropped' AND c.gone_reason IS NOT NULL) AS gone,
       SUM(o.possible_duplicate) AS doubtful
  FROM outbox AS s
  JOIN outbox AS o ON o.edit_of = s.id
  LEFT JOIN chats AS c ON c.platform = o.platform AND c.chat_id = o.chat_id
 WHERE s.article_id = :article_id AND s.kind = 'send'
 GROUP BY o.platform, o.kind, o.status
"""
_STILL_CLAIMED = "id = ? AND claimed_by = ? AND status = 'sending'"

# A chat's regular pushes due and waiting, in queue order (a page of them: add LIMIT).
_WAITING_PUSHES = """
SELECT id FROM outbox
 WHERE platform = :platform AND chat_id = :chat_id AND status = 'pending' AND lane = :lane
   AND kind = 'send' AND due_at <= :now
 ORDER BY lane, seq, id"""

# A row waits for another of its chat ahead of it in lane, then place. An edit or a deletion
# whose message is not out yet (its push put back to be sent again) is not ahead of anything
# and is not sent: it follows its push, whatever its lane.
_WAITS_FOR_ITS_PUSH = """EXISTS (
    SELECT 1 FROM outbox AS push WHERE push.id = {row}.edit_of
       AND push.status IN ('pending', 'sending'))"""
# A head: due, its chat neither held (told to retry after) nor with a row out being sent, and
# no row waiting ahead of it in the chat's queue (a breaking story passes the chat's backlog of
# pushes). Heads go by lane, then place.
_CLAIM_HEADS = f"""
UPDATE outbox SET status = 'sending', due_at = :lease_end, claims = claims + 1,
       claimed_by = :claim
 WHERE id IN (
    SELECT o.id FROM outbox AS o
     WHERE o.platform = :platform AND o.status = 'pending' AND o.due_at <= :now
       AND (:chat_id IS NULL OR o.chat_id = :chat_id)
       AND NOT EXISTS (
           SELECT 1 FROM outbox AS out WHERE out.platform = o.platform
              AND out.chat_id = o.chat_id AND out.status = 'sending')
       AND NOT EXISTS (
           SELECT 1 FROM outbox AS held WHERE held.platform = o.platform
              AND held.chat_id = o.chat_id AND held.status = 'pending'
              AND held.holds_chat = 1 AND held.due_at > :now)
       AND NOT EXISTS (
           SELECT 1 FROM outbox AS ahead
            WHERE ahead.platform = o.platform AND ahead.chat_id = o.chat_id
              AND ahead.status = 'pending'
              AND (ahead.lane, ahead.seq, ahead.id) < (o.lane, o.seq, o.id)
              AND NOT {_WAITS_FOR_ITS_PUSH.format(row="ahead")})
       AND NOT {_WAITS_FOR_ITS_PUSH.format(row="o")}
     ORDER BY o.lane, o.seq, o.id
     LIMIT :limit)
RETURNING id, article_id, platform, chat_id, attempts, kind, edit_of, lane, unknown_outcomes
"""  # noqa: S608 - built from constant SQL, values are bound


class SqliteOutboxRepository:
    """Deliveries waiting, claimed, sent or given up, and who delivers for each platform."""

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
        """Claim up to `limit` chat heads for `lease_seconds`, by lane and queue place.

        Rows another claimer left when its lease ran out come back first. This process's own
        claims never run out here: it knows which of them are still being sent.
        """
        now_epoch = to_epoch(now)
        claim = claims.new_claim_token()
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE outbox SET status = 'failed',
                       last_error = 'claimed too often without an answer'
                   WHERE platform = ? AND status = 'sending' AND due_at <= ? AND claims >= ?
                     AND claimed_by NOT LIKE ? || '%'""",
                (platform.value, now_epoch, MAX_CLAIMS, claims.PROCESS),
            )
            # Whoever claimed them may have sent them before it stopped answering.
            await connection.execute(
                """UPDATE outbox SET status = 'pending', claimed_by = NULL, possible_duplicate = 1
                   WHERE platform = ? AND status = 'sending' AND due_at <= ?
                     AND claimed_by NOT LIKE ? || '%'""",
                (platform.value, now_epoch, claims.PROCESS),
            )
            async with connection.execute(
                _CLAIM_HEADS,
                {
                    "lease_end": now_epoch + lease_seconds,
                    "claim": claim,
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
                lane=row["lane"],
                unknown_outcomes=row["unknown_outcomes"],
            )
            for row in rows
        ]
        # RETURNING gives no order guarantee; keep the order of the claim.
        return sorted(items, key=lambda item: (item.lane, item.id))

    async def release_claims_of_dead_processes(self, platform: Platform, *, now: datetime) -> int:
        """Rows claimed by a process of this host that is gone are due again at once, not
        when their lease runs out (a digest's rows held again); how many."""
        async with self._db.connection.execute(
            """SELECT DISTINCT claimed_by FROM outbox
               WHERE platform = ? AND status IN ('sending', 'digesting')
                 AND claimed_by LIKE ? || ':%'""",
            (platform.value, claims.HOST),
        ) as cursor:
            tokens = [row[0] for row in await cursor.fetchall()]
        dead = [(to_epoch(now), token) for token in tokens if claims.process_is_dead(token)]
        if not dead:
            return 0
        async with self._db.transaction() as connection:
            # A claimed push is due again; a claimed digest's rows are held again, due at once.
            # Either may have gone out before the process died.
            pushes = await connection.executemany(
                """UPDATE outbox SET status = 'pending', due_at = ?, claimed_by = NULL,
                          possible_duplicate = 1
                   WHERE status = 'sending' AND claimed_by = ?""",
                dead,
            )
            released = max(pushes.rowcount, 0)
            await pushes.close()
            digests = await connection.executemany(
                """UPDATE outbox SET status = 'held', due_at = ?, claimed_by = NULL,
                          possible_duplicate = 1
                   WHERE status = 'digesting' AND claimed_by = ?""",
                dead,
            )
            released += max(digests.rowcount, 0)
            await digests.close()
        return released

    # Each call below acts only while `item` is still under its own claim: a worker whose lease
    # ran out (and whose row another worker took) changes nothing.

    async def renew(self, item: OutboxItem, *, now: datetime, lease_seconds: float) -> bool:
        """Extend the claim; False when the claim was lost."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                f"UPDATE outbox SET due_at = ? WHERE {_STILL_CLAIMED}",  # noqa: S608 - a constant condition
                (to_epoch(now) + lease_seconds, item.id, item.claim),
            )
            renewed = cursor.rowcount > 0
            await cursor.close()
        return renewed

    async def mark_sent(
        self,
        item: OutboxItem,
        message_id: str,
        *,
        now: datetime,
        shown_revision: str | None = None,
    ) -> None:
        """Record a delivery (a push, or the edit of one), the platform's message id and the
        version of the story the message now shows."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                f"""UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?,
                       last_error = NULL, shown_revision = ?
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                (message_id, to_db_time(now), shown_revision, item.id, item.claim),
            )
            recorded = cursor.rowcount > 0
            await cursor.close()
            if recorded and item.edit_of is not None:
                # The corrected message is the push's: it shows this version now.
                await connection.execute(
                    "UPDATE outbox SET shown_revision = ? WHERE id = ?",
                    (shown_revision, item.edit_of),
                )

    async def retry_at(
        self,
        item: OutboxItem,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool = False,
        hold_chat: bool = False,
    ) -> None:
        """Put a claimed row back, due at `due_at`, at its place in its chat's queue.

        `outcome_unknown`: the send may have arrived; the row is marked a possible duplicate.
        `hold_chat`: nothing is sent to the chat before then (the platform said retry after).
        """
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'pending', due_at = ?, last_error = ?,
                       attempts = attempts + ?, claims = 0, claimed_by = NULL,
                       unknown_outcomes = unknown_outcomes + ?,
                       possible_duplicate = MAX(possible_duplicate, ?), holds_chat = ?
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                (
                    to_epoch(due_at),
                    reason,
                    int(count_attempt),
                    int(outcome_unknown),
                    int(outcome_unknown),
                    int(hold_chat),
                    item.id,
                    item.claim,
                ),
            )

    async def give_up(self, item: OutboxItem, reason: str, *, dropped: bool = False) -> None:
        """Never send this row."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"UPDATE outbox SET status = ?, last_error = ? WHERE {_STILL_CLAIMED}",  # noqa: S608 - a constant condition
                ("dropped" if dropped else "failed", reason, item.id, item.claim),
            )

    async def hold(self, item: OutboxItem, until: datetime) -> None:
        """Keep a claimed push for the chat's next digest: status 'held', due at `until`."""
        async with self._db.transaction() as connection:
            await connection.execute(
                f"""UPDATE outbox SET status = 'held', due_at = ?, claims = 0, claimed_by = NULL,
                       last_error = NULL
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                (to_epoch(until), item.id, item.claim),
            )

    async def push_record(self, push_id: int) -> PushRecord | None:
        """The status and message id of the push row `push_id` (what an edit corrects)."""
        async with self._db.connection.execute(
            "SELECT status, message_id, shown_revision, bundle_of FROM outbox WHERE id = ?",
            (push_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return PushRecord(
            row["status"], row["message_id"], row["shown_revision"], row["bundle_of"]
        )

    # A chat's backlog: sent as one message when it is longer than the chat can take soon.

    async def take_backlog(
        self,
        head: OutboxItem,
        *,
        now: datetime,
        lease_seconds: float,
        more_than: int,
        limit: int,
    ) -> list[OutboxItem]:
        """When more than `more_than` regular pushes of `head`'s chat are due, `head` (a
        regular push, claimed) among them, claim the next ones after it in the chat's queue
        under its claim, up to `limit` rows in all; [] otherwise."""
        params = {
            "platform": head.chat.platform.value,
            "chat_id": head.chat.chat_id,
            "now": to_epoch(now),
            "lane": Lane.PUSH.value,
        }
        # A read first: most heads have no backlog, and their sends take no write lock here.
        async with self._db.connection.execute(
            f"SELECT COUNT(*) FROM ({_WAITING_PUSHES} LIMIT :enough)",  # noqa: S608 - constant SQL
            {**params, "enough": more_than},
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] + 1 <= more_than:
            return []
        claim = {
            "more": limit - 1,
            "lease_end": to_epoch(now) + lease_seconds,
            "claim": head.claim,
        }
        async with (
            self._db.transaction() as connection,
            connection.execute(
                f"""UPDATE outbox SET status = 'sending', due_at = :lease_end,
                       claims = claims + 1, claimed_by = :claim
                   WHERE id IN ({_WAITING_PUSHES} LIMIT :more)
                   RETURNING id, article_id, attempts, kind, edit_of, lane, unknown_outcomes""",  # noqa: S608 - constant SQL
                {**params, **claim},
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        items = [
            OutboxItem(
                id=row["id"],
                article_id=row["article_id"],
                chat=head.chat,
                attempts=row["attempts"],
                claim=head.claim,
                kind=DeliveryKind(row["kind"]),
                edit_of=row["edit_of"],
                lane=row["lane"],
                unknown_outcomes=row["unknown_outcomes"],
            )
            for row in rows
        ]
        return sorted(items, key=lambda item: item.id)

    async def mark_sent_together(
        self,
        items: Sequence[tuple[OutboxItem, str]],
        message_id: str,
        *,
        now: datetime,
    ) -> None:
        """Record one message that carried several pushes (each with the version of its story
        it shows) as a bundle: every row sent, with the message's id and the first row's id."""
        bundle = items[0][0].id
        async with self._db.transaction() as connection:
            await connection.executemany(
                f"""UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?,
                       last_error = NULL, shown_revision = ?, bundle_of = ?
                   WHERE {_STILL_CLAIMED}""",  # noqa: S608 - a constant condition
                [
                    (message_id, to_db_time(now), version, bundle, item.id, item.claim)
                    for item, version in items
                ],
            )

    async def bundle(self, bundle_of: int) -> list[int]:
        """The stories of a bundle's message, in the order it lists them."""
        async with self._db.connection.execute(
            """SELECT article_id FROM outbox WHERE bundle_of = ? AND kind = 'send'
                ORDER BY seq, id""",
            (bundle_of,),
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def drop_stale(
        self, platform: Platform, *, published_before: datetime, reason: str
    ) -> int:
        """Drop the regular pushes still waiting of stories published before
        `published_before` (a push's place in its queue is its story's publication time, so
        this reads one range of the heads' index); how many."""
        first_kept = max(int(published_before.timestamp()), 0) << KEY_SHIFT
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                """UPDATE outbox SET status = 'dropped', last_error = ?
                   WHERE platform = ? AND status = 'pending' AND lane = ? AND seq < ?""",
                (reason, platform.value, Lane.PUSH.value, first_kept),
            )
            dropped = max(cursor.rowcount, 0)
            await cursor.close()
        return dropped

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

    async def take_lease(
        self, scope: str, holder: str, *, now: datetime, lease_seconds: float
    ) -> bool:
        """Become (or stay) the one process delivering for `scope`; False while another
        live process holds it."""
        now_epoch = to_epoch(now)
        async with self._db.connection.execute(
            "SELECT holder, expires_at FROM delivery_leases WHERE scope = ?", (scope,)
        ) as cursor:
            row = await cursor.fetchone()
        previous = str(row[0]) if row is not None else ""
        held_by_another = row is not None and previous != holder and row[1] > now_epoch
        if held_by_another and not claims.process_is_dead(previous):
            return False
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                """INSERT INTO delivery_leases (scope, holder, expires_at) VALUES (?, ?, ?)
                   ON CONFLICT (scope) DO UPDATE SET holder = excluded.holder,
                       expires_at = excluded.expires_at
                   WHERE delivery_leases.holder = excluded.holder
                      OR delivery_leases.holder = ? OR delivery_leases.expires_at <= ?""",
                (scope, holder, now_epoch + lease_seconds, previous, now_epoch),
            )
            taken = cursor.rowcount > 0
            await cursor.close()
        return taken

    async def release_lease(self, scope: str, holder: str) -> None:
        """Stop delivering for `scope`, so that a process standing by takes over at once."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "DELETE FROM delivery_leases WHERE scope = ? AND holder = ?", (scope, holder)
            )

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
                possible_duplicates=int(row["doubtful"] or 0),
            )
            for row in rows
        ]
