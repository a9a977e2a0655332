"""What a parser produces, and the size and shape rules every draft obeys.

Every format parser ends in `build_draft`, so caps, identity and URL clean-up are applied the
same way whatever the input looked like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.ingest.html_text import collapse_whitespace
from bot.ingest.identity import canonical_url, story_identity
from storage.models import ArticleDraft

SectionResolver = Callable[[Sequence[str]], str]
"""Maps an item's category/section words (possibly none) to the section slug to store it in."""

MAX_TITLE = 300
MAX_SUMMARY = 600
MAX_BODY = 100_000
MAX_AUTHOR = 200
MAX_ITEMS = 2_000
# A summary made from the body is cut near here.
DERIVED_SUMMARY = 300

_ELLIPSIS = "…"
_EMAIL = re.compile(r"[^\s@()<>]+@[^\s@()<>]+")
_EMAIL_THEN_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s@()<>]+\s*\((?P<name>[^()]+)\)\s*$")
_NAME_THEN_EMAIL = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<[^<>]*@[^<>]*>\s*$")


@dataclass(frozen=True)
class ParsedInput:
    """The stories found in one input.

    Attributes:
        kind: ``"rss"``, ``"atom"``, ``"jsonl"`` or ``"html"``.
        drafts: the stories, in input order.
        rejected: one short reason per item skipped, e.g. ``"item 3: no title"``.
    """

    kind: str
    drafts: list[ArticleDraft]
    rejected: list[str]


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
    published_at: datetime,
    url: str | None,
    guid: str | None = None,
    guid_is_unique: bool = False,
    author: str | None = None,
    image_url: str | None = None,
    source: str | None = None,
    breaking: bool = False,
) -> ArticleDraft:
    """Assemble a capped draft and its identity.

    `title` is collapsed to one line, `body` and `summary` are expected as plain text
    paragraphs. An empty body becomes the title; an empty summary becomes the start of the
    body. `url` and `image_url` are stored in canonical form (tracking parameters removed).
    """
    title = clip(collapse_whitespace(title), MAX_TITLE)
    body = clip(body.strip(), MAX_BODY) or title
    summary = (
        clip(summary.strip(), MAX_SUMMARY) if summary.strip() else clip(body, DERIVED_SUMMARY)
    )
    published_at = as_aware(published_at)
    canonical = canonical_url(url) if url else None
    source = clip(collapse_whitespace(source), MAX_AUTHOR) if source else None
    return ArticleDraft(
        identity=story_identity(
            url=canonical,
            guid=guid,
            guid_is_unique=guid_is_unique,
            title=title,
            published_at=published_at,
        ),
        title=title,
        body=body,
        section=section,
        published_at=published_at,
        url=canonical,
        summary=summary,
        author=clean_author(author),
        image_url=canonical_url(image_url) if image_url else None,
        source=source or None,
        breaking=breaking,
    )
