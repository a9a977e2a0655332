"""The feed registry: one feed per URL, due feeds in order, polls recorded, failures counted."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from storage.models import PollOutcome

URL = "https://kabar.test/rss/internasional.xml"


async def test_a_feed_is_registered_once_and_due_at_once(app: App) -> None:
    feeds, now = app.storage.feeds, app.clock()
    added = await feeds.add(
        URL, "internasional", interval=timedelta(minutes=10), full_text=False, now=now
    )
    assert added is not None
    assert (added.url, added.section, added.interval, added.enabled) == (
        URL,
        "internasional",
        timedelta(minutes=10),
        True,
    )
    assert added.first_polled_at is None
    again = await feeds.add(URL, "ekonomi", interval=timedelta(minutes=5), full_text=True, now=now)
    assert again is None
    assert [feed.id for feed in await feeds.due(now, 10)] == [added.id]
    assert await feeds.next_due() == now.replace(microsecond=0)
    assert await feeds.find(URL) == added


async def test_a_good_poll_keeps_validators_and_a_failed_one_counts(app: App) -> None:
    feeds, now = app.storage.feeds, app.clock()
    feed = await feeds.add(
        URL, "nasional", interval=timedelta(minutes=10), full_text=False, now=now
    )
    assert feed is not None
    later = now + timedelta(minutes=10)
    polled = await feeds.record(
        feed.id,
        PollOutcome(next_poll_at=later, etag='"v1"', last_modified="Mon, 30 Nov 2026", new=3),
        now=now,
    )
    assert polled is not None
    assert (polled.etag, polled.last_modified, polled.failures) == ('"v1"', "Mon, 30 Nov 2026", 0)
    assert polled.first_polled_at is not None
    assert polled.last_new_at is not None
    assert await feeds.due(now, 10) == []

    failed = await feeds.record(
        feed.id, PollOutcome(next_poll_at=later, error="HTTP 500"), now=now
    )
    assert failed is not None
    assert (failed.failures, failed.last_error, failed.enabled, failed.etag) == (
        1,
        "HTTP 500",
        True,
        '"v1"',
    )
    stopped = await feeds.record(
        feed.id, PollOutcome(next_poll_at=later, error="HTTP 500", disable=True), now=now
    )
    assert stopped is not None
    assert (stopped.failures, stopped.enabled) == (2, False)
    assert await feeds.next_due() is None

    assert await feeds.set_enabled(feed.id, True, now=now)
    enabled = await feeds.get(feed.id)
    assert enabled is not None
    assert (enabled.enabled, enabled.failures) == (True, 0)
    assert await feeds.remove(feed.id)
    assert not await feeds.remove(feed.id)
    assert await feeds.all() == []


async def test_a_claimed_feed_is_not_claimed_again_until_its_hold_ends(app: App) -> None:
    feeds, now = app.storage.feeds, app.clock()
    feed = await feeds.add(
        URL, "nasional", interval=timedelta(minutes=10), full_text=False, now=now
    )
    assert feed is not None
    hold = now + timedelta(minutes=2)
    assert [claimed.id for claimed in await feeds.claim_due(now, hold_until=hold, limit=10)] == [
        feed.id
    ]
    # Another process polling the same database finds nothing to take...
    assert await feeds.claim_due(now, hold_until=hold, limit=10) == []
    # ...until the hold ends without the poll being recorded (its poller died).
    later = now + timedelta(minutes=3)
    assert [
        claimed.id for claimed in await feeds.claim_due(later, hold_until=later, limit=10)
    ] == [feed.id]
