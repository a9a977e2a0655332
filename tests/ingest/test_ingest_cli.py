"""`newsbot ingest` as an operator runs it, on a real database file.

Limits are honest (local files are read whole, a URL's limits are named in the report and make
the exit code non-zero), the report is the command's output, and hostile dates and characters
end in stories that `/latest`, `/read` and pushes all show.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.app import open_app
from storage.models import ChatRef, Platform
from tests.support import Newsbot, draft, settings_on

if TYPE_CHECKING:
    from conftest import LocalServer


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _recent(minutes: int = 5) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def _rss(path: Path, items: list[tuple[str, str]]) -> Path:
    """An RSS file of (title, pubDate) items in Nasional, each known by a guid from its file
    name and position."""
    entries = "".join(
        f'<item><guid isPermaLink="false">{path.stem}-{n}</guid><title>{title}</title>'
        "<category>Nasional</category>"
        f"<description>{title}. Selengkapnya menyusul.</description>"
        f"<pubDate>{published}</pubDate></item>"
        for n, (title, published) in enumerate(items)
    )
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Uji</title>'
        f"{entries}</channel></rss>",
        encoding="utf-8",
    )
    return path


def test_a_4500_line_jsonl_file_is_stored_whole(newsbot: Newsbot) -> None:
    stories = [
        {
            "id": f"arsip-{n}",
            "title": f"Laporan harian nomor {n}",
            "body": f"Isi laporan nomor {n}.",
            "section": "nasional",
            "published_at": (_recent(60) - timedelta(seconds=n)).isoformat(),
        }
        for n in range(4_500)
    ]
    path = _jsonl(newsbot.directory / "arsip.jsonl", stories)
    first = newsbot("ingest", str(path))
    assert first.returncode == 0, first.stderr
    assert f"{path}: jsonl, 4500 new, 0 duplicate, 0 updated, 0 rejected" in first.stdout
    again = newsbot("ingest", str(path))
    assert "0 new, 4500 duplicate" in again.stdout
    assert "Laporan harian nomor 0" in newsbot.chat("/latest laporan\n")
    assert "Laporan harian nomor 4499" in newsbot.chat("/read 4500\n")


def test_the_report_is_the_output_and_the_database_is_named_in_full(
    newsbot: Newsbot, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "lain"
    elsewhere.mkdir()
    path = _jsonl(elsewhere / "satu.jsonl", [{"title": "Satu berita", "body": "Isi."}])
    result = newsbot("ingest", str(path), env={"NEWSBOT_DATABASE": "data/berita.db"})
    assert result.returncode == 0, result.stderr
    assert "satu.jsonl" not in result.stderr  # the report is on stdout; stderr is diagnostics
    # Relative to where the operator ran it, shown absolute.
    assert str(newsbot.directory / "data" / "berita.db") in result.stdout.splitlines()[-1]


async def test_a_url_over_the_item_limit_is_reported_by_its_setting_and_fails(
    newsbot: Newsbot, http_server: LocalServer
) -> None:
    items = [(f"Berita ke-{n}", format_datetime(_recent())) for n in range(8)]
    feed = _rss(newsbot.directory / "feed.xml", items).read_bytes()
    http_server.respond("/feed.xml", 200, feed, headers={"Content-Type": "application/rss+xml"})
    result = await asyncio.to_thread(
        newsbot,
        "ingest",
        http_server.url("/feed.xml"),
        # The server is on 127.0.0.1, a private address.
        env={"NEWSBOT_INGEST_MAX_ITEMS": "5", "NEWSBOT_ALLOW_PRIVATE_SOURCES": "true"},
    )
    assert result.returncode == 1
    assert (
        "5 new, 0 duplicate, 0 updated, 0 rejected, 3 skipped "
        "(items 6-8: over NEWSBOT_INGEST_MAX_ITEMS=5 for an input read from a URL)"
    ) in result.stdout
    # The same file from disk: its owner chose what is in it, so all of it is read.
    local = newsbot("ingest", str(newsbot.directory / "feed.xml"))
    assert local.returncode == 0
    assert "3 new, 5 duplicate" in local.stdout


def test_a_long_body_is_cut_and_the_report_says_so(newsbot: Newsbot) -> None:
    path = _jsonl(
        newsbot.directory / "panjang.jsonl",
        [{"title": "Laporan panjang", "body": "kata " * 5_000}, {"title": "Pendek", "body": "x"}],
    )
    result = newsbot("ingest", str(path), env={"NEWSBOT_INGEST_MAX_BODY_CHARS": "10000"})
    assert result.returncode == 0  # stored, if shortened: nothing was skipped
    assert (
        "1 cut (line 1: body longer than NEWSBOT_INGEST_MAX_BODY_CHARS characters)"
    ) in result.stdout


def test_an_enormous_json_line_is_skipped_and_named(newsbot: Newsbot) -> None:
    path = newsbot.directory / "raksasa.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"title": "Sebelum", "body": "x"}) + "\n")
        out.write(json.dumps({"title": "Raksasa", "body": "kata " * 2_500_000}) + "\n")  # 12 MB
        out.write(json.dumps({"title": "Sesudah", "body": "y"}) + "\n")
    result = newsbot("ingest", str(path))
    assert result.returncode == 1
    assert (
        "2 new, 0 duplicate, 0 updated, 0 rejected, 1 skipped "
        "(line 2: longer than 10 MB (NEWSBOT_INGEST_MAX_BYTES), skipped)"
    ) in result.stdout
    assert "Traceback" not in result.stderr


async def _subscribed_to_nasional(database: Path, chat: str) -> None:
    async with open_app(settings_on(database)) as app:
        await app.storage.subscriptions.subscribe(
            ChatRef(Platform.CONSOLE, chat), ["nasional"], now=app.clock()
        )


async def _published_now(database: Path, title: str) -> None:
    async with open_app(settings_on(database)) as app:
        await app.deps.newsroom.publish([draft(title, published_at=app.clock())])


# Each case: the input (a feed item's pubDate or a JSON line), what the report says of it,
# whether it is pushed, and a search that finds it.
NOTE_UNREADABLE = "unreadable: stored at ingest time, not pushed"
NOTE_AHEAD = "more than 15 min ahead (NEWSBOT_MAX_FUTURE_MINUTES): taken as the time of ingest"


@pytest.mark.parametrize(
    ("case", "pub_date", "note", "pushed"),
    [
        ("not-a-date", "not a date", NOTE_UNREADABLE, False),
        ("impossible", "2024-13-45T25:61:00Z", NOTE_UNREADABLE, False),
        ("offset", "Mon, 23 Nov 2026 10:00:00 +9900", NOTE_UNREADABLE, False),
        ("year-9999", "Fri, 31 Dec 9999 23:59:59 GMT", NOTE_AHEAD, True),
        ("year-2099", "Thu, 01 Jan 2099 08:00:00 +0700", NOTE_AHEAD, True),
    ],
)
def test_hostile_feed_dates(
    newsbot: Newsbot, case: str, pub_date: str, note: str, pushed: bool
) -> None:
    # The chat's subscription and the later story are made by this process: the runs under
    # test are the ingest of the hostile date and the chats that show its story.
    database = Path(newsbot.env["NEWSBOT_DATABASE"])
    asyncio.run(_subscribed_to_nasional(database, "redaksi"))
    title = f"Kasus tanggal {case}"
    feed = _rss(newsbot.directory / "feed.xml", [(title, pub_date)])
    started = time.monotonic()
    result = newsbot("ingest", str(feed))
    assert time.monotonic() - started < 30  # not a hang
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "1 with notes (item 1: " in result.stdout
    assert note in result.stdout
    # With no input, the chat prints only what was pushed to it.
    assert (title in newsbot.chat("", "--chat", "redaksi")) is pushed
    chat = newsbot.chat("/latest nasional\n/read 1\n/latest tanggal\n", "--chat", "redaksi")
    assert chat.count(title) >= 3, chat
    assert "Maaf, terjadi kesalahan" not in chat
    # Stored at the time of ingest: this year, not 2099 or 9999.
    assert f" {datetime.now(ZoneInfo('Asia/Jakarta')).year} " in chat  # shown in WIB
    # A story that came in later is listed above it: nothing sits on top forever.
    asyncio.run(_published_now(database, "Berita sesudahnya"))
    listed = newsbot.chat("/latest nasional\n")
    assert listed.index("Berita sesudahnya") < listed.index(title)


def test_hostile_characters_are_removed_and_invisible_ones_do_not_hide_words(
    newsbot: Newsbot,
) -> None:
    newsbot.chat("/follow nato\n", "--chat", "pengikut")
    path = _jsonl(
        newsbot.directory / "aneh.jsonl",
        [
            {
                "title": "Sekjen na\u200bto tiba\u0000 di Tokyo\u001b[2J",
                "body": "Kunjungan\u0007 dua hari.\u202e",
                "section": "internasional",
                "published_at": _recent().isoformat(),
            }
        ],
    )
    result = newsbot("ingest", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    pushed = newsbot.chat("", "--chat", "pengikut")  # the follow's push, and nothing else
    assert "Sekjen na\u200bto tiba di Tokyo[2J" in pushed
    chat = pushed + newsbot.chat("/latest nato\n/read 1\n", "--chat", "pengikut")
    assert chat.count("Sekjen na\u200bto tiba di Tokyo[2J") == 3
    for control in ("\u0000", "\u001b", "\u0007", "\u202e"):
        assert control not in chat
