"""Ingest end to end from RSS files, and storing alone; beside the `reader` feed library.

Usage: .venv/bin/python bench/ingest.py [--files 50] [--per-file 2000] [--batch 2000]
       [--searches 50] [--json PATH]

The generated stories (bench/corpus.py) are written as FILES RSS files of PER_FILE items. Timed:
- ingest, as an operator runs it: `newsbot ingest FILE...` (the real CLI, in its own process,
  start-up included) on a fresh database; stories stored per second;
- storing alone: the same stories as already-built drafts, published through the app's publish
  path (index and fan-out included) in batches of BATCH; stories per second;
- the peer, `reader` (pip install -e '.[bench]'): the same files added as local feeds, then
  `update_feeds()` and `update_search()`; stories per second;
- a few searches on both archives, newest five first: our /latest through the dispatcher,
  reader's `search_entries(query, sort="recent")`; median milliseconds over SEARCHES runs.
Without reader installed, its rows say so and ours still run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# Run from anywhere, this script finds the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import draft, stories, write_feeds
from bench.queries import Shape, shapes
from bench.report import Row, add_json_option, at_least, publish
from bot.app import open_app
from bot.chat import Command, UserRef
from bot.settings import Settings
from storage.models import ChatRef, Platform

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = "ingest"
# The peer's search is compared on these of the /latest shapes (it has no sections).
COMPARED_SHAPES = ("rare word", "common word", "two words")
# reader takes seconds per search on a large archive: its runs stop early, after at least 3.
SECONDS_PER_SEARCH = 5.0


def newsbot_env(database: Path) -> dict[str, str]:
    """This environment without any NEWSBOT_ setting, on `database`, quiet."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSBOT_")}
    return env | {"NEWSBOT_DATABASE": str(database), "NEWSBOT_LOG_LEVEL": "WARNING"}


def ingest_with_cli(files: list[Path], database: Path) -> tuple[int, float]:
    """`newsbot ingest FILES` on a fresh `database`: stories stored, seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", *map(str, files)],
        env=newsbot_env(database),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"newsbot ingest failed ({result.returncode}):\n{result.stderr}")
    # The totals line: "<database>: 100000 new, 0 duplicate, ..."
    totals = re.search(r"(\d+) new\b", result.stdout.strip().splitlines()[-1])
    if totals is None:
        raise SystemExit(f"no totals line in newsbot ingest's output:\n{result.stdout}")
    return int(totals.group(1)), seconds


async def store_drafts(count: int, now: datetime, database: Path, batch: int) -> float:
    """The `count` stories as drafts, published in batches on a fresh database: seconds."""
    drafts = [draft(story) for story in stories(count, now=now)]
    settings = Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]  # init-only option
    async with open_app(settings) as app:
        started = time.perf_counter()
        for first in range(0, count, batch):
            await app.deps.newsroom.publish(drafts[first : first + batch])
        return time.perf_counter() - started


def median_ms(run: Callable[[], object], times: int) -> float:
    """The median of `times` runs, or of as many as SECONDS_PER_SEARCH allows (at least 3)."""
    timings: list[float] = []
    began = time.perf_counter()
    while len(timings) < times and (
        len(timings) < 3 or time.perf_counter() - began < SECONDS_PER_SEARCH
    ):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def our_searches(database: Path, queries: list[Shape], times: int) -> dict[str, float]:
    """Median ms of /latest through the dispatcher, per shape, on the ingested archive."""
    settings = Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]  # init-only option
    medians = {}
    async with open_app(settings) as app:
        for shape in queries:
            command = Command(
                name="latest",
                args=shape.args,
                chat=ChatRef(Platform.CONSOLE, "bench"),
                user=UserRef("bench"),
            )
            await app.dispatcher.dispatch(command)  # once, untimed: the warm figure is wanted
            timings = []
            for _ in range(times):
                started = time.perf_counter()
                await app.dispatcher.dispatch(command)
                timings.append((time.perf_counter() - started) * 1000)
            medians[shape.name] = statistics.median(timings)
    return medians


def peer(
    files: list[Path], database: Path, queries: list[Shape], times: int
) -> tuple[int, float, dict[str, float]] | None:
    """reader on the same files: stories stored, seconds, median search ms per shape; None when
    reader is not installed."""
    try:
        from reader import make_reader  # noqa: PLC0415 - optional: only with the bench extra
    except ImportError:
        return None
    reader = make_reader(str(database), feed_root=str(files[0].parent))
    try:
        for path in files:
            reader.add_feed(path.name)
        started = time.perf_counter()
        reader.update_feeds()
        reader.update_search()
        seconds = time.perf_counter() - started
        stored = reader.get_entry_counts().total or 0
        medians = {}
        for shape in queries:

            def search(query: str = shape.args) -> object:
                return list(reader.search_entries(query, sort="recent", limit=5))

            search()
            medians[shape.name] = median_ms(search, times)
    finally:
        reader.close()
    return stored, seconds, medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--per-file", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=2_000, help="drafts per publish")
    parser.add_argument("--searches", type=int, default=50, help="timed runs of each search")
    add_json_option(parser)
    arguments = parser.parse_args()
    total = arguments.files * arguments.per_file
    size = f"{total:,} stories"
    now = datetime.now(UTC)
    queries = [shape for shape in shapes(stories(5_000)) if shape.name in COMPARED_SHAPES]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        feeds = work / "feeds"
        feeds.mkdir()
        print(f"writing {arguments.files} RSS files of {arguments.per_file} items", flush=True)
        files = write_feeds(feeds, files=arguments.files, per_file=arguments.per_file, now=now)
        print("newsbot ingest ...", flush=True)
        stored, cli_seconds = ingest_with_cli(files, work / "ingest.db")
        print("storing drafts ...", flush=True)
        store_seconds = asyncio.run(store_drafts(total, now, work / "store.db", arguments.batch))
        ours_search = asyncio.run(our_searches(work / "ingest.db", queries, arguments.searches))
        print("reader ...", flush=True)
        theirs = peer(files, work / "reader.db", queries, arguments.searches)
    ours_rate = stored / cli_seconds
    rows = [
        Row(
            BENCHMARK,
            "ingest: newsbot ingest (CLI, RSS files)",
            f"{stored:,} stories, {arguments.files} files",
            ours_rate,
            "stories/s",
            peer=theirs[0] / theirs[1] if theirs else None,
            target=">= 5x reader, >= 5,000/s",
            met=(
                at_least(ours_rate, 5_000)
                if theirs is None
                else ours_rate >= 5_000 and ours_rate >= 5 * theirs[0] / theirs[1]
            ),
            note=(
                "reader not installed: pip install -e '.[bench]'"
                if theirs is None
                else f"{cli_seconds:.1f} s vs reader {theirs[1]:.1f} s ({theirs[0]:,} entries)"
            ),
        ),
        Row(
            BENCHMARK,
            f"storing alone: publish, batches of {arguments.batch:,}",
            size,
            total / store_seconds,
            "stories/s",
            target=">= 50,000/s",
            met=at_least(total / store_seconds, 50_000),
            note=f"{store_seconds:.1f} s",
        ),
    ]
    for shape in queries:
        rows.append(
            Row(
                BENCHMARK,
                f"search, newest 5: {shape.name}",
                size,
                ours_search[shape.name],
                "ms",
                peer=theirs[2][shape.name] if theirs else None,
                note=f"{shape.args!r}: median of warm runs",
            )
        )
    publish(rows, title=f"{BENCHMARK}: {__doc__.splitlines()[0]}", json_path=arguments.json)


if __name__ == "__main__":
    main()
