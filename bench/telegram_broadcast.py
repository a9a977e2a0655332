"""A broadcast through the real Telegram adapter against a Bot API that enforces Telegram's limits.

Usage: .venv/bin/python bench/telegram_broadcast.py [--private 1800] [--groups 200]
       [--stories 1] [--rates 28,29,30] [--latency 0.05] [--json PATH]

The Bot API here is the tests' fake (`tests/adapters/rate_limited_bot_api.py`): Telegram's
documented flood limits, at most 30 messages in any second overall, 1 per second to a private
chat, 20 per minute to a group; a send over a limit gets 429 with `retry_after`, as Telegram
answers. Each request takes `--latency` seconds, like a round trip to Telegram.

The bot's pacing is run at several settings in one process: 28/s, the default (29/s) and
Telegram's nominal 30/s. For each: messages per second, as a fraction of the pacing (how much of
its budget the scheduler uses) and of Telegram's 30/s, the 429 answers, and the most sends seen
in any one second; then the table of bench/report.py (target: at least 0.95 of Telegram's 30/s
with no 429).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

# The fake Bot API lives with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, add_json_option, publish
from bot.app import open_app
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform
from tests.adapters.fake_bot_api import TOKEN
from tests.adapters.rate_limited_bot_api import RateLimitedBotApi
from tests.adapters.telegram_harness import make_adapter


async def broadcast(
    directory: Path, *, private: int, groups: int, stories: int, rate: float, latency: float
) -> dict[str, float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(directory / f"broadcast-{rate:g}.db"),
        telegram_token=SecretStr(TOKEN),
        telegram_sends_per_second=rate,
    )
    api = RateLimitedBotApi()
    async with open_app(settings) as app:
        chats = [ChatRef(Platform.TELEGRAM, str(10_000 + n)) for n in range(private)]
        chats += [ChatRef(Platform.TELEGRAM, str(-1_001_000_000_000 - n)) for n in range(groups)]
        for chat in chats:
            await app.storage.subscriptions.subscribe(chat, ["nasional"], now=app.clock())
        adapter = make_adapter(app, api, latency=latency)
        async with adapter:
            worker = app.delivery_worker(adapter)
            drafts = [
                ArticleDraft(
                    identity=f"bench:broadcast:{number}",
                    title=f"Pengumuman {number}: libur nasional digeser ke hari Senin",
                    body="Pemerintah menggeser libur nasional.",
                    section="nasional",
                    published_at=app.clock(),
                )
                for number in range(stories)
            ]
            expected = len(chats) * stories
            stop = asyncio.Event()
            started = time.monotonic()
            running = asyncio.create_task(worker.run(stop))
            await app.deps.newsroom.publish(drafts)
            # The database has no event to wait on: look ten times a second.
            while (await app.storage.outbox.status_counts()).get("sent", 0) < expected:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started
            stop.set()
            await running
    return {
        "chats": len(chats),
        "messages": expected,
        "seconds": elapsed,
        "per_second": expected / elapsed,
        "refused_429": api.refused,
        "peak_in_any_second": api.most_in_any_second(),
        # How much of the budget the scheduler used: its own pacing, and Telegram's 30/s.
        "of_pacing": expected / elapsed / rate,
        "of_telegram": expected / elapsed / api.global_per_second,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=1_800)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--stories", type=int, default=1, help="stories pushed at once to every chat"
    )
    parser.add_argument(
        "--rates", default="28,29,30", help="the bot's pacing settings to compare, comma-separated"
    )
    add_json_option(parser)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for rate in [float(rate) for rate in arguments.rates.split(",")]:
            figures = await broadcast(
                Path(scratch),
                private=arguments.private,
                groups=arguments.groups,
                stories=arguments.stories,
                rate=rate,
                latency=arguments.latency,
            )
            print(
                f"pacing {rate:g}/s: {figures['messages']:.0f} messages to {figures['chats']:.0f} "
                f"chats in {figures['seconds']:.1f} s "
                f"= {figures['per_second']:.1f} msg/s ({figures['of_pacing']:.3f} of the pacing, "
                f"{figures['of_telegram']:.3f} of Telegram's 30/s); "
                f"429 answers: {figures['refused_429']:.0f}; "
                f"most sends in any one second: {figures['peak_in_any_second']:.0f}"
            )
            rows.append(
                Row(
                    "telegram broadcast",
                    f"pacing {rate:g}/s: fraction of Telegram's 30/s",
                    f"{figures['messages']:,.0f} messages, {figures['chats']:,.0f} chats",
                    figures["of_telegram"],
                    "",
                    target=">= 0.95, no 429",
                    met=figures["of_telegram"] >= 0.95 and figures["refused_429"] == 0,
                    note=(
                        f"{figures['per_second']:.1f} msg/s, {figures['of_pacing']:.3f} of the "
                        f"pacing; 429: {figures['refused_429']:.0f}; most in one second: "
                        f"{figures['peak_in_any_second']:.0f}"
                    ),
                )
            )
    publish(rows, title=__doc__.splitlines()[0], json_path=arguments.json)


if __name__ == "__main__":
    asyncio.run(main())
