"""JSON Lines story files: one JSON object per line.

Keys: ``title`` and ``body`` (plain text), ``section``, ``published_at`` (ISO 8601), and
optionally ``url``, ``summary``, ``author``, ``image_url``, ``id`` (a guid) and ``breaking``.
A ``published_at`` without a UTC offset is taken as UTC: guessing the writer's zone (say
Asia/Jakarta) would silently shift stories by hours, while UTC is at least a stated rule.
A missing ``published_at`` means "now"; a missing ``body`` falls back to the summary, then the
title, as for feeds. ``url`` and ``image_url`` must be absolute http(s) URLs; others are
ignored. Blank lines are skipped; a bad line is rejected with its number and the
rest of the file is still read.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.ingest.drafts import MAX_ITEMS, ParsedInput, SectionResolver, as_aware, build_draft
from bot.ingest.errors import IngestError
from bot.ingest.html_text import collapse_whitespace, plain_to_text
from bot.ingest.identity import resolve_http_url
from bot.ingest.sources import SourceDocument, source_label
from storage.models import ArticleDraft

logger = logging.getLogger(__name__)

JsonObject = dict[str, object]


class _RejectedError(Exception):
    """One line cannot become a story; the message is the reason."""


@dataclass(frozen=True)
class _Line:
    number: int
    record: JsonObject


def parse_jsonl(
    doc: SourceDocument, *, resolve_section: SectionResolver, now: datetime
) -> ParsedInput:
    """Turn a JSON Lines document into drafts.

    Raises:
        IngestError: no line of the input is a JSON object.
    """
    records: list[_Line] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(doc.content.split(b"\n"), start=1):
        try:
            # utf-8-sig on every line: concatenated files carry a BOM at each join.
            text = raw.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            problems.append((number, "not valid UTF-8"))
            continue
        if not text:
            continue
        try:
            record: object = json.loads(text)
        except (ValueError, RecursionError):
            problems.append((number, "not JSON"))
            continue
        if not isinstance(record, dict):
            problems.append((number, "not a JSON object"))
            continue
        records.append(_Line(number, record))
    if not records:
        raise IngestError("no JSON object lines found")

    considered = records[:MAX_ITEMS]
    guid_counts = Counter(guid for line in considered if (guid := _guid(line.record)))
    drafts: list[ArticleDraft] = []
    for line in considered:
        try:
            drafts.append(_draft(line.record, guid_counts, doc, resolve_section, now))
        except _RejectedError as reason:
            problems.append((line.number, str(reason)))
    # Problems were found in two passes; report them in line order.
    rejected = [f"line {number}: {reason}" for number, reason in sorted(problems)]
    if len(records) > MAX_ITEMS:
        rejected.append(
            f"lines {records[MAX_ITEMS].number}-{records[-1].number}: "
            f"over the {MAX_ITEMS}-item limit (skipped)"
        )
    return ParsedInput(kind="jsonl", drafts=drafts, rejected=rejected)


def _draft(
    record: JsonObject,
    guid_counts: Counter[str],
    doc: SourceDocument,
    resolve_section: SectionResolver,
    now: datetime,
) -> ArticleDraft:
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
        published_at=_published(record) or now,
        url=resolve_http_url(_string(record, "url"), None),
        guid=guid,
        guid_is_unique=guid is not None and guid_counts[guid] == 1,
        author=_string(record, "author"),
        image_url=resolve_http_url(_string(record, "image_url"), None),
        source=source_label(doc),
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


def _published(record: JsonObject) -> datetime | None:
    value = _string(record, "published_at")
    if value is None or not value.strip():
        return None
    try:
        return as_aware(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise _RejectedError(f"published_at is not an ISO 8601 time: {value[:40]!r}") from None
