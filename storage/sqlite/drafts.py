"""The desk's breaking drafts in SQLite: written, then sent, cancelled or left to expire."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import aiosqlite

from storage.models import BreakingDraft, ChatRef, DraftState, Platform
from storage.sqlite.database import SqliteDatabase, from_db_time, to_db_time

_COLUMNS = (
    "code, actor, platform, chat_id, section, headline, body, link, created_at, expires_at,"
    " state, settled_by, article_id"
)


def _draft(row: aiosqlite.Row) -> BreakingDraft:
    return BreakingDraft(
        code=row["code"],
        actor=row["actor"],
        chat=ChatRef(Platform(row["platform"]), row["chat_id"]),
        section=row["section"],
        headline=row["headline"],
        text=row["body"],
        link=row["link"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        state=DraftState(row["state"]),
        settled_by=row["settled_by"],
        article_id=row["article_id"],
    )


class SqliteDraftRepository:
    """Breaking drafts, each under its code."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def add(self, draft: BreakingDraft) -> bool:
        """Keep a new open draft; False when its code is already taken."""
        try:
            async with self._db.transaction() as connection:
                await connection.execute(
                    f"INSERT INTO breaking_drafts ({_COLUMNS}) "  # noqa: S608 - constant column list
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    (
                        draft.code,
                        draft.actor,
                        draft.chat.platform.value,
                        draft.chat.chat_id,
                        draft.section,
                        draft.headline,
                        draft.text,
                        draft.link,
                        to_db_time(draft.created_at),
                        to_db_time(draft.expires_at),
                        DraftState.OPEN.value,
                    ),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    async def find(self, code: str) -> BreakingDraft | None:
        """The draft with this code, whatever its state."""
        async with self._db.connection.execute(
            f"SELECT {_COLUMNS} FROM breaking_drafts WHERE code = ?",  # noqa: S608 - constant column list
            (code,),
        ) as cursor:
            row = await cursor.fetchone()
        return _draft(row) if row else None

    async def settle(
        self, code: str, state: DraftState, *, by: str, now: datetime
    ) -> BreakingDraft | None:
        """Move an open, unexpired draft to `state`; the draft so settled, or None."""
        async with (
            self._db.transaction() as connection,
            connection.execute(
                f"""UPDATE breaking_drafts SET state = ?, settled_by = ?, settled_at = ?
                     WHERE code = ? AND state = 'open' AND expires_at > ?
                 RETURNING {_COLUMNS}""",  # noqa: S608 - constant column list
                (state.value, by, to_db_time(now), code, to_db_time(now)),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return _draft(row) if row else None

    async def reopen(self, code: str) -> None:
        """Open a draft settled as sent again (sending it failed)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """UPDATE breaking_drafts SET state = 'open', settled_by = NULL, settled_at = NULL
                    WHERE code = ? AND state = 'sent' AND article_id IS NULL""",
                (code,),
            )

    async def sent_as(self, code: str, article_id: int) -> None:
        """Record the story a sent draft became."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE breaking_drafts SET article_id = ? WHERE code = ?", (article_id, code)
            )
