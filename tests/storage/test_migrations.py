"""Schema migrations on a real file: a database of an earlier version keeps every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.models import ChatRef, DeliveryMode, Platform
from storage.sqlite import open_sqlite_storage
from storage.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.support import START


def _version_1_database(path: Path) -> None:
    """A file as the first released schema left it, with a story, a push sent and one due."""
    with sqlite3.connect(path) as connection:
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.execute(
            "INSERT INTO sections (slug, name_id, name_en, position) VALUES "
            "('nasional', 'Nasional', 'National', 0), ('breaking', 'Terkini', 'Breaking', 1)"
        )
        for article_id, section, breaking in ((1, "nasional", 1), (2, "breaking", 0)):
            connection.execute(
                "INSERT INTO articles (id, identity, title, body, section, breaking, "
                "published_at, search_key, content_hash, created_at, updated_at) "
                "VALUES (?, ?, 'Judul', 'Isi', ?, ?, '2026-11-24T03:00:00+00:00', ?, 'h', "
                "'2026-11-24T03:00:00+00:00', '2026-11-24T03:00:00+00:00')",
                (article_id, f"id:{article_id}", section, breaking, article_id),
            )
            connection.execute(
                "INSERT INTO article_search (rowid, title, body, section) "
                "VALUES (?, 'judul', 'isi', ?)",
                (article_id, section),
            )
        connection.execute(
            "INSERT INTO outbox (article_id, platform, chat_id, status, due_at, message_id, "
            "created_at) VALUES (1, 'telegram', '5', 'sent', 0, '77', 'x'), "
            "(1, 'telegram', '6', 'pending', 0, NULL, 'x')"
        )


async def test_a_version_1_database_is_upgraded_with_every_row_kept(tmp_path: Path) -> None:
    path = tmp_path / "lama.db"
    _version_1_database(path)
    storage = await open_sqlite_storage(path)
    try:
        assert await storage.outbox.status_counts() == {"sent": 1, "pending": 1}
        record = await storage.outbox.push_record(1)
        assert record is not None
        assert (record.status, record.message_id) == ("sent", "77")
        # Breaking stories are found by their flag, whatever section they were filed in.
        found = await storage.articles.latest(section="breaking", terms=[], limit=5, breaking=True)
        assert sorted(article.id for article in found) == [1, 2]
        searched = await storage.articles.latest(
            section="breaking", terms=["judul"], limit=5, breaking=True
        )
        assert sorted(article.id for article in searched) == [1, 2]
        # One push per chat still holds.
        due = await storage.outbox.claim(Platform.TELEGRAM, now=START, lease_seconds=60, limit=10)
        assert [item.chat.chat_id for item in due] == ["6"]
    finally:
        await storage.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError):  # a second push of one story to one chat
            connection.execute(
                "INSERT INTO outbox (article_id, platform, chat_id, due_at, created_at) "
                "VALUES (1, 'telegram', '5', 0, 'x')"
            )


async def test_a_version_2_database_gains_delivery_modes_with_every_row_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "versi2.db"
    _version_1_database(path)
    with sqlite3.connect(path) as connection:
        for statement in MIGRATIONS[1]:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 2")
        connection.execute(
            "INSERT INTO chats (platform, chat_id, language, updated_at) "
            "VALUES ('telegram', '5', 'en', 'x')"
        )
    storage = await open_sqlite_storage(path)
    try:
        five = ChatRef(Platform.TELEGRAM, "5")
        assert await storage.chats.language(five) == "en"
        assert await storage.chats.delivery_mode(five) == DeliveryMode()
        assert await storage.chats.delivery_mode(ChatRef(Platform.TELEGRAM, "6")) == (
            DeliveryMode()
        )
        assert await storage.outbox.status_counts() == {"sent": 1, "pending": 1}
        assert await storage.digests.next_due(Platform.TELEGRAM) is None
    finally:
        await storage.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert connection.execute("SELECT SUM(in_digest) FROM outbox").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError):  # a digest time past the end of the day
            connection.execute("UPDATE chats SET digest_minute = 1440")
