"""What a parser produces, and the size and shape rules every draft obeys.

Every format parser ends in `build_draft`, so caps, identity and URL clean-up are applied the
same way whatever the input looked like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.ingest.dates import PublicationDate, settle_date
from bot.ingest.html_text import collapse_whitespace, remove_control_characters
from bot.ingest.identity import canonical_url, story_identity
from storage.models import ArticleDraft

if TYPE_CHECKING:
    from bot.settings import Settings

SectionResolver = Callable[[Sequence[str]], str]
"""Maps an item's category/section words (possibly none) to the section slug to store it in."""

MAX_TITLE = 300
MAX_SUMMARY = 600
MAX_AUTHOR = 200
# Defaults of the settings NEWSBOT_INGEST_MAX_BODY_CHARS, NEWSBOT_INGEST_MAX_ITEMS,
# NEWSBOT_MAX_FUTURE_MINUTES and NEWSBOT_INGEST_MAX_BYTES; the settings decide.
MAX_BODY = 100_000
MAX_ITEMS = 2_000
MAX_FUTURE = timedelta(minutes=15)
MAX_BYTES = 10_000_000
# Drafts published in one transaction: a long input is stored in batches, so no write holds the
# database for long (2,000 stories take about a tenth of a second) and memory stays bounded.
BATCH_SIZE = 2_000
# A summary made from the body is cut near here.
DERIVED_SUMMARY = 300

_ELLIPSIS = "…"
_EMAIL = re.compile(r"[^\s@()<>]+@[^\s@()<>]+")
_EMAIL_THEN_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s@()<>]+\s*\((?P<name>[^()]+)\)\s*$")
_NAME_THEN_EMAIL = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<[^<>]*@[^<>]*>\s*$")


@dataclass(frozen=True)
class IngestLimits:
    """The limits one ingest applies, from the settings.

    Attributes:
        max_items: the most stories read from one input fetched from a URL (a feed that never
            ends must not fill the archive); None for no limit, as for local files.
        max_body_chars: a longer body is cut at a word boundary, and the report says so.
        max_future: a publication time further ahead of now is taken as the time of ingest.
        max_bytes: the largest input fetched from a URL, and the longest JSON Lines line.
        allow_private_sources: URLs on loopback and private networks may be fetched
            (`bot.ingest.safe_fetch.AddressPolicy`).
    """

    max_items: int | None = MAX_ITEMS
    max_body_chars: int = MAX_BODY
    max_future: timedelta = MAX_FUTURE
    max_bytes: int = MAX_BYTES
    allow_private_sources: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """The limits the settings ask for."""
        return cls(
            max_items=settings.ingest_max_items,
            max_body_chars=settings.ingest_max_body_chars,
            max_future=timedelta(minutes=settings.max_future_minutes),
            max_bytes=settings.ingest_max_bytes,
            allow_private_sources=settings.allow_private_sources,
        )


@dataclass(frozen=True)
class BuiltDraft:
    """A draft and what building it changed that the ingest report must tell."""

    draft: ArticleDraft
    body_cut: bool = False
    date_note: str | None = None


@dataclass(frozen=True)
class Skipped:
    """Stories not read because of a limit: how many, and which and why, for the report."""

    count: int
    detail: str


@dataclass
class ParsedInput:
    """The stories found in one input, or in one batch of a long one.

    Attributes:
        kind: ``"rss"``, ``"atom"``, ``"jsonl"`` or ``"html"``.
        drafts: the stories, in input order.
        rejected: one short reason per item that cannot be a story, e.g. ``"item 3: no title"``.
        notes: what was changed in a stored story, e.g. an unreadable date, per item.
        cut: the items (``"item 7"``, ``"line 9"``) whose body was cut to the limit.
        skipped: stories not read at all because of a limit.
    """

    kind: str
    drafts: list[ArticleDraft] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, label: str, built: BuiltDraft) -> None:
        """Keep the draft of item `label`, noting what building it changed."""
        self.drafts.append(built.draft)
        if built.body_cut:
            self.cut.append(label)
        if built.date_note:
            self.notes.append(f"{label}: {built.date_note}")

    def reject(self, label: str, reason: str) -> None:
        """Item `label` cannot be a story."""
        self.rejected.append(f"{label}: {reason}")

    def extend(self, other: ParsedInput) -> None:
        """Append a later batch of the same input."""
        self.drafts += other.drafts
        self.rejected += other.rejected
        self.notes += other.notes
        self.cut += other.cut
        self.skipped += other.skipped


def in_batches(
    kind: str, outcomes: Iterable[tuple[str, BuiltDraft | str]], size: int = BATCH_SIZE
) -> Iterator[ParsedInput]:
    """Each item's outcome (its draft, or why it was rejected), labelled ``"item 3"``, as
    batches of at most `size` drafts; the last batch comes even when empty."""
    batch = ParsedInput(kind)
    for label, outcome in outcomes:
        if isinstance(outcome, str):
            batch.reject(label, outcome)
            continue
        batch.add(label, outcome)
        if len(batch.drafts) >= size:
            yield batch
            batch = ParsedInput(kind)
    yield batch


def over_item_limit(unit: str, first: int, last: int, count: int, limit: int) -> Skipped:
    """The `count` stories past NEWSBOT_INGEST_MAX_ITEMS, from `unit` (``"item"``, ``"line"``)
    number `first` to `last`."""
    span = f"{unit} {first}" if first == last else f"{unit}s {first}-{last}"
    return Skipped(
        count, f"{span}: over NEWSBOT_INGEST_MAX_ITEMS={limit} for an input read from a URL"
    )


def clip(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, cutting at a word boundary and ending in
    an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(_ELLIPSIS)]
    cut = max(head.rfind(" "), head.rfind("\n"))
    # Cut inside a word only when the text has no usable word boundary (one huge "word").
    if cut >= limit // 2:
        head = head[:cut]
    return head.rstrip() + _ELLIPSIS


def clean_author(raw: str | None) -> str | None:
    """Return a display name from an author field, or None.

    RSS puts ``email (Name)`` there and mail-style ``Name <email>`` is common; only the name is
    kept, and a bare e-mail address is dropped rather than published.
    """
    if raw is None:
        return None
    match = _EMAIL_THEN_NAME.match(raw) or _NAME_THEN_EMAIL.match(raw)
    name = collapse_whitespace(match.group("name") if match else raw)
    if not name or _EMAIL.fullmatch(name):
        return None
    return clip(name, MAX_AUTHOR)


def as_aware(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC; leave an aware one alone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build_draft(
    *,
    title: str,
    body: str,
    summary: str,
    section: str,
    published: PublicationDate,
    now: datetime,
    limits: IngestLimits,
    url: str | None,
    guid: str | None = None,
    guid_is_unique: bool = False,
    author: str | None = None,
    image_url: str | None = None,
    source: str | None = None,
    breaking: bool = False,
    body_is_summary: bool = False,
) -> BuiltDraft:
    """Assemble a capped, cleaned draft and its identity.

    `title` is collapsed to one line, `body` and `summary` are expected as plain text
    paragraphs; control characters go from every text. An empty body becomes the title; an
    empty summary becomes the start of the body. `url` and `image_url` are stored in canonical
    form (tracking parameters removed). The date is settled against `now` by the rules of
    `bot.ingest.dates.settle_date`. `body_is_summary`: `body` is only a feed's summary of the
    story (see `ArticleDraft`).
    """
    title = clip(collapse_whitespace(remove_control_characters(title)), MAX_TITLE)
    full_body = remove_control_characters(body).strip()
    body = clip(full_body, limits.max_body_chars) or title
    summary = remove_control_characters(summary).strip()
    summary = clip(summary, MAX_SUMMARY) if summary else clip(body, DERIVED_SUMMARY)
    date = settle_date(published, now=now, max_future=limits.max_future)
    canonical = canonical_url(url) if url else None
    source = source and clip(collapse_whitespace(remove_control_characters(source)), MAX_AUTHOR)
    draft = ArticleDraft(
        identity=story_identity(
            url=canonical,
            guid=guid,
            guid_is_unique=guid_is_unique,
            title=title,
            published_at=date.published_at,
        ),
        title=title,
        body=body,
        section=section,
        published_at=date.published_at,
        url=canonical,
        summary=summary,
        author=clean_author(remove_control_characters(author) if author else None),
        image_url=canonical_url(image_url) if image_url else None,
        source=source or None,
        breaking=breaking,
        push=date.push,
        body_is_summary=body_is_summary,
    )
    return BuiltDraft(draft, body_cut=len(full_body) > limits.max_body_chars, date_note=date.note)
