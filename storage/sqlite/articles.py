"""Articles, their full-text index, and the fan-out of new ones into the outbox."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import aiosqlite

from storage import search_text
from storage.models import Article, ArticleDraft, PublishOutcome, PublishResult, Section
from storage.sqlite.database import SqliteDatabase, from_db_time, to_db_time, to_epoch

# search_key = publication second << KEY_SHIFT, plus the first free tie-breaker below it.
KEY_SHIFT = 20

# Qualified: the search join has title, body and section on both sides.
_ARTICLE_COLUMNS = (
    "a.id, a.identity, a.title, a.body, a.summary, a.section, a.url, a.author, a.image_url,"
    " a.source, a.breaking, a.published_at, a.revised_at"
)

# A large fan-out is a job done a page of recipients at a time, each page its own short
# transaction, so that no write holds the database for long.
FANOUT_PAGE = 2_000

# The next page of a story's recipients after a cursor, in (platform, chat_id) order: the chats
# subscribed to its section or (breaking news) to the breaking section, and those following
# words it contains. Each arm reads at most a page from its own index range; a chat matching
# several ways appears once (UNION).
_RECIPIENTS = """
SELECT platform, chat_id FROM (
    SELECT platform, chat_id FROM subscriptions
     WHERE active = 1 AND section = :section
       AND (platform, chat_id) > (:after_platform, :after_chat)
     ORDER BY platform, chat_id LIMIT :page)
UNION
SELECT platform, chat_id FROM (
    SELECT platform, chat_id FROM subscriptions
     WHERE active = 1 AND section = :breaking_section
       AND (platform, chat_id) > (:after_platform, :after_chat)
     ORDER BY platform, chat_id LIMIT :page)
UNION
SELECT platform, chat_id FROM (
    SELECT f.platform, f.chat_id FROM follows AS f
      JOIN follow_terms AS t ON t.follow_id = f.id
     WHERE f.active = 1 AND t.term IN (SELECT value FROM json_each(:terms))
       AND (f.platform, f.chat_id) > (:after_platform, :after_chat)
     GROUP BY f.id
    HAVING COUNT(*) = f.term_count
     ORDER BY f.platform, f.chat_id LIMIT :page)
ORDER BY platform, chat_id LIMIT :page
"""

# OR IGNORE on the outbox's one-push-per-(article, platform, chat) index: a chat is queued once,
# and a job resumed after a crash adds nothing twice.
_QUEUE_PUSH = """
INSERT OR IGNORE INTO outbox (article_id, platform, chat_id, lane, seq, status, due_at,
                              created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
"""

# Lanes: which chat's due row goes first when the budget allows one more send (answers to
# commands, lane 0, never wait in the outbox).
LANE_BREAKING = 1
LANE_CORRECTION = 2
LANE_PUSH = 3

# A correction: one edit for every push of the article that went out (or is going out, and
# may carry the old text) to a chat that is not gone, unless one is already waiting; it
# renders the article as it is when its turn comes, so a waiting edit carries later
# corrections too. A push delivered in a digest is left alone: its message is the digest,
# which an edit would replace with this one story.
_QUEUE_EDITS = """
INSERT INTO outbox (article_id, platform, chat_id, kind, edit_of, lane, seq, status, due_at,
                    created_at)
SELECT s.article_id, s.platform, s.chat_id, 'edit', s.id, 2, s.seq, 'pending', :due_at,
       :created_at
  FROM outbox AS s
 WHERE s.article_id = :article_id AND s.kind = 'send' AND s.status IN ('sending', 'sent')
   AND s.in_digest = 0
   AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.edit_of = s.id AND e.status = 'pending')
   AND NOT EXISTS (SELECT 1 FROM chats AS c WHERE c.platform = s.platform
                      AND c.chat_id = s.chat_id AND c.gone_reason IS NOT NULL)
"""

# What a reader sees of a story in a push or a list: a change to any of these is a correction
# that the copies already delivered must show.
_VISIBLE = ("title", "body", "summary", "section", "url", "image_url")


# The plans of `latest`; each walks one b-tree newest first and stops at the limit.
SEARCH_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM article_search AS s
                   JOIN articles AS a ON a.search_key = s.rowid
                  WHERE article_search MATCH ?
                  ORDER BY s.rowid DESC LIMIT ?"""  # noqa: S608 - constant column list
SECTION_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a WHERE a.section = ?
                   ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list
BREAKING_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a WHERE a.breaking = 1
                    ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list
RECENT_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a
                  ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list


def _content_hash(draft: ArticleDraft) -> str:
    parts = (
        draft.title,
        draft.body,
        draft.summary,
        draft.section,
        draft.url or "",
        draft.author or "",
        draft.image_url or "",
        # An undated draft keeps the time it was first stored: its date is no change.
        to_db_time(draft.published_at) if draft.published_at else "",
        str(int(draft.breaking)),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _search_section(draft: ArticleDraft, breaking_section: str) -> str:
    """The index's section words: the story's section, and the breaking section if it is
    breaking news, so that a search within `breaking` finds every breaking story."""
    if draft.breaking and draft.section != breaking_section:
        return f"{draft.section} {breaking_section}"
    return draft.section


def _article(row: aiosqlite.Row) -> Article:
    return Article(
        id=row["id"],
        identity=row["identity"],
        title=row["title"],
        body=row["body"],
        summary=row["summary"],
        section=row["section"],
        url=row["url"],
        author=row["author"],
        image_url=row["image_url"],
        source=row["source"],
        breaking=bool(row["breaking"]),
        published_at=from_db_time(row["published_at"]),
        revised_at=from_db_time(row["revised_at"]) if row["revised_at"] else None,
    )


class SqliteSectionRepository:
    """Sections in SQLite."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def sync(self, sections: Sequence[Section]) -> None:
        """Insert or rename the configured sections; sections no longer configured stay.

        Nothing is written when the file already has them as configured (every start), so
        starting takes no write lock from another process.
        """
        wanted = [(s.slug, s.name_id, s.name_en, i) for i, s in enumerate(sections)]
        async with self._db.connection.execute(
            "SELECT slug, name_id, name_en, position FROM sections"
        ) as cursor:
            stored = {tuple(row) for row in await cursor.fetchall()}
        if stored.issuperset(wanted):
            return
        async with self._db.transaction() as connection:
            await connection.executemany(
                """INSERT INTO sections (slug, name_id, name_en, position) VALUES (?, ?, ?, ?)
                   ON CONFLICT (slug) DO UPDATE SET name_id = excluded.name_id,
                       name_en = excluded.name_en, position = excluded.position""",
                wanted,
            )


class SqliteArticleRepository:
    """Articles in SQLite with an FTS5 index of their processed text."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def publish(
        self,
        drafts: Sequence[ArticleDraft],
        *,
        now: datetime,
        push_since: datetime | None,
        breaking_section: str,
    ) -> list[PublishResult]:
        """Store drafts and index them in one transaction, then fan the new ones out.

        The search terms are worked out before the transaction, so it holds the write lock only
        for writing. A new story's fan-out is a job recorded in that transaction and done in
        pages right after, each page its own transaction: a crash in between leaves the job for
        `fan_out`, and nothing is queued twice.
        """
        terms = [
            (search_text.index_text(d.title), search_text.index_text(f"{d.summary}\n{d.body}"))
            for d in drafts
        ]
        results: list[PublishResult] = []
        async with self._db.transaction() as connection:
            for draft, (title_terms, body_terms) in zip(drafts, terms, strict=True):
                results.append(
                    await self._publish_one(
                        connection,
                        draft,
                        terms=(title_terms, body_terms),
                        now=now,
                        push_since=push_since,
                        breaking_section=breaking_section,
                    )
                )
        fanned = await self.fan_out(
            [r.article_id for r in results if r.outcome is PublishOutcome.NEW], now=now
        )
        return [
            replace(result, queued=fanned[result.article_id])
            if result.outcome is PublishOutcome.NEW and result.article_id in fanned
            else result
            for result in results
        ]

    async def fan_out(
        self, article_ids: Sequence[int] | None = None, *, now: datetime
    ) -> dict[int, int]:
        """Do the fan-out jobs of these stories (all waiting jobs when None) to the end, a page
        per transaction; how many pushes each job queued in all."""
        if article_ids is None:
            async with self._db.connection.execute(
                "SELECT article_id FROM fanout_jobs ORDER BY article_id"
            ) as cursor:
                article_ids = [row[0] for row in await cursor.fetchall()]
        queued: dict[int, int] = {}
        for article_id in article_ids:
            while (done := await self._fan_out_page(article_id, now=now)) is None:
                pass
            if done >= 0:
                queued[article_id] = done
        return queued

    async def _fan_out_page(self, article_id: int, *, now: datetime) -> int | None:
        """Queue the next page of a job: None while it goes on, else the job's total (-1 for
        no job)."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT * FROM fanout_jobs WHERE article_id = ?", (article_id,)
            ) as cursor:
                job = await cursor.fetchone()
            if job is None:
                return -1
            async with connection.execute(
                _RECIPIENTS,
                {
                    "section": job["section"],
                    "breaking_section": job["breaking_section"],
                    "terms": job["terms"],
                    "after_platform": job["after_platform"],
                    "after_chat": job["after_chat"],
                    "page": FANOUT_PAGE,
                },
            ) as cursor:
                recipients = [(row[0], row[1]) for row in await cursor.fetchall()]
            cursor = await connection.executemany(
                _QUEUE_PUSH,
                [
                    (
                        article_id,
                        platform,
                        chat_id,
                        job["lane"],
                        job["seq"],
                        to_epoch(now),
                        to_db_time(now),
                    )
                    for platform, chat_id in recipients
                ],
            )
            queued = int(job["queued"]) + max(cursor.rowcount, 0)
            await cursor.close()
            if len(recipients) < FANOUT_PAGE:
                await connection.execute(
                    "DELETE FROM fanout_jobs WHERE article_id = ?", (article_id,)
                )
                return queued
            last_platform, last_chat = recipients[-1]
            await connection.execute(
                """UPDATE fanout_jobs SET after_platform = ?, after_chat = ?, queued = ?
                   WHERE article_id = ?""",
                (last_platform, last_chat, queued, article_id),
            )
            return None

    async def _publish_one(
        self,
        connection: aiosqlite.Connection,
        draft: ArticleDraft,
        *,
        terms: tuple[str, str],
        now: datetime,
        push_since: datetime | None,
        breaking_section: str,
    ) -> PublishResult:
        content_hash = _content_hash(draft)
        async with connection.execute(
            f"""SELECT id, content_hash, published_at, search_key, breaking,
                       {", ".join(_VISIBLE)}
                FROM articles WHERE identity = ?""",  # noqa: S608 - constant column list
            (draft.identity,),
        ) as cursor:
            existing = await cursor.fetchone()
        title_terms, body_terms = terms
        if existing is not None:
            if existing["content_hash"] == content_hash:
                return PublishResult(PublishOutcome.DUPLICATE, existing["id"])
            return await self._update(
                connection,
                draft,
                existing,
                content_hash=content_hash,
                terms=terms,
                now=now,
                breaking_section=breaking_section,
            )

        published_at = draft.published_at or now
        search_key = await self._free_search_key(connection, published_at)
        async with connection.execute(
            """INSERT INTO articles (identity, title, body, summary, section, url, author,
                   image_url, source, breaking, published_at, search_key, content_hash,
                   created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                draft.identity,
                draft.title,
                draft.body,
                draft.summary,
                draft.section,
                draft.url,
                draft.author,
                draft.image_url,
                draft.source,
                int(draft.breaking),
                to_db_time(published_at),
                search_key,
                content_hash,
                to_db_time(now),
                to_db_time(now),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        article_id = int(row[0])
        await connection.execute(
            "INSERT INTO article_search (rowid, title, body, section) VALUES (?, ?, ?, ?)",
            (search_key, title_terms, body_terms, _search_section(draft, breaking_section)),
        )
        if not draft.push or (push_since is not None and published_at < push_since):
            return PublishResult(PublishOutcome.NEW, article_id)
        await connection.execute(
            """INSERT INTO fanout_jobs (article_id, section, breaking_section, terms, lane, seq,
                   created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                article_id,
                draft.section,
                # NULL matches no subscription: plain stories do not reach `breaking`.
                breaking_section if draft.breaking else None,
                json.dumps(sorted(set(title_terms.split()) | set(body_terms.split()))),
                LANE_BREAKING if draft.breaking else LANE_PUSH,
                search_key,
                to_db_time(now),
            ),
        )
        return PublishResult(PublishOutcome.NEW, article_id)

    async def _update(
        self,
        connection: aiosqlite.Connection,
        draft: ArticleDraft,
        existing: aiosqlite.Row,
        *,
        content_hash: str,
        terms: tuple[str, str],
        now: datetime,
        breaking_section: str,
    ) -> PublishResult:
        """Store a changed story over its old self; a visible change is a correction, edited
        into every copy already delivered."""
        search_key = existing["search_key"]
        published = existing["published_at"]
        if draft.published_at is not None and to_db_time(draft.published_at) != published:
            published = to_db_time(draft.published_at)
            search_key = await self._free_search_key(connection, draft.published_at)
        corrected = any(getattr(draft, column) != existing[column] for column in _VISIBLE)
        # Once breaking news, always: a feed carrying the same story later does not undo it.
        draft = replace(draft, breaking=draft.breaking or bool(existing["breaking"]))
        await connection.execute(
            """UPDATE articles SET title = ?, body = ?, summary = ?, section = ?, url = ?,
                   author = ?, image_url = ?, breaking = ?, published_at = ?,
                   search_key = ?, content_hash = ?, updated_at = ?,
                   revised_at = CASE WHEN ? THEN ? ELSE revised_at END
               WHERE id = ?""",
            (
                draft.title,
                draft.body,
                draft.summary,
                draft.section,
                draft.url,
                draft.author,
                draft.image_url,
                int(draft.breaking),
                published,
                search_key,
                content_hash,
                to_db_time(now),
                corrected,
                to_db_time(now),
                existing["id"],
            ),
        )
        await connection.execute(
            "DELETE FROM article_search WHERE rowid = ?", (existing["search_key"],)
        )
        title_terms, body_terms = terms
        await connection.execute(
            "INSERT INTO article_search (rowid, title, body, section) VALUES (?, ?, ?, ?)",
            (search_key, title_terms, body_terms, _search_section(draft, breaking_section)),
        )
        if not corrected:
            return PublishResult(PublishOutcome.UPDATED, existing["id"])
        cursor = await connection.execute(
            _QUEUE_EDITS,
            {
                "article_id": existing["id"],
                "due_at": to_epoch(now),
                "created_at": to_db_time(now),
            },
        )
        edits = cursor.rowcount
        await cursor.close()
        return PublishResult(PublishOutcome.UPDATED, existing["id"], queued=edits)

    @staticmethod
    async def _free_search_key(connection: aiosqlite.Connection, published: datetime) -> int:
        base = max(int(published.timestamp()), 0) << KEY_SHIFT
        async with connection.execute(
            "SELECT MAX(search_key) FROM articles WHERE search_key BETWEEN ? AND ?",
            (base, base + (1 << KEY_SHIFT) - 1),
        ) as cursor:
            row = await cursor.fetchone()
        taken = row[0] if row else None
        return base if taken is None else int(taken) + 1

    async def get(self, article_id: int) -> Article | None:
        """The stored article with this id."""
        async with self._db.connection.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles AS a WHERE a.id = ?",  # noqa: S608 - constant column list
            (article_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return _article(row) if row else None

    async def latest(
        self, *, section: str | None, terms: Sequence[str], limit: int, breaking: bool = False
    ) -> list[Article]:
        """Newest published first; stories containing every term, in `section` if given."""
        params: tuple[str | int, ...]
        if terms:
            match = f"{{title body}} : ({search_text.fts_phrases(list(terms))})"
            if section is not None:
                # Slugs are [a-z0-9-] (checked in settings), so quoting them is enough. The
                # breaking section's word is indexed with every breaking story.
                match += f' AND section : "{section}"'
            sql, params = SEARCH_SQL, (match, limit)
        elif breaking:
            sql, params = BREAKING_SQL, (limit,)
        elif section is not None:
            sql, params = SECTION_SQL, (section, limit)
        else:
            sql, params = RECENT_SQL, (limit,)
        async with self._db.connection.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [_article(row) for row in rows]

    async def count(self) -> int:
        """How many articles are stored."""
        async with self._db.connection.execute("SELECT COUNT(*) FROM articles") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
