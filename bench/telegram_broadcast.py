"""A broadcast through the real Telegram adapter against a Bot API that enforces Telegram's limits.

Usage: .venv/bin/python bench/telegram_broadcast.py [--private 540] [--groups 60] [--latency 0.05]

The Bot API here is the tests' fake (`tests/adapters/fake_bot_api.py`), with Telegram's documented
flood limits added: at most 30 messages in any second overall, 1 per second to a private chat, 20
per minute to a group. A send over a limit gets 429 with `retry_after`, as Telegram answers. Each
request takes `--latency` seconds, like a round trip to Telegram.

The bot's pacing is run at several settings in one process: the default (28/s), Telegram's
nominal 30/s, and twice that; the figures show what the pacing, and its margin, buy.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

# The fake Bot API lives with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import open_app
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform
from tests.adapters.fake_bot_api import TOKEN, ApiError, FakeBotApi
from tests.adapters.telegram_harness import make_adapter


@dataclass
class RateLimitedBotApi(FakeBotApi):
    """The fake Bot API, refusing sends over Telegram's limits with 429."""

    global_per_second: int = 30
    group_per_minute: int = 20
    refused: int = 0
    send_times: list[float] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)

    def _check_send(self, params: dict[str, Any]) -> int:
        chat_id = super()._check_send(params)
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        window, allowed = (1.0, 1) if chat_id > 0 else (60.0, self.group_per_minute)
        chat_sends = self._per_chat.setdefault(chat_id, deque())
        while chat_sends and now - chat_sends[0] >= window:
            chat_sends.popleft()
        waits = []
        if len(self._recent) >= self.global_per_second:
            waits.append(1.0 - (now - self._recent[0]))
        if len(chat_sends) >= allowed:
            waits.append(window - (now - chat_sends[0]))
        if waits:
            self.refused += 1
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self._recent.append(now)
        chat_sends.append(now)
        self.send_times.append(now)
        return chat_id


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
    times = api.send_times
    peak = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    return {
        "chats": len(chats),
        "messages": expected,
        "seconds": elapsed,
        "per_second": expected / elapsed,
        "refused_429": api.refused,
        "peak_in_any_second": peak,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=540)
    parser.add_argument("--groups", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--stories", type=int, default=1, help="stories pushed at once to every chat"
    )
    parser.add_argument(
        "--rates", default="28,30,60", help="the bot's pacing settings to compare, comma-separated"
    )
    arguments = parser.parse_args()
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
                f"= {figures['per_second']:.1f} msg/s; 429 answers: {figures['refused_429']:.0f}; "
                f"most sends in any one second: {figures['peak_in_any_second']:.0f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
