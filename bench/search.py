"""How fast /latest answers, and how fast stories are stored, on an archive of N stories.

Usage: .venv/bin/python bench/search.py [--articles 50000] [--batch 500]

Builds a fresh SQLite archive in a temporary directory through the real Newsroom (index and
fan-out included, with 200 subscribed chats), then times /latest through the real dispatcher.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_app
from bot.chat import Command, UserRef
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform

WORDS = [
    "pemerintah",
    "menteri",
    "anggaran",
    "pertahanan",
    "ekonomi",
    "pasar",
    "rupiah",
    "banjir",
    "gempa",
    "pemilu",
    "sekolah",
    "rumah",
    "sakit",
    "presiden",
    "warga",
    "kota",
    "desa",
    "harga",
    "beras",
    "cabai",
    "investasi",
    "pabrik",
    "ekspor",
    "kopi",
    "olahraga",
    "timnas",
    "liga",
    "teknologi",
    "jaringan",
    "startup",
    "film",
    "festival",
    "musik",
    "kesehatan",
    "vaksin",
]
SECTIONS = ("internasional", "nasional", "ekonomi", "olahraga", "teknologi", "hiburan")
QUERIES = (
    "nato",
    "internasional nato",
    "jepang pertahanan",
    "harga beras",
    "pemerintah",
    "",
    "ekonomi",
    "kata yang tidak ada sama sekali",
)


def _story(rng: random.Random, number: int, start: datetime) -> ArticleDraft:
    words = rng.choices(WORDS, k=80)
    if number % 500 == 0:
        words += ["NATO", "Jepang"]
    title = " ".join(rng.choices(WORDS, k=7)).capitalize()
    return ArticleDraft(
        identity=f"bench:{number}",
        title=title,
        body=" ".join(words),
        section=rng.choice(SECTIONS),
        # Published out of order, as archives and late feeds are.
        published_at=start - timedelta(minutes=rng.randrange(0, 60 * 24 * 365)),
    )


async def main(articles: int, batch: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, database=str(Path(directory) / "bench.db"))  # type: ignore[call-arg]
        async with open_app(settings) as app:
            for chat in range(200):
                await app.storage.subscriptions.subscribe(
                    ChatRef(Platform.TELEGRAM, str(chat)),
                    [SECTIONS[chat % len(SECTIONS)]],
                    now=datetime.now(UTC),
                )
            start = datetime.now(UTC)
            began = time.perf_counter()
            for first in range(0, articles, batch):
                drafts = [
                    _story(rng, n, start) for n in range(first, min(first + batch, articles))
                ]
                await app.deps.newsroom.publish(drafts)
            elapsed = time.perf_counter() - began
            print(f"stored {articles} stories in {elapsed:.1f} s ({articles / elapsed:.0f}/s)")
            size = Path(settings.database).stat().st_size / 1e6  # noqa: ASYNC240 - once, after timing
            print(f"database size {size:.0f} MB")
            for query in QUERIES:
                timings = []
                for _ in range(30):
                    command = Command(
                        name="latest",
                        args=query,
                        chat=ChatRef(Platform.CONSOLE, "bench"),
                        user=UserRef("bench"),
                    )
                    t0 = time.perf_counter()
                    await app.dispatcher.dispatch(command)
                    timings.append((time.perf_counter() - t0) * 1000)
                timings.sort()
                median = statistics.median(timings)
                p95 = timings[int(len(timings) * 0.95) - 1]
                label = query or "(no words)"
                print(f"/latest {label:<34} median {median:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    options = parser.parse_args()
    asyncio.run(main(options.articles, options.batch))
