"""What bot admins do with sources from chat: the feed registry, and posting an article page.

Platform-free: `handlers/sources.py` talks, this does. A fetch follows the bot's safety rules
(`bot.ingest.safe_fetch`) wherever it is asked from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.drafts import IngestLimits
from bot.ingest.errors import IngestError
from bot.ingest.runner import parse_document
from bot.ingest.safe_fetch import AddressPolicy, SafeFetcher
from bot.ingest.sources import SourceDocument
from bot.newsroom import Newsroom
from bot.newsroom.feed_registry import FeedRegistry
from bot.sections import SectionCatalog
from storage.models import PublishResult

_ACCEPT_PAGES = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}


class PostError(Exception):
    """A page could not be posted; the message says why, in English, for the admin."""


@dataclass(frozen=True, slots=True)
class Posted:
    """A posted page: the story it became and what storing it did.

    Stored as new but withheld from pushes (`result.withheld`), `date_unread` says why: its
    date could not be read (else it was published before `NEWSBOT_PUSH_MAX_AGE_HOURS`).
    """

    title: str
    published_at: datetime | None
    result: PublishResult
    date_unread: bool = False


class SourceDesk:
    """Feeds and article pages, as bot admins manage them from chat."""

    def __init__(
        self,
        *,
        registry: FeedRegistry,
        newsroom: Newsroom,
        sections: SectionCatalog,
        policy: AddressPolicy,
        limits: IngestLimits,
        timeout: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.registry = registry
        self._newsroom = newsroom
        self._sections = sections
        self._policy = policy
        self._limits = limits
        self._timeout = timeout
        self._clock = clock

    async def post(self, url: str, section: str | None) -> Posted:
        """Fetch an article page, store it as a story (in `section`, else the page's own), and
        push it as any new story.

        Raises:
            PostError: the URL may not be fetched, the page did not come, or holds no article.
        """
        try:
            async with SafeFetcher(self._policy) as fetcher:
                page = await fetcher.get(
                    url.strip(),
                    max_bytes=self._limits.max_bytes,
                    timeout=self._timeout,
                    headers=_ACCEPT_PAGES,
                )
        except IngestError as error:
            raise PostError(str(error)) from error
        if page.status != 200:
            raise PostError(f"HTTP {page.status}")
        doc = SourceDocument(
            location=url,
            content=page.body,
            content_type=page.headers.get("content-type"),
            base_url=page.url,
        )

        def resolve(categories: Sequence[str]) -> str:
            return section or self._sections.for_categories(categories)

        try:
            # Extraction is CPU work: off the event loop, so answers are not held up.
            parsed = await asyncio.to_thread(
                parse_document,
                doc,
                resolve_section=resolve,
                now=self._clock(),
                limits=self._limits,
            )
        except IngestError as error:
            raise PostError(str(error)) from error
        if not parsed.drafts:
            reason = "; ".join(parsed.rejected) or "no article found on the page"
            raise PostError(reason)
        draft = parsed.drafts[0]
        [result] = await self._newsroom.publish([draft])
        return Posted(
            title=draft.title,
            published_at=draft.published_at,
            result=result,
            date_unread=not draft.push,
        )
