"""Polling the feed registry: each feed on its own interval, politely, with conditional GET.

A feed's first good poll stores its items and pushes nothing (readers find them with /latest);
later polls push what is new. A failing feed backs off exponentially up to a day and is
disabled after `max_failures` failures in a row, with the reason kept for `feeds list`.
Every story goes the one way all stories go: `ingest_document` and the newsroom's publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.ingest.drafts import IngestLimits
from bot.ingest.errors import IngestError
from bot.ingest.report import InputReport
from bot.ingest.runner import Publisher, ingest_document
from bot.ingest.sources import SourceDocument
from storage.models import ArticleDraft, Feed, PollOutcome, PublishResult
from storage.repositories import FeedRepository

logger = logging.getLogger(__name__)

# A failing feed waits its interval times 2, 4, 8... between tries, never more than this.
MAX_BACKOFF = timedelta(days=1)
# Feeds polled at once; each host is a publisher's server, asked politely one at a time.
CONCURRENT_POLLS = 8
# How often the loop looks at the registry when nothing is due sooner (a feed added by another
# process is noticed within this).
IDLE_CHECK = timedelta(seconds=30)
# Answers that say "come back later" (rate limited, overloaded).
_SLOW_DOWN = frozenset({429, 503})


class FetchedPage(Protocol):
    """What a fetch gave: the final URL after redirects, the status, headers and body."""

    @property
    def url(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> bytes: ...


class Fetcher(Protocol):
    """Fetches a URL under the bot's safety rules and limits."""

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float,  # noqa: ASYNC109 - the fetcher enforces it, per request
        headers: Mapping[str, str] | None = None,
    ) -> FetchedPage:
        """The answer to a GET; raises `IngestError` (or a subclass) when there is none."""


@dataclass(frozen=True, slots=True)
class PollReport:
    """How one poll of one feed went, for the log, `newsbot poll` and the admins."""

    feed: Feed
    outcome: PollOutcome
    report: InputReport | None = None  # the ingest report of a feed that was read

    @property
    def line(self) -> str:
        """One line: the feed and what happened."""
        if self.outcome.error is not None:
            state = "disabled" if self.outcome.disable else f"retry at {_clock(self.outcome)}"
            return f"{self.feed.url}: failed ({self.outcome.error}); {state}"
        if self.report is None:
            return f"{self.feed.url}: not modified"
        first = " (first poll: stored, not pushed)" if self.feed.first_polled_at is None else ""
        return f"{self.feed.url}: {self.report.new} new, {self.report.updated} updated{first}"


def _clock(outcome: PollOutcome) -> str:
    return outcome.next_poll_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class FeedPoller:
    """Polls the registry's due feeds; `run` keeps doing so until stopped."""

    def __init__(
        self,
        *,
        feeds: FeedRepository,
        fetcher: Fetcher,
        publish: Publisher,
        limits: IngestLimits,
        clock: Callable[[], datetime],
        timeout: float,
        max_failures: int,
        on_disabled: Callable[[Feed, str], Awaitable[None]] | None = None,
    ) -> None:
        self._feeds = feeds
        self._fetcher = fetcher
        self._publish = publish
        self._limits = limits
        self._clock = clock
        self._timeout = timeout
        self._max_failures = max_failures
        self._on_disabled = on_disabled

    async def poll_due(self) -> list[PollReport]:
        """Poll every feed due now, a few at a time; a report per feed."""
        due = await self._feeds.due(self._clock(), limit=1000)
        slots = asyncio.Semaphore(CONCURRENT_POLLS)

        async def one(feed: Feed) -> PollReport:
            async with slots:
                return await self.poll(feed)

        return list(await asyncio.gather(*(one(feed) for feed in due)))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due feeds until `stop` is set, sleeping until the next one falls due."""
        while not stop.is_set():
            try:
                for polled in await self.poll_due():
                    logger.info("%s", polled.line)
                wait = await self._until_next_due()
            except Exception:
                # The database busy, say: polling must not end the bot; look again later.
                logger.exception("polling the feeds failed")
                wait = IDLE_CHECK.total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    async def poll(self, feed: Feed) -> PollReport:
        """Fetch one feed (conditionally), store what it holds, and record how it went."""
        now = self._clock()
        headers: dict[str, str] = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        report: InputReport | None = None
        try:
            page = await self._fetcher.get(
                feed.url, max_bytes=self._limits.max_bytes, timeout=self._timeout, headers=headers
            )
        except IngestError as error:
            outcome = self._failure(feed, str(error), now)
        else:
            answer = {name.lower(): value for name, value in page.headers.items()}
            if page.status == 304:
                outcome = self._success(feed, now, answer, new=0)
            elif page.status in _SLOW_DOWN:
                outcome = self._failure(
                    feed, f"HTTP {page.status}", now, asked=_retry_after(answer, now)
                )
            elif not 200 <= page.status < 300:
                outcome = self._failure(feed, f"HTTP {page.status}", now)
            else:
                report = await self._store(feed, page, answer.get("content-type"))
                if report.ok:
                    outcome = self._success(feed, now, answer, new=report.new)
                else:
                    outcome = self._failure(feed, report.error or "unreadable", now)
        recorded = await self._feeds.record(feed.id, outcome, now=now)
        if outcome.disable and self._on_disabled is not None:
            await self._on_disabled(recorded or feed, outcome.error or "")
        return PollReport(feed=feed, outcome=outcome, report=report)

    async def _store(self, feed: Feed, page: FetchedPage, content_type: str | None) -> InputReport:
        """The feed's items stored in its section; on the first poll, without pushing."""
        doc = SourceDocument(
            location=feed.url,
            content=page.body,
            content_type=content_type,
            base_url=page.url,
        )
        first = feed.first_polled_at is None

        async def publish(drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
            if first:
                drafts = [replace(draft, push=False) for draft in drafts]
            return await self._publish(drafts)

        return await ingest_document(
            doc,
            publish=publish,
            resolve_section=lambda _words: feed.section,
            now=self._clock,
            limits=self._limits,
        )

    def _success(
        self, feed: Feed, now: datetime, headers: Mapping[str, str], *, new: int
    ) -> PollOutcome:
        return PollOutcome(
            next_poll_at=next_slot(feed, now),
            etag=headers.get("etag") or feed.etag,
            last_modified=headers.get("last-modified") or feed.last_modified,
            new=new,
        )

    def _failure(
        self, feed: Feed, error: str, now: datetime, *, asked: timedelta | None = None
    ) -> PollOutcome:
        failures = feed.failures + 1
        backoff = min(feed.interval * 2**failures, MAX_BACKOFF)
        wait = max(backoff, asked) if asked is not None else backoff
        disable = failures >= self._max_failures
        if disable:
            logger.warning("feed %s disabled after %d failures: %s", feed.url, failures, error)
        return PollOutcome(next_poll_at=now + wait, error=error, disable=disable)

    async def _until_next_due(self) -> float:
        """Seconds until the next feed falls due, at most `IDLE_CHECK`."""
        due = await self._feeds.next_due()
        idle = IDLE_CHECK.total_seconds()
        if due is None:
            return idle
        return min(max((due - self._clock()).total_seconds(), 0.0), idle)


def next_slot(feed: Feed, now: datetime) -> datetime:
    """The feed's next poll: one interval on, at the feed's own offset within the interval, so
    that feeds of the same interval are spread over it instead of firing together."""
    interval = max(int(feed.interval.total_seconds()), 1)
    offset = int.from_bytes(hashlib.sha256(feed.url.encode()).digest()[:4], "big") % interval
    position = (int(now.timestamp()) - offset) % interval
    return now + timedelta(seconds=interval - position)


def _retry_after(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a wait; None when absent or bad."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is not None:
            return max(when - now, timedelta(0))
    return None
