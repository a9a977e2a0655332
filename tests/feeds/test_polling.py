"""Polling the registry against a publisher's server on 127.0.0.1: the first poll stores and
pushes nothing, new items are pushed once, unchanged feeds cost a 304, and misbehaving feeds
are handled within their limits and back off."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from bot.app import App, open_app
from bot.ingest.poller import FeedPoller
from bot.newsroom.admin_notices import AdminNotices
from bot.settings import Settings
from storage import search_text
from storage.models import ChatRef, Feed, Platform
from tests.feeds.feed_server import FeedServer, Item, Route
from tests.support import FakeClock, FakePlatform

CHAT = ChatRef(Platform.TELEGRAM, "100")


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, request: pytest.FixtureRequest
) -> AsyncIterator[App]:
    """The app, fetching from 127.0.0.1, with a fetch timeout of 2 s unless a test asks for
    another (`indirect` parametrization)."""
    allowed = settings.model_copy(
        update={
            "allow_private_sources": True,  # the publisher is on 127.0.0.1
            "ingest_timeout_seconds": getattr(request, "param", 2.0),
            "ingest_max_bytes": 1_000_000,
            "feed_max_failures": 3,
        }
    )
    async with open_app(allowed, clock=clock) as opened:
        yield opened


@pytest.fixture
async def poller(app: App) -> AsyncIterator[FeedPoller]:
    async with app.fetcher() as fetcher:
        yield app.poller(fetcher)


async def _add(app: App, url: str, section: str = "internasional") -> Feed:
    feed = await app.storage.feeds.add(
        url, section, interval=timedelta(minutes=10), full_text=False, now=app.clock()
    )
    assert feed is not None
    return feed


async def _again(app: App, feed: Feed) -> Feed:
    fresh = await app.storage.feeds.get(feed.id)
    assert fresh is not None
    return fresh


def _story(title: str, clock: FakeClock, number: int) -> Item:
    return Item(
        title=title,
        link=f"https://kabar.example/berita/{number}",
        published=clock() - timedelta(minutes=5),
    )


async def test_the_first_poll_stores_and_pushes_nothing_then_new_items_are_pushed_once(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    platform = FakePlatform(app)
    await app.storage.subscriptions.subscribe(CHAT, ["internasional"], now=clock())
    server.routes["/dunia.xml"] = Route(
        items=[_story(f"Kabar dunia nomor {n}", clock, n) for n in range(3)]
    )
    feed = await _add(app, server.url("/dunia.xml"))

    first = await poller.poll(feed)
    assert first.report is not None
    assert first.report.new == 3
    assert await app.storage.articles.count() == 3
    await app.delivery_worker(platform).deliver_due()
    assert platform.sent == []

    server.routes["/dunia.xml"].items.append(_story("Sekjen PBB Tiba di Jakarta", clock, 9))
    second = await poller.poll(await _again(app, feed))
    assert second.report is not None
    assert second.report.new == 1
    await app.delivery_worker(platform).deliver_due()
    assert [sent.reply.plain_text().split(" (")[0] for sent in platform.sent] == [
        "Sekjen PBB Tiba di Jakarta"
    ]
    # Polled again, the same item is no new story and nothing is sent twice.
    third = await poller.poll(await _again(app, feed))
    assert third.report is None  # 304: not parsed at all
    await app.delivery_worker(platform).deliver_due()
    assert len(platform.sent) == 1


async def test_an_unchanged_feed_is_answered_304_and_not_parsed(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/tetap.xml"] = Route(items=[_story("Kabar tetap", clock, 1)])
    feed = await _add(app, server.url("/tetap.xml"))
    await poller.poll(feed)
    polled = await poller.poll(await _again(app, feed))
    assert polled.report is None
    assert polled.outcome.error is None
    assert server.statuses("/tetap.xml") == [200, 304]
    assert server.requests_to("/tetap.xml")[1]["if-none-match"].startswith('"')
    assert (await _again(app, feed)).failures == 0


# The fetch timeout of each case (the app's): a server that hangs meets a short one, 0.5 s
# against a hang of 5 s, so that the case takes half a second.
@pytest.mark.parametrize(
    ("route", "reason", "app"),
    [
        (Route(hang=5.0), "timed out after 0.5 s", 0.5),
        (Route(status=500), "HTTP 500", 2.0),
        (Route(status=404), "HTTP 404", 2.0),
        (Route(endless=True), "larger than", 2.0),
    ],
    indirect=["app"],
)
async def test_a_misbehaving_feed_is_handled_within_its_limits_and_backs_off(
    app: App, poller: FeedPoller, server: FeedServer, route: Route, reason: str
) -> None:
    clock = app.clock
    server.routes["/rusak.xml"] = route
    feed = await _add(app, server.url("/rusak.xml"))
    started = time.monotonic()
    polled = await poller.poll(feed)
    # The timeout, not the server's whims.
    assert time.monotonic() - started < app.settings.ingest_timeout_seconds + 2.0
    assert polled.outcome.error is not None
    assert reason in polled.outcome.error
    after = await _again(app, feed)
    assert after.failures == 1
    assert after.last_error == polled.outcome.error
    # Backed off: twice the interval, not polled before then.
    assert after.next_poll_at - clock() >= timedelta(minutes=20) - timedelta(seconds=1)
    assert await app.storage.feeds.due(clock(), 10) == []


async def test_a_redirect_loop_is_a_failure_after_five_hops(
    app: App, poller: FeedPoller, server: FeedServer
) -> None:
    server.routes["/a.xml"] = Route(redirect_to=server.url("/b.xml"))
    server.routes["/b.xml"] = Route(redirect_to=server.url("/a.xml"))
    feed = await _add(app, server.url("/a.xml"))
    polled = await poller.poll(feed)
    assert polled.outcome.error is not None
    assert "redirects" in polled.outcome.error
    assert len(server.requests) == 6
    after = await _again(app, feed)
    assert after.failures == 1
    assert after.next_poll_at - app.clock() == timedelta(minutes=20)  # backed off


async def test_retry_after_from_the_publisher_is_respected(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/sibuk.xml"] = Route(status=429, retry_after="7200")
    polled = await poller.poll(await _add(app, server.url("/sibuk.xml")))
    assert polled.outcome.error == "HTTP 429"
    assert polled.outcome.next_poll_at - clock() == timedelta(hours=2)


async def test_a_feed_failing_again_and_again_is_disabled_with_its_reason(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/mati.xml"] = Route(status=500)
    feed = await _add(app, server.url("/mati.xml"))
    for _attempt in range(3):
        polled = await poller.poll(await _again(app, feed))
    assert polled.outcome.disable
    after = await _again(app, feed)
    assert not after.enabled
    assert after.failures == 3
    assert after.last_error == "HTTP 500"
    # Backoff grows: 20, 40, 80 minutes; never more than a day.
    assert polled.outcome.next_poll_at - clock() == timedelta(minutes=80)


async def test_two_feeds_with_the_same_items_store_each_story_once(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    shared = [_story("Gempa di Laut Banda", clock, 1), _story("Harga Emas Naik", clock, 2)]
    server.routes["/satu.xml"] = Route(items=list(shared))
    server.routes["/dua.xml"] = Route(items=list(shared))
    await poller.poll(await _add(app, server.url("/satu.xml")))
    second = await poller.poll(await _add(app, server.url("/dua.xml"), "nasional"))
    assert second.report is not None
    assert second.report.new == 0
    assert await app.storage.articles.count() == 2


async def test_due_feeds_are_polled_together_and_reported(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/x.xml"] = Route(items=[_story("Kabar X", clock, 1)])
    server.routes["/y.xml"] = Route(status=500)
    await _add(app, server.url("/x.xml"))
    await _add(app, server.url("/y.xml"))
    reports = await poller.poll_due()
    lines = sorted(report.line for report in reports)
    assert lines[0].endswith("1 new, 0 updated (first poll: stored, not pushed)")
    assert "failed (HTTP 500)" in lines[1]
    assert await poller.poll_due() == []  # nothing due until their next slot


async def test_every_enabled_feed_is_polled_when_asked_whatever_its_schedule(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    server.routes["/x.xml"] = Route(items=[_story("Kabar X", clock, 1)])
    server.routes["/y.xml"] = Route(items=[_story("Kabar Y", clock, 2)])
    server.routes["/z.xml"] = Route(items=[_story("Kabar Z", clock, 3)])
    await _add(app, server.url("/x.xml"))
    await _add(app, server.url("/y.xml"))
    off = await _add(app, server.url("/z.xml"))
    await app.storage.feeds.set_enabled(off.id, False, now=clock())
    assert len(await poller.poll_due()) == 2
    assert await poller.poll_due() == []  # polled: not due for ten minutes

    # `newsbot poll --all`, as an operator trying a feed does: now, not in ten minutes.
    everything = await poller.poll_due(every_feed=True)

    assert sorted(report.feed.url for report in everything) == [
        server.url("/x.xml"),
        server.url("/y.xml"),
    ]
    assert len(server.requests_to("/x.xml")) == 2
    assert server.requests_to("/z.xml") == []  # a disabled feed stays unpolled


async def test_feeds_of_one_interval_are_spread_over_it(app: App, clock: FakeClock) -> None:
    from bot.ingest.poller import next_slot  # noqa: PLC0415 - only this test needs it

    slots = set()
    for number in range(20):
        feed = await _add(app, f"https://kabar{number}.example/rss")
        slots.add(next_slot(feed, clock()))
    # Twenty feeds of ten minutes: many different moments, none later than the interval.
    assert len(slots) > 15
    assert all(clock() < slot <= clock() + timedelta(minutes=10) for slot in slots)


async def test_items_sharing_one_guid_or_having_none_are_distinct_stories(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    published = clock() - timedelta(minutes=5)
    server.routes["/sama.xml"] = Route(
        items=[
            Item(title="Banjir di Hulu Sungai", guid="berita", published=published),
            Item(title="Jembatan Baru Diresmikan", guid="berita", published=published),
            Item(title="Pasar Malam Dibuka Lagi", published=published),
            Item(title="Sekolah Libur Sehari", published=published),
        ]
    )
    polled = await poller.poll(await _add(app, server.url("/sama.xml")))
    assert polled.report is not None
    assert polled.report.new == 4
    assert await app.storage.articles.count() == 4


async def test_two_feeds_numbering_their_items_alike_keep_their_stories_apart(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    published = clock() - timedelta(minutes=5)
    server.routes["/a.xml"] = Route(
        site="https://koran-a.example/",
        items=[Item(title="Kabar pertama koran A", guid="1", published=published)],
    )
    server.routes["/b.xml"] = Route(
        site="https://koran-b.example/",
        items=[Item(title="Kabar pertama koran B", guid="1", published=published)],
    )
    await poller.poll(await _add(app, server.url("/a.xml")))
    await poller.poll(await _add(app, server.url("/b.xml")))
    titles = {
        article.title
        for article in await app.storage.articles.latest(section=None, terms=[], limit=10)
    }
    assert titles == {"Kabar pertama koran A", "Kabar pertama koran B"}


async def test_a_story_in_two_feeds_of_two_sections_reaches_a_chat_of_both_once(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    platform = FakePlatform(app)
    await app.storage.subscriptions.subscribe(CHAT, ["internasional", "nasional"], now=clock())
    server.routes["/dunia.xml"] = Route(site="https://dunia.example/")
    server.routes["/negeri.xml"] = Route(site="https://negeri.example/")
    dunia = await _add(app, server.url("/dunia.xml"), "internasional")
    negeri = await _add(app, server.url("/negeri.xml"), "nasional")
    await poller.poll(dunia)
    await poller.poll(negeri)
    story = _story("Presiden Hadiri KTT G20 di Brasil", clock, 7)
    server.routes["/dunia.xml"].items.append(story)
    server.routes["/negeri.xml"].items.append(story)
    await poller.poll(await _again(app, dunia))
    await poller.poll(await _again(app, negeri))
    await app.delivery_worker(platform).deliver_due()
    assert [sent.chat for sent in platform.sent] == [CHAT]


async def test_admins_are_told_once_when_a_feed_is_given_up_and_again_when_it_is_back(
    app: App, server: FeedServer, clock: FakeClock
) -> None:
    platform = FakePlatform(app)
    notices = AdminNotices(
        [platform], admins=app.settings.admins, chats=app.storage.chats, default_language="id"
    )
    server.routes["/mati.xml"] = Route(status=500)
    feed = await _add(app, server.url("/mati.xml"))
    async with app.fetcher() as fetcher:
        poller = app.poller(fetcher, notices)
        for _attempt in range(3):
            await poller.poll(await _again(app, feed))
        # telegram:1 is the tests' admin: told once, with the reason.
        [told] = platform.sent
        assert told.chat == ChatRef(Platform.TELEGRAM, "1")
        assert "dimatikan setelah gagal 3 kali berturut-turut: HTTP 500" in told.reply.plain_text()
        assert await poller.poll_due() == []  # disabled: not polled, nobody told again

        server.routes["/mati.xml"] = Route(items=[_story("Kabar kembali", clock, 1)])
        await app.storage.feeds.set_enabled(feed.id, True, now=clock())
        await poller.poll(await _again(app, feed))
        await poller.poll(await _again(app, feed))
    assert len(platform.sent) == 2
    assert platform.sent[1].reply.plain_text().endswith("berjalan lagi.")


async def test_two_outlets_carrying_the_same_wire_story_give_one_push(
    app: App, poller: FeedPoller, server: FeedServer, clock: FakeClock
) -> None:
    platform = FakePlatform(app)
    await app.storage.subscriptions.subscribe(CHAT, ["internasional"], now=clock())
    server.routes["/a.xml"] = Route(title="Koran A", site="https://koran-a.example/")
    server.routes["/b.xml"] = Route(title="Koran B", site="https://koran-b.example/")
    first, second = (
        await _add(app, server.url("/a.xml")),
        await _add(app, server.url("/b.xml")),
    )
    await poller.poll(first)
    await poller.poll(second)
    wire = "Kantor berita melaporkan gencatan senjata disepakati kedua pihak pada Minggu malam."
    for path, site in (("/a.xml", "koran-a"), ("/b.xml", "koran-b")):
        server.routes[path].items.append(
            Item(
                title="Gencatan Senjata Disepakati di Perbatasan",
                link=f"https://{site}.example/dunia/gencatan",
                body=wire,
                published=clock() - timedelta(minutes=3),
            )
        )
    await poller.poll(await _again(app, first))
    await poller.poll(await _again(app, second))
    await app.delivery_worker(platform).deliver_due()
    assert len(platform.sent) == 1
    [article] = await app.storage.articles.latest(
        section=None, terms=search_text.query_terms("gencatan senjata"), limit=5
    )
    shown = await platform.say_text(f"/read {article.id}")
    assert "Juga diberitakan oleh: Koran B" in shown
