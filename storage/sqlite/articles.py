"""Articles, their full-text index, and the fan-out of new ones into the outbox."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import aiosqlite

from storage import search_text
from storage.models import (
    Article,
    ArticleDraft,
    Lane,
    Platform,
    PublishOutcome,
    PublishPreview,
    PublishResult,
    Retraction,
    Section,
)
from storage.sqlite import claims
from storage.sqlite.database import SqliteDatabase, from_db_time, to_db_time, to_epoch

# search_key = publication second << KEY_SHIFT, plus the first free tie-breaker below it.
KEY_SHIFT = 20

# Qualified: the search join has title, body and section on both sides.
_ARTICLE_COLUMNS = (
    "a.id, a.identity, a.title, a.body, a.summary, a.section, a.url, a.author, a.image_url,"
    " a.source, a.breaking, a.published_at, a.revised_at, a.retracted_at, a.retraction_reason,"
    " (SELECT group_concat(COALESCE(o.source, o.url), char(10)) FROM article_sources AS o"
    " WHERE o.article_id = a.id) AS also_reported"
)
# A story found again through another door: the same normalised headline, published within
# this long of it. Headlines shorter than `SAME_STORY_MIN_WORDS` words are too common to tell.
SAME_STORY_WINDOW = timedelta(days=1)
SAME_STORY_MIN_WORDS = 4
# Another outlet's copy must also open alike: this share of the first words of the text.
SAME_LEAD_WORDS = 40
SAME_LEAD_SHARE = 0.5

# A large fan-out is a job done a page of recipients at a time, each page its own short
# transaction, so that no write holds the database for long.
FANOUT_PAGE = 2_000

# The chats a new story reaches, the next page of them after a cursor in (platform, chat_id)
# order: subscribers of its section (or of `breaking`), and follows whose every term it
# contains; each chat once, however many ways it matches. Each arm reads at most a page from
# its own index range. The fan-out pages through it; the desk's preview of a draft counts all
# of it (no cursor, `:page` -1: no limit).
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

_REACH = f"""SELECT platform, COUNT(*) FROM ({_RECIPIENTS}) GROUP BY platform"""  # noqa: S608 - constant SQL

# The copies of a story a correction edits: every push of it that went out (or is going out,
# and may carry the old text) to a chat that is not gone. A push delivered in a digest is left
# alone: its message is the digest, which an edit would replace with this one story.
_DELIVERED_COPIES = """
  FROM outbox AS s
 WHERE s.article_id = :article_id AND s.kind = 'send' AND s.status IN ('sending', 'sent')
   AND s.in_digest = 0
   AND NOT EXISTS (SELECT 1 FROM chats AS c WHERE c.platform = s.platform
                      AND c.chat_id = s.chat_id AND c.gone_reason IS NOT NULL)
"""

# A correction: one edit for every delivered copy, unless one is already waiting; it renders
# the article as it is when its turn comes, so a waiting edit carries later corrections too.
# It takes its push's place in the chat's queue.
_QUEUE_EDITS = f"""
INSERT INTO outbox (article_id, platform, chat_id, kind, edit_of, lane, seq, status, due_at,
                    created_at)
SELECT s.article_id, s.platform, s.chat_id, 'edit', s.id, {Lane.CORRECTION.value}, s.seq,
       'pending', :due_at, :created_at
{_DELIVERED_COPIES}
   AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.edit_of = s.id AND e.status = 'pending')
"""  # noqa: S608 - built from constant SQL, values are bound

_COPIES_TO_EDIT = f"""SELECT s.platform, COUNT(*) {_DELIVERED_COPIES} GROUP BY s.platform"""

# A retraction: each copy of the story delivered (or being delivered), and whether it can still
# be deleted. `:cutoffs` is a JSON object of platform -> the earliest send time the platform
# still lets a bot delete (platforms without such a limit are absent). A copy that went out in a
# digest is not the story's own message: the digest lists other stories, and stays. A copy in a
# coalesced backlog (a bundle) is edited out of its message instead, however old.
_COPIES_TO_DELETE = """
SELECT s.id, s.article_id, s.platform, s.chat_id, s.seq, s.bundle_of,
       EXISTS (SELECT 1 FROM chats AS c WHERE c.platform = s.platform
                  AND c.chat_id = s.chat_id AND c.gone_reason IS NOT NULL) AS gone,
       COALESCE(s.bundle_of IS NULL AND s.status = 'sent'
                AND s.sent_at < (SELECT value FROM json_each(:cutoffs)
                                  WHERE key = s.platform), 0) AS too_old
  FROM outbox AS s
 WHERE s.article_id = :article_id AND s.kind = 'send' AND s.status IN ('sending', 'sent')
   AND s.in_digest = 0
"""
_NOT_OUT = "status NOT IN ('sending', 'sent', 'failed', 'dropped')"
_GONE_CHAT = "chat gone"
_TOO_OLD = "too old to delete"
_QUEUE_DELETES = f"""
INSERT INTO outbox (article_id, platform, chat_id, kind, edit_of, lane, seq, status, last_error,
                    due_at, created_at)
SELECT article_id, platform, chat_id, CASE WHEN bundle_of IS NULL THEN 'delete' ELSE 'edit' END,
       id, {Lane.CORRECTION.value}, seq,
       CASE WHEN gone OR too_old THEN 'dropped' ELSE 'pending' END,
       CASE WHEN gone THEN '{_GONE_CHAT}' WHEN too_old THEN '{_TOO_OLD}' END,
       :due_at, :created_at
  FROM ({_COPIES_TO_DELETE})
"""  # noqa: S608 - built from constant SQL, values are bound
_COUNT_DELETES = f"""
SELECT platform, SUM(gone) AS gone, SUM(too_old AND NOT gone) AS too_old,
       SUM(NOT gone AND NOT too_old) AS deleting
  FROM ({_COPIES_TO_DELETE}) GROUP BY platform
"""  # noqa: S608 - constant SQL

# What a reader sees of a story in a push or a list: a change to any of these is a correction
# that the copies already delivered must show.
_VISIBLE = ("title", "body", "summary", "section", "url", "image_url")


# The plans of `latest`; each walks one b-tree newest first and stops at the limit. A retracted
# story is passed over on the way (there are few).
SEARCH_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM article_search AS s
                   JOIN articles AS a ON a.search_key = s.rowid
                  WHERE article_search MATCH ? AND a.retracted_at IS NULL
                  ORDER BY s.rowid DESC LIMIT ?"""  # noqa: S608 - constant column list
SECTION_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a
                   WHERE a.section = ? AND a.retracted_at IS NULL
                   ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list
BREAKING_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a
                    WHERE a.breaking = 1 AND a.retracted_at IS NULL
                    ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list
RECENT_SQL = f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a WHERE a.retracted_at IS NULL
                  ORDER BY a.search_key DESC LIMIT ?"""  # noqa: S608 - constant column list


def _headline_key(draft: ArticleDraft) -> str | None:
    """A headline as compared across doors: its words folded (case, accents, punctuation);
    None when it is too short to tell one story from another."""
    words = search_text.words(draft.title)
    return " ".join(words) if len(words) >= SAME_STORY_MIN_WORDS else None


def _leads_alike(stored: str, incoming: str) -> bool:
    """Whether two texts open alike: most of the first words of each are shared."""
    first = set(search_text.words(stored)[:SAME_LEAD_WORDS])
    second = set(search_text.words(incoming)[:SAME_LEAD_WORDS])
    if not first or not second:
        return False
    return len(first & second) / len(first | second) >= SAME_LEAD_SHARE


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
        retracted_at=from_db_time(row["retracted_at"]) if row["retracted_at"] else None,
        retraction_reason=row["retraction_reason"],
        also_reported_by=tuple(
            dict.fromkeys(row["also_reported"].split("\n")) if row["also_reported"] else ()
        ),
    )


def _terms(draft: ArticleDraft) -> tuple[str, str, str]:
    """The stems of a draft's title, and of its summary and body, and the exact forms of all
    three, as indexed."""
    # A feed's item often has its summary for a body: such text is processed once.
    text = draft.body if draft.summary in draft.body else f"{draft.summary}\n{draft.body}"
    title_stems, title_forms = search_text.index_texts(draft.title)
    body_stems, body_forms = search_text.index_texts(text)
    return title_stems, body_stems, f"{title_forms}\n{body_forms}"


def _all_terms(terms: tuple[str, str, str]) -> str:
    """Every distinct stem of a story, as the JSON list the follow matching reads."""
    title_terms, body_terms, _forms = terms
    return json.dumps(sorted(set(title_terms.split()) | set(body_terms.split())))


def _pushed(
    draft: ArticleDraft, published_at: datetime | None, push_since: datetime | None
) -> bool:
    """Whether a new story is pushed: its draft allows it and it is not too old."""
    if not draft.push:
        return False
    return push_since is None or published_at is None or published_at >= push_since


def _recipient_params(
    draft: ArticleDraft, terms: tuple[str, str, str], breaking_section: str
) -> dict[str, str | None]:
    """The values `_RECIPIENTS` matches chats against."""
    return {
        "section": draft.section,
        # NULL matches no subscription: plain stories do not reach `breaking`.
        "breaking_section": breaking_section if draft.breaking else None,
        "terms": _all_terms(terms),
    }


def _per_platform(rows: Iterable[aiosqlite.Row], column: str) -> dict[Platform, int]:
    """`column` of each platform's row, leaving out platforms where it is 0."""
    return {Platform(row["platform"]): int(row[column]) for row in rows if row[column]}


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

        A few hand-overs to the database thread per batch, whatever its size: the batch's
        stored hashes are read first, so that only new or changed drafts are stemmed (the
        costliest step, done before the write lock is taken); then every statement of the
        batch runs synchronously in one write transaction. A new story's fan-out is a job
        recorded in that transaction and done in bounded transactions right after: a crash in
        between leaves the job for `fan_out`, and nothing is queued twice.
        """
        if not drafts:
            return []
        hashes = [_content_hash(draft) for draft in drafts]
        settled = await self._db.run(
            functools.partial(_settled, identities=[d.identity for d in drafts], hashes=hashes)
        )
        terms = [
            None if (draft.identity, content_hash) in settled else _terms(draft)
            for draft, content_hash in zip(drafts, hashes, strict=True)
        ]
        results = await self._db.write(
            functools.partial(
                _store_batch,
                drafts=drafts,
                hashes=hashes,
                terms=terms,
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
        """Do the fan-out jobs of these stories (all waiting jobs when None) to the end, in
        transactions of at most `FANOUT_STEP_ROWS` pushes each; how many pushes each job queued
        in all."""
        # Stories just published are this call's own jobs; the waiting ones may be another
        # process's, which is doing them (it beats their hearts), or left by one that is not.
        adopt_new = article_ids is not None
        if article_ids is None:
            async with self._db.connection.execute(
                "SELECT article_id FROM fanout_jobs ORDER BY article_id"
            ) as cursor:
                article_ids = [row[0] for row in await cursor.fetchall()]
        owner = claims.new_claim_token()
        _FANNING_OUT.add(owner)
        queued: dict[int, int] = {}
        waiting = list(article_ids)
        try:
            while waiting:
                finished, waiting = await self._db.write(
                    functools.partial(
                        _fan_out_step,
                        article_ids=waiting,
                        now=now,
                        owner=owner,
                        adopt_new=adopt_new,
                    )
                )
                queued.update(finished)
        finally:
            _FANNING_OUT.discard(owner)
        return queued

    async def preview(
        self, draft: ArticleDraft, *, push_since: datetime | None, breaking_section: str
    ) -> PublishPreview:
        """What `publish` would do with `draft` now, by the same rules, writing nothing."""
        existing = await self._db.run(functools.partial(_existing, identity=draft.identity))
        if existing is None:
            if not _pushed(draft, draft.published_at, push_since):
                return PublishPreview(PublishOutcome.NEW)
            params = {
                **_recipient_params(draft, _terms(draft), breaking_section),
                # All of them, not a page: no cursor, no limit.
                "after_platform": "",
                "after_chat": "",
                "page": -1,
            }
            return PublishPreview(
                PublishOutcome.NEW, reach=await self._count_by_platform(_REACH, params)
            )
        article_id = int(existing["id"])
        if existing["retracted_at"]:
            return PublishPreview(PublishOutcome.DUPLICATE, article_id, retracted=True)
        if not any(getattr(draft, column) != existing[column] for column in _VISIBLE):
            return PublishPreview(PublishOutcome.DUPLICATE, article_id)
        copies = await self._count_by_platform(_COPIES_TO_EDIT, {"article_id": article_id})
        return PublishPreview(PublishOutcome.UPDATED, article_id, reach=copies)

    async def _count_by_platform(
        self, sql: str, params: Mapping[str, object]
    ) -> dict[Platform, int]:
        """A count query's (platform, count) rows as a mapping."""
        async with self._db.connection.execute(sql, params) as cursor:
            return {Platform(row[0]): int(row[1]) for row in await cursor.fetchall()}

    async def retract(
        self,
        article_id: int,
        *,
        reason: str,
        now: datetime,
        delete_sent_after: Mapping[Platform, datetime],
    ) -> Retraction | None:
        """Withdraw a story, drop what has not gone out, queue deletions of what has."""
        cutoffs = json.dumps(
            {platform.value: to_db_time(at) for platform, at in delete_sent_after.items()}
        )
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT retracted_at FROM articles WHERE id = ?", (article_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            if row["retracted_at"]:
                return Retraction(already=from_db_time(row["retracted_at"]))
            await connection.execute(
                "UPDATE articles SET retracted_at = ?, retraction_reason = ? WHERE id = ?",
                (to_db_time(now), reason, article_id),
            )
            # Corrections of it waiting to go out, then the pushes themselves: none go now.
            # Whatever is not out, nor on its way, nor settled is waiting (pending, or held
            # for a digest): all of it.
            await connection.execute(
                f"""UPDATE outbox SET status = 'dropped', last_error = 'story retracted'
                     WHERE {_NOT_OUT} AND edit_of IN (
                           SELECT id FROM outbox WHERE article_id = ? AND kind = 'send')""",  # noqa: S608 - constant SQL
                (article_id,),
            )
            cursor = await connection.execute(
                f"""UPDATE outbox SET status = 'dropped', last_error = 'story retracted'
                     WHERE article_id = ? AND kind = 'send' AND {_NOT_OUT}""",  # noqa: S608 - constant SQL
                (article_id,),
            )
            cancelled = cursor.rowcount
            await cursor.close()
            params = {"article_id": article_id, "cutoffs": cutoffs}
            async with connection.execute(_COUNT_DELETES, params) as cursor:
                counted = await cursor.fetchall()
            await connection.execute(
                _QUEUE_DELETES,
                {**params, "due_at": to_epoch(now), "created_at": to_db_time(now)},
            )
        return Retraction(
            deleting=_per_platform(counted, "deleting"),
            too_old=_per_platform(counted, "too_old"),
            in_gone_chats=_per_platform(counted, "gone"),
            cancelled=cancelled,
        )

    async def get(self, article_id: int, *, include_retracted: bool = False) -> Article | None:
        """The stored article with this id; a retracted one only if asked for."""
        async with self._db.connection.execute(
            f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a
                 WHERE a.id = ? AND (? OR a.retracted_at IS NULL)""",  # noqa: S608 - constant column list
            (article_id, include_retracted),
        ) as cursor:
            row = await cursor.fetchone()
        return _article(row) if row else None

    async def latest(
        self, *, section: str | None, terms: Sequence[str], limit: int, breaking: bool = False
    ) -> list[Article]:
        """Newest published first; stories containing every word, in `section` if given.

        Stories holding the words as typed come first; then, to fill the list, those that only
        share their stems (`pertahanan` lists `bertahan` after every `pertahanan`). Each list is
        its own bounded walk of the index, newest first.
        """
        words = search_text.query_words(" ".join(terms))
        if words:
            forms, stems = search_text.query_forms(words)
            exact = await self._search("forms", forms, section, limit)
            if len(exact) >= limit:
                return exact
            # Stories with every stem: a stem's stories need not hold a form's, so those found
            # already are passed over, and as many more are read.
            by_stem = await self._search("{title body}", stems, section, limit + len(exact))
            found = {article.id for article in exact}
            return exact + [a for a in by_stem if a.id not in found][: limit - len(exact)]
        params: tuple[str | int, ...]
        if breaking:
            sql, params = BREAKING_SQL, (limit,)
        elif section is not None:
            sql, params = SECTION_SQL, (section, limit)
        else:
            sql, params = RECENT_SQL, (limit,)
        async with self._db.connection.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [_article(row) for row in rows]

    async def _search(
        self, columns: str, terms: list[str], section: str | None, limit: int
    ) -> list[Article]:
        """The newest stories whose `columns` hold every term, in `section` if given."""
        match = f"{columns} : ({search_text.fts_phrases(terms)})"
        if section is not None:
            # Slugs are [a-z0-9-] (checked in settings), so quoting them is enough. The
            # breaking section's word is indexed with every breaking story.
            match += f' AND section : "{section}"'
        async with self._db.connection.execute(SEARCH_SQL, (match, limit)) as cursor:
            rows = await cursor.fetchall()
        return [_article(row) for row in rows]

    async def count(self) -> int:
        """How many articles are stored."""
        async with self._db.connection.execute("SELECT COUNT(*) FROM articles") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def by_identities(self, identities: Collection[str]) -> dict[str, Article]:
        """The stored stories with these identities (retracted ones too), by identity."""
        if not identities:
            return {}
        # One bound JSON array, whatever the number of identities: no SQL built from values.
        async with self._db.connection.execute(
            f"""SELECT {_ARTICLE_COLUMNS} FROM articles AS a
                 WHERE a.identity IN (SELECT value FROM json_each(?))""",  # noqa: S608 - constant column list
            (json.dumps(list(identities)),),
        ) as cursor:
            rows = await cursor.fetchall()
        return {row["identity"]: _article(row) for row in rows}


# Jobs started in one fan-out transaction at most: each costs a few statements even when it
# reaches nobody, and a transaction stays short.
FANOUT_JOBS_PER_STEP = 500
# Pushes queued in one fan-out transaction at most, a page at a time: about 40 ms of writing.
FANOUT_STEP_ROWS = 10_000
# A fan-out job belongs to the process doing it, which beats its heart at every step (each
# well under a second): others leave it alone unless its heart has not beaten for this long,
# or its process is gone. A job's owner is a claim token (storage.sqlite.claims).
FANOUT_STALE_SECONDS = 30.0
# The fan-outs this process is doing now, by owner token: a job of this process's that is not
# among them was left by a fan-out that failed, and is anybody's.
_FANNING_OUT: set[str] = set()


def _may_take(job: sqlite3.Row, owner: str, *, adopt_new: bool) -> bool:
    """Whether the fan-out `owner` may do `job`: its own, or nobody's (a new job, for the
    publisher that made it: `adopt_new`), or one whose owner stopped beating its heart or is
    gone."""
    held_by = job["owner"]
    if held_by == owner:
        return True
    beat = job["heartbeat_at"]
    if beat is None or time.time() - beat > FANOUT_STALE_SECONDS:
        return True
    if held_by is None:
        return adopt_new
    if held_by.startswith(claims.PROCESS):
        return held_by not in _FANNING_OUT
    return claims.process_is_dead(held_by)


# A page of a job's recipients queued by one statement, never leaving SQLite. OR IGNORE on the
# outbox's one-push-per-(article, platform, chat) index: a chat is queued once, and a job
# resumed after a crash adds nothing twice.
_QUEUE_PAGE = f"""
INSERT OR IGNORE INTO outbox (article_id, platform, chat_id, lane, seq, status, due_at,
                              created_at)
SELECT :article_id, platform, chat_id, :lane, :seq, 'pending', :due_at, :created_at
  FROM ({_RECIPIENTS})
"""  # noqa: S608 - built from constant SQL, values are bound
# How many recipients that page holds, and the last of them: where the next page starts.
_PAGE_END = f"""
SELECT platform, chat_id, COUNT(*) OVER () FROM ({_RECIPIENTS})
 ORDER BY platform DESC, chat_id DESC LIMIT 1
"""  # noqa: S608 - built from constant SQL, values are bound


def _fan_out_step(
    connection: sqlite3.Connection,
    *,
    article_ids: list[int],
    now: datetime,
    owner: str,
    adopt_new: bool,
) -> tuple[dict[int, int], list[int]]:
    """One fan-out transaction by `owner`: the jobs of `article_ids`, in order, a page of
    recipients at a time, until `FANOUT_STEP_ROWS` pushes are queued. The totals of the jobs
    finished, and the ids still to do (an unfinished job first). An id without a job, or whose
    job another process is doing (see `_may_take`), is passed over."""
    finished: dict[int, int] = {}
    written = 0
    due_at, created_at = to_epoch(now), to_db_time(now)
    for position, article_id in enumerate(article_ids):
        if position >= FANOUT_JOBS_PER_STEP:
            return finished, article_ids[position:]
        job = connection.execute(
            "SELECT * FROM fanout_jobs WHERE article_id = ?", (article_id,)
        ).fetchone()
        if job is None or not _may_take(job, owner, adopt_new=adopt_new):
            continue
        queued = int(job["queued"])
        after = (job["after_platform"], job["after_chat"])
        while True:
            if written >= FANOUT_STEP_ROWS:
                connection.execute(
                    """UPDATE fanout_jobs SET after_platform = ?, after_chat = ?, queued = ?,
                           owner = ?, heartbeat_at = ?
                       WHERE article_id = ?""",
                    (*after, queued, owner, time.time(), article_id),
                )
                return finished, article_ids[position:]
            params = {
                "section": job["section"],
                "breaking_section": job["breaking_section"],
                "terms": job["terms"],
                "after_platform": after[0],
                "after_chat": after[1],
                "page": FANOUT_PAGE,
            }
            end = connection.execute(_PAGE_END, params).fetchone()
            if end is None:
                break
            queued += connection.execute(
                _QUEUE_PAGE,
                {
                    **params,
                    "article_id": article_id,
                    "lane": job["lane"],
                    "seq": job["seq"],
                    "due_at": due_at,
                    "created_at": created_at,
                },
            ).rowcount
            written += end[2]
            after = (end[0], end[1])
            if end[2] < FANOUT_PAGE:
                break
        connection.execute("DELETE FROM fanout_jobs WHERE article_id = ?", (article_id,))
        finished[article_id] = queued
    return finished, []


def _settled(
    connection: sqlite3.Connection, *, identities: list[str], hashes: list[str]
) -> set[tuple[str, str]]:
    """The (identity, content hash) pairs of a batch that `publish` will find to be
    duplicates: stored with that very content, retracted, or known as another door to a story.
    Read before the write transaction, to spare their stemming; the transaction decides."""
    wanted = json.dumps(identities)
    settled: set[tuple[str, str]] = set()
    stored = {
        row[0]: (row[1], bool(row[2]))
        for row in connection.execute(
            """SELECT identity, content_hash, retracted_at IS NOT NULL FROM articles
                WHERE identity IN (SELECT value FROM json_each(?))""",
            (wanted,),
        )
    }
    doors = {
        row[0]
        for row in connection.execute(
            """SELECT identity FROM article_sources
                WHERE identity IN (SELECT value FROM json_each(?))""",
            (wanted,),
        )
    }
    for identity, content_hash in zip(identities, hashes, strict=True):
        known = stored.get(identity)
        if identity in doors or (known is not None and (known[0] == content_hash or known[1])):
            settled.add((identity, content_hash))
    return settled


def _store_batch(
    connection: sqlite3.Connection,
    *,
    drafts: Sequence[ArticleDraft],
    hashes: Sequence[str],
    terms: Sequence[tuple[str, str, str] | None],
    now: datetime,
    push_since: datetime | None,
    breaking_section: str,
) -> list[PublishResult]:
    """Every statement of a batch, synchronously, inside the caller's write transaction.

    `terms` are the drafts' processed words, None where the draft was expected to be a
    duplicate; they are worked out here if it turns out otherwise (another process stored a
    story in between, or the batch holds the same identity twice).
    """
    return [
        _store_one(
            connection,
            draft,
            content_hash=content_hash,
            terms=draft_terms,
            now=now,
            push_since=push_since,
            breaking_section=breaking_section,
        )
        for draft, content_hash, draft_terms in zip(drafts, hashes, terms, strict=True)
    ]


def _store_one(
    connection: sqlite3.Connection,
    draft: ArticleDraft,
    *,
    content_hash: str,
    terms: tuple[str, str, str] | None,
    now: datetime,
    push_since: datetime | None,
    breaking_section: str,
) -> PublishResult:
    existing = _existing(connection, draft.identity)
    if existing is not None:
        # A retracted story stays withdrawn: a feed carrying it again changes nothing.
        if existing["content_hash"] == content_hash or existing["retracted_at"]:
            return PublishResult(PublishOutcome.DUPLICATE, existing["id"])
        if _excerpt_of(draft, existing):
            if draft.title == existing["title"]:
                return PublishResult(PublishOutcome.DUPLICATE, existing["id"])
            draft = _retitled(existing, draft.title)
            content_hash, terms = _content_hash(draft), None
        return _update(
            connection,
            draft,
            existing,
            content_hash=content_hash,
            terms=terms or _terms(draft),
            now=now,
            breaking_section=breaking_section,
        )

    published_at = draft.published_at or now
    headline_key = _headline_key(draft)
    twin = _same_story(connection, draft, published_at, headline_key, now=now)
    if twin is not None:
        return PublishResult(PublishOutcome.DUPLICATE, twin)
    title_terms, body_terms, forms = terms = terms or _terms(draft)
    search_key = _free_search_key(connection, published_at)
    # lastrowid rather than RETURNING: a third less time for the statement that stores a story.
    cursor = connection.execute(
        """INSERT INTO articles (identity, title, body, summary, section, url, author,
               image_url, source, breaking, published_at, search_key, content_hash,
               created_at, updated_at, headline_key)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
            headline_key,
        ),
    )
    article_id = cursor.lastrowid
    assert article_id is not None  # noqa: S101 - a row was inserted, so it has its id
    connection.execute(
        "INSERT INTO article_search (rowid, title, body, section, forms) VALUES (?, ?, ?, ?, ?)",
        (search_key, title_terms, body_terms, _search_section(draft, breaking_section), forms),
    )
    if not _pushed(draft, published_at, push_since):
        return PublishResult(PublishOutcome.NEW, article_id, withheld=True)
    connection.execute(
        """INSERT INTO fanout_jobs (article_id, section, breaking_section, terms, lane, seq,
               created_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            article_id,
            draft.section,
            # NULL matches no subscription: plain stories do not reach `breaking`.
            breaking_section if draft.breaking else None,
            _all_terms(terms),
            Lane.BREAKING.value if draft.breaking else Lane.PUSH.value,
            search_key,
            to_db_time(now),
            # Its publisher does it next: nobody else's while this is fresh.
            time.time(),
        ),
    )
    return PublishResult(PublishOutcome.NEW, article_id)


def _same_story(
    connection: sqlite3.Connection,
    draft: ArticleDraft,
    published_at: datetime,
    key: str | None,
    *,
    now: datetime,
) -> int | None:
    """The stored story a new draft is another door to, if any, with the draft kept as one of
    its sources: known as such already (read again), or the same normalised headline within a
    day from the same publisher, or from another outlet whose text opens alike (one wire story
    carried by several). Breaking news from the desk is never folded in."""
    known = connection.execute(
        "SELECT article_id FROM article_sources WHERE identity = ?", (draft.identity,)
    ).fetchone()
    if known is not None:
        return int(known[0])
    if key is None or draft.breaking:
        return None
    candidates = connection.execute(
        """SELECT id, source, body FROM articles
           WHERE headline_key = ? AND published_at BETWEEN ? AND ?
             AND retracted_at IS NULL
           ORDER BY published_at LIMIT 5""",
        (
            key,
            to_db_time(published_at - SAME_STORY_WINDOW),
            to_db_time(published_at + SAME_STORY_WINDOW),
        ),
    ).fetchall()
    for candidate in candidates:
        same_publisher = candidate["source"] == draft.source
        if same_publisher or _leads_alike(candidate["body"], draft.body):
            connection.execute(
                """INSERT OR IGNORE INTO article_sources
                       (identity, article_id, source, url, added_at)
                   VALUES (?, ?, ?, ?, ?)""",
                (draft.identity, candidate["id"], draft.source, draft.url, to_db_time(now)),
            )
            return int(candidate["id"])
    return None


def _existing(connection: sqlite3.Connection, identity: str) -> sqlite3.Row | None:
    """The stored story with this identity: what `publish` compares a draft with."""
    row: sqlite3.Row | None = connection.execute(
        f"""SELECT id, identity, content_hash, published_at, search_key, breaking,
                   retracted_at, author, {", ".join(_VISIBLE)}
            FROM articles WHERE identity = ?""",  # noqa: S608 - constant column list
        (identity,),
    ).fetchone()
    return row


def _excerpt_of(draft: ArticleDraft, existing: sqlite3.Row) -> bool:
    """Whether `draft` is a feed's summary of a story stored with a fuller body (from its page,
    or a feed's full content): a longer body that is not itself the summary it is stored with.

    Such a draft is an excerpt of what is stored. Taken as a change, the story would flip
    between page and feed at every ingest of both, each flip a correction edited into every
    chat. Only its headline can be news: a corrected headline still updates the story. A body
    that is the stored summary came from a feed too, and a new summary replaces it as before.
    """
    stored_body: str = existing["body"]
    return (
        draft.body_is_summary
        and stored_body != existing["summary"]
        and len(stored_body) > len(draft.body)
    )


def _retitled(existing: sqlite3.Row, title: str) -> ArticleDraft:
    """The stored story under a new headline, and otherwise as it is (its date included)."""
    return ArticleDraft(
        identity=existing["identity"],
        title=title,
        body=existing["body"],
        section=existing["section"],
        published_at=None,  # the stored date stays
        url=existing["url"],
        summary=existing["summary"],
        author=existing["author"],
        image_url=existing["image_url"],
        breaking=bool(existing["breaking"]),
    )


def _update(
    connection: sqlite3.Connection,
    draft: ArticleDraft,
    existing: sqlite3.Row,
    *,
    content_hash: str,
    terms: tuple[str, str, str],
    now: datetime,
    breaking_section: str,
) -> PublishResult:
    """Store a changed story over its old self; a visible change is a correction, edited into
    every copy already delivered."""
    search_key = existing["search_key"]
    published = existing["published_at"]
    if draft.published_at is not None and to_db_time(draft.published_at) != published:
        published = to_db_time(draft.published_at)
        search_key = _free_search_key(connection, draft.published_at)
    corrected = any(getattr(draft, column) != existing[column] for column in _VISIBLE)
    # Once breaking news, always: a feed carrying the same story later does not undo it.
    draft = replace(draft, breaking=draft.breaking or bool(existing["breaking"]))
    connection.execute(
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
    connection.execute("DELETE FROM article_search WHERE rowid = ?", (existing["search_key"],))
    title_terms, body_terms, forms = terms
    connection.execute(
        "INSERT INTO article_search (rowid, title, body, section, forms) VALUES (?, ?, ?, ?, ?)",
        (search_key, title_terms, body_terms, _search_section(draft, breaking_section), forms),
    )
    if not corrected:
        return PublishResult(PublishOutcome.UPDATED, existing["id"])
    edits = connection.execute(
        _QUEUE_EDITS,
        {"article_id": existing["id"], "due_at": to_epoch(now), "created_at": to_db_time(now)},
    ).rowcount
    return PublishResult(PublishOutcome.UPDATED, existing["id"], queued=edits)


def _free_search_key(connection: sqlite3.Connection, published: datetime) -> int:
    base = max(int(published.timestamp()), 0) << KEY_SHIFT
    row = connection.execute(
        "SELECT MAX(search_key) FROM articles WHERE search_key BETWEEN ? AND ?",
        (base, base + (1 << KEY_SHIFT) - 1),
    ).fetchone()
    taken = row[0] if row else None
    return base if taken is None else int(taken) + 1
