"""The ingest entry points: parse one document, or read, parse and publish many inputs.

One bad input never stops the others: anything wrong with an input becomes a failed
`InputReport`. Only the publisher's own exceptions (database trouble) propagate.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.ingest.detect import detect
from bot.ingest.drafts import ParsedInput, SectionResolver
from bot.ingest.errors import IngestError
from bot.ingest.feeds import parse_feed
from bot.ingest.jsonl import parse_jsonl
from bot.ingest.pages import parse_page
from bot.ingest.progress import ProgressSink
from bot.ingest.report import InputReport
from bot.ingest.sources import SourceDocument, read_source
from storage.models import ArticleDraft, PublishOutcome, PublishResult

__all__ = [
    "InputReport",
    "ParsedInput",
    "ProgressSink",
    "Publisher",
    "SectionResolver",
    "ingest_all",
    "parse_document",
]

logger = logging.getLogger(__name__)

Publisher = Callable[[Sequence[ArticleDraft]], Awaitable[Sequence[PublishResult]]]
"""Stores one input's drafts (in one transaction) and returns one result per draft, in order."""

# Inputs fetched ahead of the one being parsed and published: overlaps slow servers without
# holding many documents (up to max_bytes each) in memory.
READ_AHEAD = 3


def parse_document(
    doc: SourceDocument, *, resolve_section: SectionResolver, now: datetime
) -> ParsedInput:
    """Detect the format of `doc` and parse it into drafts.

    Args:
        doc: the bytes and origin of one input.
        resolve_section: maps an item's category words to a section slug.
        now: the time given to items that carry none; aware.

    Raises:
        IngestError: the whole input is unusable (hostile, malformed, empty, unknown format).
    """
    detected = detect(doc)
    if detected.kind in ("rss", "atom"):
        return parse_feed(
            detected.data,
            kind=detected.kind,
            doc=doc,
            resolve_section=resolve_section,
            now=now,
        )
    if detected.kind == "html":
        return parse_page(doc, resolve_section=resolve_section, now=now)
    return parse_jsonl(doc, resolve_section=resolve_section, now=now)


async def ingest_all(
    locations: Sequence[str],
    *,
    publish: Publisher,
    resolve_section: SectionResolver,
    now: Callable[[], datetime],
    progress: ProgressSink,
    max_bytes: int = 10_000_000,
    timeout: float = 20.0,  # noqa: ASYNC109 -- passed on to read_source, which enforces it per input
) -> list[InputReport]:
    """Read, parse and publish every input, in order, reporting each one.

    Inputs are fetched a few ahead of the one being handled. Parsing runs in a worker thread so
    a large feed does not stall the event loop; `resolve_section` is therefore called from that
    thread, one input at a time.

    Args:
        locations: file paths and http(s) URLs.
        publish: stores one input's drafts and returns one result per draft, in order.
        resolve_section: maps category words to a section slug.
        now: the clock, read once per input.
        progress: told about the start, each finished input and the end.
        max_bytes: the size limit for each input.
        timeout: the total time limit for fetching each URL, in seconds.

    Returns:
        One report per location, in the order given.

    Raises:
        Exception: whatever `publish` raises; inputs not yet handled are abandoned.
    """

    def read(location: str) -> asyncio.Task[SourceDocument]:
        return asyncio.create_task(
            read_source(location, max_bytes=max_bytes, timeout=timeout),
            name=f"ingest read {location}",
        )

    reports: list[InputReport] = []
    pending: deque[asyncio.Task[SourceDocument]] = deque()
    upcoming = iter(locations)
    progress.start(len(locations))
    try:
        for location in locations:
            # Both walk `locations` in order, so pending[0] is always the read of `location`.
            while len(pending) <= READ_AHEAD and (nxt := next(upcoming, None)) is not None:
                pending.append(read(nxt))
            report = await _ingest_one(
                location,
                pending.popleft(),
                publish=publish,
                resolve_section=resolve_section,
                now=now,
            )
            reports.append(report)
            progress.done(report)
    finally:
        for task in pending:
            task.cancel()
        # Let cancelled reads close their connections before we return or raise.
        await asyncio.gather(*pending, return_exceptions=True)
        progress.close()
    return reports


async def _ingest_one(
    location: str,
    reading: asyncio.Task[SourceDocument],
    *,
    publish: Publisher,
    resolve_section: SectionResolver,
    now: Callable[[], datetime],
) -> InputReport:
    try:
        doc = await reading
        parsed = await asyncio.to_thread(
            parse_document, doc, resolve_section=resolve_section, now=now()
        )
    except IngestError as err:
        logger.debug("%s: failed: %s", location, err)
        return InputReport(location=location, ok=False, kind=None, error=str(err))
    except Exception as err:
        # A bug or an input we did not foresee; keep going with the other inputs.
        logger.exception("%s: unexpected error while reading or parsing", location)
        return InputReport(
            location=location,
            ok=False,
            kind=None,
            error=f"internal error: {type(err).__name__}: {err}",
        )
    counts = dict.fromkeys(PublishOutcome, 0)
    if parsed.drafts:
        results = await publish(parsed.drafts)
        if len(results) != len(parsed.drafts):
            raise RuntimeError(
                f"publish returned {len(results)} results for {len(parsed.drafts)} drafts"
            )
        for result in results:
            counts[result.outcome] += 1
    report = InputReport(
        location=location,
        ok=True,
        kind=parsed.kind,
        new=counts[PublishOutcome.NEW],
        updated=counts[PublishOutcome.UPDATED],
        duplicate=counts[PublishOutcome.DUPLICATE],
        rejected=tuple(parsed.rejected),
    )
    logger.debug("%s", report.line())
    return report
