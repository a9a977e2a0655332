"""The real PTB Application of the bot, running over a `FakeBotApi`, as tests drive it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from bot.adapters.telegram import TelegramAdapter
from bot.app import App, open_app, utc_now
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi, FakeBotRequest, wait_until
from tests.support import draft


@dataclass
class TelegramHarness:
    """The running bot and the fake Bot API it talks to."""

    api: FakeBotApi
    app: App
    adapter: TelegramAdapter

    async def answered(self, chat_id: int, count: int = 1) -> list[str]:
        """Wait until `chat_id` has received `count` messages; what Telegram would show."""
        await wait_until(lambda: len(self.api.texts(chat_id)) >= count)
        return self.api.texts(chat_id)

    async def ask(self, chat_id: int, text: str, *, user_id: int | None = None) -> str:
        """Send a command as a message and wait for the next answer in that chat."""
        before = len(self.api.texts(chat_id))
        self.api.message_update(chat_id, text, user_id=user_id)
        return (await self.answered(chat_id, before + 1))[before]

    async def press(self, chat_id: int, data: str, *, user_id: int) -> str:
        """Press an inline button carrying `data` under a bot message in `chat_id`; the answer
        that comes back."""
        before = len(self.api.texts(chat_id))
        self.api.callback_update(chat_id, user_id, data)
        return (await self.answered(chat_id, before + 1))[before]

    def buttons(self, chat_id: int) -> list[dict[str, str]]:
        """The inline buttons of the last message sent to `chat_id`."""
        markup = self.api.sent(chat_id)[-1].params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    async def post_breaking(self, admin: int, text: str) -> str:
        """`/breaking TEXT` from `admin` in their private chat, then its Send button pressed:
        the answer to the press (the message the live counters then edit)."""
        await self.ask(admin, f"/breaking {text}", user_id=admin)
        send = self.buttons(admin)[0]
        assert send["text"] == "Kirim", send
        return await self.press(admin, send["callback_data"], user_id=admin)

    async def publish(self, title: str, **options: Any) -> int:
        """Store a story as ingest would (fan-out included), published now; its id."""
        options.setdefault("published_at", self.app.clock())
        [result] = await self.app.deps.newsroom.publish([draft(title, **options)])
        return result.article_id

    async def outbox_becomes(self, expected: dict[str, int], *, within: float = 10.0) -> None:
        """Wait until the outbox's status counts are `expected`: a row is recorded a moment
        after Telegram answered, so a test that saw the message must wait for the record."""
        async with asyncio.timeout(within):
            # The outbox signals nothing: poll it.
            while await self.app.storage.outbox.status_counts() != expected:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def sections_of(self, chat_id: int) -> list[str]:
        return await self.app.storage.subscriptions.sections_of(
            ChatRef(Platform.TELEGRAM, str(chat_id))
        )


def telegram_settings(base: Settings, **changes: object) -> Settings:
    """`base` with a Telegram token (and fast pacing unless a test sets its own)."""
    update: dict[str, object] = {
        "telegram_token": SecretStr(TOKEN),
        "telegram_private_sends_per_second": 100.0,
        "telegram_group_sends_per_minute": 6000.0,
        "telegram_sends_per_second": 1000.0,
    }
    update.update(changes)
    return base.model_copy(update=update)


def make_adapter(
    app: App, api: FakeBotApi, *, latency: float = 0.0, read_timeout: float = 5.0
) -> TelegramAdapter:
    """The adapter as `newsbot run` builds it, with the fake Bot API as its transport (whose
    `read_timeout` is the transport's default, see `FakeBotRequest`)."""
    return TelegramAdapter(
        settings=app.settings,
        sink=app.dispatcher,
        commands=app.deps.commands,
        chats=app.storage.chats,
        clock=app.clock,
        request=FakeBotRequest(api, latency=latency, read_timeout=read_timeout),
        updates_request=FakeBotRequest(api, latency=latency, read_timeout=read_timeout),
    )


@asynccontextmanager
async def running_bot(
    settings: Settings,
    api: FakeBotApi,
    *,
    clock: Callable[[], datetime] = utc_now,
    read_timeout: float = 5.0,
) -> AsyncIterator[TelegramHarness]:
    """`newsbot run` in this event loop: receiving updates (long polling, or a webhook when the
    settings say so) and delivering pushes. With a fake `clock`, nothing falls due until the
    test moves it. `read_timeout` is the transport's default (`make_adapter`)."""
    async with open_app(settings, clock=clock) as app:
        adapter = make_adapter(app, api, read_timeout=read_timeout)
        stop = asyncio.Event()
        serving = asyncio.create_task(app.serve(adapter, stop=stop))
        try:
            await wait_until(
                lambda: (
                    bool(api.of_method("getUpdates") or api.of_method("setWebhook"))
                    or serving.done()
                )
            )
            if serving.done():
                serving.result()
            yield TelegramHarness(api=api, app=app, adapter=adapter)
        finally:
            stop.set()
            await serving
            assert api.unexpected_urls == []
