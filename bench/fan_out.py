"""Fan-out of one story to many chats: time until its pushes are queued, and flat memory.

Usage: .venv/bin/python bench/fan_out.py [--chats 100000] [--json PATH]

CHATS Telegram chats subscribe to one section through the real subscription repository (a
tenth of them to a second section as well). One story published in the first section through
the app's publish path is timed until its CHATS outbox rows are all written (publish may
return before a fan-out done in the background: the outbox is watched until it is complete).
Memory: this process's resident memory before and after that story, and the peak of Python
allocations (tracemalloc) while a story fans out to a tenth of the chats and to all of them:
flat means the second is not ten times the first. Last, the resident memory of a real
`newsbot run` on this database (its chats and their queued pushes) after it answered /latest.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# Run from anywhere, this script finds the project (and the tests' fake Telegram).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.newsbot_run import run_memory
from bench.report import Row, add_json_option, at_most, publish
from bot.app import App, open_app
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform

BENCHMARK = "fan-out"
SECTION = "nasional"
# A tenth of the chats also take this one: the same fan-out at a tenth of the size.
SMALL_SECTION = "ekonomi"
FIRST_CHAT = 600_000_000
# The longest to wait for a fan-out to be complete.
WITHIN_SECONDS = 600.0


def _resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _queued(app: App, article_id: int) -> int:
    return sum(tally.count for tally in await app.storage.outbox.tally(article_id))


async def fan_out(app: App, number: int, section: str, expected: int) -> float:
    """Publish story `number` in `section`; seconds until its `expected` pushes are queued."""
    story = ArticleDraft(
        identity=f"bench:fan-out:{number}",
        title=f"Pengumuman {number}: jadwal layanan publik berubah pekan depan",
        body="Pemerintah mengubah jadwal layanan publik mulai pekan depan.",
        section=section,
        published_at=app.clock(),
    )
    started = time.perf_counter()
    [result] = await app.deps.newsroom.publish([story])
    # Done when publish says so; a fan-out left to the background is watched in the outbox
    # (the database has no event to wait on: look often, it is expected within a second).
    while result.queued < expected and await _queued(app, result.article_id) < expected:
        if time.perf_counter() - started > WITHIN_SECONDS:
            raise SystemExit(f"story {number} never reached its {expected} chats")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def measure(database: Path, chats: int) -> dict[str, float]:
    settings = Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]  # init-only option
    small = chats // 10
    async with open_app(settings) as app:
        started = time.perf_counter()
        for number in range(chats):
            sections = [SECTION, SMALL_SECTION] if number < small else [SECTION]
            chat = ChatRef(Platform.TELEGRAM, str(FIRST_CHAT + number))
            await app.storage.subscriptions.subscribe(chat, sections, now=app.clock())
        subscribing = time.perf_counter() - started
        resident_before = _resident_mb()
        seconds = await fan_out(app, 1, SECTION, chats)
        resident_after = _resident_mb()
        tracemalloc.start()
        try:
            await fan_out(app, 2, SMALL_SECTION, small)
            _, small_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            await fan_out(app, 3, SECTION, chats)
            _, full_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return {
        "subscribing": subscribing,
        "seconds": seconds,
        "resident_before": resident_before,
        "resident_after": resident_after,
        "small_peak": small_peak / 1e6,
        "full_peak": full_peak / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    add_json_option(parser)
    arguments = parser.parse_args()
    chats = arguments.chats
    size = f"1 story, {chats:,} chats"
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "fan-out.db"
        print(f"subscribing {chats:,} chats, then fanning out", flush=True)
        figures = asyncio.run(measure(database, chats))
        memory = run_memory(database)
    growth = figures["resident_after"] - figures["resident_before"]
    flat = figures["full_peak"] <= 2 * figures["small_peak"] + 1
    rows = [
        Row(
            BENCHMARK,
            "one story until its outbox rows are all written",
            size,
            figures["seconds"],
            "s",
            target="<= 0.3 s",
            met=at_most(figures["seconds"], 0.3),
            note=f"{chats / figures['seconds']:,.0f} rows/s",
        ),
        Row(
            BENCHMARK,
            "resident memory growth (VmRSS after - before)",
            size,
            growth,
            "MB",
            note=f"{figures['resident_before']:.0f} -> {figures['resident_after']:.0f} MB",
        ),
        Row(
            BENCHMARK,
            "peak Python allocation during fan-out (tracemalloc)",
            size,
            figures["full_peak"],
            "MB",
            target="flat: <= 2x the tenth's + 1 MB",
            met=flat,
            note=f"{figures['small_peak']:.2f} MB for {chats // 10:,} chats",
        ),
        Row(
            BENCHMARK,
            "subscribing, one chat at a time (repository)",
            f"{chats:,} chats",
            chats / figures["subscribing"],
            "chats/s",
        ),
        Row(
            BENCHMARK,
            "newsbot run resident memory (VmRSS) after /latest",
            f"{chats:,} chats, {2 * chats + chats // 10:,} pushes queued",
            memory.rss_mb,
            "MB",
            note=f"peak (VmHWM) {memory.peak_mb:.0f} MB; answered {memory.answered_after:.1f} s"
            " after start",
        ),
    ]
    publish(rows, title=f"{BENCHMARK}: {__doc__.splitlines()[0]}", json_path=arguments.json)


if __name__ == "__main__":
    main()
