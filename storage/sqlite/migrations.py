"""The schema, as ordered migrations tracked by `PRAGMA user_version`."""

from __future__ import annotations

import aiosqlite

from storage import search_text
from storage.models import SchemaChange
from storage.sqlite.database import SqliteDatabase
from storage.storage import DatabaseUnusableError

# Each entry brings the schema from version N to N+1 (list index N). Never edit a released
# entry: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sections (
            slug TEXT PRIMARY KEY,
            name_id TEXT NOT NULL,
            name_en TEXT NOT NULL,
            position INTEGER NOT NULL
        )""",
        # search_key orders stories by publication time (seconds << 20, plus a tie-breaker)
        # and is the rowid of the story in article_search, so that "newest published first"
        # is a walk down one b-tree, never a sort of the whole match set.
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            section TEXT NOT NULL REFERENCES sections(slug),
            url TEXT,
            author TEXT,
            image_url TEXT,
            source TEXT,
            breaking INTEGER NOT NULL DEFAULT 0,
            published_at TEXT NOT NULL,
            search_key INTEGER NOT NULL UNIQUE,
            content_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX articles_by_section ON articles(section, search_key)",
        # Holds the processed text (folded, stemmed: storage.search_text), not the original.
        """CREATE VIRTUAL TABLE article_search USING fts5(
            title, body, section, tokenize = 'unicode61'
        )""",
        """CREATE TABLE subscriptions (
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            section TEXT NOT NULL REFERENCES sections(slug),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            PRIMARY KEY (platform, chat_id, section)
        )""",
        "CREATE INDEX subscriptions_by_section ON subscriptions(section) WHERE active = 1",
        """CREATE TABLE follows (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            words TEXT NOT NULL,
            terms TEXT NOT NULL,
            term_count INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            UNIQUE (platform, chat_id, terms)
        )""",
        """CREATE TABLE follow_terms (
            term TEXT NOT NULL,
            follow_id INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
            PRIMARY KEY (term, follow_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE chats (
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            language TEXT,
            gone_reason TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (platform, chat_id)
        )""",
        # due_at (Unix seconds) is when a pending row may be sent, and for a claimed
        # ('sending') row when its claim runs out: one index then finds both kinds of due row.
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            claims INTEGER NOT NULL DEFAULT 0,
            due_at REAL NOT NULL,
            claimed_by TEXT,
            message_id TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (article_id, platform, chat_id)
        )""",
        """CREATE INDEX outbox_due ON outbox(platform, due_at)
            WHERE status IN ('pending', 'sending')""",
        "CREATE INDEX outbox_by_chat ON outbox(platform, chat_id, status)",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
    ),
    # 2: corrections. An article records when what readers see of it last changed; the outbox
    # holds edits of delivered pushes beside the pushes themselves, so its one-row-per-chat rule
    # becomes one *push* per chat (SQLite cannot drop a table constraint: the table is rebuilt).
    # Breaking stories are found by their flag, and within search by the breaking section's
    # word, whatever section they were filed in.
    (
        "ALTER TABLE articles ADD COLUMN revised_at TEXT",
        "UPDATE articles SET breaking = 1 WHERE section = 'breaking'",
        "CREATE INDEX articles_breaking ON articles(search_key) WHERE breaking = 1",
        """UPDATE article_search SET section = section || ' breaking'
            WHERE rowid IN (SELECT search_key FROM articles
                             WHERE breaking = 1 AND section <> 'breaking')""",
        """CREATE TABLE outbox_rebuilt (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'send',
            edit_of INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            claims INTEGER NOT NULL DEFAULT 0,
            due_at REAL NOT NULL,
            claimed_by TEXT,
            message_id TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        """INSERT INTO outbox_rebuilt (id, article_id, platform, chat_id, status, attempts,
                   claims, due_at, claimed_by, message_id, last_error, created_at, sent_at)
            SELECT id, article_id, platform, chat_id, status, attempts, claims, due_at,
                   claimed_by, message_id, last_error, created_at, sent_at FROM outbox""",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_rebuilt RENAME TO outbox",
        """CREATE UNIQUE INDEX outbox_one_push ON outbox(article_id, platform, chat_id)
            WHERE kind = 'send'""",
        """CREATE INDEX outbox_due ON outbox(platform, due_at)
            WHERE status IN ('pending', 'sending')""",
        "CREATE INDEX outbox_by_chat ON outbox(platform, chat_id, status)",
        "CREATE INDEX outbox_edits ON outbox(edit_of) WHERE edit_of IS NOT NULL",
    ),
    # 3: the scheduler. Each chat's rows form a queue in publication order (`seq`, the story's
    # search key, then id) whose head alone may be sent; across chats, heads are taken by lane
    # (breaking, corrections, pushes) and then by their place in the queue, never by when they
    # fell due, so a retried row keeps its place. A send whose outcome is unknown is tried once
    # more and marked a possible duplicate. A large fan-out is a job done in bounded batches.
    # One process per platform delivers, under a lease.
    (
        "ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 3",
        "ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN unknown_outcomes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN possible_duplicate INTEGER NOT NULL DEFAULT 0",
        # Which version of the story a delivered message shows (its revision time, '' for the
        # first): an edit of a copy that already shows the current one is not sent.
        "ALTER TABLE outbox ADD COLUMN shown_revision TEXT",
        """UPDATE outbox SET
               seq = COALESCE((SELECT search_key FROM articles WHERE articles.id = article_id), 0),
               lane = CASE
                   WHEN kind <> 'send' THEN 2
                   WHEN (SELECT breaking FROM articles WHERE articles.id = article_id) THEN 1
                   ELSE 3 END""",
        """CREATE INDEX outbox_heads ON outbox(platform, lane, seq, id)
            WHERE status = 'pending'""",
        """CREATE INDEX outbox_chat_queue ON outbox(platform, chat_id, seq, id)
            WHERE status IN ('pending', 'sending')""",
        # Every lookup of a chat's waiting rows (a chat gone, a chat moved) is served by the
        # queue index above; one index fewer to write for each of a fan-out's rows.
        "DROP INDEX outbox_by_chat",
        # A fan-out page per section reads one range of this index.
        """CREATE INDEX subscriptions_fanout ON subscriptions(section, platform, chat_id)
            WHERE active = 1""",
        """CREATE TABLE fanout_jobs (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            section TEXT NOT NULL,
            breaking_section TEXT,
            terms TEXT NOT NULL,
            lane INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            after_platform TEXT NOT NULL DEFAULT '',
            after_chat TEXT NOT NULL DEFAULT '',
            queued INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE delivery_leases (
            scope TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL
        )""",
    ),
    # 4: digests and quiet hours: how each chat takes its regular pushes, as local minutes of the
    # day (NULL: instant, no quiet hours). A push held for a digest waits in the outbox as
    # 'held' until due_at, then goes out with the chat's other held pushes as one message
    # ('digesting' while claimed, due_at then being when the claim runs out, as for
    # 'sending'). in_digest marks pushes delivered that way: their message is the digest, which
    # a correction of one story must not overwrite.
    (
        """ALTER TABLE chats ADD COLUMN digest_minute INTEGER
            CHECK (digest_minute BETWEEN 0 AND 1439)""",
        """ALTER TABLE chats ADD COLUMN quiet_start_minute INTEGER
            CHECK (quiet_start_minute BETWEEN 0 AND 1439)""",
        """ALTER TABLE chats ADD COLUMN quiet_end_minute INTEGER
            CHECK (quiet_end_minute BETWEEN 0 AND 1439)""",
        "ALTER TABLE outbox ADD COLUMN in_digest INTEGER NOT NULL DEFAULT 0",
        """CREATE INDEX outbox_held ON outbox(platform, due_at)
            WHERE status IN ('held', 'digesting')""",
    ),
    # 5: the breaking-news desk. A story can be withdrawn (it leaves search and /read; its
    # copies are deleted through outbox rows of kind 'delete'); audit entries name the story
    # they concern (earlier /breaking entries named it as "#id" in their detail); a /breaking
    # is a draft, kept here until an admin sends or cancels it, or it expires.
    (
        "ALTER TABLE articles ADD COLUMN retracted_at TEXT",
        "ALTER TABLE articles ADD COLUMN retraction_reason TEXT",
        "ALTER TABLE audit_log ADD COLUMN article_id INTEGER",
        """UPDATE audit_log SET article_id = CAST(substr(detail, 2) AS INTEGER)
            WHERE action IN ('breaking', 'correct') AND detail GLOB '#[0-9]*'""",
        """CREATE TABLE breaking_drafts (
            code TEXT PRIMARY KEY,
            actor TEXT NOT NULL,
            platform TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            section TEXT NOT NULL,
            headline TEXT NOT NULL,
            body TEXT NOT NULL,
            link TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open',
            settled_by TEXT,
            settled_at TEXT,
            article_id INTEGER REFERENCES articles(id)
        )""",
    ),
    # 6: the command definitions last sent to a platform, per scope (global or one Discord
    # guild), as a digest: a start with unchanged commands sends none (Discord limits how
    # often commands may be created).
    (
        """CREATE TABLE command_syncs (
            platform TEXT NOT NULL,
            scope TEXT NOT NULL,
            digest TEXT NOT NULL,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (platform, scope)
        )""",
    ),
    # 7: the feed registry. Each feed is polled on its own interval with conditional GET
    # (etag, last_modified); `next_poll_at` says when; failures back off and, past a limit,
    # disable the feed with the reason kept for `feeds list`. `first_polled_at` is set by the
    # first good poll, which stores a feed's items without pushing them.
    (
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            section TEXT NOT NULL,
            interval_seconds INTEGER NOT NULL,
            full_text INTEGER NOT NULL DEFAULT 0,
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            next_poll_at TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            first_polled_at TEXT,
            last_polled_at TEXT,
            last_new_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
        "CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE enabled",
    ),
    # 8: one story through several doors. A story's normalised headline finds it again within
    # a day when the same publisher's other URL, or another outlet's copy of the same wire
    # story, comes in; those are kept as the story's other sources (by their own identity, so
    # that reading them again changes nothing), not stored and pushed a second time. Stories
    # stored before have no key and are not matched.
    (
        "ALTER TABLE articles ADD COLUMN headline_key TEXT",
        """CREATE INDEX articles_by_headline ON articles (headline_key, published_at)
            WHERE headline_key IS NOT NULL""",
        """CREATE TABLE article_sources (
            identity TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            source TEXT,
            url TEXT,
            added_at TEXT NOT NULL
        )""",
        "CREATE INDEX article_sources_by_article ON article_sources (article_id)",
    ),
    # 9: search precision. Snowball Indonesian gives different words one stem (`pertahanan`,
    # defence, and `bertahan`, to hold out, are both `tahan`), so the index also holds each
    # story's words as written, less a trailing `-nya` (`forms`), and a search lists the
    # stories holding the words typed before those that only share their stems. FTS5 cannot
    # add a column: the index is built again, its stems copied, the forms worked out from the
    # stories' text by `search_forms` (storage.search_text.exact_forms, registered by
    # `migrate`), from the summary and the body as publishing reads them (a body that holds its
    # summary is read alone).
    (
        """CREATE VIRTUAL TABLE article_search_rebuilt USING fts5(
            title, body, section, forms, tokenize = 'unicode61'
        )""",
        """INSERT INTO article_search_rebuilt (rowid, title, body, section, forms)
            SELECT s.rowid, s.title, s.body, s.section,
                   search_forms(a.title) || char(10) || search_forms(
                       CASE WHEN instr(a.body, a.summary) THEN a.body
                            ELSE a.summary || char(10) || a.body END)
              FROM article_search AS s JOIN articles AS a ON a.search_key = s.rowid""",
        "DROP TABLE article_search",
        "ALTER TABLE article_search_rebuilt RENAME TO article_search",
    ),
    # 10: breaking news ahead of a chat's backlog. A chat's queue is ordered by lane (breaking,
    # corrections, pushes), then by place (`seq`, `id`), so its head is found by one seek of
    # this index; whether a row of the chat is out being sent, by one seek of the second. A
    # row the platform told to retry after holds its whole chat until it is due (a breaking
    # story passes the row, not the platform's wait): `holds_chat`, found by the third. A
    # chat's backlog of pushes sent as one message (coalesced) is a bundle: each of its rows
    # names the first row's id in `bundle_of`, so that a correction edits the whole message.
    (
        "ALTER TABLE outbox ADD COLUMN holds_chat INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN bundle_of INTEGER",
        "CREATE INDEX outbox_bundles ON outbox(bundle_of) WHERE bundle_of IS NOT NULL",
        # A fan-out job belongs to the process doing it while its heart beats (wall-clock
        # seconds of its last step); `owner` is that fan-out's claim token.
        "ALTER TABLE fanout_jobs ADD COLUMN owner TEXT",
        "ALTER TABLE fanout_jobs ADD COLUMN heartbeat_at REAL",
        """CREATE INDEX outbox_holding ON outbox(platform, chat_id, due_at)
            WHERE status = 'pending' AND holds_chat = 1""",
        "DROP INDEX outbox_chat_queue",
        """CREATE INDEX outbox_chat_queue ON outbox(platform, chat_id, lane, seq, id)
            WHERE status = 'pending'""",
        """CREATE INDEX outbox_sending ON outbox(platform, chat_id)
            WHERE status = 'sending'""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(database: SqliteDatabase) -> SchemaChange:
    """Apply the migrations the file lacks; the schema version before and after.

    A file already current is only read: no write lock is taken, so a reader's process opens
    the database while another process writes. Otherwise the version is read again inside the
    write transaction, so two processes starting at once apply each migration only once (the
    second finds nothing left to do). Says nothing itself: whoever opened the database tells
    the operator, in one line.
    """
    before = await _schema_version(database.connection, database.location)
    if before == SCHEMA_VERSION:
        return SchemaChange(before, before)
    async with database.transaction() as connection:
        # What migrations that index stories' text call, so that they index it as new
        # stories are indexed.
        await connection.create_function(
            "search_forms", 1, search_text.exact_forms, deterministic=True
        )
        before = await _schema_version(connection, database.location)
        for version in range(before, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                await connection.execute(statement)
        # PRAGMA takes no bound parameters; SCHEMA_VERSION is our own integer constant.
        await connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    return SchemaChange(before, SCHEMA_VERSION)


async def _schema_version(connection: aiosqlite.Connection, location: str) -> int:
    """The file's schema version; refused when it is newer than this code knows."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise DatabaseUnusableError(
            location,
            f"has schema version {current}, newer than this newsbot knows "
            f"({SCHEMA_VERSION}); upgrade newsbot to use it",
        )
    return current
