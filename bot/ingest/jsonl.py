"""JSON Lines story files: one JSON object per line, read as a stream.

Keys: ``title`` and ``body`` (plain text), ``section``, ``published_at`` (ISO 8601), and
optionally ``url``, ``summary``, ``author``, ``image_url``, ``id`` (a guid) and ``breaking``.
A ``published_at`` without a UTC offset is taken as UTC: guessing the writer's zone (say
Asia/Jakarta) would silently shift stories by hours, while UTC is at least a stated rule.
A missing ``published_at`` means the time of ingest; one that names no real moment is reported,
and the story stored at the time of ingest but not pushed. A missing ``body`` falls back to the
summary, then the title, as for feeds. ``url`` and ``image_url`` must be absolute http(s) URLs;
others are ignored. Blank lines are skipped; a bad line is rejected with its number and the rest
of the file is still read.

The file is read twice, a line at a time (a guid counts as an identity only if no other line
carries it), so memory stays bounded however long the file is; a line longer than the byte
limit is skipped without being held in memory.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from bot.ingest.dates import PublicationDate, UnreadableDate, read_iso_date
from bot.ingest.drafts import (
    BuiltDraft,
    IngestLimits,
    ParsedInput,
    SectionResolver,
    Skipped,
    build_draft,
    in_batches,
    over_item_limit,
)
from bot.ingest.errors import IngestError
from bot.ingest.html_text import collapse_whitespace, plain_to_text
from bot.ingest.identity import resolve_http_url
from bot.ingest.sources import SourceDocument, size_text, source_label

logger = logging.getLogger(__name__)

JsonObject = dict[str, object]

# The rest of an over-long line is read past in pieces of this size.
_DRAIN_CHUNK = 1 << 20


class _RejectedError(Exception):
    """One line cannot become a story; the message is the reason."""


@dataclass(frozen=True)
class _Census:
    """What a first pass over the file found."""

    guid_counts: Counter[str]
    objects: int
    # Line numbers of the first object past the item limit, and of the last object.
    first_over_limit: int | None
    last_object: int


def parse_jsonl(
    doc: SourceDocument, *, resolve_section: SectionResolver, now: datetime, limits: IngestLimits
) -> Iterator[ParsedInput]:
    """Turn a JSON Lines document into drafts, in batches, streaming it from its source.

    Raises:
        IngestError: no line of the input is a JSON object.
    """
    census = _count(doc, limits)
    if census.objects == 0:
        raise IngestError("no JSON object lines found")
    label = source_label(doc)
    # Lines skipped for their length, told with the batch they were found in.
    skipped: list[Skipped] = []

    def outcomes() -> Iterator[tuple[str, BuiltDraft | str]]:
        objects = 0
        for number, line in _lines(doc, limits.max_bytes):
            where = f"line {number}"
            if line is None:
                skipped.append(Skipped(1, f"{where}: {_too_long(limits)}"))
                continue
            record = _decode(line)
            if isinstance(record, str):
                yield where, record
                continue
            if record is None:
                continue
            objects += 1
            if limits.max_items is not None and objects > limits.max_items:
                return
            try:
                built = _draft(
                    record,
                    guid_counts=census.guid_counts,
                    source=label,
                    resolve_section=resolve_section,
                    now=now,
                    limits=limits,
                )
            except _RejectedError as reason:
                yield where, str(reason)
            else:
                yield where, built

    for batch in in_batches("jsonl", outcomes()):
        batch.skipped += skipped
        skipped.clear()
        yield batch
    if census.first_over_limit is not None and limits.max_items is not None:
        skipped_objects = over_item_limit(
            "line",
            census.first_over_limit,
            census.last_object,
            census.objects - limits.max_items,
            limits.max_items,
        )
        yield ParsedInput("jsonl", skipped=[skipped_objects])


def _count(doc: SourceDocument, limits: IngestLimits) -> _Census:
    """The first pass: guids among the lines that will be read, and how many objects there are."""
    guid_counts: Counter[str] = Counter()
    objects = 0
    first_over_limit = None
    last_object = 0
    for number, line in _lines(doc, limits.max_bytes):
        record = _decode(line) if line is not None else None
        if not isinstance(record, dict):
            continue
        objects += 1
        last_object = number
        if limits.max_items is not None and objects > limits.max_items:
            first_over_limit = first_over_limit or number
            continue
        if guid := _guid(record):
            guid_counts[guid] += 1
    return _Census(guid_counts, objects, first_over_limit, last_object)


def _lines(doc: SourceDocument, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Each line with its number; None for a line longer than `limit` bytes, never held whole."""
    with doc.open() as stream:
        number = 0
        while line := stream.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith(b"\n"):
                _drain(stream, line)
                yield number, None
            else:
                yield number, line


def _drain(stream: BinaryIO, start: bytes) -> None:
    piece = start
    while piece and not piece.endswith(b"\n"):
        piece = stream.readline(_DRAIN_CHUNK)


def _too_long(limits: IngestLimits) -> str:
    return f"longer than {size_text(limits.max_bytes)} (NEWSBOT_INGEST_MAX_BYTES), skipped"


def _decode(line: bytes) -> JsonObject | str | None:
    """The line's JSON object; the reason it is none as a string; None for a blank line."""
    try:
        # utf-8-sig on every line: concatenated files carry a BOM at each join.
        text = line.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return "not valid UTF-8"
    if not text:
        return None
    try:
        record: object = json.loads(text)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    return record


def _draft(
    record: JsonObject,
    *,
    guid_counts: Counter[str],
    source: str,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> BuiltDraft:
    title = collapse_whitespace(_string(record, "title") or "")
    if not title:
        raise _RejectedError("missing title")
    summary = plain_to_text(_string(record, "summary") or "")
    body = plain_to_text(_string(record, "body") or "") or summary
    guid = _guid(record)
    breaking = record.get("breaking", False)
    if not isinstance(breaking, bool):
        raise _RejectedError("breaking must be true or false")
    return build_draft(
        title=title,
        body=body,
        summary=summary,
        section=resolve_section(_section_words(record)),
        published=_published(record),
        now=now,
        limits=limits,
        url=resolve_http_url(_string(record, "url"), None),
        guid=guid,
        guid_is_unique=guid is not None and guid_counts[guid] == 1,
        author=_string(record, "author"),
        image_url=resolve_http_url(_string(record, "image_url"), None),
        source=source,
        breaking=breaking,
    )


def _string(record: JsonObject, key: str) -> str | None:
    """A string field, None when absent or null; any other type rejects the line."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _RejectedError(f"{key} must be a string")
    return value


def _guid(record: JsonObject) -> str | None:
    value = record.get("id")
    # Numeric ids are common in exports; they are just as good as strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def _section_words(record: JsonObject) -> list[str]:
    value = record.get("section")
    values = value if isinstance(value, list) else [value]
    return [collapse_whitespace(v) for v in values if isinstance(v, str) and v.strip()]


def _published(record: JsonObject) -> PublicationDate:
    value = record.get("published_at")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return UnreadableDate(json.dumps(value)[:40], "not an ISO 8601 text")
    return read_iso_date(value)
