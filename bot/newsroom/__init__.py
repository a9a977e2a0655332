"""The newsroom: the `Newsroom` here, where stories enter the archive (ingest, sample news and
/breaking all publish through it), and its services beside it: the breaking-news desk, the feed
registry, the source desk, admin notices and suggestions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.settings import BREAKING_SLUG, Settings
from storage.models import ArticleDraft, PublishPreview, PublishResult
from storage.repositories import ArticleRepository


class Newsroom:
    """Stores stories and fans the new ones out, under the push-age rule of the settings."""

    def __init__(
        self, articles: ArticleRepository, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self._articles = articles
        self._max_age = timedelta(hours=settings.push_max_age_hours)
        self._clock = clock
        # Set whenever a publish queues pushes, for this process's delivery worker.
        self.pushes_queued = asyncio.Event()

    async def publish(self, drafts: Sequence[ArticleDraft]) -> list[PublishResult]:
        """Store `drafts` in one transaction; new, recent stories are queued for their chats.

        A story published longer ago than `push_max_age_hours` (an archive imported late) is
        stored and searchable but pushed to nobody. A story filed in the breaking section is
        breaking news (see `_marked`).
        """
        now = self._clock()
        results = await self._articles.publish(
            [_marked(draft) for draft in drafts],
            now=now,
            push_since=self._push_since(now),
            breaking_section=BREAKING_SLUG,
        )
        if any(result.queued for result in results):
            self.pushes_queued.set()
        return results

    async def preview(self, draft: ArticleDraft) -> PublishPreview:
        """What `publish` would do with `draft` now: whom it would reach, or what it would
        correct; nothing is stored."""
        return await self._articles.preview(
            _marked(draft),
            push_since=self._push_since(self._clock()),
            breaking_section=BREAKING_SLUG,
        )

    def _push_since(self, now: datetime) -> datetime:
        """The earliest publication time of a new story pushed at `now`."""
        return now - self._max_age


def _marked(draft: ArticleDraft) -> ArticleDraft:
    """A story filed in the breaking section is breaking news, however it came in."""
    if draft.section == BREAKING_SLUG and not draft.breaking:
        return replace(draft, breaking=True)
    return draft
