"""Outages: sends to several chats unanswered are the platform down, not each message's fault.

While it is down delivery sends nothing, counts no failed attempt and probes the platform; it
resumes when the platform answers, and the bot admins are told of an outage that lasted. One
slow chat is no outage, and a late answer is recorded.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.app import open_app
from bot.delivery.errors import TransientError, UnknownOutcome
from bot.delivery.outage import TROUBLE_WINDOW_SECONDS, OutageWatch, duration_text
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import FakeBotApi
from tests.delivery.crash_trial import (
    BotProcesses,
    copies,
    possible_duplicates,
    prepare,
    read_outbox,
    settled,
    tally,
    telegram_chats,
)
from tests.support import START, FakeClock, FakePlatform, draft, until

# The bot admin's private chat on Telegram: its id is the admin's user id.
ADMIN = 4242


def test_unanswered_sends_to_three_chats_are_an_outage_until_the_platform_answers() -> None:
    clock, ticks = FakeClock(), [0.0]
    watch = OutageWatch(clock=clock, monotonic=lambda: ticks[0])
    chat = [ChatRef(Platform.TELEGRAM, str(n)) for n in range(4)]
    assert not watch.unanswered(chat[0])
    assert not watch.unanswered(chat[0])  # one chat's slow messages: that chat
    assert not watch.unanswered(chat[1])
    assert not watch.down
    ticks[0] += TROUBLE_WINDOW_SECONDS + 1  # the first two were too long ago
    assert not watch.unanswered(chat[2])
    assert not watch.unanswered(chat[3])
    assert watch.unanswered(chat[0])
    assert watch.down
    assert watch.down_since == START
    clock.advance(125)
    outage = watch.answered()
    assert outage is not None
    assert duration_text(outage.length) == "2 min 5 s"
    assert duration_text(timedelta(hours=3, minutes=10, seconds=20)) == "3 h 10 min"
    assert duration_text(timedelta(hours=48)) == "48 h"
    assert not watch.down
    assert watch.answered() is None


def test_an_answer_between_unanswered_sends_is_no_outage() -> None:
    watch = OutageWatch(clock=FakeClock())
    watch.unanswered(ChatRef(Platform.TELEGRAM, "1"))
    watch.unanswered(ChatRef(Platform.TELEGRAM, "2"))
    watch.answered()  # another chat was answered: the platform is up
    assert not watch.unanswered(ChatRef(Platform.TELEGRAM, "3"))
    assert not watch.down


def _rows(database: str) -> list[tuple[str, str, int, int, int]]:
    """Each outbox row's chat, status, attempts, unknown outcomes and duplicate mark."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            """SELECT chat_id, status, attempts, unknown_outcomes, possible_duplicate
                 FROM outbox ORDER BY id"""
        ).fetchall()


async def test_while_the_platform_is_down_nothing_is_sent_nor_counted_and_it_resumes(
    settings: Settings,
) -> None:
    noticed = settings.model_copy(
        update={"delivery_outage_notice_minutes": 0.0, "delivery_late_answer_seconds": 0.5}
    )
    async with open_app(noticed) as app:
        platform = FakePlatform(app)
        for chat in ("10", "11", "12"):
            await app.storage.subscriptions.subscribe(
                ChatRef(Platform.TELEGRAM, chat), ["nasional"], now=app.clock()
            )
        platform.failures = {
            "10": [TransientError("connection refused")],
            "11": [UnknownOutcome("timed out")],
            "12": [UnknownOutcome("timed out")],
        }
        platform.down = True
        stop = asyncio.Event()
        worker = app.delivery_worker(platform, notices=app.admin_notices([platform]))
        delivering = asyncio.create_task(worker.run(stop))
        await app.deps.newsroom.publish([draft("Pertama", published_at=app.clock())])
        await until(lambda: platform.probes >= 1)
        # Down: a second story waits, and the rows unanswered in the outage lost no attempt.
        await app.deps.newsroom.publish(
            [draft("Kedua", published_at=app.clock() + timedelta(seconds=1))]
        )
        await asyncio.sleep(0.3)
        assert platform.sent == []
        rows = _rows(noticed.database)
        assert [row[1] for row in rows] == ["pending"] * 6
        by_chat = {row[0]: row for row in rows[:3]}
        assert by_chat["11"][2:] == (0, 1, 1)  # not counted; tried once more, marked
        assert by_chat["12"][2:] == (0, 1, 1)
        platform.down = False
        await until(lambda: len([m for m in platform.sent if m.chat.chat_id != "1"]) == 6)
        await until(lambda: any(m.chat.chat_id == "1" for m in platform.sent))
        stop.set()
        await delivering
    [notice] = [m.reply.plain_text() for m in platform.sent if m.chat.chat_id == "1"]
    assert "tidak menjawab" in notice
    # Each chat got both stories, in order, once each.
    for chat in ("10", "11", "12"):
        shown = [m.reply.plain_text() for m in platform.sent if m.chat.chat_id == chat]
        assert len(shown) == 2
        assert "Pertama" in shown[0]
        assert "Kedua" in shown[1]


async def test_a_late_answer_is_recorded_and_one_slow_chat_is_no_outage(
    settings: Settings,
) -> None:
    quick = settings.model_copy(update={"delivery_overdue_seconds": 0.1})
    async with open_app(quick) as app:
        platform = FakePlatform(app)
        for chat in ("10", "11"):
            await app.storage.subscriptions.subscribe(
                ChatRef(Platform.TELEGRAM, chat), ["nasional"], now=app.clock()
            )
        platform.answer_delays = {"10": 0.5}  # five times the overdue point
        await app.deps.newsroom.publish([draft("Satu", published_at=app.clock())])
        assert await app.delivery_worker(platform).deliver_due() == 2
        rows = _rows(quick.database)
    assert [row[:3] for row in rows] == [("10", "sent", 0), ("11", "sent", 0)]
    assert platform.probes == 0


def test_by_default_an_answer_40_s_late_is_awaited_and_an_outage_seen_well_before() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' option
    for timeout in (defaults.telegram_send_timeout_seconds, defaults.discord_send_timeout_seconds):
        assert timeout > 40
        assert defaults.delivery_overdue_seconds < timeout / 4


def test_newsbot_run_waits_out_a_bot_api_that_takes_requests_and_never_answers(
    tmp_path: Path,
) -> None:
    """A real `newsbot run` broadcasting to 300 chats (more than the 64 it keeps in flight)
    when the Bot API stops answering (requests taken, no answer, as Telegram's outages look)
    for longer than a send waits, then recovers. Every chat gets the story; a chat whose send
    was taken unanswered gets at most one more copy, and its row says it may be a duplicate;
    the admin is told once. Times are the defaults and a 90 s outage at a thirtieth: a send
    waits 2 s (60), the outage lasts 3 s (90); a send is overdue after 1 s (10 by default, a
    third of it would leave a loaded machine's slow answers looking like more outages)."""
    chats = telegram_chats(private=270, groups=30)
    api = FakeBotApi(send_latency=0.02)
    with BotApiServer(api) as server:
        bots = BotProcesses(tmp_path, server)
        bots.env |= {
            "NEWSBOT_TELEGRAM_SEND_TIMEOUT_SECONDS": "2",
            "NEWSBOT_DELIVERY_OVERDUE_SECONDS": "1",
            "NEWSBOT_DELIVERY_OUTAGE_NOTICE_MINUTES": "0",
            "NEWSBOT_ADMINS": f"telegram:{ADMIN}",
        }
        prepare(bots.database, chats)
        try:
            bot = bots.start()
            bots.wait(lambda: len(api.sent()) >= 40, bot, within=60, every=0.01)
            api.down = True
            bots.wait(lambda: "does not answer" in bots.output(), bot, within=30)
            time.sleep(3.0)  # the outage: longer than a send waits for its answer
            api.down = False
            bots.wait(lambda: settled(bots.database, chats), bot, within=60)
            bots.wait(lambda: bool(api.sent(ADMIN)), bot, within=30)
            bots.terminate(bot)
        finally:
            bots.close()
        result = tally(api, bots.database, chats)
        rows = read_outbox(bots.database)
    output = bots.output()
    assert result.lost == 0, result.line()
    assert result.unsettled == 0, result.line()
    per_chat_story = Counter((copy.chat_id, copy.story) for copy in copies(api, chats=set(chats)))
    assert max(per_chat_story.values()) <= 2
    twice = {key for key, count in per_chat_story.items() if count == 2}
    marked = possible_duplicates(bots.database)
    assert twice <= marked
    assert all(row.status == "sent" for row in rows if row.kind == "send")
    assert len(api.texts(ADMIN)) == 1, (api.texts(ADMIN), output)
    [notice] = api.texts(ADMIN)
    assert "tidak menjawab" in notice
    assert output.count("does not answer") == 1
    assert output.count("answers again") == 1
    assert "Traceback" not in output
