"""One story through two doors: its article page and its publisher's feed, over real HTTP on
127.0.0.1. The feed's summary is an excerpt of the page: it never replaces the page's body, so
ingesting both again and again changes nothing, while a corrected headline is still news."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import pytest

from bot.app import App, open_app
from bot.ingest.progress import PlainProgress
from bot.ingest.report import InputReport
from bot.settings import Settings
from storage.models import Article
from tests.support import FakeClock

if TYPE_CHECKING:
    from conftest import LocalServer

TITLE = "Waduk Jatigede Dibuka untuk Wisata Air"
PARAGRAPHS = (
    "Pemerintah Kabupaten Sumedang membuka kawasan Waduk Jatigede untuk wisata air mulai "
    "pekan depan, setelah uji keselamatan perahu selesai dilakukan.",
    "Pengelola menyiapkan dua dermaga, pos kesehatan dan jalur pejalan kaki di sisi barat "
    "waduk, serta membatasi jumlah pengunjung pada akhir pekan.",
    "Warga sekitar dilibatkan sebagai pemandu dan pedagang, sehingga kunjungan wisatawan "
    "diharapkan ikut menggerakkan ekonomi desa di pinggir waduk.",
)
SUMMARY = "Waduk Jatigede dibuka untuk wisata air mulai pekan depan."


def page(title: str) -> bytes:
    body = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        f'<title>{title}</title><meta property="og:title" content="{title}">'
        '<meta name="author" content="Dewi Lestari"></head><body>'
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    ).encode()


def feed(items: list[tuple[str, str, str]], published: datetime) -> bytes:
    """An RSS feed of (headline, link, summary) items: no content but their summaries."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><description>{summary}</description>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for title, link, summary in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wisata</title>'
        f"{entries}</channel></rss>"
    ).encode()


def serve(server: LocalServer, path: str, body: bytes, content_type: str) -> str:
    server.respond(path, 200, body, headers={"Content-Type": content_type})
    return server.url(path)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    allowed = settings.model_copy(update={"allow_private_sources": True})  # 127.0.0.1
    async with open_app(allowed, clock=clock) as opened:
        yield opened


async def ingest(app: App, *urls: str) -> list[InputReport]:
    return await app.ingest(list(urls), section="nasional", progress=PlainProgress(io.StringIO()))


async def stored(app: App) -> dict[str, Article]:
    articles = await app.storage.articles.latest(section=None, terms=[], limit=9)
    return {article.url or "": article for article in articles}


def counts(reports: list[InputReport]) -> list[tuple[int, int, int]]:
    return [(report.new, report.updated, report.duplicate) for report in reports]


async def test_the_feeds_summary_never_replaces_the_pages_body(
    app: App, http_server: LocalServer, clock: FakeClock
) -> None:
    link = serve(http_server, "/wisata/jatigede", page(TITLE), "text/html; charset=utf-8")
    # A second story that only the feed carries: its summary is its body.
    only_in_feed = http_server.url("/wisata/curug")
    published = clock() - timedelta(minutes=10)
    items = [(TITLE, link, SUMMARY), ("Curug Cinulang Ramai", only_in_feed, "Ramai.")]
    feed_url = serve(http_server, "/wisata.xml", feed(items, published), "application/rss+xml")

    assert counts(await ingest(app, link)) == [(1, 0, 0)]
    assert counts(await ingest(app, feed_url)) == [(1, 0, 1)]
    for _ in range(2):
        assert counts(await ingest(app, link, feed_url)) == [(0, 0, 1), (0, 0, 2)]
    story = (await stored(app))[link]
    assert story.body.split("\n\n") == list(PARAGRAPHS)
    assert (story.title, story.author, story.revised_at) == (TITLE, "Dewi Lestari", None)

    # The feed corrects a headline, and the other story's summary: both are news.
    clock.advance(60)
    corrected = "Waduk Jatigede Dibuka untuk Wisata Air Mulai Senin"
    items = [(corrected, link, SUMMARY), ("Curug Cinulang Ramai", only_in_feed, "Ramai sekali.")]
    serve(http_server, "/wisata.xml", feed(items, published), "application/rss+xml")
    assert counts(await ingest(app, feed_url)) == [(0, 2, 0)]
    after = await stored(app)
    assert after[link].title == corrected
    assert after[link].body == story.body  # still the page's
    assert after[link].revised_at == clock()
    assert after[only_in_feed].body == "Ramai sekali."
    assert counts(await ingest(app, feed_url)) == [(0, 0, 2)]
