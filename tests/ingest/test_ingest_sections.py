"""Feed categories to sections through a real ingest: names of several words, phrases inside."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from bot.app import App
from bot.chat import ArticleCard
from bot.ingest.progress import PlainProgress
from tests.support import FakePlatform, Newsbot


def _feed(path: Path, published: datetime, items: list[tuple[str, str, list[str]]]) -> Path:
    """An RSS file of (guid, title, categories) items, all published at `published`."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        + "".join(f"<category>{category}</category>" for category in categories)
        + f"<description>{title}. Berita lengkap menyusul.</description>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for guid, title, categories in items
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Kabar Uji</title>{entries}</channel></rss>",
        encoding="utf-8",
    )
    return path


ITEMS = [
    ("s1", "Timnas Menang Tipis atas Tamu", ["Sepak Bola"]),
    ("s2", "Liga Satu Dimulai Pekan Depan", ["Berita Sepak Bola Nasional"]),
    ("s3", "Harga Cabai Naik Jelang Natal", ["Kabar Ekonomi Daerah"]),
    ("s4", "Menlu Bertemu Mitra dari Asia", ["Luar Negeri"]),
    ("s5", "Festival Layang-layang di Pantai", ["Ragam", "Cerita Akhir Pekan"]),
    ("s6", "Pabrik Cip Baru Dibuka", ["Liputan Khusus", "Teknologi"]),
]


async def test_ingested_categories_find_their_sections(
    app: App, platform: FakePlatform, tmp_path: Path
) -> None:
    await platform.say("/subscribe olahraga", chat="bola")
    feed = _feed(tmp_path / "kabar.xml", app.clock() - timedelta(minutes=10), ITEMS)
    output = io.StringIO()
    [report] = await app.ingest([str(feed)], section=None, progress=PlainProgress(output))
    assert report.new == len(ITEMS), output.getvalue()
    stored = {}
    for article_id in range(1, len(ITEMS) + 1):
        article = await app.storage.articles.get(article_id)
        assert article is not None
        stored[article.title] = article.section
    assert stored == {
        "Timnas Menang Tipis atas Tamu": "olahraga",
        "Liga Satu Dimulai Pekan Depan": "olahraga",
        "Harga Cabai Naik Jelang Natal": "ekonomi",
        "Menlu Bertemu Mitra dari Asia": "internasional",
        "Festival Layang-layang di Pantai": "umum",
        "Pabrik Cip Baru Dibuka": "teknologi",
    }
    reply = await platform.say("/latest olahraga")
    assert sorted(part.title for part in reply.parts if isinstance(part, ArticleCard)) == [
        "Liga Satu Dimulai Pekan Depan",
        "Timnas Menang Tipis atas Tamu",
    ]
    # Both sports stories were queued for the chat that subscribes to sports, and only those.
    counts = await app.storage.outbox.status_counts()
    assert sum(counts.values()) == 2


def test_an_operator_ingests_a_feed_and_sports_stories_land_in_sports(tmp_path: Path) -> None:
    newsbot = Newsbot(tmp_path)
    assert "Berlangganan rubrik Olahraga" in newsbot.chat("/subscribe sepak bola\n", "--chat", "a")
    feed = _feed(tmp_path / "kabar.xml", datetime.now().astimezone() - timedelta(minutes=5), ITEMS)
    result = newsbot("ingest", str(feed))
    assert result.returncode == 0, result.stderr
    assert "6 new" in result.stdout + result.stderr
    pushed = newsbot.chat("", "--chat", "a")
    assert "Timnas Menang Tipis atas Tamu" in pushed
    assert "Liga Satu Dimulai Pekan Depan" in pushed
    assert "Harga Cabai" not in pushed
    assert "Liga Satu Dimulai Pekan Depan" in newsbot.chat("/latest #olahraga liga\n")
