"""ingest_all: many inputs, one bad input never stops the rest, counting and reporting."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.ingest import runner
from bot.ingest.errors import IngestError
from bot.ingest.parsing_processes import ParsingProcesses, ParsingProcessLostError
from bot.ingest.progress import BarProgress, KeepingProgress, PlainProgress, progress_for
from bot.ingest.runner import IngestLimits, InputReport, ingest_all, parse_batches
from bot.ingest.sources import SourceDocument
from storage.models import ArticleDraft, PublishOutcome, PublishResult

if TYPE_CHECKING:
    from conftest import LocalServer, RecordingResolver

NOW = datetime(2024, 11, 26, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@dataclass
class MemoryPublisher:
    """Stores drafts by identity: NEW the first time, DUPLICATE if unchanged, else UPDATED."""

    stored: dict[str, ArticleDraft] = field(default_factory=dict)
    batches: list[list[ArticleDraft]] = field(default_factory=list)

    async def __call__(self, drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
        self.batches.append(list(drafts))
        results = []
        for draft in drafts:
            known = self.stored.get(draft.identity)
            if known is None:
                outcome = PublishOutcome.NEW
            elif known == draft:
                outcome = PublishOutcome.DUPLICATE
            else:
                outcome = PublishOutcome.UPDATED
            self.stored[draft.identity] = draft
            results.append(PublishResult(outcome=outcome, article_id=len(self.stored)))
        return results


@dataclass
class ListProgress:
    """A ProgressSink that records what it was told."""

    events: list[str] = field(default_factory=list)

    def start(self, total: int) -> None:
        self.events.append(f"start {total}")

    def done(self, report: InputReport) -> None:
        self.events.append(f"done {report.location}")

    def close(self) -> None:
        self.events.append("close")


async def test_one_bad_input_does_not_stop_the_rest(
    fixtures_dir: Path, resolver: RecordingResolver
) -> None:
    publish = MemoryPublisher()
    progress = ListProgress()
    names = [
        "feed.xml",
        "billion_laughs.xml",
        "tidak-ada.xml",
        "stories_broken_lines.jsonl",
        "feed.xml",
        "page_without_article.html",
        "feed_missing_title.xml",
    ]
    locations = [str(fixtures_dir / name) for name in names]
    reports = await ingest_all(
        locations, publish=publish, resolve_section=resolver, now=clock, progress=progress
    )

    assert [r.location for r in reports] == locations
    assert [r.ok for r in reports] == [True, False, False, True, True, False, True]
    feed, laughs, missing, jsonl, again, page, partial = reports
    assert (feed.kind, feed.new, feed.duplicate, feed.updated) == ("rss", 4, 0, 0)
    assert (again.new, again.duplicate) == (0, 4)
    assert laughs.error == "XML declares entities (refused)"
    assert missing.error == "file not found"
    assert page.error == "no article found in the page"
    assert jsonl.new == 3
    assert len(jsonl.rejected) == 6
    assert len(jsonl.notes) == 1
    assert partial.rejected == ("item 2: no title", "item 3: no title")

    # publish is called once per batch of a usable input, never for failed ones.
    assert [len(batch) for batch in publish.batches] == [4, 3, 4, 2]
    assert progress.events == ["start 7", *(f"done {loc}" for loc in locations), "close"]

    assert feed.line().endswith("feed.xml: rss, 4 new, 0 duplicate, 0 updated, 0 rejected")
    assert laughs.line() == f"{locations[1]}: FAILED: XML declares entities (refused)"
    assert partial.line().endswith(
        "feed_missing_title.xml: rss, 2 new, 0 duplicate, 0 updated, 2 rejected "
        "(item 2: no title; item 3: no title)"
    )
    assert jsonl.line().endswith(
        "3 new, 0 duplicate, 0 updated, 6 rejected "
        "(line 2: not JSON; line 3: missing title; line 4: not a JSON object; +3 more), "
        "1 with notes (line 7: date 'kemarin sore' (not an ISO 8601 date) unreadable: stored "
        "at ingest time, not pushed)"
    )


async def test_an_unexpected_error_becomes_a_failed_report(
    tmp_path: Path, fixtures_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def explosive(words: Sequence[str]) -> str:
        if "Meledak" in words:
            raise ValueError("resolver bug")
        return "umum"

    bad = tmp_path / "bom.jsonl"
    bad.write_text('{"title": "A", "body": "x", "section": "Meledak"}\n')
    locations = [str(bad), str(fixtures_dir / "atom.xml")]
    publish = MemoryPublisher()
    with caplog.at_level(logging.ERROR, logger="bot.ingest.runner"):
        reports = await ingest_all(
            locations,
            publish=publish,
            resolve_section=explosive,
            now=clock,
            progress=ListProgress(),
        )
    assert reports[0].ok is False
    assert reports[0].error == "internal error: ValueError: resolver bug"
    assert reports[1].ok is True
    assert reports[1].new == 2
    assert any(record.exc_info for record in caplog.records)


async def test_a_feed_without_a_channel_is_one_clear_failure_and_no_internal_error(
    tmp_path: Path,
    fixtures_dir: Path,
    resolver: RecordingResolver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bare = tmp_path / "tanpa-kanal.xml"
    bare.write_text(
        '<?xml version="1.0"?><rss version="2.0"><item><title>Hilang</title></item></rss>',
        encoding="utf-8",
    )
    locations = [str(bare), str(fixtures_dir / "atom.xml")]
    with caplog.at_level(logging.DEBUG, logger="bot.ingest"):
        reports = await ingest_all(
            locations,
            publish=MemoryPublisher(),
            resolve_section=resolver,
            now=clock,
            progress=ListProgress(),
        )
    assert reports[0].line() == (
        f"{bare}: FAILED: unusable RSS feed (Invalid RSS feed: missing channel element)"
    )
    assert (reports[1].ok, reports[1].new) == (True, 2)
    assert not any(record.exc_info for record in caplog.records)  # no traceback logged


async def test_publish_errors_propagate_and_progress_is_closed(
    fixtures_dir: Path, resolver: RecordingResolver
) -> None:
    async def broken_publish(drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
        raise RuntimeError("database is locked")

    progress = ListProgress()
    locations = [str(fixtures_dir / name) for name in ("empty.xml", "feed.xml", "atom.xml")]
    with pytest.raises(RuntimeError, match="database is locked"):
        await ingest_all(
            locations,
            publish=broken_publish,
            resolve_section=resolver,
            now=clock,
            progress=progress,
        )
    assert progress.events == ["start 3", f"done {locations[0]}", "close"]


async def test_a_stop_while_a_batch_is_stored_stores_it_whole_and_reports_it(
    fixtures_dir: Path, resolver: RecordingResolver
) -> None:
    storing, may_finish = asyncio.Event(), asyncio.Event()

    class SlowPublisher(MemoryPublisher):
        async def __call__(self, drafts: Sequence[ArticleDraft]) -> Sequence[PublishResult]:
            storing.set()
            await may_finish.wait()
            return await super().__call__(drafts)

    publish = SlowPublisher()
    events = ListProgress()
    progress = KeepingProgress(events)
    locations = [str(fixtures_dir / name) for name in ("feed.xml", "atom.xml")]
    ingest = asyncio.create_task(
        ingest_all(
            locations, publish=publish, resolve_section=resolver, now=clock, progress=progress
        )
    )
    await storing.wait()
    ingest.cancel()  # what Ctrl-C does (bot.ingest.stopping)
    await asyncio.sleep(0)
    may_finish.set()
    with pytest.raises(asyncio.CancelledError):
        await ingest

    # The batch being stored was stored whole, and counted; the next input was not started.
    assert [len(batch) for batch in publish.batches] == [4]
    assert progress.reports == [
        InputReport(location=locations[0], ok=False, kind=None, error="interrupted", new=4)
    ]
    assert events.events == ["start 2", f"done {locations[0]}", "close"]


async def test_an_input_with_no_drafts_is_not_published(
    tmp_path: Path, resolver: RecordingResolver
) -> None:
    path = tmp_path / "semua-rusak.jsonl"
    path.write_text('{"body": "tanpa judul"}\n')
    publish = MemoryPublisher()
    (report,) = await ingest_all(
        [str(path)], publish=publish, resolve_section=resolver, now=clock, progress=ListProgress()
    )
    assert report.ok is True
    assert report.rejected == ("line 1: missing title",)
    assert publish.batches == []


async def test_urls_and_files_together(
    http_server: LocalServer, fixtures_dir: Path, resolver: RecordingResolver
) -> None:
    http_server.respond(
        "/feed.xml",
        200,
        (fixtures_dir / "atom.xml").read_bytes(),
        headers={"Content-Type": "application/atom+xml"},
    )
    http_server.drip("/lambat", 0.05)
    locations = [
        http_server.url("/lambat"),
        http_server.url("/hilang"),
        http_server.url("/feed.xml"),
        str(fixtures_dir / "stories.jsonl"),
    ]
    publish = MemoryPublisher()
    run = ingest_all(
        locations,
        publish=publish,
        resolve_section=resolver,
        now=clock,
        progress=ListProgress(),
        limits=IngestLimits(allow_private_sources=True),  # the server is on 127.0.0.1
        timeout=0.5,
    )
    # The outer wait_for only keeps a regression from hanging the test run.
    reports = await asyncio.wait_for(run, 30)
    assert [r.line().split(": ", 1)[1] for r in reports] == [
        "FAILED: timed out after 0.5 s (NEWSBOT_INGEST_TIMEOUT_SECONDS)",
        "FAILED: HTTP 404",
        "atom, 2 new, 0 duplicate, 0 updated, 0 rejected",
        "jsonl, 3 new, 0 duplicate, 0 updated, 0 rejected",
    ]


def test_plain_progress_prints_each_line() -> None:
    stream = io.StringIO()
    sink = progress_for(stream)
    assert isinstance(sink, PlainProgress)
    sink.start(2)
    sink.done(InputReport(location="a.xml", ok=True, kind="rss", new=3, duplicate=1))
    sink.done(InputReport(location="b.xml", ok=False, kind=None, error="HTTP 404"))
    sink.close()
    assert stream.getvalue() == (
        "a.xml: rss, 3 new, 1 duplicate, 0 updated, 0 rejected\nb.xml: FAILED: HTTP 404\n"
    )


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_progress_on_a_terminal() -> None:
    stream = FakeTerminal()
    sink = progress_for(stream)
    assert isinstance(sink, BarProgress)
    sink.start(1)
    sink.done(InputReport(location="a.xml", ok=True, kind="atom", new=2))
    sink.close()
    output = stream.getvalue()
    assert "a.xml: atom, 2 new, 0 duplicate, 0 updated, 0 rejected\n" in output
    assert "1/1" in output


def test_report_line_summarises_many_rejections() -> None:
    report = InputReport(
        location="x.jsonl",
        ok=True,
        kind="jsonl",
        new=1,
        rejected=tuple(f"line {n}: not JSON" for n in range(2, 7)),
    )
    assert report.line() == (
        "x.jsonl: jsonl, 1 new, 0 duplicate, 0 updated, 5 rejected "
        "(line 2: not JSON; line 3: not JSON; line 4: not JSON; +2 more)"
    )


def test_parse_batches_does_its_work_on_the_first_next(
    make_doc: Callable[..., SourceDocument], resolver: RecordingResolver
) -> None:
    """Reading, screening and parsing happen when the runner asks for a batch, on its worker
    thread: calling parse_batches itself touches nothing, even for a hostile input."""
    batches = parse_batches(
        make_doc("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><rss/>"),
        resolve_section=resolver,
        now=NOW,
        limits=IngestLimits(),
    )
    with pytest.raises(IngestError, match="declares entities"):
        next(batches)


def section_of(categories: Sequence[str]) -> str:
    """A section resolver that a parsing process can take along (a module-level function)."""
    return "umum"


@dataclass(frozen=True)
class DiesInAnotherProcess:
    """A section resolver that kills the process it runs in unless that is the test's own."""

    parent: int

    def __call__(self, categories: Sequence[str]) -> str:
        if os.getpid() != self.parent:
            os._exit(1)
        return "umum"


MIXED_INPUTS = [
    "feed.xml",
    "billion_laughs.xml",
    "tidak-ada.xml",
    "stories_broken_lines.jsonl",
    "atom.xml",
    "page_without_article.html",
    "feed_missing_title.xml",
    "truncated.xml",
]


async def _ingest_parsing_in(
    locations: list[str],
    processes: int,
    *,
    from_bytes: int = 0,
    resolve_section: Callable[[Sequence[str]], str] = section_of,
) -> tuple[list[InputReport], list[list[ArticleDraft]]]:
    """`ingest_all` of `locations` with `processes` parsing processes, started once the inputs
    read reach `from_bytes`: the reports, and the batches stored."""
    publish = MemoryPublisher()
    reports = await ingest_all(
        locations,
        publish=publish,
        resolve_section=resolve_section,
        now=clock,
        progress=ListProgress(),
        parse_processes=processes,
        parse_elsewhere_bytes=from_bytes,
    )
    return reports, publish.batches


async def test_parsing_in_other_processes_gives_the_same_reports_and_batches(
    fixtures_dir: Path,
) -> None:
    locations = [str(fixtures_dir / name) for name in MIXED_INPUTS]
    here, here_batches = await _ingest_parsing_in(locations, 0)
    pooled, pooled_batches = await _ingest_parsing_in(locations, 2)
    assert pooled == here
    assert pooled_batches == here_batches
    assert [r.ok for r in pooled] == [True, False, False, True, True, False, True, False]
    assert pooled[1].error == "XML declares entities (refused)"
    assert str(pooled[7].error).startswith("truncated XML")


async def test_a_parsing_process_that_dies_loses_no_input(fixtures_dir: Path) -> None:
    locations = [str(fixtures_dir / name) for name in ("feed.xml", "atom.xml", "feed.xml")]
    reports, _ = await _ingest_parsing_in(
        locations, 1, resolve_section=DiesInAnotherProcess(os.getpid())
    )
    # Each input is parsed here instead, once the worker is gone: all of it stored, in order.
    assert [r.ok for r in reports] == [True, True, True]
    assert [(r.new, r.duplicate) for r in reports] == [(4, 0), (2, 0), (0, 4)]


async def test_work_waiting_for_a_closed_set_of_parsing_processes_starts_none() -> None:
    """Once a worker died the ingest closes the set and parses here; a read that was already
    waiting for a worker must not start one that nothing would end."""

    class NeverStarted(ParsingProcesses):
        def _start(self) -> Any:
            raise AssertionError("a worker was started after close")

    processes = NeverStarted(1, preload=[])
    processes.close()
    with pytest.raises(ParsingProcessLostError):
        await processes.run(len, "abc")


async def test_small_inputs_start_no_parsing_process(
    fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A few feeds of the usual size parse in milliseconds: two more processes would cost more
    # memory than they save time. They start once the inputs read reach PARSE_ELSEWHERE_BYTES.
    started: list[int] = []

    class CountedProcesses(ParsingProcesses):
        def __init__(self, processes: int, *, preload: list[str]) -> None:
            started.append(processes)
            super().__init__(processes, preload=preload)

    monkeypatch.setattr(runner, "ParsingProcesses", CountedProcesses)
    locations = [str(fixtures_dir / name) for name in ("feed.xml", "atom.xml", "feed.xml")]
    together = sum(
        await asyncio.gather(
            *(asyncio.to_thread(os.path.getsize, location) for location in locations)
        )
    )
    assert together < runner.PARSE_ELSEWHERE_BYTES
    for threshold, pools in ((runner.PARSE_ELSEWHERE_BYTES, []), (together, [2])):
        reports, _ = await _ingest_parsing_in(locations, 2, from_bytes=threshold)
        assert [(r.ok, r.new, r.duplicate) for r in reports] == [
            (True, 4, 0),
            (True, 2, 0),
            (True, 0, 4),
        ]
        assert started == pools
