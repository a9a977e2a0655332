"""A broadcast through the real Discord adapter against a fake Discord that enforces its limits.

Usage: .venv/bin/python bench/discord_broadcast.py [--channels 1000] [--stories 1]
       [--rates 25,40,50] [--latency 0.05] [--json PATH]

The Discord here is the tests' fake (`tests/adapters/fake_discord.py`) with Discord's limits on:
50 requests in any second for the bot, and 5 messages per 5 s in one channel (announced in the
X-RateLimit headers, as Discord does); a request over a limit gets 429 with `retry_after`. Each
request takes `--latency` seconds, like a round trip to Discord.

The bot's pacing (NEWSBOT_DISCORD_SENDS_PER_SECOND) is run at several settings in one process:
the default 25/s and faster. For each: messages per second, as a fraction of the pacing and of
Discord's 50/s, the 429 answers, and the most requests seen in any one second; then the table
of bench/report.py.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

# The fake Discord lives with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, add_json_option, publish
from bot.app import open_app
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform
from tests.adapters.fake_discord import DEFAULT_TOKEN, FakeDiscord, point_discord_at

DISCORD_REQUESTS_PER_SECOND = 50
CHANNEL_LIMIT = (5, 5.0)
CHANNELS_PER_GUILD = 100
FIRST_GUILD = 930_000_000_000_000_000
FIRST_CHANNEL = 940_000_000_000_000_000


async def broadcast(
    directory: Path, *, channels: int, stories: int, rate: float, latency: float
) -> dict[str, float]:
    """One broadcast of `stories` to `channels` channels at pacing `rate`; its figures."""
    fake = FakeDiscord(
        global_limit_per_second=DISCORD_REQUESTS_PER_SECOND,
        channel_limit=CHANNEL_LIMIT,
        latency=latency,
    )
    channel_ids = [FIRST_CHANNEL + n for n in range(channels)]
    for start in range(0, channels, CHANNELS_PER_GUILD):
        guild = fake.add_guild(FIRST_GUILD + start, f"Server {start}", owner_id=FIRST_GUILD - 1)
        for channel_id in channel_ids[start : start + CHANNELS_PER_GUILD]:
            guild.add_text_channel(channel_id, f"berita-{channel_id % 10_000}")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(directory / f"broadcast-{rate:g}.db"),
        discord_token=SecretStr(DEFAULT_TOKEN),
        discord_sends_per_second=rate,
    )
    async with fake:
        settings = settings.model_copy(update={"discord_api_url": fake.api_base})
        with point_discord_at(fake):
            async with open_app(settings) as app:
                for channel_id in channel_ids:
                    await app.storage.subscriptions.subscribe(
                        ChatRef(Platform.DISCORD, str(channel_id)), ["nasional"], now=app.clock()
                    )
                adapter = app.discord_adapter()
                async with adapter:
                    worker = app.delivery_worker(adapter)
                    drafts = [
                        ArticleDraft(
                            identity=f"bench:discord:{number}",
                            title=f"Pengumuman {number}: libur nasional digeser ke hari Senin",
                            body="Pemerintah menggeser libur nasional.",
                            section="nasional",
                            published_at=app.clock(),
                        )
                        for number in range(stories)
                    ]
                    expected = channels * stories
                    stop = asyncio.Event()
                    before = len(fake.calls)
                    started = time.monotonic()
                    running = asyncio.create_task(worker.run(stop))
                    await app.deps.newsroom.publish(drafts)
                    # The database has no event to wait on: look ten times a second.
                    while (  # noqa: ASYNC110
                        await app.storage.outbox.status_counts()
                    ).get("sent", 0) < expected:
                        await asyncio.sleep(0.1)
                    elapsed = time.monotonic() - started
                    stop.set()
                    await running
                    sends = [call for call in fake.calls[before:] if call.method == "POST"]
    return {
        "channels": channels,
        "messages": expected,
        "requests": len(sends),
        "seconds": elapsed,
        "per_second": expected / elapsed,
        "refused_429": fake.rate_limited,
        "peak_in_any_second": fake.peak_requests_per_second(method="POST"),
        "of_pacing": expected / elapsed / rate,
        "of_discord": expected / elapsed / DISCORD_REQUESTS_PER_SECOND,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--stories", type=int, default=1, help="stories pushed at once to every channel"
    )
    parser.add_argument(
        "--rates", default="25,40,50", help="the bot's pacing settings to compare, comma-separated"
    )
    add_json_option(parser)
    arguments = parser.parse_args()
    rows = []
    print(
        f"# {platform.node()}: Python {platform.python_version()}, {platform.machine()}; "
        f"fake Discord: {DISCORD_REQUESTS_PER_SECOND} requests/s, "
        f"{CHANNEL_LIMIT[0]} messages per {CHANNEL_LIMIT[1]:g} s per channel, "
        f"{arguments.latency * 1000:.0f} ms per request"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for rate in [float(rate) for rate in arguments.rates.split(",")]:
            figures = await broadcast(
                Path(scratch),
                channels=arguments.channels,
                stories=arguments.stories,
                rate=rate,
                latency=arguments.latency,
            )
            print(
                f"pacing {rate:g}/s: {figures['messages']:.0f} messages to "
                f"{figures['channels']:.0f} channels in {figures['seconds']:.1f} s "
                f"= {figures['per_second']:.1f} msg/s ({figures['of_pacing']:.3f} of the pacing, "
                f"{figures['of_discord']:.3f} of Discord's 50/s); "
                f"requests: {figures['requests']:.0f}; 429 answers: {figures['refused_429']:.0f}; "
                f"most requests in any one second: {figures['peak_in_any_second']:.0f}"
            )
            rows.append(
                Row(
                    "discord broadcast",
                    f"pacing {rate:g}/s: fraction of the pacing",
                    f"{figures['messages']:,.0f} messages, {figures['channels']:,.0f} channels",
                    figures["of_pacing"],
                    "",
                    note=(
                        f"{figures['per_second']:.1f} msg/s = {figures['of_discord']:.3f} of "
                        f"Discord's 50/s; 429: {figures['refused_429']:.0f}; most in one second: "
                        f"{figures['peak_in_any_second']:.0f}"
                    ),
                )
            )
    publish(rows, title=__doc__.splitlines()[0], json_path=arguments.json)


if __name__ == "__main__":
    asyncio.run(main())
