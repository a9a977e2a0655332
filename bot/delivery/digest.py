"""Digests, the second kind of work of the delivery engine (`bot.delivery.scheduler`).

Delivery holds a regular push (see `bot.delivery.policy`) when its chat takes a daily digest or
is in its quiet hours. When the hold ends, the engine claims all of that chat's held pushes at
once (`DigestRepository.claim`), and this module makes them one message (which the adapter
splits if the platform needs it); the engine sends it under its lease and budget, and records
every push it covered as sent with the digest's (first) message id, or applies the delivery
rules to all of them (`HeldRows`).

Crash safety is that of pushes: the rows are claimed under a lease before the send, so a
process that dies between sending and recording leaves them to come due again when the lease
runs out; that digest is then sent once more, and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.chat import Reply
from bot.render import ArticleRenderer
from storage import Storage
from storage.models import Article, ChatRef, DigestClaim
from storage.repositories import DigestRepository

# Chats whose due digests are claimed in one pass.
DIGEST_CLAIM_BATCH = 50


async def compose_digest(
    claim: DigestClaim,
    *,
    storage: Storage,
    renderer: ArticleRenderer,
    default_language: str,
    now: datetime,
) -> tuple[DigestClaim, Reply] | None:
    """The digest of the claim's stories, and the claim without any story no longer stored
    (those rows are dropped); None when no story is left."""
    kept, articles, gone = [], [], []
    for item in claim.items:
        article: Article | None = await storage.articles.get(item.article_id)
        if article is None:
            gone.append(item)
        else:
            kept.append(item)
            articles.append(article)
    if gone:
        await storage.digests.give_up(
            replace(claim, items=tuple(gone)), "article no longer stored", dropped=True
        )
    if not articles:
        return None
    language = await storage.chats.language(claim.chat) or default_language
    return replace(claim, items=tuple(kept)), renderer.digest(articles, language, now)


@dataclass(frozen=True)
class HeldRows:
    """A claimed digest's rows, as the delivery rules see them."""

    claim: DigestClaim
    digests: DigestRepository
    clock: Callable[[], datetime]

    @property
    def chat(self) -> ChatRef:
        return self.claim.chat

    @property
    def attempts(self) -> int:
        return self.claim.attempts

    @property
    def unknown_outcomes(self) -> int:
        return max((item.unknown_outcomes for item in self.claim.items), default=0)

    async def retry_at(
        self,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool,
        hold_chat: bool = False,
    ) -> None:
        # The rows are held again. `hold_chat`: the chat's pushes are held by the send
        # budget alone (its hold, on the budget's clock).
        await self.digests.put_back(
            self.claim,
            due_at,
            reason,
            count_attempt=count_attempt,
            outcome_unknown=outcome_unknown,
        )

    async def put_back(self, reason: str) -> None:
        """Held again as they were, due now: nothing was sent."""
        await self.digests.put_back(self.claim, self.clock(), reason, count_attempt=False)

    async def give_up(self, reason: str) -> None:
        await self.digests.give_up(self.claim, reason)
