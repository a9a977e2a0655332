"""Priority within a chat's queue: a breaking story passes the chat's backlog of pushes, a
correction passes the pushes too but never the push it corrects, and a chat told to retry
after is left alone for that long whatever its next row is."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from bot.app import App
from bot.delivery.errors import RetryAfter
from storage.models import ChatRef, OutboxItem, Platform
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import FakeBotApi
from tests.delivery.crash_trial import BotProcesses, publish_stories, subscribe_all, telegram_chats
from tests.support import START, FakeClock, FakePlatform, draft

CHAT = ChatRef(Platform.TELEGRAM, "10")


async def _claim(app: App) -> list[OutboxItem]:
    return await app.storage.outbox.claim(
        Platform.TELEGRAM, now=app.clock(), lease_seconds=60, limit=10
    )


async def _titles(app: App, items: list[OutboxItem]) -> list[str]:
    titles = []
    for item in items:
        article = await app.storage.articles.get(item.article_id)
        assert article is not None
        titles.append(f"{item.kind.value}:{article.title}")
    return titles


async def _send_head(app: App) -> str:
    """Claim the chat's head and record it sent; what it was."""
    [item] = await _claim(app)
    await app.storage.outbox.mark_sent(item, f"m{item.id}", now=app.clock())
    [title] = await _titles(app, [item])
    return title


async def test_a_breaking_story_passes_the_chats_backlog_of_pushes(app: App) -> None:
    await app.storage.subscriptions.subscribe(CHAT, ["nasional"], now=START)
    for minute in range(3):
        await app.deps.newsroom.publish(
            [draft(f"Berita rutin {minute}", published_at=START - timedelta(minutes=5 - minute))]
        )
    assert await _send_head(app) == "send:Berita rutin 0"
    await app.deps.newsroom.publish([draft("Gempa di Cianjur", breaking=True)])
    sent = [await _send_head(app) for _ in range(3)]
    assert sent == ["send:Gempa di Cianjur", "send:Berita rutin 1", "send:Berita rutin 2"]


async def test_a_correction_passes_the_pushes_but_never_the_push_it_corrects(app: App) -> None:
    await app.storage.subscriptions.subscribe(CHAT, ["nasional"], now=START)
    first = draft("Harga beras naik", body="Naik lima persen.", published_at=START)
    await app.deps.newsroom.publish([first])
    await app.deps.newsroom.publish(
        [draft("Berita rutin", published_at=START + timedelta(minutes=1))]
    )
    [push] = await _claim(app)  # out being sent when the correction comes
    [corrected] = await app.deps.newsroom.publish(
        [
            draft(
                "Harga beras naik",
                body="Naik tujuh persen.",
                identity=first.identity,
                published_at=START,
            )
        ]
    )
    assert corrected.queued == 1
    # Its answer never came: the push goes back to be sent again, behind nothing but the edit
    # of it, which must not go first (there is no message to edit yet).
    await app.storage.outbox.retry_at(
        push, app.clock(), "no answer", count_attempt=False, outcome_unknown=True
    )
    sent = [await _send_head(app) for _ in range(3)]
    assert sent == ["send:Harga beras naik", "edit:Harga beras naik", "send:Berita rutin"]


async def test_a_breaking_story_waits_out_its_chats_retry_after(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await app.storage.subscriptions.subscribe(CHAT, ["nasional"], now=START)
    platform.failures = {"10": [RetryAfter(30)]}
    await app.deps.newsroom.publish([draft("Berita rutin", published_at=START)])
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    await app.deps.newsroom.publish([draft("Gempa di Cianjur", breaking=True)])
    # The breaking story is the chat's head and due, but the chat is held for 30 s.
    assert await worker.deliver_due() == 0
    clock.advance(29.9)
    assert await worker.deliver_due() == 0
    clock.advance(0.1)
    assert await worker.deliver_due() == 2
    assert [message.reply.plain_text().split(" (")[0] for message in platform.sent] == [
        "Gempa di Cianjur",
        "Berita rutin",
    ]


BACKLOG = 20
BREAKING = "Gempa magnitudo 6,1 guncang Cianjur"


def breaking_during_backlog(directory: Path, *, private: int, groups: int) -> float:
    """A real `newsbot run` sending 20 regular pushes to each chat, at Telegram's per-chat
    limits (1 a second, 20 a minute to a group) and a global rate far above Telegram's so that
    it takes seconds. A breaking story is confirmed once the first hundred pushes are out: each
    chat gets it before any push of its remaining backlog, apart from one already out being
    sent to it (asserted). The seconds from its confirmation until every chat had it."""
    chats = telegram_chats(private=private, groups=groups)
    api = FakeBotApi()
    with BotApiServer(api) as server:
        bots = BotProcesses(directory, server)
        del bots.env["NEWSBOT_TELEGRAM_PRIVATE_SENDS_PER_SECOND"]
        del bots.env["NEWSBOT_TELEGRAM_GROUP_SENDS_PER_MINUTE"]
        subscribe_all(bots.database, chats)
        publish_stories(
            bots.database, [(f"Berita rutin nomor {n}", False) for n in range(BACKLOG)]
        )
        try:
            bot = bots.start()
            bots.wait(lambda: len(api.sent()) >= 100, bot, 60)
            publish_stories(bots.database, [(BREAKING, True)])
            confirmed = time.monotonic()
            before: dict[int, int] = defaultdict(int)
            for call in api.sent():
                before[int(call.params["chat_id"])] += 1
            bots.wait(
                lambda: sum(BREAKING in text for text in api.texts()) == len(chats), bot, 300
            )
            everywhere = time.monotonic() - confirmed
            bots.terminate(bot)
        finally:
            bots.close()
    shown: dict[int, list[str]] = defaultdict(list)
    for call in api.sent():
        shown[int(call.params["chat_id"])].append(call.params["_shown"])
    for chat_id in chats:
        texts = shown[chat_id]
        [place] = [n for n, text in enumerate(texts) if BREAKING in text]
        assert place <= before[chat_id] + 1, (chat_id, before[chat_id], texts[: place + 1])
        regular = [int(text.split("nomor ")[1].split()[0]) for text in texts if "nomor " in text]
        assert regular == sorted(regular)
        assert len(set(regular)) == len(regular)
    return everywhere


def test_breaking_news_confirmed_during_a_backlog_reaches_each_chat_next(tmp_path: Path) -> None:
    """600 chats, each with 20 pushes waiting: more than the 64 sends in flight many times
    over, so most chats' next push is waiting when the story is confirmed. The same at 2,000
    chats is `bench/breaking_backlog.py` (each chat's order is the same rule; only the time
    grows)."""
    breaking_during_backlog(tmp_path, private=570, groups=30)
