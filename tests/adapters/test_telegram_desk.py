"""The breaking-news desk on Telegram: the real PTB Application over the fake Bot API. Send and
Cancel are button presses (callback queries); the live counters are editMessageText calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import open_app
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import FakeBotApi, wait_until
from tests.adapters.telegram_harness import (
    TelegramHarness,
    make_adapter,
    running_bot,
    telegram_settings,
)
from tests.support import FakeClock

ADMIN = 1
OTHER_ADMIN = 2
READER = 31337
BLOCKED = 4040
REFUSING = 5050
GROUP = -1001234567890
CHANNEL = -1001987654321
DEMAK = "#nasional Tanggul jebol di Demak | Ratusan rumah terendam banjir."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(tmp_path / "newsbot.db"),
        admins=frozenset({f"telegram:{ADMIN}", f"telegram:{OTHER_ADMIN}"}),
    )


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[TelegramHarness]:
    async with running_bot(telegram_settings(settings), FakeBotApi()) as harness:
        yield harness


async def subscribe(tg: TelegramHarness, chat_id: int | str, *slugs: str) -> None:
    await tg.app.storage.subscriptions.subscribe(
        ChatRef(Platform.TELEGRAM, str(chat_id)), list(slugs), now=tg.app.clock()
    )


def edits_of(tg: TelegramHarness, chat_id: int, message_id: int) -> list[str]:
    """What each accepted edit of one message made it show."""
    return [
        call.params["text"]
        for call in tg.api.of_method("editMessageText")
        if call.params["chat_id"] == chat_id
        and call.params["message_id"] == message_id
        and not call.params.get("_refused")
    ]


async def test_a_draft_is_previewed_sent_with_a_button_and_its_counters_edited_live(
    tg: TelegramHarness,
) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita")
    await subscribe(tg, READER, "breaking")
    await subscribe(tg, CHANNEL, "nasional")
    await subscribe(tg, BLOCKED, "breaking")
    await subscribe(tg, REFUSING, "breaking")
    tg.api.blocked.add(BLOCKED)
    tg.api.bad_requests[REFUSING] = "message thread not found"

    preview = await tg.ask(ADMIN, f"/breaking {DEMAK}", user_id=ADMIN)

    [preview_call] = tg.api.sent(ADMIN)
    html = preview_call.params["text"]
    assert html.startswith("🔴 <b>BERITA TERKINI</b>\n<b>Tanggul jebol di Demak</b>\n<i>Nasional")
    assert "/read_" not in html  # not stored yet: no number to read
    assert "Akan dikirim ke 4 chat: Telegram 4." in preview
    send, cancel = tg.buttons(ADMIN)
    code = send["callback_data"].removeprefix("/confirm ")
    assert (send["text"], cancel) == (
        "Kirim",
        {"text": "Batal", "callback_data": f"/cancel {code}"},
    )
    assert await tg.app.storage.articles.count() == 0

    answer = await tg.press(ADMIN, send["callback_data"], user_id=ADMIN)

    assert answer.startswith(
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 4 chat.\nAntre "
    )
    # The button's spinner is stopped once the answer is out.
    await wait_until(lambda: bool(tg.api.of_method("answerCallbackQuery")))
    answer_id = tg.api.sent(ADMIN)[-1].params["_message_id"]
    final = (
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 4 chat.\n"
        "Selesai: terkirim 2 · gagal 1 · chat hilang 1. Rincian: /status 1"
    )
    # Edited in place (every two seconds at most) until the counters are final.
    await wait_until(lambda: final in edits_of(tg, ADMIN, answer_id), within=15)
    assert edits_of(tg, ADMIN, answer_id)[-1] == final
    assert len(tg.api.sent(READER)) == 1
    assert len(tg.api.sent(CHANNEL)) == 1
    assert await tg.sections_of(BLOCKED) == []

    status = await tg.ask(ADMIN, "/status 1", user_id=ADMIN)
    assert status.endswith(
        "Telegram, kiriman: 4 — terkirim 2 · antre 0 · gagal 1 · dibatalkan 1 (chat hilang 1)"
    )
    again = await tg.press(ADMIN, send["callback_data"], user_id=ADMIN)
    assert again.startswith(f"Draf {code} sudah dikirim sebagai berita #1.")
    assert len(tg.api.sent(READER)) == 1


async def test_cancel_is_a_button_too_and_a_cancelled_draft_sends_nothing(
    tg: TelegramHarness,
) -> None:
    await subscribe(tg, READER, "breaking")
    await tg.ask(ADMIN, f"/breaking {DEMAK}", user_id=ADMIN)
    send, cancel = tg.buttons(ADMIN)
    code = cancel["callback_data"].removeprefix("/cancel ")

    assert await tg.press(ADMIN, cancel["callback_data"], user_id=ADMIN) == (
        f"Draf {code} dibatalkan; tidak ada yang dikirim."
    )
    assert await tg.press(ADMIN, send["callback_data"], user_id=ADMIN) == (
        f"Draf {code} sudah dibatalkan; tidak ada yang dikirim."
    )
    assert await tg.app.storage.articles.count() == 0
    assert await tg.app.storage.outbox.status_counts() == {}
    assert tg.api.sent(READER) == []


async def test_a_draft_pressed_too_late_has_expired(settings: Settings) -> None:
    clock = FakeClock()
    async with running_bot(telegram_settings(settings), FakeBotApi(), clock=clock) as tg:
        await subscribe(tg, READER, "breaking")
        await tg.ask(ADMIN, f"/breaking {DEMAK}", user_id=ADMIN)
        [send, _cancel] = tg.buttons(ADMIN)
        code = send["callback_data"].removeprefix("/confirm ")
        clock.advance(10 * 60)

        answer = await tg.press(ADMIN, send["callback_data"], user_id=ADMIN)

        assert answer == (
            f"Draf {code} kedaluwarsa pada 24 Nov 2026 10:10 WIB dan tidak dikirim. Kirim "
            "/breaking lagi untuk membuat draf baru."
        )
        assert await tg.app.storage.articles.count() == 0
        assert tg.api.sent(READER) == []


async def test_in_a_group_the_buttons_answer_there_and_only_for_admins(
    tg: TelegramHarness,
) -> None:
    await subscribe(tg, READER, "breaking")
    await tg.ask(GROUP, f"/breaking {DEMAK}", user_id=ADMIN)
    send, cancel = tg.buttons(GROUP)
    # Callbacks, not links to a private chat as the Read button of a group is.
    assert "url" not in send
    assert "url" not in cancel

    refused = await tg.press(GROUP, send["callback_data"], user_id=READER)
    assert refused == (
        "Hanya admin bot yang dapat memakai /confirm. Kirim /whoami untuk melihat id Anda."
    )
    assert await tg.app.storage.articles.count() == 0

    sent = await tg.press(GROUP, send["callback_data"], user_id=OTHER_ADMIN)
    assert sent.startswith("Berita terkini #1 disimpan di rubrik Nasional")
    await wait_until(lambda: len(tg.api.sent(READER)) == 1)
    [entry, *_] = await tg.app.storage.audit.recent(1)
    assert (entry.actor, entry.action, entry.article_id) == ("telegram:2", "breaking", 1)


async def test_correct_edits_each_delivered_copy(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita")
    await subscribe(tg, READER, "breaking")
    await subscribe(tg, CHANNEL, "breaking")
    await tg.post_breaking(ADMIN, DEMAK)
    await tg.outbox_becomes({"sent": 2})
    copies = {chat: tg.api.sent(chat)[0].params["_message_id"] for chat in (READER, CHANNEL)}

    answer = await tg.ask(
        ADMIN, "/correct 1 Tanggul jebol di Demak, 3 desa terendam |", user_id=ADMIN
    )

    assert answer == "Berita #1 diralat. Pesan yang sudah terkirim ke 2 chat akan disunting."
    for chat, message_id in copies.items():
        await wait_until(
            lambda chat=chat, message_id=message_id: bool(edits_of(tg, chat, message_id))
        )
        [edited] = edits_of(tg, chat, message_id)
        assert "Tanggul jebol di Demak, 3 desa terendam" in edited
        assert "diperbarui" in edited
    assert all(len(tg.api.sent(chat)) == 1 for chat in copies)


async def test_retract_deletes_each_copy_telegram_still_allows(settings: Settings) -> None:
    clock = FakeClock()
    api = FakeBotApi()
    api.flood[GROUP] = 2 * 3600  # the group is told to wait two hours
    async with running_bot(telegram_settings(settings), api, clock=clock) as tg:
        await subscribe(tg, READER, "breaking")
        await subscribe(tg, GROUP, "nasional")
        await tg.post_breaking(ADMIN, DEMAK)
        await wait_until(lambda: len(api.sent(READER)) == 1)
        # Recorded (sent at this moment) before the clock moves on; the group's copy waits.
        await tg.outbox_becomes({"sent": 1, "pending": 1})
        clock.advance(2 * 3600)
        await wait_until(lambda: len(api.sent(GROUP)) == 1)
        await tg.outbox_becomes({"sent": 2})
        reader_copy = api.sent(READER)[0].params["_message_id"]
        group_copy = api.sent(GROUP)[0].params["_message_id"]

        # 49 hours after the reader's copy, 47 after the group's.
        clock.advance(47 * 3600)
        answer = await tg.ask(ADMIN, "/retract 1 Data korban keliru", user_id=ADMIN)

        assert answer == (
            'Berita #1 "Tanggul jebol di Demak" ditarik: tidak lagi muncul di /latest dan '
            "/read.\n"
            "1 salinan terkirim akan dihapus.\n"
            "1 salinan tidak dapat dihapus: 1 di Telegram terkirim lebih dari 48 jam lalu "
            "(batas Telegram)."
        )
        await wait_until(lambda: bool(api.of_method("deleteMessage")))
        [deleted] = api.of_method("deleteMessage")
        assert (deleted.params["chat_id"], deleted.params["message_id"]) == (GROUP, group_copy)
        assert (READER, reader_copy) in api.message_kinds  # still there: too old to delete
        await tg.outbox_becomes({"sent": 3, "dropped": 1})
        assert await tg.ask(READER, "/read 1", user_id=READER) == (
            "Berita nomor 1 telah ditarik oleh redaksi."
        )
        audit = await tg.ask(ADMIN, "/audit 1", user_id=ADMIN)
        assert audit.splitlines()[1] == (
            '26 Nov 2026 11:00 WIB · telegram:1 · menarik · #1 "Tanggul jebol di Demak" · '
            "Data korban keliru"
        )


async def test_deleting_a_message_already_gone_counts_as_deleted(tg: TelegramHarness) -> None:
    chat = ChatRef(Platform.TELEGRAM, str(READER))
    await tg.adapter.delete(chat, "999999")  # no error: the reader no longer sees it either
    [call] = tg.api.of_method("deleteMessage")
    assert call.params.get("_refused") == "Bad Request: message to delete not found"


async def test_admins_see_every_desk_command_in_their_menu(settings: Settings) -> None:
    api = FakeBotApi()
    api.add_chat(ADMIN, "private")
    async with running_bot(telegram_settings(settings), api):
        menus = api.of_method("setMyCommands")
    desk = {"breaking", "confirm", "cancel", "correct", "retract", "status", "audit"}
    [scoped] = [call for call in menus if call.params.get("scope", {}).get("chat_id") == ADMIN]
    assert desk <= {command["command"] for command in scoped.params["commands"]}
    for everyone in (call for call in menus if "scope" not in call.params):
        assert not desk & {command["command"] for command in everyone.params["commands"]}


async def test_stopping_the_bot_mid_delivery_stops_its_counters_with_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeBotApi()
    api.flood[READER] = 600  # the delivery cannot end while the bot runs
    async with open_app(telegram_settings(settings)) as app:
        stop = asyncio.Event()
        serving = asyncio.create_task(app.serve(make_adapter(app, api), stop=stop))
        await wait_until(lambda: bool(api.of_method("getUpdates")))
        tg = TelegramHarness(api=api, app=app, adapter=make_adapter(app, api))
        await subscribe(tg, READER, "breaking")
        await tg.post_breaking(ADMIN, DEMAK)
        await tg.outbox_becomes({"pending": 1})
        assert app.deps.desk._followed  # white-box: the answer is being kept current

        stop.set()
        await asyncio.wait_for(serving, 10)

        # Stopped with the platform, not left to edit through a disconnected adapter.
        assert not app.deps.desk._followed
    assert "Traceback" not in caplog.text
