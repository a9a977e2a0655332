"""What the bot admins must know, told in their private chats (a feed given up on, and back)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.chat import Reply
from bot.delivery.errors import DeliveryError
from bot.i18n import translate
from bot.platform import PlatformAdapter
from storage.models import Feed, Lane
from storage.repositories import ChatRepository

logger = logging.getLogger(__name__)


class AdminNotices:
    """Sends a notice to every bot admin (`NEWSBOT_ADMINS`) on a platform this process runs,
    in their chat's language; one that cannot be reached is logged and skipped."""

    def __init__(
        self,
        adapters: Sequence[PlatformAdapter],
        *,
        admins: frozenset[str],
        chats: ChatRepository,
        default_language: str,
    ) -> None:
        self._adapters = {adapter.platform.value: adapter for adapter in adapters}
        self._admins = sorted(admins)
        self._chats = chats
        self._default_language = default_language

    async def feed_disabled(self, feed: Feed, reason: str) -> None:
        """A feed failed too often and is no longer polled."""
        await self._tell(
            "notice.feed_disabled", id=feed.id, url=feed.url, reason=reason, count=feed.failures
        )

    async def feed_recovered(self, feed: Feed) -> None:
        """A feed that had been given up on is read again."""
        await self._tell("notice.feed_recovered", id=feed.id, url=feed.url)

    async def outage_over(self, platform: str, started: str, length: str) -> None:
        """A platform did not answer for a while (delivery waited), and answers again."""
        await self._tell("notice.outage_over", platform=platform, started=started, length=length)

    async def _tell(self, key: str, **values: object) -> None:
        for admin in self._admins:
            platform, _, user_id = admin.partition(":")
            adapter = self._adapters.get(platform)
            if adapter is None:
                continue
            try:
                chat = await adapter.direct_chat(user_id)
                language = await self._chats.language(chat) or self._default_language
                await adapter.budget.take(chat, Lane.ANSWER)
                await adapter.send(chat, Reply.text(translate(language, key, **values)))
            except DeliveryError as error:
                logger.warning("could not tell admin %s (%s): %s", admin, key, error)
