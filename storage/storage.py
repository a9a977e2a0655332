"""The repositories of one database, opened together and closed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.repositories import (
    ArticleRepository,
    AuditRepository,
    ChatRepository,
    CommandSyncRepository,
    DigestRepository,
    DraftRepository,
    FeedRepository,
    OutboxRepository,
    SectionRepository,
    SubscriptionRepository,
)


@dataclass(frozen=True)
class Storage:
    """Every repository over one database connection."""

    sections: SectionRepository
    articles: ArticleRepository
    subscriptions: SubscriptionRepository
    chats: ChatRepository
    outbox: OutboxRepository
    digests: DigestRepository
    audit: AuditRepository
    drafts: DraftRepository
    command_syncs: CommandSyncRepository
    feeds: FeedRepository
    close: Callable[[], Awaitable[None]]


class DatabaseUnusableError(Exception):
    """The configured database cannot be used: where it is and what is wrong with it.

    `str(error)` is one line, "'<location>' <problem>", for the operator; whoever knows the
    setting that named the location adds its name.
    """

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location!r} {problem}")
        self.location = location
        self.problem = problem
