"""Search precision: /latest lists the stories holding the words typed before those that only
share their Snowball stems, on a labelled set of queries over stories written for it.

The labels are in tests/fixtures/search/precision.toml: for each query, the stories a reader
means (they come first), stem-only look-alikes that must not come before them, and stem-only
stories that still fill the five. Everything goes through the real /latest handler, the real
publish and a real SQLite file; an existing database gains the index by its migration.
"""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from bot.chat import ArticleCard
from handlers.news import LATEST_LIMIT
from storage import search_text
from storage.sqlite import open_sqlite_storage
from storage.sqlite.migrations import MIGRATIONS
from tests.support import START, FakePlatform, draft

LABELS = tomllib.loads(
    (Path(__file__).parent.parent / "fixtures" / "search" / "precision.toml").read_text("utf-8")
)
STORIES: dict[str, dict[str, Any]] = {story["key"]: story for story in LABELS["story"]}
QUERIES: list[dict[str, Any]] = LABELS["query"]


def _text(story: dict[str, Any]) -> str:
    return f"{story['title']}\n{story['body']}"


def _holds_every_word(story: dict[str, Any], query_words: list[str]) -> bool:
    """Whether a story holds every query word as typed (less a trailing -nya)."""
    wanted, _stems = search_text.query_forms(query_words)
    return set(wanted) <= set(search_text.exact_forms(_text(story)).split())


def test_the_labels_are_sound() -> None:
    # Enough queries to judge by, each naming stories that exist, with titles told apart.
    assert len(QUERIES) >= 40
    assert len({story["title"] for story in STORIES.values()}) == len(STORIES)
    for query in QUERIES:
        named = query["first"] + query.get("not_first", []) + query.get("fill", [])
        assert set(named) <= STORIES.keys(), query["text"]


async def test_latest_answers_the_words_typed_first(app: App, platform: FakePlatform) -> None:
    await app.deps.newsroom.publish(
        [
            draft(
                story["title"],
                body=story["body"],
                section=story["section"],
                published_at=START - timedelta(hours=story["hours"]),
                identity=f"precision:{key}",
            )
            for key, story in STORIES.items()
        ]
    )
    by_title = {story["title"]: key for key, story in STORIES.items()}
    wrong: list[str] = []
    precisions: list[float] = []
    for query in QUERIES:
        reply = await platform.say(f"/latest {query['text']}")
        listed = [by_title[part.title] for part in reply.parts if isinstance(part, ArticleCard)]
        meant = set(query["first"])
        head = min(LATEST_LIMIT, len(meant))
        precisions.append(len(meant.intersection(listed[:head])) / head)
        if not set(listed[:head]) <= meant:
            wrong.append(f"{query['text']!r}: {listed} should open with {sorted(meant)}")
        last_meant = max((listed.index(key) for key in meant if key in listed), default=-1)
        early = [key for key in query.get("not_first", []) if key in listed[:last_meant]]
        if early:
            wrong.append(f"{query['text']!r}: {early} listed before a story meant: {listed}")
        missing = set(query.get("fill", [])) - set(listed)
        if missing:
            wrong.append(f"{query['text']!r}: {sorted(missing)} should fill the list {listed}")
        # Whatever the labels say: a stem-only story never comes before one with the words.
        words, _common = search_text.significant_query_words(query["text"])
        exact = [_holds_every_word(STORIES[key], words) for key in listed]
        if exact != sorted(exact, reverse=True):
            wrong.append(f"{query['text']!r}: a stem-only story before an exact one: {listed}")
    precision = sum(precisions) / len(precisions)
    assert wrong == [], f"top-5 precision {precision:.3f}\n" + "\n".join(wrong)


async def test_exact_forms_first_then_stems_within_a_section(app: App) -> None:
    await app.deps.newsroom.publish(
        [
            draft("Warga Bertahan di Tengah Banjir", published_at=START),
            draft("Anggaran Pertahanan Naik", published_at=START - timedelta(hours=1)),
            draft(
                "Menteri Pertahanan ke Tokyo",
                section="internasional",
                published_at=START - timedelta(minutes=5),
            ),
        ]
    )
    found = await app.storage.articles.latest(section="nasional", terms=["pertahanan"], limit=5)
    assert [a.title for a in found] == [
        "Anggaran Pertahanan Naik",
        "Warga Bertahan di Tengah Banjir",
    ]
    # Fewer than asked for: only what fills the limit.
    [first] = await app.storage.articles.latest(section=None, terms=["pertahanan"], limit=1)
    assert first.title == "Menteri Pertahanan ke Tokyo"


def _version_8_database(path: Path) -> None:
    """A file as schema version 8 left it: stories indexed by their stems only."""
    with sqlite3.connect(path) as connection:
        for migration in MIGRATIONS[:8]:
            for statement in migration:
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 8")
        connection.execute(
            "INSERT INTO sections (slug, name_id, name_en, position) "
            "VALUES ('nasional', 'Nasional', 'National', 0)"
        )
        stories = [
            (1, "Warga Bertahan di Tengah Rob", "Warga memilih bertahan di rumahnya."),
            (2, "Anggaran Pertahanan Naik", "Kementerian Pertahanan mendapat tambahan dana."),
        ]
        for number, title, body in stories:
            # The older story is the one about defence: newest first alone lists it second.
            search_key = 100 - number
            connection.execute(
                "INSERT INTO articles (id, identity, title, body, section, published_at, "
                "search_key, content_hash, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'nasional', '2026-11-24T03:00:00+00:00', ?, 'h', "
                "'2026-11-24T03:00:00+00:00', '2026-11-24T03:00:00+00:00')",
                (number, f"id:{number}", title, body, search_key),
            )
            connection.execute(
                "INSERT INTO article_search (rowid, title, body, section) "
                "VALUES (?, ?, ?, 'nasional')",
                (search_key, search_text.index_text(title), search_text.index_text(f"\n{body}")),
            )


async def test_a_version_8_database_gains_the_exact_forms(tmp_path: Path) -> None:
    path = tmp_path / "versi8.db"
    _version_8_database(path)
    storage = await open_sqlite_storage(path)
    try:
        found = await storage.articles.latest(section=None, terms=["pertahanan"], limit=5)
        assert [a.id for a in found] == [2, 1]
        # The inflected form is found as written, the stems still as before.
        found = await storage.articles.latest(section=None, terms=["rumah"], limit=5)
        assert [a.id for a in found] == [1]
        found = await storage.articles.latest(section="nasional", terms=["tahan"], limit=5)
        assert [a.id for a in found] == [1, 2]
    finally:
        await storage.close()
