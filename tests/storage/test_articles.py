"""Articles in a real SQLite file: identity, updates, the index in step, newest-published order."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from storage.models import PublishOutcome
from storage.sqlite import articles as articles_sql
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.migrations import SCHEMA_VERSION, migrate
from tests.support import START, FakeClock, draft


async def test_same_identity_twice_is_a_duplicate(app: App) -> None:
    story = draft("Sekjen NATO ke Tokyo", identity="url:https://contoh.id/a")
    [first] = await app.deps.newsroom.publish([story])
    [second] = await app.deps.newsroom.publish([story])
    assert first.outcome is PublishOutcome.NEW
    assert second.outcome is PublishOutcome.DUPLICATE
    assert second.article_id == first.article_id
    assert await app.storage.articles.count() == 1


async def test_changed_headline_updates_the_article_and_its_index(app: App) -> None:
    [stored] = await app.deps.newsroom.publish(
        [draft("Banjir di Semarang", identity="guid:1", body="Air naik.")]
    )
    [updated] = await app.deps.newsroom.publish(
        [draft("Banjir di Demak", identity="guid:1", body="Air naik.")]
    )
    assert updated.outcome is PublishOutcome.UPDATED
    article = await app.storage.articles.get(stored.article_id)
    assert article is not None
    assert article.title == "Banjir di Demak"
    assert await app.storage.articles.latest(section=None, terms=["semarang"], limit=5) == []
    found = await app.storage.articles.latest(section=None, terms=["demak"], limit=5)
    assert [a.id for a in found] == [stored.article_id]


async def test_newest_published_first_even_when_imported_late(app: App) -> None:
    new = draft("Berita baru nato", published_at=START)
    await app.deps.newsroom.publish([new])
    old = draft("Berita lama nato", published_at=START - timedelta(days=30))
    await app.deps.newsroom.publish([old])
    same_second = draft("Berita kembar nato", published_at=START)
    await app.deps.newsroom.publish([same_second])
    found = await app.storage.articles.latest(section=None, terms=["nato"], limit=5)
    assert [a.title for a in found] == [
        "Berita kembar nato",
        "Berita baru nato",
        "Berita lama nato",
    ]
    assert [
        a.title for a in await app.storage.articles.latest(section=None, terms=[], limit=1)
    ] == ["Berita kembar nato"]


async def test_section_filter_and_terms_together(app: App) -> None:
    await app.deps.newsroom.publish(
        [
            draft("NATO bertemu Jepang", section="internasional"),
            draft("DPR bahas NATO", section="nasional"),
        ]
    )
    found = await app.storage.articles.latest(section="internasional", terms=["nato"], limit=5)
    assert [a.section for a in found] == ["internasional"]
    by_section = await app.storage.articles.latest(section="nasional", terms=[], limit=5)
    assert [a.title for a in by_section] == ["DPR bahas NATO"]


async def test_the_search_plan_walks_the_index_in_order(app: App) -> None:
    # DESIGN §6: newest first with a bounded plan, never a sort of the whole match set.
    database: SqliteDatabase = app.storage.articles._db  # type: ignore[attr-defined]  # white-box
    for sql, params in (
        (articles_sql.SEARCH_SQL, ('"nato" AND section : "nasional"', 5)),
        (articles_sql.SECTION_SQL, ("nasional", 5)),
        (articles_sql.RECENT_SQL, (5,)),
    ):
        async with database.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params) as cursor:
            plan = " ".join(row[3] for row in await cursor.fetchall())
        assert "TEMP B-TREE" not in plan, plan


async def test_migrations_run_once_and_record_the_version(app: App, clock: FakeClock) -> None:
    database: SqliteDatabase = app.storage.articles._db  # type: ignore[attr-defined]  # white-box
    assert (await migrate(database)).after == SCHEMA_VERSION
    async with database.connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == SCHEMA_VERSION
    async with database.connection.execute("PRAGMA journal_mode") as cursor:
        mode = await cursor.fetchone()
    assert mode is not None
    assert mode[0] == "wal"
