"""Records that cross the storage boundary: what goes into the database and what comes out."""

from __future__ import annotations

import enum
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path


class Platform(enum.StrEnum):
    """A chat platform the bot talks on."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    DISCORD = "discord"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """One chat on one platform; `chat_id` is the platform's id as text."""

    platform: Platform
    chat_id: str

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """A story on its way in, from a feed, a page, a file or `/breaking`.

    `identity` is the stable unique key (see `bot.ingest.identity`); `published_at` is aware (UTC
    or any zone), or None when the input gave no usable time: the story is then stamped with the
    time it is first stored, and keeps that stamp when it comes again. `section` is a section
    slug that exists in the catalogue. `push` False stores the story without pushing it to
    anybody (its date could not be read, so it cannot be called fresh). `body_is_summary`: the
    body is only the summary a feed gave (the item carried no content of its own); such a draft
    is an excerpt of a story stored with a fuller body, and changes it only by a new headline.
    """

    identity: str
    title: str
    body: str
    section: str
    published_at: datetime | None
    url: str | None = None
    summary: str = ""
    author: str | None = None
    image_url: str | None = None
    source: str | None = None
    breaking: bool = False
    push: bool = True
    body_is_summary: bool = False


@dataclass(frozen=True, slots=True)
class Article:
    """A stored story."""

    id: int
    identity: str
    title: str
    body: str
    section: str
    published_at: datetime
    url: str | None
    summary: str
    author: str | None
    image_url: str | None
    source: str | None
    breaking: bool
    # When what readers see of it last changed after it was first stored (a correction).
    revised_at: datetime | None = None
    # When an admin withdrew it (/retract), and why: readers no longer find it.
    retracted_at: datetime | None = None
    retraction_reason: str | None = None
    # Other outlets (or other addresses of the same one) that carried the same story.
    also_reported_by: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        """Which version of the story this is: '' as first stored, else its revision time."""
        return self.revised_at.isoformat() if self.revised_at else ""


class PublishOutcome(enum.StrEnum):
    """What storing one draft did."""

    NEW = "new"
    UPDATED = "updated"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The outcome of storing one draft, with the deliveries it queued: pushes of a new story,
    or edits of the copies already delivered for a corrected one. `withheld`: a new story
    stored but pushed to nobody, whoever subscribes (published before the push window, or its
    draft not to be pushed: a date nobody could read)."""

    outcome: PublishOutcome
    article_id: int
    queued: int = 0
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class PublishPreview:
    """What publishing one draft would do now, found without writing anything.

    NEW: `reach` is how many chats of each platform the story would be pushed to (the same
    matching as the fan-out). UPDATED: the story `article_id` would be corrected, and `reach`
    counts the delivered copies that would be edited. DUPLICATE: nothing readers see would
    change; `retracted` when the story it matches was withdrawn (it stays withdrawn).
    """

    outcome: PublishOutcome
    article_id: int | None = None
    reach: dict[Platform, int] = field(default_factory=dict)
    retracted: bool = False


class SubscriptionChange(enum.StrEnum):
    """What a subscribe or unsubscribe call changed for one section."""

    ADDED = "added"
    ALREADY = "already"
    REMOVED = "removed"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class KeywordFollow:
    """A chat's keyword alert: every new story containing all `terms` (stemmed) reaches it."""

    id: int
    chat: ChatRef
    words: str
    terms: tuple[str, ...]


class DeliveryKind(enum.StrEnum):
    """What an outbox row does: push a story, or edit or delete a push already delivered."""

    SEND = "send"
    EDIT = "edit"
    DELETE = "delete"


class Lane(enum.IntEnum):
    """Who goes first when a send slot comes free (lower first): the send budget's order, and
    the outbox rows' `lane` column, whose values these are. Answers to commands never wait in
    the outbox."""

    ANSWER = 0
    BREAKING = 1
    CORRECTION = 2
    PUSH = 3


# This host, and this process as the prefix of its claims and delivery leases (`host:pid:`): the
# engine names a lease's holder with it, a backend takes back at once what a process of this
# host that has ended held.
HOST = socket.gethostname()
PROCESS = f"{HOST}:{os.getpid()}:"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One claimed delivery: this article to this chat, under the claim token `claim`.

    An edit or delete row carries `edit_of`, the id of the push row whose message it corrects
    or deletes.
    """

    id: int
    article_id: int
    chat: ChatRef
    attempts: int
    claim: str
    kind: DeliveryKind = DeliveryKind.SEND
    edit_of: int | None = None
    # Priority among chats when the budget allows one more send: a `Lane` value.
    lane: int = Lane.PUSH.value
    # Sends of this row whose outcome was never known (a timeout after the request went out).
    unknown_outcomes: int = 0


@dataclass(frozen=True, slots=True)
class DigestClaim:
    """One chat's held pushes, claimed together under `claim` to go out as one digest."""

    chat: ChatRef
    claim: str
    items: tuple[OutboxItem, ...]

    @property
    def attempts(self) -> int:
        """The failed attempts of the row tried most often: what bounds the digest's retries."""
        return max((item.attempts for item in self.items), default=0)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours during which a chat takes no regular pushes: `start` up to `end`.

    `end` before `start` is a range across midnight (22:00-06:00); the two are never equal.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")


@dataclass(frozen=True, slots=True)
class DeliveryMode:
    """How a chat takes regular (non-breaking) pushes.

    `digest_at` None: each story as it comes; else one digest a day at that local time.
    `quiet`: hours during which nothing but breaking news is sent.
    """

    digest_at: time | None = None
    quiet: QuietHours | None = None


@dataclass(frozen=True, slots=True)
class PushRecord:
    """Where a push stands: its status and, once sent, the platform's message id."""

    status: str
    message_id: str | None
    # The version of the story the message shows now (see `Article.version`); None if unknown.
    shown_revision: str | None = None
    # Sent in a chat's coalesced backlog: the id of that message's first row, whose rows all
    # name it (the message lists their stories).
    bundle_of: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryTally:
    """How many outbox rows of one story, on one platform and of one kind, are in one status.

    `chats_gone` counts, of dropped rows, those whose chat is gone (blocked or removed the bot);
    `possible_duplicates`, rows whose message may have gone out twice (a send whose answer
    never came, a claim taken back from a process that died or stopped answering).
    """

    platform: Platform
    kind: DeliveryKind
    status: str
    count: int
    chats_gone: int = 0
    possible_duplicates: int = 0


@dataclass(frozen=True, slots=True)
class Retraction:
    """What withdrawing a story did, per platform.

    `deleting`: delivered copies queued for deletion. `too_old`: copies the platform no longer
    lets the bot delete. `in_gone_chats`: copies in chats that blocked or removed the bot.
    `cancelled`: pushes not yet out, which now never go. `already`: when it had been withdrawn
    before (nothing else was done then).
    """

    deleting: dict[Platform, int] = field(default_factory=dict)
    too_old: dict[Platform, int] = field(default_factory=dict)
    in_gone_chats: dict[Platform, int] = field(default_factory=dict)
    cancelled: int = 0
    already: datetime | None = None


class DraftState(enum.StrEnum):
    """Where a /breaking draft stands. An open draft past its time has expired."""

    OPEN = "open"
    SENT = "sent"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BreakingDraft:
    """A breaking story an admin wrote but has not sent yet: their words, kept until confirmed.

    The story itself is built from these words when it is sent, so nothing is stored as an
    article before then. `code` names the draft in `/confirm CODE` and `/cancel CODE`.
    """

    code: str
    actor: str
    chat: ChatRef
    section: str
    headline: str
    text: str
    link: str | None
    created_at: datetime
    expires_at: datetime
    state: DraftState = DraftState.OPEN
    settled_by: str | None = None
    article_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin or chat-management action, and the story it concerned if any."""

    actor: str
    chat: ChatRef
    action: str
    detail: str = ""
    at: datetime | None = field(default=None)
    article_id: int | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A news section: its slug (stored with articles), display names and extra words for it."""

    slug: str
    name_id: str
    name_en: str
    aliases: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        """The display name in `language` (`id` or `en`)."""
        return self.name_en if language == "en" else self.name_id


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed in the registry: where it is, which section its stories go to, how often it is
    polled, and how its polling has gone."""

    id: int
    url: str
    section: str
    interval: timedelta
    full_text: bool
    enabled: bool
    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    first_polled_at: datetime | None = None
    last_polled_at: datetime | None = None
    last_new_at: datetime | None = None
    failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """How one poll of a feed went, as the registry records it.

    `error` None is a good poll (`new` stories, and the validators for the next conditional
    GET); otherwise the poll failed, and `disable` ends polling until an operator enables it.
    """

    next_poll_at: datetime
    error: str | None = None
    disable: bool = False
    etag: str | None = None
    last_modified: str | None = None
    new: int = 0


# Several processes (a chat, an ingest, the delivery loop) share one database; a write waits this
# long for another's transaction before the database is reported locked. The default of
# NEWSBOT_DATABASE_BUSY_TIMEOUT_SECONDS.
BUSY_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SchemaChange:
    """A database's schema version before and after its migrations were applied."""

    before: int
    after: int

    def text(self) -> str:
        """`schema 1 → 9`, `created at schema 9` (it had none) or `already at schema 9`."""
        if self.before == self.after:
            return f"already at schema {self.after}"
        if self.before == 0:
            return f"created at schema {self.after}"
        return f"schema {self.before} → {self.after}"


@dataclass(frozen=True)
class BackupReport:
    """A backup made: where, of what, and what it holds."""

    path: Path
    source: str
    schema_version: int
    stories: int
    size_bytes: int


class BackupError(Exception):
    """The backup was refused or could not be written; `str(error)` is one line saying why.

    Nothing is left behind: a copy is only ever put in place whole.
    """
