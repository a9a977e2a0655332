"""Polling the feed registry: each feed on its own interval, politely, with conditional GET.

A feed's first good poll stores its items and pushes nothing (readers find them with /latest);
later polls push what is new. A failing feed backs off exponentially up to a day and is
disabled after `max_failures` failures in a row, with the reason kept for `feeds list`.
Every story goes the one way all stories go: `ingest_document` and the newsroom's publish.

A feed marked full-text carries only summaries: each of its new items (identity not stored yet)
gets its body from its article page, fetched under the same rules and limits as the feed and
read by `bot.ingest.pages` in a worker thread. A page that cannot be read leaves the feed's
summary as the body. Items already stored are never fetched again, and keep the body they got.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.ingest.drafts import IngestLimits
from bot.ingest.errors import IngestError
from bot.ingest.report import InputReport
from bot.ingest.runner import Publisher, ingest_document
from bot.ingest.sources import SourceDocument
from storage.models import Article, ArticleDraft, Feed, PollOutcome, PublishResult
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
# Article pages of one full-text feed fetched at once (the fetcher's per-host limit still asks
# one publisher one thing at a time).
PAGES_AT_ONCE = 4
# Pages one poll of a full-text feed reads at most: a new feed's first poll with hundreds of
# items must not fetch hundreds of pages from one publisher at once. Items past it keep their
# summary (they are stored by then, and not read again).
PAGES_PER_POLL = 50
# Later than any feed's next poll: every enabled feed is due by then.
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_PAGE_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}


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


class StoredStories(Protocol):
    """Which stories are stored already (`storage.repositories.ArticleRepository` is one)."""

    async def by_identities(self, identities: Collection[str]) -> dict[str, Article]:
        """The stored stories with these identities, by identity."""


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
    pages: PageTally | None = None  # the article pages of a full-text feed's new items

    @property
    def line(self) -> str:
        """One line: the feed and what happened."""
        if self.outcome.error is not None:
            state = "disabled" if self.outcome.disable else f"retry at {_clock(self.outcome)}"
            return f"{self.feed.url}: failed ({self.outcome.error}); {state}"
        if self.report is None:
            return f"{self.feed.url}: not modified"
        first = " (first poll: stored, not pushed)" if self.feed.first_polled_at is None else ""
        pages = ""
        if self.pages is not None:
            pages = f", {self.pages.read} page{'s' if self.pages.read != 1 else ''} read"
            if self.pages.unread:
                pages += f" ({self.pages.unread} unread: summary kept)"
        return (
            f"{self.feed.url}: {self.report.new} new, {self.report.updated} updated{pages}{first}"
        )


@dataclass
class PageTally:
    """The article pages a full-text poll fetched: those whose story became a body, and those
    that could not be read (the feed's summary stayed the body)."""

    read: int = 0
    unread: int = 0


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
        articles: StoredStories,
        on_disabled: Callable[[Feed, str], Awaitable[None]] | None = None,
        on_recovered: Callable[[Feed], Awaitable[None]] | None = None,
    ) -> None:
        """`articles` tells a full-text feed's new items (whose pages are read) from stored
        ones (which are not read again)."""
        self._feeds = feeds
        self._fetcher = fetcher
        self._publish = publish
        self._limits = limits
        self._clock = clock
        self._timeout = timeout
        self._max_failures = max_failures
        self._on_disabled = on_disabled
        self._on_recovered = on_recovered
        self._articles = articles

    async def poll_due(self, *, every_feed: bool = False) -> list[PollReport]:
        """Poll every feed due now (`every_feed`: every enabled feed, whatever its schedule),
        a few at a time; a report per feed."""
        now = self._clock()
        # Held for as long as a poll may take, and a margin: a process killed mid-poll leaves
        # the feed to be polled again then.
        hold = timedelta(seconds=self._timeout * 3 + 60)
        due_by = _END_OF_TIME if every_feed else now
        due = await self._feeds.claim_due(due_by, hold_until=now + hold, limit=1000)
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
        pages: PageTally | None = None
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
                pages = self._page_tally(feed)
                report = await self._store(feed, page, answer.get("content-type"), pages)
                if report.ok:
                    outcome = self._success(feed, now, answer, new=report.new)
                else:
                    outcome = self._failure(feed, report.error or "unreadable", now)
        recorded = await self._feeds.record(feed.id, outcome, now=now)
        if outcome.disable and self._on_disabled is not None:
            await self._on_disabled(recorded or feed, outcome.error or "")
        elif outcome.error is None and _was_given_up(feed) and self._on_recovered is not None:
            await self._on_recovered(recorded or feed)
        return PollReport(feed=feed, outcome=outcome, report=report, pages=pages)

    def _page_tally(self, feed: Feed) -> PageTally | None:
        """A tally of the pages this poll will read, None when it reads none."""
        return PageTally() if feed.full_text else None

    async def _store(
        self,
        feed: Feed,
        page: FetchedPage,
        content_type: str | None,
        pages: PageTally | None = None,
    ) -> InputReport:
        """The feed's items stored in its section; on the first poll, without pushing. With a
        page tally (a full-text feed), new items get their bodies from their pages."""
        doc = SourceDocument(
            location=feed.url,
            content=page.body,
            content_type=content_type,
            base_url=page.url,
        )
        first = feed.first_polled_at is None

        async def publish(drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
            if pages is not None:
                drafts = await self._with_full_text(feed, drafts, pages)
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

    async def _with_full_text(
        self, feed: Feed, drafts: Sequence[ArticleDraft], tally: PageTally
    ) -> list[ArticleDraft]:
        """A full-text feed's drafts with their bodies: a new item's from its page (a few pages
        at once), a stored item's as it was stored."""
        stored = await self._articles.by_identities({draft.identity for draft in drafts})
        # One fetch per page, even when two items of the feed link to it.
        wanted: dict[str, ArticleDraft] = {}
        room = PAGES_PER_POLL - tally.read - tally.unread
        for draft in drafts:
            if draft.identity not in stored and _is_http(draft.url) and len(wanted) < room:
                wanted.setdefault(draft.url or "", draft)
        slots = asyncio.Semaphore(PAGES_AT_ONCE)

        async def read(draft: ArticleDraft) -> ArticleDraft | None:
            async with slots:
                return await self._read_page(feed, draft, tally)

        read_pages = await asyncio.gather(*(read(draft) for draft in wanted.values()))
        stories = dict(zip(wanted, read_pages, strict=True))
        full: list[ArticleDraft] = []
        for draft in drafts:
            known = stored.get(draft.identity)
            story = stories.get(draft.url or "")
            if known is not None:
                full.append(_as_stored(draft, known))
            elif story is not None:
                full.append(_with_page(draft, story))
            else:
                full.append(draft)
        return full

    async def _read_page(
        self, feed: Feed, draft: ArticleDraft, tally: PageTally
    ) -> ArticleDraft | None:
        """The story on `draft`'s page as a draft of its own, or None (logged) when the page
        cannot be fetched or holds no story longer than the feed's own text."""
        url = draft.url or ""
        try:
            page = await self._fetcher.get(
                url, max_bytes=self._limits.max_bytes, timeout=self._timeout, headers=_PAGE_ACCEPT
            )
            if not 200 <= page.status < 300:
                raise IngestError(f"HTTP {page.status}")
            content_type = {name.lower(): value for name, value in page.headers.items()}.get(
                "content-type"
            )
            if content_type and "html" not in content_type.lower():
                raise IngestError(f"not an HTML page ({content_type})")
            doc = SourceDocument(
                location=url, content=page.body, content_type=content_type, base_url=page.url
            )
            story = await asyncio.to_thread(
                _page_story, doc, section=feed.section, now=self._clock(), limits=self._limits
            )
            if len(story.body) <= len(draft.body):
                raise IngestError("no story longer than the feed's summary in the page")
        except IngestError as error:
            tally.unread += 1
            logger.info(
                "%s: page %s not read (%s); the summary stays its body", feed.url, url, error
            )
            return None
        except Exception:
            # A bug, or a page nobody foresaw: the feed's poll goes on without it.
            tally.unread += 1
            logger.exception(
                "%s: reading page %s failed; the summary stays its body", feed.url, url
            )
            return None
        tally.read += 1
        return story

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


def _was_given_up(feed: Feed) -> bool:
    """The feed was disabled for its failures and enabled again: its failures were forgotten,
    its last error kept until a good poll."""
    return feed.failures == 0 and feed.last_error is not None


def next_slot(feed: Feed, now: datetime) -> datetime:
    """The feed's next poll: one interval on, at the feed's own offset within the interval, so
    that feeds of the same interval are spread over it instead of firing together."""
    interval = max(int(feed.interval.total_seconds()), 1)
    offset = int.from_bytes(hashlib.sha256(feed.url.encode()).digest()[:4], "big") % interval
    position = (int(now.timestamp()) - offset) % interval
    return now + timedelta(seconds=interval - position)


def _is_http(url: str | None) -> bool:
    return url is not None and url.lower().startswith(("http://", "https://"))


def _page_story(
    doc: SourceDocument, *, section: str, now: datetime, limits: IngestLimits
) -> ArticleDraft:
    """The article page's story (body, author, image); CPU-bound, for a worker thread.

    Raises:
        IngestError: the page holds no article.
    """
    # Imported here: trafilatura is loaded only once a feed wants its pages.
    from bot.ingest.pages import parse_page  # noqa: PLC0415 - see above

    parsed = next(parse_page(doc, resolve_section=lambda _words: section, now=now, limits=limits))
    return parsed.drafts[0]


def _with_page(draft: ArticleDraft, story: ArticleDraft) -> ArticleDraft:
    """A feed item with its page's story as its body; the page's author and image where the
    feed gives none. Identity, headline, summary and date stay the feed's."""
    return replace(
        draft,
        body=story.body,
        author=draft.author or story.author,
        image_url=draft.image_url or story.image_url,
        body_is_summary=False,
    )


def _as_stored(draft: ArticleDraft, known: Article) -> ArticleDraft:
    """A stored item of a full-text feed as the feed carries it again, with the body, author
    and image its page gave it kept: only a change in what the feed itself says (headline,
    summary) updates the story. A body that is only the summary (its page could not be read)
    is the feed's, and follows the feed like any."""
    if known.body == known.summary:
        return draft
    return replace(
        draft,
        body=known.body,
        author=draft.author or known.author,
        image_url=draft.image_url or known.image_url,
        body_is_summary=False,
    )


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
