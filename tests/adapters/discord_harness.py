"""The bot's real Discord adapter (discord.py) against a `FakeDiscord`, as tests drive it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter
from bot.app import App, open_app, utc_now
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_discord import (
    DEFAULT_TOKEN,
    FakeDiscord,
    FakeGuild,
    InteractionRecord,
    Perm,
    point_discord_at,
)
from tests.support import draft

GUILD = 910_000_000_000_000_001
OWNER = 910_000_000_000_000_002
EDITOR = 910_000_000_000_000_003  # Manage Channels in the server
READER = 910_000_000_000_000_004  # no special permission
ADMIN = 910_000_000_000_000_005  # a bot admin (NEWSBOT_ADMINS), Manage Server
NEWS = 910_000_000_000_000_010  # an announcement channel
GENERAL = 910_000_000_000_000_011
PLAIN = 910_000_000_000_000_012  # the bot may send but not embed links
SPORTS = 910_000_000_000_000_013
DM_CHANNEL = 910_000_000_000_000_099


def build_world(fake: FakeDiscord) -> FakeGuild:
    """One server, "Redaksi": #berita (announcements), #umum, #teks and #olahraga."""
    guild = fake.add_guild(GUILD, "Redaksi", owner_id=OWNER)
    guild.add_text_channel(NEWS, "berita", news=True)
    guild.add_text_channel(GENERAL, "umum")
    guild.add_text_channel(PLAIN, "teks", bot_deny=Perm.EMBED_LINKS)
    guild.add_text_channel(SPORTS, "olahraga")
    guild.add_member(EDITOR, "redaktur", permissions=Perm.MANAGE_CHANNELS)
    guild.add_member(READER, "pembaca")
    guild.add_member(ADMIN, "pemred", permissions=Perm.MANAGE_GUILD | Perm.MANAGE_CHANNELS)
    return guild


def discord_settings(base: Settings, fake: FakeDiscord, **changes: object) -> Settings:
    """`base` with the fake Discord's token and address (and fast pacing unless a test sets
    its own)."""
    update: dict[str, object] = {
        "discord_token": SecretStr(DEFAULT_TOKEN),
        "discord_api_url": fake.api_base,
        "discord_sends_per_second": 1000.0,
        "discord_channel_sends_per_second": 100.0,
        "admins": frozenset({f"discord:{ADMIN}"}),
    }
    update.update(changes)
    return base.model_copy(update=update)


@dataclass
class DiscordHarness:
    """The running bot and the fake Discord it talks to."""

    fake: FakeDiscord
    app: App
    adapter: DiscordAdapter
    serving: asyncio.Task[None]

    async def command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel: int = GENERAL,
        user: int = READER,
        **kwargs: Any,
    ) -> InteractionRecord:
        """Run `/name` with `options` as `user` in `channel`, and wait for its first answer."""
        record = await self.fake.interaction(
            channel_id=channel, user_id=user, command=name, options=options or {}, **kwargs
        )
        await record.wait_response()
        return record

    async def publish(self, title: str, **options: Any) -> int:
        """Store a story as ingest would (fan-out included), published now; its id."""
        options.setdefault("published_at", self.app.clock())
        [result] = await self.app.deps.newsroom.publish([draft(title, **options)])
        return result.article_id

    async def sections_of(self, channel: int) -> list[str]:
        return await self.app.storage.subscriptions.sections_of(
            ChatRef(Platform.DISCORD, str(channel))
        )

    async def subscribe(self, channel: int, *sections: str) -> None:
        """Subscribe `channel` as storage does (no command)."""
        await self.app.storage.subscriptions.subscribe(
            ChatRef(Platform.DISCORD, str(channel)), sections, now=self.app.clock()
        )

    async def outbox_becomes(self, expected: dict[str, int], *, within: float = 10.0) -> None:
        """Wait until the outbox's status counts are `expected`."""
        async with asyncio.timeout(within):
            # The outbox signals nothing: poll it.
            while await self.app.storage.outbox.status_counts() != expected:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


async def eventually(condition: Callable[[], object], within: float = 10.0) -> None:
    """Wait until `condition()` is true; AssertionError after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still false after {within}s")


@asynccontextmanager
async def running_discord(settings: Settings, fake: FakeDiscord) -> AsyncIterator[DiscordHarness]:
    """`newsbot run` with Discord alone, in this event loop, against `fake`."""
    with point_discord_at(fake):
        async with open_app(settings, clock=utc_now) as app:
            adapter = app.discord_adapter()
            stop = asyncio.Event()
            serving = asyncio.create_task(app.serve(adapter, stop=stop))
            try:
                await eventually(
                    lambda: serving.done() or adapter.client.get_guild(GUILD) is not None
                )
                if serving.done():
                    serving.result()
                yield DiscordHarness(fake=fake, app=app, adapter=adapter, serving=serving)
            finally:
                stop.set()
                await serving
    assert fake.unexpected_calls == []
