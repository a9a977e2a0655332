"""Full-text feeds against a publisher's server on 127.0.0.1: the new items of a feed that carries
only summaries get their bodies from their article pages (without the page's navigation, related
stories and footer); stored items are never fetched again; a page that cannot be read keeps the
summary without failing the poll; a plain feed fetches no pages."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import App, open_app
from bot.ingest import poller as poller_module
from bot.ingest.poller import FeedPoller, Fetcher
from bot.ingest.safe_fetch import AddressPolicy, IPAddress, SafeFetcher
from bot.settings import Settings
from storage.models import Article, ChatRef, Feed, Platform
from tests.feeds.feed_server import FeedServer, Item, Route
from tests.support import FakeClock, FakePlatform, draft

CHAT = ChatRef(Platform.TELEGRAM, "100")
SUMMARY = "Ringkasan satu baris dari umpan."


@dataclass(frozen=True)
class _Story:
    """An article page's story, as the test writes it and expects it back."""

    slug: str
    title: str
    paragraphs: tuple[str, ...]
    author: str = "Rina Wulandari"


STORIES = (
    _Story(
        "banjir-demak",
        "Banjir Rendam Ribuan Rumah di Demak",
        (
            "Banjir merendam ribuan rumah di tujuh kecamatan di Kabupaten Demak, Jawa Tengah, "
            "setelah tanggul Sungai Wulan jebol pada Senin dini hari.",
            "Badan Penanggulangan Bencana Daerah mencatat lebih dari empat ribu warga mengungsi "
            "ke balai desa, sekolah dan masjid yang tidak tergenang air.",
            "Petugas gabungan menurunkan perahu karet untuk mengevakuasi warga lanjut usia dan "
            "anak-anak, sementara dapur umum didirikan di tiga titik pengungsian.",
            "Bupati Demak meminta warga tetap waspada karena hujan deras diperkirakan masih "
            "turun hingga akhir pekan di wilayah hulu sungai.",
        ),
    ),
    _Story(
        "harga-cabai",
        "Harga Cabai Rawit Melonjak Jelang Akhir Tahun",
        (
            "Harga cabai rawit di sejumlah pasar tradisional Jakarta melonjak hingga seratus "
            "ribu rupiah per kilogram menjelang akhir tahun.",
            "Para pedagang menyebut pasokan dari sentra produksi di Jawa Timur berkurang karena "
            "hujan lebat merusak tanaman di banyak kebun petani.",
            "Kementerian Perdagangan berjanji menggelar operasi pasar di lima wilayah untuk "
            "menahan kenaikan harga sampai pasokan kembali normal.",
        ),
        author="Agus Salim",
    ),
    _Story(
        "kereta-cepat",
        "Penumpang Kereta Cepat Tembus Rekor Harian",
        (
            "Jumlah penumpang kereta cepat Jakarta-Bandung mencapai rekor harian baru pada "
            "libur panjang akhir pekan lalu, dengan lebih dari dua puluh ribu perjalanan.",
            "Operator menambah jadwal perjalanan pada jam sibuk dan membuka loket tambahan di "
            "stasiun Halim untuk mengurai antrean calon penumpang.",
            "Pengamat transportasi menilai lonjakan itu menunjukkan minat warga terhadap moda "
            "yang cepat, meski harga tiket dinilai masih cukup tinggi.",
        ),
    ),
)

NAVIGATION = "Beranda Nasional Ekonomi Olahraga Teknologi"
RELATED = "Gubernur Tinjau Lokasi Pengungsian di Kudus"
FOOTER = "Hak cipta 2026 Kabar Uji. Seluruh hak dilindungi undang-undang."


def article_page(story: _Story) -> str:
    """A short Indonesian news page with the furniture sites wrap stories in."""
    paragraphs = "".join(f"<p>{text}</p>" for text in story.paragraphs[:2])
    rest = "".join(f"<p>{text}</p>" for text in story.paragraphs[2:])
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<title>{story.title} - Kabar Uji</title>
<meta property="og:title" content="{story.title}">
<meta property="og:image" content="/foto/{story.slug}.jpg">
<meta name="author" content="{story.author}">
</head><body>
<nav><a href="/">{NAVIGATION.replace(" ", '</a> <a href="/">')}</a></nav>
<article>
<h1>{story.title}</h1>
<div class="byline">Oleh {story.author}</div>
{paragraphs}
<p>Baca juga: {RELATED}</p>
{rest}
</article>
<aside class="berita-terkait"><h2>Berita Terkait</h2><ul>
<li><a href="/lain/1">{RELATED}</a></li><li><a href="/lain/2">Jalan Pantura Lumpuh Total</a></li>
</ul></aside>
<footer><p>{FOOTER}</p></footer>
</body></html>"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    allowed = settings.model_copy(
        update={
            "allow_private_sources": True,  # the publisher is on 127.0.0.1
            "ingest_timeout_seconds": 2.0,
            "ingest_max_bytes": 1_000_000,
        }
    )
    async with open_app(allowed, clock=clock) as opened:
        yield opened


def full_text_poller(app: App, fetcher: Fetcher) -> FeedPoller:
    """The app's poller over `fetcher`."""
    return app.poller(fetcher)


@pytest.fixture
async def poller(app: App) -> AsyncIterator[FeedPoller]:
    async with app.fetcher() as fetcher:
        yield full_text_poller(app, fetcher)


def serve_story(server: FeedServer, story: _Story) -> str:
    """Serve `story`'s page; its URL."""
    path = f"/berita/{story.slug}.html"
    server.routes[path] = Route(html=article_page(story))
    return server.url(path)


def item(story: _Story, link: str, clock: FakeClock) -> Item:
    return Item(
        title=story.title, link=link, body=SUMMARY, published=clock() - timedelta(minutes=5)
    )


async def add_feed(app: App, url: str, *, full_text: bool = True) -> Feed:
    feed = await app.storage.feeds.add(
        url, "nasional", interval=timedelta(minutes=10), full_text=full_text, now=app.clock()
    )
    assert feed is not None
    return feed


async def again(app: App, feed: Feed) -> Feed:
    fresh = await app.storage.feeds.get(feed.id)
    assert fresh is not None
    return fresh


async def stored(app: App, title: str) -> Article:
    [article] = [
        article
        for article in await app.storage.articles.latest(section=None, terms=[], limit=50)
        if article.title == title
    ]
    return article


def page_requests(server: FeedServer) -> list[str]:
    return [path for path, _headers in server.requests if path.startswith("/berita/")]


async def test_a_full_text_feed_stores_the_whole_story_from_its_page(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/nasional.xml"] = Route(
        items=[item(story, serve_story(server, story), clock) for story in STORIES]
    )
    polled = await poller.poll(await add_feed(app, server.url("/nasional.xml")))

    assert polled.outcome.error is None
    assert polled.report is not None
    assert polled.report.new == 3
    assert polled.line.endswith("3 new, 0 updated, 3 pages read (first poll: stored, not pushed)")
    for story in STORIES:
        article = await stored(app, story.title)
        assert article.body.split("\n\n") == list(story.paragraphs)
        assert article.summary == SUMMARY  # the feed's summary stays the summary
        assert article.author == story.author
        assert article.image_url == server.url(f"/foto/{story.slug}.jpg")

    article = await stored(app, STORIES[0].title)
    shown = await FakePlatform(app).say_text(f"/read {article.id}")
    for paragraph in STORIES[0].paragraphs:
        assert paragraph in shown
    for furniture in ("Olahraga", "Teknologi", "Baca juga", RELATED, "Berita Terkait", FOOTER):
        assert furniture not in shown


async def test_only_the_pages_of_new_items_are_fetched(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    platform = FakePlatform(app)
    await app.storage.subscriptions.subscribe(CHAT, ["nasional"], now=clock())
    # Not conditional: every poll reads the whole feed again, stored items and all.
    route = Route(
        items=[item(story, serve_story(server, story), clock) for story in STORIES[:2]],
        conditional=False,
    )
    server.routes["/nasional.xml"] = route
    feed = await add_feed(app, server.url("/nasional.xml"))
    await poller.poll(feed)
    assert len(page_requests(server)) == 2

    newest = STORIES[2]
    route.items.append(item(newest, serve_story(server, newest), clock))
    second = await poller.poll(await again(app, feed))
    assert second.report is not None
    assert (second.report.new, second.report.updated) == (1, 0)
    assert page_requests(server)[2:] == [f"/berita/{newest.slug}.html"]
    assert second.line.endswith("1 new, 0 updated, 1 page read")

    # Read once more, the stored stories keep the bodies their pages gave: nothing fetched,
    # nothing updated, nothing pushed again.
    third = await poller.poll(await again(app, feed))
    assert third.report is not None
    assert (third.report.new, third.report.updated, third.report.duplicate) == (0, 0, 3)
    assert len(page_requests(server)) == 3
    for story in STORIES:
        assert (await stored(app, story.title)).body.split("\n\n") == list(story.paragraphs)
    await app.delivery_worker(platform).deliver_due()
    assert [sent.reply.plain_text().split(" (")[0] for sent in platform.sent] == [newest.title]


async def test_a_changed_headline_of_a_stored_item_updates_it_and_keeps_its_page_body(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    story = STORIES[1]
    route = Route(items=[item(story, serve_story(server, story), clock)])
    server.routes["/nasional.xml"] = route
    feed = await add_feed(app, server.url("/nasional.xml"))
    await poller.poll(feed)
    route.items[0].title = "Harga Cabai Rawit Tembus Rp100 Ribu"
    polled = await poller.poll(await again(app, feed))
    assert polled.report is not None
    assert polled.report.updated == 1
    article = await stored(app, "Harga Cabai Rawit Tembus Rp100 Ribu")
    assert article.body.split("\n\n") == list(story.paragraphs)
    assert len(page_requests(server)) == 1


async def test_a_page_that_cannot_be_read_keeps_the_summary_and_the_poll_succeeds(
    app: App,
    poller: FeedPoller,
    server: FeedServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, fine = STORIES[0], STORIES[1]
    server.routes["/berita/rusak.html"] = Route(status=500)
    server.routes["/nasional.xml"] = Route(
        items=[
            item(broken, server.url("/berita/rusak.html"), clock),
            item(fine, serve_story(server, fine), clock),
        ]
    )
    feed = await add_feed(app, server.url("/nasional.xml"))
    with caplog.at_level(logging.INFO, logger="bot.ingest.poller"):
        polled = await poller.poll(feed)

    assert polled.outcome.error is None
    assert polled.report is not None
    assert polled.report.new == 2
    assert polled.line.endswith(
        "2 new, 0 updated, 1 page read (1 unread: summary kept) (first poll: stored, not pushed)"
    )
    assert (await again(app, feed)).failures == 0
    assert (await stored(app, broken.title)).body == SUMMARY
    assert (await stored(app, fine.title)).body.split("\n\n") == list(fine.paragraphs)
    [record] = [r for r in caplog.records if "/berita/rusak.html" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "HTTP 500" in record.getMessage()


async def test_a_page_without_a_story_keeps_the_summary(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    story = STORIES[2]
    server.routes["/berita/kosong.html"] = Route(html="<html><body><nav>Beranda</nav></body>")
    server.routes["/nasional.xml"] = Route(
        items=[item(story, server.url("/berita/kosong.html"), clock)]
    )
    polled = await poller.poll(await add_feed(app, server.url("/nasional.xml")))
    assert polled.outcome.error is None
    assert polled.pages is not None
    assert (polled.pages.read, polled.pages.unread) == (0, 1)
    assert (await stored(app, story.title)).body == SUMMARY


async def test_a_feed_not_marked_full_text_fetches_no_pages(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/nasional.xml"] = Route(
        items=[item(story, serve_story(server, story), clock) for story in STORIES]
    )
    polled = await poller.poll(await add_feed(app, server.url("/nasional.xml"), full_text=False))
    assert polled.report is not None
    assert polled.report.new == 3
    assert polled.pages is None
    assert "page" not in polled.line
    assert page_requests(server) == []
    for story in STORIES:
        assert (await stored(app, story.title)).body == SUMMARY


@dataclass(frozen=True)
class _OneServerPublic(AddressPolicy):
    """The bot's strict rules, except that the feed's server counts as public."""

    port: int = 0

    def refusal(self, address: IPAddress, port: int) -> str | None:
        if address == ipaddress.ip_address("127.0.0.1") and port == self.port:
            return None
        return super().refusal(address, port)


async def test_a_page_on_a_private_address_is_refused_like_any_fetch(
    app: App, server: FeedServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    story = STORIES[0]
    with FeedServer() as intranet:
        link = serve_story(intranet, story)
        server.routes["/nasional.xml"] = Route(items=[item(story, link, clock)])
        feed = await add_feed(app, server.url("/nasional.xml"))
        policy = _OneServerPublic(allow_private=False, port=int(server.url("").rsplit(":", 1)[1]))
        async with SafeFetcher(policy, per_host_limit=1) as fetcher:
            with caplog.at_level(logging.INFO, logger="bot.ingest.poller"):
                polled = await full_text_poller(app, fetcher).poll(feed)
        assert intranet.connections == 0
    assert polled.outcome.error is None
    assert (await stored(app, story.title)).body == SUMMARY
    [record] = [r for r in caplog.records if link in r.getMessage()]
    assert "loopback" in record.getMessage()


async def test_stories_are_found_by_their_identities(app: App) -> None:
    first, second = draft("Kabar pertama"), draft("Kabar kedua")
    await app.deps.newsroom.publish([first, second])
    found = await app.storage.articles.by_identities([first.identity, "url:https://lain.example/"])
    assert list(found) == [first.identity]
    assert found[first.identity].title == "Kabar pertama"
    assert await app.storage.articles.by_identities([]) == {}


async def test_one_poll_reads_at_most_its_share_of_pages(
    app: App,
    poller: FeedPoller,
    server: FeedServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(poller_module, "PAGES_PER_POLL", 2)
    server.routes["/nasional.xml"] = Route(
        items=[item(story, serve_story(server, story), clock) for story in STORIES]
    )
    polled = await poller.poll(await add_feed(app, server.url("/nasional.xml")))
    assert polled.report is not None
    assert polled.report.new == 3
    assert len(page_requests(server)) == 2
    assert (await stored(app, STORIES[2].title)).body == SUMMARY
