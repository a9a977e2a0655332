"""The repository Protocols: everything the bot asks of a database, whatever its engine."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from storage.models import (
    Article,
    ArticleDraft,
    AuditEntry,
    BreakingDraft,
    ChatRef,
    DeliveryMode,
    DeliveryTally,
    DigestClaim,
    DraftState,
    Feed,
    KeywordFollow,
    OutboxItem,
    Platform,
    PollOutcome,
    PublishPreview,
    PublishResult,
    PushRecord,
    Retraction,
    Section,
    SubscriptionChange,
)


class SectionRepository(Protocol):
    """The sections that articles and subscriptions refer to."""

    async def sync(self, sections: Sequence[Section]) -> None:
        """Insert or rename the configured sections; sections no longer configured stay."""


class ArticleRepository(Protocol):
    """Stored stories, their search index and the fan-out of new ones."""

    async def publish(
        self,
        drafts: Sequence[ArticleDraft],
        *,
        now: datetime,
        push_since: datetime | None,
        breaking_section: str,
    ) -> list[PublishResult]:
        """Store `drafts` in one transaction, one result per draft in order.

        A new story is indexed and queued, in the same transaction, once for every chat that
        subscribes to its section (or to `breaking_section` when it is breaking news) or follows
        words it contains — unless it was published before `push_since` or its draft says not
        to push it. An undated draft is stamped `now`. A known identity with changed content is
        updated (no new pushes); when what readers see changed (a correction), an edit is queued
        for every copy already delivered and the result counts them. Unchanged, it is a
        duplicate; so is a draft of a retracted story, which stays as it was, withdrawn.
        """

    async def fan_out(
        self, article_ids: Sequence[int] | None = None, *, now: datetime
    ) -> dict[int, int]:
        """Finish the fan-out of these stories (every unfinished one when None), in bounded
        transactions; how many pushes each queued in all. `publish` does its own; this picks
        up what a crash left."""

    async def preview(
        self, draft: ArticleDraft, *, push_since: datetime | None, breaking_section: str
    ) -> PublishPreview:
        """What `publish` would do with `draft` now, by the same rules, writing nothing.

        A known story whose visible content would not change is a duplicate here, whatever
        else (its date) would be updated.
        """

    async def retract(
        self,
        article_id: int,
        *,
        reason: str,
        now: datetime,
        delete_sent_after: Mapping[Platform, datetime],
    ) -> Retraction | None:
        """Withdraw a story, in one transaction; None when there is no such story.

        It leaves search and `get`; its pushes and edits not yet out are dropped; a deletion is
        queued for every copy delivered (or being delivered), except those in chats that are
        gone and those sent before `delete_sent_after[platform]` (the platform no longer lets
        the bot delete them), which are recorded as dropped.
        """

    async def get(self, article_id: int, *, include_retracted: bool = False) -> Article | None:
        """The stored article with this id; a retracted one only if asked for."""

    async def latest(
        self, *, section: str | None, terms: Sequence[str], limit: int, breaking: bool = False
    ) -> list[Article]:
        """Newest published first: stories containing every word, in `section` if given;
        those holding the words as typed before those that only share their stems.

        `breaking` asks for the breaking stories (those marked breaking, whatever their
        section); `section` is then the breaking section.
        """

    async def count(self) -> int:
        """How many articles are stored."""

    async def by_identities(self, identities: Collection[str]) -> dict[str, Article]:
        """The stored stories with these identities (retracted ones too), by identity; an
        identity not stored is absent."""


class SubscriptionRepository(Protocol):
    """Which chats get which new stories: section subscriptions and keyword follows."""

    async def subscribe(
        self, chat: ChatRef, sections: Sequence[str], *, now: datetime
    ) -> dict[str, SubscriptionChange]:
        """Subscribe `chat` to each section."""

    async def unsubscribe(
        self, chat: ChatRef, sections: Sequence[str] | None
    ) -> dict[str, SubscriptionChange]:
        """Unsubscribe `chat` from each section, or from all of them when `sections` is None."""

    async def sections_of(self, chat: ChatRef) -> list[str]:
        """The sections `chat` is subscribed to, in slug order."""

    async def follow(
        self, chat: ChatRef, words: str, terms: Sequence[str], *, now: datetime
    ) -> tuple[KeywordFollow, bool]:
        """Add a keyword follow (True) or return the same one already there (False)."""

    async def unfollow(self, chat: ChatRef, terms: Sequence[str] | None) -> list[KeywordFollow]:
        """Remove the follow with exactly these terms, or all of the chat's; those that went.

        The removed follows come back oldest first, so an answer can name their words.
        """

    async def follows_of(self, chat: ChatRef) -> list[KeywordFollow]:
        """The chat's active keyword follows, oldest first."""


class ChatRepository(Protocol):
    """Per-chat state: UI language, delivery mode, and what happens when a chat is gone or
    moved."""

    async def language(self, chat: ChatRef) -> str | None:
        """The language the chat chose, if it chose one."""

    async def set_language(self, chat: ChatRef, language: str, *, now: datetime) -> None:
        """Remember the chat's UI language."""

    async def delivery_mode(self, chat: ChatRef) -> DeliveryMode:
        """How the chat takes regular pushes (instant, no quiet hours, unless it chose)."""

    async def set_delivery_mode(
        self, chat: ChatRef, mode: DeliveryMode, *, now: datetime, held_until: datetime
    ) -> int:
        """Set the chat's delivery mode, and in the same transaction make its held pushes due
        at `held_until` (when the new mode releases them). Returns how many are held."""

    async def deactivate(self, chat: ChatRef, reason: str, *, now: datetime) -> int:
        """The chat is gone: stop its subscriptions and follows, drop its pending deliveries
        (held ones too).

        Returns how many pending deliveries were dropped.
        """

    async def move(self, old: ChatRef, new: ChatRef, *, now: datetime) -> None:
        """The chat has a new id: move subscriptions, follows, settings and pending deliveries."""


class OutboxRepository(Protocol):
    """Deliveries waiting, claimed, sent or given up."""

    async def claim(
        self,
        platform: Platform,
        *,
        now: datetime,
        lease_seconds: float,
        limit: int,
        chat_id: str | None = None,
    ) -> list[OutboxItem]:
        """Claim up to `limit` chat heads for `lease_seconds`, by lane and queue place.

        A chat's rows are a queue in publication order; only its head is claimed, and only
        while none of its rows is out being sent. Rows whose claim ran out (another claimer
        died) are due again; this process's own claims are its own to settle.
        """

    async def release_claims_of_dead_processes(self, platform: Platform, *, now: datetime) -> int:
        """Rows claimed by a process of this host that is gone are due again at once."""

    # Each call below acts only while `item` is still under its own claim: a worker whose lease
    # ran out (and whose row another worker took) changes nothing.

    async def renew(self, item: OutboxItem, *, now: datetime, lease_seconds: float) -> bool:
        """Extend the claim just before sending; False when the claim was lost."""

    async def mark_sent(
        self,
        item: OutboxItem,
        message_id: str,
        *,
        now: datetime,
        shown_revision: str | None = None,
    ) -> None:
        """Record a delivery (a push, or the edit of one), the platform's message id and the
        version of the story (`Article.version`) the message now shows."""

    async def retry_at(
        self,
        item: OutboxItem,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool = False,
        hold_chat: bool = False,
    ) -> None:
        """Put a claimed row back, due at `due_at`, at its place in its chat's queue.

        `outcome_unknown`: the send may have arrived; the row is marked a possible duplicate.
        `hold_chat`: nothing is sent to the chat before `due_at` (the platform said retry
        after), not even a row that goes before this one.
        """

    async def give_up(self, item: OutboxItem, reason: str, *, dropped: bool = False) -> None:
        """Never send this row: failed (bad request, out of retries) or dropped (chat gone)."""

    async def hold(self, item: OutboxItem, until: datetime) -> None:
        """Keep a claimed push for the chat's next digest: status 'held', due at `until`."""

    async def push_record(self, push_id: int) -> PushRecord | None:
        """The status and message id of the push row `push_id` (what an edit corrects)."""

    async def take_backlog(
        self,
        head: OutboxItem,
        *,
        now: datetime,
        lease_seconds: float,
        more_than: int,
        limit: int,
    ) -> list[OutboxItem]:
        """When more than `more_than` regular pushes of `head`'s chat are due, `head` (a
        regular push, claimed) among them, claim the next ones after it in the chat's queue
        under its claim, up to `limit` rows in all; [] otherwise."""

    async def mark_sent_together(
        self, items: Sequence[tuple[OutboxItem, str]], message_id: str, *, now: datetime
    ) -> None:
        """Record one message that carried several pushes (each with the version of its story
        it shows) as a bundle: every row sent, with the message's id and the first row's id."""

    async def bundle(self, bundle_of: int) -> list[int]:
        """The stories of a bundle's message, in the order it lists them."""

    async def drop_stale(
        self, platform: Platform, *, published_before: datetime, reason: str
    ) -> int:
        """Drop the regular pushes still waiting of stories published before
        `published_before`: news no more. How many."""

    async def next_due(self, platform: Platform, chat_id: str | None = None) -> datetime | None:
        """When the earliest pending row of this platform (and chat) falls due."""

    async def status_counts(self) -> dict[str, int]:
        """How many rows are in each status."""

    async def take_lease(
        self, scope: str, holder: str, *, now: datetime, lease_seconds: float
    ) -> bool:
        """Become (or stay) the one process delivering for `scope` (a platform); False while
        another live process holds it."""

    async def release_lease(self, scope: str, holder: str) -> None:
        """Stop delivering for `scope`, so that a process standing by takes over at once."""

    async def tally(self, article_id: int) -> list[DeliveryTally]:
        """How the deliveries of one story stand: its pushes, and the edits and deletions of
        them, counted by platform, kind and status."""


class DigestRepository(Protocol):
    """Pushes held for digests (see `OutboxRepository.hold`), claimed and sent chat by chat.

    Like outbox claims, a digest claim has a lease: a claimer that dies leaves its rows to come
    due again when the lease runs out, so a crash between sending a digest and recording it
    repeats that digest and loses nothing. Each call below acts only on rows still under the
    claim given.
    """

    async def claim(
        self,
        platform: Platform,
        *,
        now: datetime,
        lease_seconds: float,
        limit: int,
        chat_id: str | None = None,
    ) -> list[DigestClaim]:
        """Claim the due held rows of up to `limit` chats, one claim per chat, earliest due
        chat first."""

    async def renew(self, claim: DigestClaim, *, now: datetime, lease_seconds: float) -> bool:
        """Extend the claim just before sending; False when it was lost."""

    async def mark_sent(self, claim: DigestClaim, message_id: str, *, now: datetime) -> None:
        """Record the digest: every row of the claim sent, with the digest's message id."""

    async def put_back(
        self,
        claim: DigestClaim,
        due_at: datetime,
        reason: str,
        *,
        count_attempt: bool,
        outcome_unknown: bool = False,
    ) -> None:
        """Hold the claim's rows again, due at `due_at`; `outcome_unknown`: the digest may
        have arrived, its rows are marked possible duplicates."""

    async def give_up(self, claim: DigestClaim, reason: str, *, dropped: bool = False) -> None:
        """Never send the claim's rows: failed, or dropped (chat gone, story gone)."""

    async def next_due(self, platform: Platform, chat_id: str | None = None) -> datetime | None:
        """When the earliest held (or claimed) row of this platform (and chat) falls due."""


class AuditRepository(Protocol):
    """The record of admin and chat-management actions."""

    async def record(self, entry: AuditEntry, *, now: datetime) -> None:
        """Append one entry."""

    async def recent(
        self, limit: int, *, actions: Collection[str] | None = None
    ) -> list[AuditEntry]:
        """The newest entries (of these actions, if given), newest first."""


class FeedRepository(Protocol):
    """The feeds the bot polls, and how polling each one has gone."""

    async def add(
        self, url: str, section: str, *, interval: timedelta, full_text: bool, now: datetime
    ) -> Feed | None:
        """Register a feed, due for its first poll at `now`; None when the URL is registered."""

    async def update(
        self, feed_id: int, *, section: str, interval: timedelta, full_text: bool
    ) -> None:
        """Change a feed's section, interval and full-text choice."""

    async def get(self, feed_id: int) -> Feed | None:
        """The feed with this number."""

    async def find(self, url: str) -> Feed | None:
        """The feed registered at this URL."""

    async def all(self) -> list[Feed]:
        """Every feed, in the order they were added."""

    async def remove(self, feed_id: int) -> bool:
        """Forget a feed (its stories stay); False when there was none."""

    async def set_enabled(self, feed_id: int, enabled: bool, *, now: datetime) -> bool:
        """Enable (due at once, failures forgotten) or disable a feed; False when none."""

    async def due(self, now: datetime, limit: int) -> list[Feed]:
        """Enabled feeds whose next poll is due by `now`, the longest waiting first."""

    async def claim_due(self, now: datetime, *, hold_until: datetime, limit: int) -> list[Feed]:
        """Take the feeds due by `now` for this process: their next poll moves to `hold_until`
        in the same transaction, so another process polling the same database skips them
        (and polls them then, if this one died before recording how the poll went)."""

    async def next_due(self) -> datetime | None:
        """When the next enabled feed falls due, if any is enabled."""

    async def record(self, feed_id: int, outcome: PollOutcome, *, now: datetime) -> Feed | None:
        """Record a poll: validators and new stories of a good one (failures reset), or the
        error of a failed one (failures counted, disabled if asked). The feed as it is now."""


class CommandSyncRepository(Protocol):
    """What command definitions each platform was last given, so unchanged ones are not resent."""

    async def last_digest(self, platform: Platform, scope: str) -> str | None:
        """The digest of the definitions last sent to `platform` for `scope`, if any."""

    async def record(self, platform: Platform, scope: str, digest: str, *, now: datetime) -> None:
        """Remember that the definitions with `digest` were sent."""


class DraftRepository(Protocol):
    """Breaking stories written but not sent yet (the desk's drafts)."""

    async def add(self, draft: BreakingDraft) -> bool:
        """Keep a new open draft; False (and nothing kept) when its code is already taken."""

    async def find(self, code: str) -> BreakingDraft | None:
        """The draft with this code, whatever its state."""

    async def settle(
        self, code: str, state: DraftState, *, by: str, now: datetime
    ) -> BreakingDraft | None:
        """Move an open draft that has not expired by `now` to `state`, atomically.

        Returns the draft so settled, or None when it was not open (sent, cancelled, expired
        or unknown): of two admins pressing Send at once, one sends.
        """

    async def reopen(self, code: str) -> None:
        """Open a draft settled as sent again, when sending it failed."""

    async def sent_as(self, code: str, article_id: int) -> None:
        """Record the story a sent draft became."""
