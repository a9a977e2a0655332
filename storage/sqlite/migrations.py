"""The schema, as ordered migrations tracked by `PRAGMA user_version`."""

from __future__ import annotations

import logging

from storage.sqlite.database import SqliteDatabase
from storage.storage import DatabaseUnusableError

logger = logging.getLogger(__name__)

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
    # 3: the breaking-news desk. A story can be withdrawn (it leaves search and /read; its
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
)

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(database: SqliteDatabase) -> int:
    """Apply the migrations the file lacks; returns the schema version it ends at.

    The version is read again inside the write transaction, so two processes starting at
    once apply each migration only once.
    """
    async with database.transaction() as connection:
        async with connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise DatabaseUnusableError(
                database.location,
                f"has schema version {current}, newer than this newsbot knows "
                f"({SCHEMA_VERSION}); upgrade newsbot to use it",
            )
        for version in range(current, SCHEMA_VERSION):
            logger.info("migrating the database to schema version %d", version + 1)
            for statement in MIGRATIONS[version]:
                await connection.execute(statement)
        # PRAGMA takes no bound parameters; SCHEMA_VERSION is our own integer constant.
        await connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    return SCHEMA_VERSION
