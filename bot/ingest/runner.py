"""The ingest entry points: parse one document, or read, parse and publish many inputs.

One bad input never stops the others: anything wrong with an input becomes a failed
`InputReport`. Only the publisher's own exceptions (database trouble) propagate.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from bot.ingest.detect import detect, sniff
from bot.ingest.drafts import IngestLimits, ParsedInput, SectionResolver
from bot.ingest.errors import IngestError
from bot.ingest.jsonl import parse_jsonl
from bot.ingest.parsing_processes import ParsingProcesses, ParsingProcessLostError
from bot.ingest.progress import ProgressSink
from bot.ingest.report import InputReport
from bot.ingest.safe_fetch import AddressPolicy, SafeFetcher
from bot.ingest.sources import SourceDocument, read_source
from storage.models import ArticleDraft, PublishOutcome, PublishResult

__all__ = [
    "INTERRUPTED",
    "IngestLimits",
    "InputReport",
    "ParsedInput",
    "ProgressSink",
    "Publisher",
    "SectionResolver",
    "ingest_all",
    "parse_batches",
    "parse_document",
]

logger = logging.getLogger(__name__)

Publisher = Callable[[Sequence[ArticleDraft]], Awaitable[Sequence[PublishResult]]]
"""Stores a batch of drafts (in one transaction) and returns one result per draft, in order."""

# Inputs fetched ahead of the one being handled: overlaps slow servers without holding many
# documents (up to max_bytes each) in memory.
READ_AHEAD = 3
# Other processes parse once the inputs read reach this size together. A few feeds of the usual
# size (a hundred stories is some 200 KB) parse here in a fraction of a second: two more
# processes (77 MB) are not worth it for them.
PARSE_ELSEWHERE_BYTES = 4_000_000
# What the report of the input being handled says when the ingest is stopped (Ctrl-C, SIGTERM).
INTERRUPTED = "interrupted"


def parse_batches(
    doc: SourceDocument,
    *,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits,
) -> Iterator[ParsedInput]:
    """Detect the format of `doc` and parse it into batches of drafts, lazily.

    A local file has no item limit (its owner chose what is in it); JSON Lines is streamed
    from it, other formats are read whole.

    Args:
        doc: one input as `read_source` gave it.
        resolve_section: maps an item's category words to a section slug.
        now: the time of ingest; aware.
        limits: the item, body, size and date limits.

    Raises:
        IngestError: the whole input is unusable (hostile, malformed, empty, unknown format);
            raised by the first `next`, which also does all the reading and screening: call
            it off the event loop.
    """
    if doc.path is not None:
        limits = replace(limits, max_items=None)
    if sniff(doc) == "jsonl":
        yield from parse_jsonl(doc, resolve_section=resolve_section, now=now, limits=limits)
        return
    doc = doc.loaded()
    detected = detect(doc)
    # Imported here, as the first input of their kind is parsed: the parsers load lxml,
    # BeautifulSoup and trafilatura, which commands that parse nothing never need.
    from bot.ingest.feeds import parse_feed  # noqa: PLC0415 - see above
    from bot.ingest.pages import parse_page  # noqa: PLC0415 - see above

    if detected.kind in ("rss", "atom"):
        yield from parse_feed(
            detected.data,
            kind=detected.kind,
            doc=doc,
            resolve_section=resolve_section,
            now=now,
            limits=limits,
        )
        return
    yield from parse_page(doc, resolve_section=resolve_section, now=now, limits=limits)


def parse_document(
    doc: SourceDocument,
    *,
    resolve_section: SectionResolver,
    now: datetime,
    limits: IngestLimits | None = None,
) -> ParsedInput:
    """All of `doc` parsed at once: `parse_batches` gathered into one `ParsedInput`.

    Raises:
        IngestError: the whole input is unusable.
    """
    batches = parse_batches(
        doc, resolve_section=resolve_section, now=now, limits=limits or IngestLimits()
    )
    whole = next(batches)
    for batch in batches:
        whole.extend(batch)
    return whole


async def ingest_all(
    locations: Sequence[str],
    *,
    publish: Publisher,
    resolve_section: SectionResolver,
    now: Callable[[], datetime],
    progress: ProgressSink,
    limits: IngestLimits | None = None,
    timeout: float = 20.0,  # noqa: ASYNC109 -- passed on to read_source, which enforces it per input
    parse_processes: int = 0,
    parse_elsewhere_bytes: int = PARSE_ELSEWHERE_BYTES,
) -> list[InputReport]:
    """Read, parse and publish every input, in order, reporting each one.

    Inputs are fetched a few ahead of the one being handled. Parsing runs in a worker thread so
    a large feed does not stall the event loop; `resolve_section` is therefore called from that
    thread, one input at a time. A long input is published batch by batch as it is parsed.

    With `parse_processes`, the inputs fetched ahead (all but streamed JSON Lines files) are
    parsed in that many worker processes while the one before them is stored, once the inputs
    read reach `parse_elsewhere_bytes` together: parsing then uses the other cores, and
    `resolve_section` must be picklable.

    Args:
        locations: file paths and http(s) URLs.
        publish: stores a batch of drafts and returns one result per draft, in order.
        resolve_section: maps category words to a section slug.
        now: the clock, read once per input.
        progress: told about the start, each finished input and the end.
        limits: the item, body, size and date limits (the settings' defaults if None), and
            whether URLs on private networks may be fetched.
        timeout: the total time limit for fetching each URL, in seconds.

    Returns:
        One report per location, in the order given.

    Raises:
        Exception: whatever `publish` raises; inputs not yet handled are abandoned.
        asyncio.CancelledError: the ingest was stopped. A batch being stored is stored whole
            first, and `progress` is told of the input being handled, as failed with
            `INTERRUPTED`, with what of it was stored.
    """
    limits = limits or IngestLimits()
    # One client for the whole run: connections to a publisher are reused between its inputs.
    fetcher = SafeFetcher(AddressPolicy(allow_private=limits.allow_private_sources))

    pool: ParsingProcesses | None = None
    # Several inputs, and processes not yet found broken.
    pool_wanted = bool(parse_processes) and len(locations) > 1
    read_bytes = 0

    async def prepare(location: str) -> Iterator[ParsedInput]:
        nonlocal pool, pool_wanted, read_bytes
        doc = await read_source(
            location, max_bytes=limits.max_bytes, timeout=timeout, fetcher=fetcher
        )
        # Only the start of a long local file is read yet: it is large.
        read_bytes += len(doc.content) if doc.complete else parse_elsewhere_bytes
        if not (pool_wanted and read_bytes >= parse_elsewhere_bytes) or sniff(doc) == "jsonl":
            return parse_batches(doc, resolve_section=resolve_section, now=now(), limits=limits)
        if pool is None:
            pool = ParsingProcesses(parse_processes, preload=[__name__])
        used = pool
        try:
            parsed = await used.run(_parse_all, doc, resolve_section, now(), limits)
        except ParsingProcessLostError:
            # A worker died (out of memory, killed): this input and the rest are parsed here.
            if pool is used:
                logger.warning("a parsing process died; parsing in this process")
                used.close()
                pool, pool_wanted = None, False
            return parse_batches(doc, resolve_section=resolve_section, now=now(), limits=limits)
        except Exception as err:
            # Raised again where the input is reported, like an error of a parse done here.
            return _raising(err)
        return iter(parsed)

    def read(location: str) -> asyncio.Task[Iterator[ParsedInput]]:
        return asyncio.create_task(prepare(location), name=f"ingest read {location}")

    reports: list[InputReport] = []
    pending: deque[asyncio.Task[Iterator[ParsedInput]]] = deque()
    upcoming = iter(locations)
    progress.start(len(locations))
    try:
        for location in locations:
            # Both walk `locations` in order, so pending[0] is always the read of `location`.
            while len(pending) <= READ_AHEAD and (nxt := next(upcoming, None)) is not None:
                pending.append(read(nxt))
            counts = dict.fromkeys(PublishOutcome, 0)
            try:
                report = await _ingest_one(
                    location, pending.popleft(), publish=publish, counts=counts, whole_batches=True
                )
            except asyncio.CancelledError:
                progress.done(_failed(location, INTERRUPTED, counts))
                raise
            reports.append(report)
            progress.done(report)
    finally:
        for task in pending:
            task.cancel()
        # Let cancelled reads close their connections before we return or raise.
        await asyncio.gather(*pending, return_exceptions=True)
        await fetcher.aclose()
        if pool is not None:
            pool.close()
        progress.close()
    return reports


def _parse_all(
    doc: SourceDocument, resolve_section: SectionResolver, now: datetime, limits: IngestLimits
) -> list[ParsedInput]:
    """Every batch of `doc`, parsed at once (in a parsing process)."""
    return list(parse_batches(doc, resolve_section=resolve_section, now=now, limits=limits))


def _raising(error: Exception) -> Iterator[ParsedInput]:
    """An iterator that raises `error` when first asked: an input parsed elsewhere that failed
    fails where its report is made, like one parsed here."""
    raise error
    yield  # pragma: no cover - makes this a generator


async def ingest_document(
    doc: SourceDocument,
    *,
    publish: Publisher,
    resolve_section: SectionResolver,
    now: Callable[[], datetime],
    limits: IngestLimits,
) -> InputReport:
    """One input already read (a feed the poller fetched), parsed off the event loop and
    published batch by batch like any other; its report. Cancelled (the bot stops), a batch
    being stored is rolled back: `publish` may be reading pages first, which the stop of the
    bot does not wait for."""

    async def prepare() -> Iterator[ParsedInput]:
        return parse_batches(doc, resolve_section=resolve_section, now=now(), limits=limits)

    return await _ingest_one(
        doc.location,
        asyncio.ensure_future(prepare()),
        publish=publish,
        counts=dict.fromkeys(PublishOutcome, 0),
        whole_batches=False,
    )


async def _ingest_one(
    location: str,
    prepared: asyncio.Future[Iterator[ParsedInput]],
    *,
    publish: Publisher,
    counts: dict[PublishOutcome, int],
    whole_batches: bool,
) -> InputReport:
    """Publish one input's batches as they come and report it; `prepared` is its reading,
    giving the lazy (or already parsed) batches. `counts` (all zero) counts the outcomes of
    the drafts stored, as they are stored: an ingest stopped midway reports from them. With
    `whole_batches`, a batch being stored when the task is cancelled is stored whole (and
    counted) before the cancellation goes on."""
    seen = ParsedInput(kind="")
    batches: Iterator[ParsedInput] | None = None
    while True:
        try:
            if batches is None:
                batches = await prepared
            # Each batch is parsed off the event loop, then stored before the next is parsed.
            batch = await asyncio.to_thread(next, batches, None)
        except IngestError as err:
            logger.debug("%s: failed: %s", location, err)
            return _failed(location, str(err), counts)
        except Exception as err:
            # A bug or an input we did not foresee; keep going with the other inputs.
            logger.exception("%s: unexpected error while reading or parsing", location)
            return _failed(location, f"internal error: {type(err).__name__}: {err}", counts)
        if batch is None:
            break
        seen.kind = batch.kind
        if batch.drafts:
            # Outside the handlers above: the publisher's errors (database trouble) are not
            # the input's fault, and propagate.
            storing = asyncio.ensure_future(publish(batch.drafts))
            try:
                results = await (asyncio.shield(storing) if whole_batches else storing)
            except asyncio.CancelledError:
                if whole_batches:
                    # Stopped while a batch is stored: it is stored whole and counted, so that
                    # the report says what the database holds; then the stop goes on.
                    _count(await storing, batch.drafts, counts)
                raise
            _count(results, batch.drafts, counts)
        seen.extend(replace(batch, drafts=[]))
    report = InputReport(
        location=location,
        ok=True,
        kind=seen.kind,
        new=counts[PublishOutcome.NEW],
        updated=counts[PublishOutcome.UPDATED],
        duplicate=counts[PublishOutcome.DUPLICATE],
        rejected=tuple(seen.rejected),
        notes=tuple(seen.notes),
        cut=tuple(seen.cut),
        skipped=tuple(seen.skipped),
    )
    logger.debug("%s", report.line())
    return report


def _count(
    results: Sequence[PublishResult],
    drafts: Sequence[ArticleDraft],
    counts: dict[PublishOutcome, int],
) -> None:
    """Add the outcomes of a batch stored to `counts`."""
    if len(results) != len(drafts):
        raise RuntimeError(f"publish returned {len(results)} results for {len(drafts)} drafts")
    for result in results:
        counts[result.outcome] += 1


def _failed(location: str, error: str, counts: dict[PublishOutcome, int]) -> InputReport:
    """The report of an input that failed, with what of it was stored before it did."""
    return InputReport(
        location=location,
        ok=False,
        kind=None,
        error=error,
        new=counts[PublishOutcome.NEW],
        updated=counts[PublishOutcome.UPDATED],
        duplicate=counts[PublishOutcome.DUPLICATE],
    )
