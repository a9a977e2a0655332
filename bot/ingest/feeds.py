"""RSS 2.0, RSS 1.0 and Atom feeds, read with feedparser after the XML screen.

feedparser only ever gets a byte stream that `bot.ingest.xml_screen` already approved; it is
never given a URL or a path, so it never fetches or opens anything itself.
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import feedparser
from bs4 import BeautifulSoup

from bot.ingest.dates import PublicationDate, read_feed_date
from bot.ingest.drafts import (
    BuiltDraft,
    IngestLimits,
    ParsedInput,
    SectionResolver,
    build_draft,
    in_batches,
    over_item_limit,
)
from bot.ingest.html_text import collapse_whitespace, html_to_text, plain_to_text
from bot.ingest.identity import canonical_url, resolve_http_url
from bot.ingest.sources import SourceDocument, source_label

logger = logging.getLogger(__name__)

# A guid longer than this is not an identifier anybody meant; ignore it.
_MAX_GUID = 1_000


class _RejectedError(Exception):
    """One item cannot become a story; the message is the reason."""


def parse_feed(
    data: bytes,
    *,
    kind: str,
    doc: SourceDocument,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> Iterator[ParsedInput]:
    """Turn screened feed bytes into drafts, in batches.

    Args:
        data: bytes that passed `bot.ingest.xml_screen.screen_xml`.
        kind: ``"rss"`` or ``"atom"``, as detected.
        doc: the document the bytes came from (for its base URL and name).
        resolve_section: maps category words to a section slug.
        now: the time of ingest, against which dates are settled.
        limits: the item, body and date limits.
    """
    headers = {"content-location": doc.base_url} if doc.base_url else {}
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    feed: Mapping[str, Any] = parsed.get("feed", {})
    entries: Sequence[Mapping[str, Any]] = parsed.get("entries", [])
    base = doc.base_url or resolve_http_url(_text(feed.get("link")), None)
    feed_words = _tags(feed)
    title = _detail_text(feed.get("title_detail"), feed.get("title"), one_line=True)
    source = title or source_label(doc)
    # A guid is unique within its feed only: two feeds may both number their items 1, 2, 3.
    # The feed's own link (else its title, else where it was read) scopes its guids.
    own_link = resolve_http_url(_text(feed.get("link")), doc.base_url)
    scope = (own_link and canonical_url(own_link)) or title or doc.location
    logger.debug("%s: %s feed, %d items", doc.location, kind, len(entries))

    considered = entries if limits.max_items is None else entries[: limits.max_items]
    guid_counts = Counter(guid for entry in considered if (guid := _guid(entry)))

    def items() -> Iterator[tuple[str, BuiltDraft | str]]:
        for number, entry in enumerate(considered, start=1):
            try:
                built = _draft(
                    entry,
                    base=base,
                    guid_counts=guid_counts,
                    scope=scope,
                    feed_words=feed_words,
                    source=source,
                    resolve_section=resolve_section,
                    now=now,
                    limits=limits,
                )
            except _RejectedError as reason:
                yield f"item {number}", str(reason)
            else:
                yield f"item {number}", built

    yield from in_batches(kind, items())
    if limits.max_items is not None and len(entries) > limits.max_items:
        limit = limits.max_items
        skipped = over_item_limit("item", limit + 1, len(entries), len(entries) - limit, limit)
        yield ParsedInput(kind, skipped=[skipped])


def _draft(
    entry: Mapping[str, Any],
    *,
    base: str | None,
    guid_counts: Counter[str],
    scope: str,
    feed_words: list[str],
    source: str,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> BuiltDraft:
    title = _detail_text(entry.get("title_detail"), entry.get("title"), one_line=True)
    if not title:
        raise _RejectedError("no title")
    body_html, body = _body(entry)
    summary = _detail_text(entry.get("summary_detail"), None)
    guid = _guid(entry)
    return build_draft(
        title=title,
        body=body or summary,
        summary=summary,
        section=resolve_section(_tags(entry) or feed_words),
        published=_published(entry),
        now=now,
        limits=limits,
        url=resolve_http_url(_text(entry.get("link")), base),
        guid=f"{scope} {guid}" if guid is not None else None,
        guid_is_unique=guid is not None and guid_counts[guid] == 1,
        author=_text(entry.get("author")),
        image_url=_image(entry, [body_html, _markup(entry.get("summary_detail"))], base),
        source=source,
    )


def _text(value: object) -> str | None:
    """feedparser values are loosely typed; accept only non-empty strings."""
    return value if isinstance(value, str) and value.strip() else None


def _is_markup(detail: Mapping[str, Any]) -> bool:
    return "html" in str(detail.get("type") or "text/html")


def _detail_text(detail: object, fallback: object, *, one_line: bool = False) -> str:
    """Plain text of a feedparser text construct (title, summary, content)."""
    if isinstance(detail, Mapping) and isinstance(detail.get("value"), str):
        value: str = detail["value"]
        text = html_to_text(value) if _is_markup(detail) else plain_to_text(value)
    elif isinstance(fallback, str):
        text = plain_to_text(fallback)
    else:
        return ""
    return collapse_whitespace(text) if one_line else text


def _body(entry: Mapping[str, Any]) -> tuple[str | None, str]:
    """The item's full content as (raw HTML if it was HTML, plain text); empty if none.

    Only real content counts (``content:encoded``, Atom ``<content>``); a description is the
    summary's job, and the caller falls back to it.
    """
    contents = entry.get("content")
    if not isinstance(contents, list):
        return None, ""
    for detail in contents:
        if isinstance(detail, Mapping) and _text(detail.get("value")):
            text = _detail_text(detail, None)
            if text:
                return (detail["value"] if _is_markup(detail) else None), text
    return None, ""


def _guid(entry: Mapping[str, Any]) -> str | None:
    guid = _text(entry.get("id"))
    if guid is None or len(guid) > _MAX_GUID:
        return None
    return guid.strip()


def _tags(node: Mapping[str, Any]) -> list[str]:
    """Category words of an item or feed: each tag's term, then its label when different."""
    words: list[str] = []
    tags = node.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        if not isinstance(tag, Mapping):
            continue
        for key in ("term", "label"):
            word = collapse_whitespace(_text(tag.get(key)) or "")
            if word and word not in words:
                words.append(word)
    return words


def _published(entry: Mapping[str, Any]) -> PublicationDate:
    """The item's published date, else its updated date, as the feed wrote it."""
    for key in ("published", "updated"):
        raw = entry.get(key)
        if isinstance(raw, str) and raw.strip():
            parsed = entry.get(f"{key}_parsed")
            return read_feed_date(raw, parsed if isinstance(parsed, time.struct_time) else None)
    return None


def _markup(detail: object) -> str | None:
    """The raw HTML of a text construct, or None when it is plain text or absent."""
    if isinstance(detail, Mapping) and _is_markup(detail):
        return _text(detail.get("value"))
    return None


def _image(
    entry: Mapping[str, Any], markups: Sequence[str | None], base: str | None
) -> str | None:
    """The first usable http(s) image URL of an item."""
    for candidate in _image_candidates(entry, markups):
        url = resolve_http_url(_text(candidate), base)
        if url is not None:
            return url
    return None


def _image_candidates(entry: Mapping[str, Any], markups: Sequence[str | None]) -> Iterator[object]:
    """media:content, then media:thumbnail, then an image enclosure, then the <img> elements of
    the content (or of the description); lazily, so HTML is parsed only when needed."""
    for media in _mappings(entry.get("media_content")):
        medium = str(media.get("medium") or "")
        media_type = str(media.get("type") or "")
        if medium == "image" or media_type.startswith("image/") or not (medium or media_type):
            yield media.get("url")
    for thumbnail in _mappings(entry.get("media_thumbnail")):
        yield thumbnail.get("url")
    for enclosure in _mappings(entry.get("enclosures")):
        if str(enclosure.get("type") or "").startswith("image/"):
            yield enclosure.get("href")
    for markup in markups:
        if markup:
            for img in BeautifulSoup(markup, "html.parser").find_all("img", src=True):
                yield img.get("src")


def _mappings(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
