"""Pushes through the real PTB Application: rendering, Telegram's errors, limits, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import open_app
from bot.platform import PlatformLostError
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import (
    BOT_USERNAME,
    TEXT_LIMIT,
    FakeBotApi,
    utf16_length,
    wait_until,
)
from tests.adapters.telegram_harness import (
    TelegramHarness,
    make_adapter,
    running_bot,
    telegram_settings,
)
from tests.support import FakeClock, draft

READER = 31337
GROUP = -1001234567890
NEW_GROUP = -1009999999999
CHANNEL = -1001987654321


def telegram_chat(chat_id: int) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, str(chat_id))


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[TelegramHarness]:
    async with running_bot(telegram_settings(settings), FakeBotApi()) as harness:
        yield harness


async def subscribe(tg: TelegramHarness, chat_id: int, *slugs: str) -> None:
    await tg.app.storage.subscriptions.subscribe(
        telegram_chat(chat_id), list(slugs), now=tg.app.clock()
    )


async def test_a_new_story_arrives_as_a_card_with_a_read_button(tg: TelegramHarness) -> None:
    await subscribe(tg, READER, "internasional")

    article_id = await tg.publish(
        "Menlu RI bertemu Sekjen NATO",
        section="internasional",
        url="https://berita.example/menlu-nato",
        summary="Pertemuan membahas keamanan kawasan.",
    )

    [shown] = await tg.answered(READER)
    assert "Menlu RI bertemu Sekjen NATO" in shown
    assert "Internasional · " in shown
    assert "WIB" in shown
    assert "Pertemuan membahas keamanan kawasan." in shown
    [call] = tg.api.sent(READER)
    [[button]] = call.params["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Baca", "callback_data": f"/read {article_id}"}


async def test_in_a_channel_the_read_button_opens_a_private_chat(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita")
    await subscribe(tg, CHANNEL, "ekonomi")

    article_id = await tg.publish("Rupiah menguat", section="ekonomi")

    await tg.answered(CHANNEL)
    [call] = tg.api.sent(CHANNEL)
    [[button]] = call.params["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=read_{article_id}"


async def test_breaking_news_is_marked(tg: TelegramHarness) -> None:
    await subscribe(tg, READER, "breaking")

    await tg.publish("Gempa magnitudo 6,1 di Maluku", section="nasional", breaking=True)

    [shown] = await tg.answered(READER)
    assert shown.startswith("🔴 BERITA TERKINI\nGempa magnitudo 6,1 di Maluku")


async def test_story_with_an_image_goes_out_as_a_photo_with_a_short_caption(
    tg: TelegramHarness,
) -> None:
    await subscribe(tg, READER, "olahraga")

    await tg.publish(
        "Timnas menang 2-0",
        section="olahraga",
        image_url="https://berita.example/timnas.jpg",
        summary="Gol dicetak di babak kedua. " * 80,
    )

    [shown] = await tg.answered(READER)
    [call] = tg.api.sent(READER)
    assert call.method == "sendPhoto"
    assert call.params["photo"] == "https://berita.example/timnas.jpg"
    assert utf16_length(shown) <= 1024
    assert shown.startswith("Timnas menang 2-0")


async def test_a_refused_image_falls_back_to_text(tg: TelegramHarness) -> None:
    tg.api.refuse_photos = True
    await subscribe(tg, READER, "olahraga")

    await tg.publish("Timnas menang 2-0", section="olahraga", image_url="https://x.example/a.jpg")

    [shown] = await tg.answered(READER)
    assert "Timnas menang 2-0" in shown
    assert [call.method for call in tg.api.calls if call.params.get("chat_id") == READER] == [
        "sendPhoto",
        "sendMessage",
    ]
    await tg.outbox_becomes({"sent": 1})


async def test_a_long_article_is_split_into_valid_messages(tg: TelegramHarness) -> None:
    paragraphs = [
        f"Paragraf {number}: " + "Pemerintah & DPR <membahas> anggaran 🇮🇩 tahun depan. " * 10
        for number in range(1, 12)
    ]
    body = "\n\n".join(paragraphs)
    assert len(body) > 5000
    article_id = await tg.publish("Rancangan anggaran 2027", body=body)

    tg.api.message_update(READER, f"/read {article_id}", user_id=READER)
    await wait_until(lambda: len(tg.api.texts(READER)) >= 2)
    await asyncio.sleep(0.2)  # the rest of the parts, if any

    shown = tg.api.texts(READER)
    assert all(utf16_length(text) <= TEXT_LIMIT for text in shown)
    joined = "\n\n".join(shown)
    # Every paragraph arrives whole, in order: splits fall between paragraphs.
    positions = [joined.index(paragraph.strip()) for paragraph in paragraphs]
    assert positions == sorted(positions)


async def test_a_chat_that_blocked_the_bot_loses_its_subscriptions(tg: TelegramHarness) -> None:
    tg.api.blocked.add(READER)
    await subscribe(tg, READER, "nasional")

    await tg.publish("Berita untuk pembaca yang memblokir bot")

    await wait_until(lambda: bool(tg.api.of_method("sendMessage")))
    await _until_settled(tg)
    assert await tg.sections_of(READER) == []
    assert await tg.app.storage.outbox.status_counts() == {"dropped": 1}


async def test_a_migrated_group_gets_the_story_once_at_its_new_id(tg: TelegramHarness) -> None:
    tg.api.migrated[GROUP] = NEW_GROUP
    await subscribe(tg, GROUP, "nasional")

    await tg.publish("Rapat kabinet paripurna")

    [shown] = await tg.answered(NEW_GROUP)
    assert "Rapat kabinet paripurna" in shown
    await _until_settled(tg)
    assert tg.api.texts(GROUP) == []
    assert await tg.sections_of(GROUP) == []
    assert await tg.sections_of(NEW_GROUP) == ["nasional"]
    assert len(tg.api.texts(NEW_GROUP)) == 1


async def test_a_migration_notice_moves_the_subscriptions_at_once(tg: TelegramHarness) -> None:
    await subscribe(tg, GROUP, "nasional")

    tg.api.message_update(GROUP, "", migrate_to_chat_id=NEW_GROUP)

    await wait_until(lambda: tg.api.pending_updates() == 0)
    await _until(lambda: tg.sections_of(NEW_GROUP), ["nasional"])
    assert await tg.sections_of(GROUP) == []


async def test_removing_the_bot_from_a_group_stops_its_pushes(tg: TelegramHarness) -> None:
    await subscribe(tg, GROUP, "nasional")

    tg.api.raw_update({"my_chat_member": _bot_status_change(GROUP, "kicked")})

    await _until(lambda: tg.sections_of(GROUP), [])


async def test_retry_after_delays_the_chat_exactly_that_long(settings: Settings) -> None:
    clock = FakeClock()
    api = FakeBotApi()
    api.flood[READER] = 7
    async with open_app(telegram_settings(settings), clock=clock) as app:
        await app.storage.subscriptions.subscribe(telegram_chat(READER), ["nasional"], now=clock())
        await app.deps.newsroom.publish([draft("Harga beras turun", published_at=clock())])
        async with make_adapter(app, api) as adapter:
            worker = app.delivery_worker(adapter)

            await worker.deliver_due()
            assert await app.storage.outbox.next_due(Platform.TELEGRAM) == clock() + timedelta(
                seconds=7
            )
            clock.advance(6.9)
            assert await worker.deliver_due() == 0
            clock.advance(0.1)
            assert await worker.deliver_due() == 1

    assert len(api.sent(READER)) == 1
    assert await _counts(settings) == {"sent": 1}


async def test_command_replies_do_not_wait_behind_a_broadcast(settings: Settings) -> None:
    # 3 pushes per second: 30 subscribed groups take ten seconds to reach.
    slow = telegram_settings(settings, telegram_sends_per_second=3.0)
    async with running_bot(slow, FakeBotApi()) as tg:
        for number in range(30):
            await subscribe(tg, -1001000000000 - number, "nasional")
        await tg.publish("Pengumuman penting untuk semua grup")
        await wait_until(lambda: len(tg.api.sent()) >= 1)

        await tg.ask(READER, "/help", user_id=READER)

        # The reader was answered while most of the broadcast is still waiting its turn.
        assert len(tg.api.sent()) < 15
        counts = await tg.app.storage.outbox.status_counts()
        assert counts.get("pending", 0) + counts.get("sending", 0) > 15


async def test_stopping_mid_broadcast_cuts_no_send_and_loses_no_row(settings: Settings) -> None:
    slow = telegram_settings(settings, telegram_sends_per_second=20.0)
    api = FakeBotApi()
    groups = [-1001000000000 - number for number in range(40)]
    # Telegram takes each message at once but answers late: a stop while sends are in flight
    # must wait for those answers and record them, not drop them.
    api.send_delays.update(dict.fromkeys(groups, 0.3))
    async with running_bot(slow, api) as tg:
        for group in groups:
            await subscribe(tg, group, "nasional")
        await tg.publish("Siaran pers panjang")
        await wait_until(lambda: len(api.sent()) >= 5)
    # Stopped: every row was either sent (and recorded) or handed back as due.
    counts = await _counts(slow)
    assert counts["sent"] == len(api.sent())
    assert counts["sent"] + counts.get("pending", 0) == 40

    api.send_delays.clear()
    # The next start sends the rest at the usual fast test pacing: the slow one was only to
    # stop mid-broadcast.
    async with running_bot(telegram_settings(settings), api):
        await wait_until(lambda: len(api.sent()) == 40)
        await _until(lambda: _counts(slow), {"sent": 40})
    chats = [call.params["chat_id"] for call in api.sent()]
    assert len(set(chats)) == 40  # no chat got the story twice


async def test_an_update_received_before_stopping_is_answered_exactly_once(
    settings: Settings,
) -> None:
    api = FakeBotApi()
    configured = telegram_settings(settings)
    async with running_bot(configured, api):
        api.message_update(READER, "/sections", user_id=READER)
    # Either answered while stopping or left unconfirmed for the next start; never both.
    async with running_bot(configured, api):
        await wait_until(lambda: len(api.texts(READER)) >= 1)
        await asyncio.sleep(0.3)
    assert len(api.texts(READER)) == 1


async def _until(
    read: Callable[[], Awaitable[object]], expected: object, within: float = 5.0
) -> None:
    """Wait until `read()` gives `expected`; fail with the last value after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await read()
        if value == expected or loop.time() > deadline:
            assert value == expected
            return
        await asyncio.sleep(0.02)


async def _until_settled(tg: TelegramHarness) -> None:
    """Wait until no outbox row is pending or being sent."""

    async def unsettled() -> int:
        counts = await tg.app.storage.outbox.status_counts()
        return counts.get("pending", 0) + counts.get("sending", 0)

    await _until(unsettled, 0)


async def _counts(settings: Settings) -> dict[str, int]:
    async with open_app(settings) as app:
        return await app.storage.outbox.status_counts()


def _bot_status_change(chat_id: int, status: str) -> dict[str, object]:
    bot_user = {"id": 777000, "is_bot": True, "first_name": "Bot"}
    return {
        "chat": {"id": chat_id, "type": "supergroup", "title": "Grup"},
        "from": {"id": 1, "is_bot": False, "first_name": "Admin"},
        "date": 1764000000,
        "old_chat_member": {"status": "member", "user": bot_user},
        "new_chat_member": {"status": status, "user": bot_user, "until_date": 0},
    }


async def test_a_correction_edits_text_or_caption_and_keeps_the_button(
    tg: TelegramHarness,
) -> None:
    text_id = await tg.publish("Judul lama", image_url=None)
    photo_id = await tg.publish("Judul foto", image_url="https://berita.example/a.jpg")
    # The third story's image is refused when sent: it goes out as text.
    refused_id = await tg.publish("Judul foto gagal", image_url="https://berita.example/b.jpg")
    articles = [await tg.app.storage.articles.get(i) for i in (text_id, photo_id, refused_id)]
    chat = telegram_chat(READER)
    sent = []
    for article in articles:
        assert article is not None
        tg.api.refuse_photos = article.id == refused_id
        sent.append(await tg.adapter.send(chat, tg.app.deps.renderer.push(article, "id")))

    for article, message_id in zip(articles, sent, strict=True):
        assert article is not None
        corrected = replace(article, title=f"{article.title} (diralat)")
        await tg.adapter.edit(chat, message_id, tg.app.deps.renderer.push(corrected, "id"))
    await tg.adapter.delete(chat, sent[0])

    edits = [
        call
        for call in tg.api.calls
        if call.method in ("editMessageText", "editMessageCaption")
        and not call.params.get("_refused")
    ]
    assert [call.method for call in edits] == [
        "editMessageText",
        "editMessageCaption",
        "editMessageText",  # after Telegram said the third has no caption
    ]
    for call in edits:
        assert "(diralat)" in (call.params.get("text") or call.params["caption"])
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Baca"
    [deleted] = tg.api.of_method("deleteMessage")
    assert deleted.params["message_id"] == int(sent[0])


async def test_a_token_refused_while_running_stops_the_bot_cleanly(settings: Settings) -> None:
    api = FakeBotApi()
    async with open_app(telegram_settings(settings)) as app:
        stop = asyncio.Event()
        serving = asyncio.create_task(app.serve(make_adapter(app, api), stop=stop))
        await wait_until(lambda: bool(api.of_method("getUpdates")))
        api.message_update(READER, "/sections", user_id=READER)
        await wait_until(lambda: len(api.texts(READER)) == 1)

        api.token = "654321:revoked"  # noqa: S105 - made up; every request is now 401

        with pytest.raises(PlatformLostError, match="stopped accepting"):
            await asyncio.wait_for(serving, timeout=10)
    assert stop.is_set()


async def test_a_corrected_breaking_story_is_edited_in_each_chat_it_reached(
    tg: TelegramHarness,
) -> None:
    """/breaking to three chats, then the same headline with a corrected text: every
    delivered message is edited in place (text or caption), none is sent twice."""
    admin = 1  # telegram:1 is an admin in the `settings` fixture
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita")
    await subscribe(tg, READER, "breaking")
    await subscribe(tg, GROUP, "nasional")
    await subscribe(tg, CHANNEL, "breaking")
    answer = await tg.post_breaking(admin, "Tanggul jebol di Demak | Ratusan rumah terendam.")
    assert "3 chat" in answer
    await wait_until(lambda: all(tg.api.sent(chat) for chat in (READER, GROUP, CHANNEL)))
    delivered = {
        chat: tg.api.sent(chat)[0].params["_message_id"] for chat in (READER, GROUP, CHANNEL)
    }

    answer = await tg.post_breaking(admin, "Tanggul jebol di Demak | Ribuan rumah terendam.")
    assert "disunting" in answer

    def edits() -> list[tuple[int, int, str]]:
        return [
            (call.params["chat_id"], call.params["message_id"], call.params["text"])
            for call in tg.api.of_method("editMessageText")
            if not call.params.get("_refused")
        ]

    await wait_until(lambda: len(edits()) == 3)
    assert {(chat, message) for chat, message, _ in edits()} == set(delivered.items())
    for _, _, text in edits():
        assert "Ribuan rumah terendam" in text
        assert "diperbarui" in text
    assert all(len(tg.api.sent(chat)) == 1 for chat in (READER, GROUP, CHANNEL))
    await tg.outbox_becomes({"sent": 6})

    latest = await tg.ask(READER, "/latest breaking")
    assert "Tanggul jebol di Demak" in latest


async def test_an_edit_telegram_calls_not_modified_counts_as_done(tg: TelegramHarness) -> None:
    await subscribe(tg, READER, "nasional")
    article_id = await tg.publish("Harga cabai", url="https://berita.example/cabai")
    await tg.answered(READER)
    article = await tg.app.storage.articles.get(article_id)
    assert article is not None
    [push] = tg.api.sent(READER)
    message_id = str(push.params["_message_id"])
    reply = tg.app.deps.renderer.push(article, "id")
    # The same text again: Telegram refuses it as "message is not modified".
    await tg.adapter.edit(telegram_chat(READER), message_id, reply)
    [refused] = tg.api.of_method("editMessageText")
    assert refused.params.get("_refused")
