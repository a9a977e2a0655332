"""A chat's backlog is coalesced, not dripped: more regular pushes waiting than the chat can take
one by one within NEWSBOT_DELIVERY_COALESCE_AFTER_SECONDS go out as one message listing them,
which corrections and retractions of its stories edit. A push still waiting when its story is
older than NEWSBOT_PUSH_MAX_AGE_HOURS is dropped, not sent late."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app import App
from bot.chat import Reply, StoryList
from bot.platform.budget import SendBudget
from bot.render import BACKLOG_STORIES
from storage.models import ChatRef
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import FakeBotApi
from tests.delivery.crash_trial import BotProcesses, publish_stories, subscribe_all
from tests.support import START, FakeClock, FakePlatform, draft

GROUP = "-1001234"
ADMIN = "1"  # telegram:1 is the admin of the `settings` fixture


class _GroupBudget(SendBudget):
    """A chat drains its backlog at Telegram's 20 messages a minute to a group; sends are not
    spaced out here (a pass of `deliver_due` would wait out real seconds on a fake clock):
    the pace itself is test_budget's, and the real one the process test's below."""

    def chat_interval(self, chat: ChatRef) -> float:
        return 3.0


def _paced_like_a_group(platform: FakePlatform) -> None:
    platform.budget = _GroupBudget(sends_per_second=None, interval=lambda _chat: 0.0)


async def _queue(app: App, count: int) -> list[int]:
    """`count` stories published a minute apart, fanned out to the group; their ids."""
    ids = []
    for number in range(count):
        published = START - timedelta(minutes=count - number)
        title = f"Berita daerah nomor {number}"
        [result] = await app.deps.newsroom.publish([draft(title, published_at=published)])
        assert result.article_id is not None
        ids.append(result.article_id)
    return ids


def _listed(reply: Reply) -> list[int]:
    """The story numbers a coalesced message lists, in its order."""
    [story_list] = [part for part in reply.parts if isinstance(part, StoryList)]
    return [line.article_id for line in story_list.stories]


def _rows(app: App) -> list[tuple[str, str, str | None]]:
    database = app.settings.database
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT kind, status, message_id FROM outbox ORDER BY id"
        ).fetchall()


async def test_forty_pushes_waiting_for_a_group_go_as_one_message_that_corrections_edit(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    _paced_like_a_group(platform)
    await platform.say("/subscribe nasional", chat=GROUP)
    ids = await _queue(app, 40)
    worker = app.delivery_worker(platform)

    assert await worker.deliver_due() == 40
    [message] = platform.sent
    assert message.reply.plain_text().startswith(
        "40 berita baru sekaligus (terlalu banyak untuk satu per satu)"
    )
    assert _listed(message.reply) == ids  # in publication order
    assert _rows(app) == [("send", "sent", message.message_id)] * 40

    # A correction of one of its stories edits that one message, all 40 stories still listed.
    await platform.say(f"/correct {ids[4]} Berita daerah nomor 4 (ralat) |", user=ADMIN)
    clock.advance(5)
    await worker.deliver_due()
    [edited] = platform.edited
    assert edited.message_id == message.message_id
    assert "Berita daerah nomor 4 (ralat)" in edited.reply.plain_text()
    assert _listed(edited.reply) == ids
    # A retraction takes its story out of the message rather than deleting all 40.
    await platform.say(f"/retract {ids[5]} Data keliru", user=ADMIN)
    clock.advance(5)
    await worker.deliver_due()
    assert platform.deleted == []
    retracted = platform.edited[-1]
    assert retracted.message_id == message.message_id
    assert _listed(retracted.reply) == [n for n in ids if n != ids[5]]
    assert retracted.reply.plain_text().startswith("39 berita baru sekaligus")


async def test_a_backlog_longer_than_one_message_goes_as_several(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    _paced_like_a_group(platform)
    await platform.say("/subscribe nasional", chat=GROUP)
    ids = await _queue(app, BACKLOG_STORIES + 25)
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    # 40 first; then 25 are still more than a minute of pushes (20): one more message.
    assert [_listed(message.reply) for message in platform.sent] == [ids[:40], ids[40:]]


async def test_a_backlog_the_chat_takes_within_a_minute_goes_one_by_one(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    _paced_like_a_group(platform)
    await platform.say("/subscribe nasional", chat=GROUP)
    await _queue(app, 20)  # 20 messages at 3 s each: exactly a minute
    worker = app.delivery_worker(platform)
    assert await worker.deliver_due() == 20
    assert len(platform.sent) == 20
    assert all(not any(isinstance(p, StoryList) for p in m.reply.parts) for m in platform.sent)


async def test_breaking_news_is_never_folded_into_a_backlog(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    _paced_like_a_group(platform)
    await platform.say("/subscribe nasional", chat=GROUP)
    ids = await _queue(app, 30)
    await app.deps.newsroom.publish([draft("Gempa di Cianjur", breaking=True)])
    await app.delivery_worker(platform).deliver_due()
    breaking, backlog = platform.sent
    assert breaking.reply.plain_text().startswith("Gempa di Cianjur")
    assert _listed(backlog.reply) == ids


async def test_a_push_still_waiting_when_its_story_is_older_than_the_push_window_is_dropped(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="10")
    await app.deps.newsroom.publish([draft("Berita kemarin lusa", published_at=START)])
    platform.down = True  # an outage: nothing is sent for two days
    clock.advance(app.settings.push_max_age_hours * 3600 + 60)
    await app.delivery_worker(platform).deliver_due()
    assert platform.sent == []
    with sqlite3.connect(app.settings.database) as connection:
        [(status, reason)] = connection.execute("SELECT status, last_error FROM outbox").fetchall()
    assert status == "dropped"
    assert reason == "published more than 48 h ago, still waiting"


def test_a_real_run_coalesces_a_groups_backlog_and_edits_the_message_on_correct(
    tmp_path: Path,
) -> None:
    """`newsbot run` at Telegram's real per-group pace (20 a minute) with 40 pushes waiting
    for a group: one message lists them; an admin's /correct of one of them edits it."""
    group, admin = -1_001_555_000_000, 4242
    api = FakeBotApi()
    api.add_chat(admin, "private")
    with BotApiServer(api) as server:
        bots = BotProcesses(tmp_path, server)
        for pacing in ("PRIVATE_SENDS_PER_SECOND", "GROUP_SENDS_PER_MINUTE", "SENDS_PER_SECOND"):
            del bots.env[f"NEWSBOT_TELEGRAM_{pacing}"]
        bots.env["NEWSBOT_ADMINS"] = f"telegram:{admin}"
        subscribe_all(bots.database, [group])
        ids = publish_stories(bots.database, [(f"Kabar kota nomor {n}", False) for n in range(40)])
        try:
            bot = bots.start()
            bots.wait(lambda: bool(api.sent(group)), bot, within=60)
            api.message_update(
                admin, f"/correct {ids[7]} Kabar kota nomor 7 (ralat) |", user_id=admin
            )
            bots.wait(lambda: bool(api.of_method("editMessageText")), bot, within=60)
            bots.terminate(bot)
        finally:
            bots.close()
    [message] = api.sent(group)
    shown = message.params["_shown"]
    assert shown.startswith("40 berita baru sekaligus")
    assert [f"Kabar kota nomor {n}" in shown for n in range(40)] == [True] * 40
    [edit] = api.of_method("editMessageText")
    assert int(edit.params["chat_id"]) == group
    assert int(edit.params["message_id"]) == message.params["_message_id"]
    assert "Kabar kota nomor 7 (ralat)" in edit.params["text"]
