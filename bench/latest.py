"""/latest on a large archive: warm p50/p99 and the first query after opening, per query shape.

Usage: .venv/bin/python bench/latest.py [--stories 1000000] [--batch 20000] [--queries 200]
       [--json PATH]

Builds a fresh database of STORIES generated stories (bench/corpus.py) through the app's
publish path, in batches of BATCH (build rate and file size reported), then times /latest
through the dispatcher, the code path every platform's readers go through, for each shape of
bench/queries.py: QUERIES warm runs (p50, p99), and one query on a connection just opened on
the file (the app opened anew; the file itself stays in the OS page cache). Last, the resident
memory of a real `newsbot run` on the archive after it answered a /latest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# Run from anywhere, this script finds the project (and the tests' fake Telegram).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import draft, stories
from bench.newsbot_run import run_memory
from bench.queries import Shape, shapes
from bench.report import Row, add_json_option, at_most, publish
from bot.app import open_app
from bot.chat import Command, UserRef
from bot.settings import Settings
from storage.models import ChatRef, Platform

BENCHMARK = "latest"
# A shape whose runs take longer than this in all stops early: its figures come from fewer runs.
SECONDS_PER_SHAPE = 20.0


def _settings(database: Path) -> Settings:
    return Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]  # init-only option


def _command(shape: Shape) -> Command:
    return Command(
        name="latest", args=shape.args, chat=ChatRef(Platform.CONSOLE, "bench"), user=UserRef("b")
    )


async def build(database: Path, count: int, batch: int) -> float:
    """`count` stories published in batches: seconds spent publishing (not generating)."""
    generated = stories(count, now=datetime.now(UTC))
    publishing = 0.0
    async with open_app(_settings(database)) as app:
        for done in itertools.count(batch, batch):
            drafts = [draft(story) for story in itertools.islice(generated, batch)]
            if not drafts:
                break
            started = time.perf_counter()
            await app.deps.newsroom.publish(drafts)
            publishing += time.perf_counter() - started
            if done % 100_000 == 0:
                print(f"  {done:,} stored, {done / publishing:,.0f}/s", flush=True)
    return publishing


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


async def warm(database: Path, queries: list[Shape], runs: int) -> dict[str, list[float]]:
    """Milliseconds of each run of each shape, sorted, on one open app."""
    timings: dict[str, list[float]] = {}
    async with open_app(_settings(database)) as app:
        for shape in queries:
            command = _command(shape)
            await app.dispatcher.dispatch(command)  # untimed: this is the warm figure
            taken = []
            began = time.perf_counter()
            while len(taken) < runs and time.perf_counter() - began < SECONDS_PER_SHAPE:
                started = time.perf_counter()
                await app.dispatcher.dispatch(command)
                taken.append((time.perf_counter() - started) * 1000)
            timings[shape.name] = sorted(taken)
    return timings


async def first_after_open(database: Path, shape: Shape) -> float:
    """Milliseconds of one /latest on an app just opened (a fresh connection)."""
    async with open_app(_settings(database)) as app:
        started = time.perf_counter()
        await app.dispatcher.dispatch(_command(shape))
        return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000, help="drafts per publish")
    parser.add_argument("--queries", type=int, default=200, help="warm runs per shape")
    add_json_option(parser)
    arguments = parser.parse_args()
    size = f"{arguments.stories:,} stories"
    queries = shapes(stories(5_000))
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "latest.db"
        print(f"building {size} in batches of {arguments.batch:,}", flush=True)
        publishing = asyncio.run(build(database, arguments.stories, arguments.batch))
        megabytes = sum(path.stat().st_size for path in database.parent.iterdir()) / 1e6
        print("timing /latest", flush=True)
        timings = asyncio.run(warm(database, queries, arguments.queries))
        firsts = {shape.name: asyncio.run(first_after_open(database, shape)) for shape in queries}
        memory = run_memory(database, query=queries[0].args)
    rows = [
        Row(
            BENCHMARK,
            f"build: publish in batches of {arguments.batch:,}",
            size,
            arguments.stories / publishing,
            "stories/s",
            note=f"{publishing:.0f} s publishing",
        ),
        Row(
            BENCHMARK,
            "database file per 1,000,000 stories",
            size,
            megabytes * 1_000_000 / arguments.stories,
            "MB",
            note=f"{megabytes:,.0f} MB in all",
        ),
    ]
    for shape in queries:
        taken = timings[shape.name]
        p99 = _percentile(taken, 0.99)
        share = f"; matches {shape.share:.1%} of stories" if shape.share is not None else ""
        rows.append(
            Row(
                BENCHMARK,
                f"/latest warm p99: {shape.name}",
                size,
                p99,
                "ms",
                target="<= 1 ms",
                met=at_most(p99, 1.0),
                note=(
                    f"{shape.args!r}: p50 {_percentile(taken, 0.50):.2f} ms, first after open "
                    f"{firsts[shape.name]:.2f} ms; {len(taken)} runs{share}"
                ),
            )
        )
    rows += [
        Row(
            BENCHMARK,
            "newsbot run resident memory (VmRSS) after /latest",
            size,
            memory.rss_mb,
            "MB",
            note=f"answered {memory.answered_after:.1f} s after start",
        ),
        Row(BENCHMARK, "newsbot run peak memory (VmHWM)", size, memory.peak_mb, "MB"),
    ]
    publish(rows, title=f"{BENCHMARK}: {__doc__.splitlines()[0]}", json_path=arguments.json)


if __name__ == "__main__":
    main()
