"""Storage for the desk: a draft's reach is what the fan-out then queues, retracted stories,
the schema upgrade of the audit log, and plans that never scan the outbox."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import search_text
from storage.models import ArticleDraft, ChatRef, Platform, PublishOutcome, Section
from storage.sqlite import articles as article_sql
from storage.sqlite import open_sqlite_storage
from storage.sqlite import outbox as outbox_sql
from storage.sqlite.migrations import MIGRATIONS
from storage.storage import Storage
from tests.support import START

SECTIONS = ("nasional", "ekonomi", "breaking")
WORDS = ("gempa", "palu", "banjir", "harga", "beras", "jakarta")

_chat = st.fixed_dictionaries(
    {
        "platform": st.sampled_from([Platform.TELEGRAM, Platform.CONSOLE]),
        "sections": st.sets(st.sampled_from(SECTIONS)),
        "follows": st.lists(st.sets(st.sampled_from(WORDS), min_size=1, max_size=3), max_size=3),
        "unsubscribed": st.booleans(),
        "gone": st.booleans(),
    }
)
_story = st.fixed_dictionaries(
    {
        "section": st.sampled_from(SECTIONS[:2]),
        "breaking": st.booleans(),
        "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        "body": st.lists(st.sampled_from(WORDS), max_size=4),
    }
)


async def _storage_with(chats: list[dict[str, object]]) -> Storage:
    storage = await open_sqlite_storage(":memory:")
    await storage.sections.sync([Section(slug, slug, slug) for slug in SECTIONS])
    for number, chat in enumerate(chats):
        ref = ChatRef(chat["platform"], str(number))  # type: ignore[arg-type]
        await storage.subscriptions.subscribe(ref, sorted(chat["sections"]), now=START)  # type: ignore[call-overload]
        for words in chat["follows"]:  # type: ignore[attr-defined]
            text = " ".join(sorted(words))
            await storage.subscriptions.follow(ref, text, search_text.query_terms(text), now=START)
        if chat["unsubscribed"]:
            await storage.subscriptions.unsubscribe(ref, None)
        if chat["gone"]:
            await storage.chats.deactivate(ref, "blocked", now=START)
    return storage


@settings(max_examples=60, deadline=None)
@given(chats=st.lists(_chat, max_size=8), story=_story)
def test_a_drafts_reach_is_exactly_what_the_fan_out_queues(
    chats: list[dict[str, object]], story: dict[str, object]
) -> None:
    async def check() -> None:
        storage = await _storage_with(chats)
        try:
            draft = ArticleDraft(
                identity="test:reach",
                title=" ".join(story["title"]),  # type: ignore[arg-type]
                body=" ".join(story["body"]) or "isi",  # type: ignore[arg-type]
                section=story["section"],  # type: ignore[arg-type]
                published_at=START,
                breaking=story["breaking"],  # type: ignore[arg-type]
            )
            preview = await storage.articles.preview(
                draft, push_since=None, breaking_section="breaking"
            )
            assert preview.outcome is PublishOutcome.NEW
            [result] = await storage.articles.publish(
                [draft], now=START, push_since=None, breaking_section="breaking"
            )
            queued = Counter(
                tally.platform
                for tally in await storage.outbox.tally(result.article_id)
                for _ in range(tally.count)
            )
            assert preview.reach == dict(queued)
            assert sum(preview.reach.values()) == result.queued
        finally:
            await storage.close()

    asyncio.run(check())


async def test_a_story_too_old_to_push_reaches_nobody_in_the_preview_too(tmp_path: Path) -> None:
    storage = await _storage_with(
        [
            {
                "platform": Platform.TELEGRAM,
                "sections": {"nasional"},
                "follows": [],
                "unsubscribed": False,
                "gone": False,
            }
        ]
    )
    try:
        old = ArticleDraft("test:old", "Arsip", "Isi", "nasional", START - timedelta(days=3))
        preview = await storage.articles.preview(
            old, push_since=START - timedelta(hours=48), breaking_section="breaking"
        )
        assert (preview.outcome, preview.reach) == (PublishOutcome.NEW, {})
        unpushed = replace(old, identity="test:unpushed", published_at=START, push=False)
        preview = await storage.articles.preview(
            unpushed, push_since=None, breaking_section="breaking"
        )
        assert preview.reach == {}
    finally:
        await storage.close()


async def test_retracting_twice_and_retracting_nothing(tmp_path: Path) -> None:
    storage = await open_sqlite_storage(tmp_path / "newsbot.db")
    try:
        await storage.sections.sync([Section("nasional", "Nasional", "National")])
        draft = ArticleDraft("test:r", "Judul", "Isi", "nasional", START)
        [result] = await storage.articles.publish(
            [draft], now=START, push_since=None, breaking_section="breaking"
        )
        first = await storage.articles.retract(
            result.article_id, reason="salah", now=START, delete_sent_after={}
        )
        assert first is not None
        assert first.already is None
        later = START + timedelta(hours=1)
        second = await storage.articles.retract(
            result.article_id, reason="lagi", now=later, delete_sent_after={}
        )
        assert second is not None
        assert second.already == START
        assert (
            await storage.articles.retract(999, reason="", now=START, delete_sent_after={}) is None
        )
        kept = await storage.articles.get(result.article_id, include_retracted=True)
        assert kept is not None
        assert kept.retraction_reason == "salah"  # the first reason stands
    finally:
        await storage.close()


async def test_upgrading_names_the_story_of_earlier_audit_entries(tmp_path: Path) -> None:
    path = tmp_path / "lama.db"
    with sqlite3.connect(path) as connection:
        for statement in (*MIGRATIONS[0], *MIGRATIONS[1]):
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 2")
        connection.executemany(
            "INSERT INTO audit_log (at, actor, platform, chat_id, action, detail) "
            "VALUES ('2026-11-24T03:00:00+00:00', ?, 'telegram', '1', ?, ?)",
            [
                ("telegram:1", "breaking", "#7"),
                ("telegram:1", "correct", "#12"),
                ("telegram:5", "subscribe", "nasional"),
            ],
        )
    storage = await open_sqlite_storage(path)
    try:
        entries = await storage.audit.recent(10)
        assert [(entry.action, entry.article_id) for entry in entries] == [
            ("subscribe", None),
            ("correct", 12),
            ("breaking", 7),
        ]
        only_desk = await storage.audit.recent(10, actions=("breaking", "correct"))
        assert [entry.action for entry in only_desk] == ["correct", "breaking"]
    finally:
        await storage.close()


async def test_per_story_queries_walk_indexes_and_never_scan_the_outbox(tmp_path: Path) -> None:
    storage = await open_sqlite_storage(tmp_path / "newsbot.db")
    database = storage.outbox._db  # type: ignore[attr-defined]  # white-box: query plans
    try:
        for name, sql, params in (
            ("tally", outbox_sql._TALLY, {"article_id": 1}),
            ("deletions", article_sql._COUNT_DELETES, {"article_id": 1, "cutoffs": "{}"}),
            ("queue deletions", article_sql._QUEUE_DELETES, _deletion_params()),
            ("copies to edit", article_sql._COPIES_TO_EDIT, {"article_id": 1}),
        ):
            async with database.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params) as cursor:
                plan = [row[3] for row in await cursor.fetchall()]
            scans = [step for step in plan if step.startswith("SCAN") and "json_each" not in step]
            assert scans == [], (name, plan)
            assert any("outbox_one_push" in step for step in plan), (name, plan)
    finally:
        await storage.close()


def _deletion_params() -> dict[str, object]:
    return {"article_id": 1, "cutoffs": "{}", "due_at": 0.0, "created_at": "x"}


async def test_retracting_cancels_every_push_not_yet_out_held_ones_too(tmp_path: Path) -> None:
    storage = await open_sqlite_storage(tmp_path / "newsbot.db")
    database = storage.outbox._db  # type: ignore[attr-defined]  # white-box: a held row
    try:
        await storage.sections.sync([Section("nasional", "Nasional", "National")])
        for chat in ("1", "2", "3"):
            await storage.subscriptions.subscribe(
                ChatRef(Platform.TELEGRAM, chat), ["nasional"], now=START
            )
        [result] = await storage.articles.publish(
            [ArticleDraft("test:h", "Judul", "Isi", "nasional", START)],
            now=START,
            push_since=None,
            breaking_section="breaking",
        )
        async with database.transaction() as connection:
            # As quiet hours leave a push: held for a digest, not yet out.
            await connection.execute("UPDATE outbox SET status = 'held' WHERE chat_id = '2'")
            await connection.execute("UPDATE outbox SET status = 'failed' WHERE chat_id = '3'")
        retraction = await storage.articles.retract(
            result.article_id, reason="", now=START, delete_sent_after={}
        )
        assert retraction is not None
        assert retraction.cancelled == 2
        assert await storage.outbox.status_counts() == {"dropped": 2, "failed": 1}
    finally:
        await storage.close()
