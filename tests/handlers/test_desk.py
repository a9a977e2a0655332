"""The breaking-news desk through the dispatcher, on fake platforms and a fake clock: drafts
(preview, reach, send, cancel, expiry), live counters, /correct, /retract, /status, /audit."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App
from bot.chat import ArticleCard, Button, Reply, Text
from bot.delivery.errors import ChatGone, PermanentError, RetryAfter
from bot.delivery.scheduler import EDIT_WAIT_SECONDS
from bot.settings import Settings
from storage.models import ChatRef, Platform, PublishOutcome
from tests.support import FakeClock, FakeLiveMessage, FakePlatform, draft, draft_code

ADMIN, OTHER_ADMIN, READER = "1", "2", "7"
PALU = "#nasional Gempa di Palu | Gempa M6 mengguncang Palu pagi ini."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Two Telegram admins: one may send what the other wrote."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(tmp_path / "newsbot.db"),
        admins=frozenset({f"telegram:{ADMIN}", f"telegram:{OTHER_ADMIN}"}),
    )


@pytest.fixture(autouse=True)
def quick_counters(app: App) -> None:
    """Live counters re-read at once instead of every two seconds, so the tests run fast."""
    app.deps.desk.refresh_seconds = 0.01


@pytest.fixture
def console(app: App) -> FakePlatform:
    """The console platform beside the Telegram one of `platform`."""
    return FakePlatform(app, platform=Platform.CONSOLE)


async def _outbox(app: App) -> list[tuple[str, str, str, str, str | None]]:
    """(platform, chat, kind, status, last error) of every outbox row, oldest first."""
    database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
    async with database.connection.execute(
        "SELECT platform, chat_id, kind, status, last_error FROM outbox ORDER BY id"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]  # type: ignore[misc]


def _text_of(reply: Reply) -> str:
    return "\n".join(part.content for part in reply.parts if isinstance(part, Text))


# Drafts ---------------------------------------------------------------------------------


async def test_a_draft_previews_the_push_and_its_reach_and_stores_nothing(
    app: App, platform: FakePlatform, console: FakePlatform
) -> None:
    for chat, words in (
        ("10", "/subscribe nasional"),
        ("11", "/subscribe breaking"),
        ("12", "/subscribe nasional breaking"),
        ("13", "/follow gempa palu"),
        ("14", "/follow gempa jepang"),  # not every word: not reached
        ("15", "/subscribe ekonomi"),
        ("16", "/subscribe nasional"),
        ("17", "/subscribe nasional"),
    ):
        await platform.say(words, chat=chat)
    await platform.say("/follow gempa", chat="12")  # one chat, three ways: counted once
    await platform.say("/unsubscribe nasional", chat="16")
    await app.storage.chats.deactivate(
        ChatRef(Platform.TELEGRAM, "17"), "blocked", now=app.clock()
    )
    await console.say("/subscribe breaking", chat="meja")

    preview = await platform.say(
        f"/breaking {PALU} | https://contoh.id/palu?utm_source=x", user=ADMIN
    )

    card = preview.parts[0]
    assert isinstance(card, ArticleCard)
    assert card.preview
    assert (card.title, card.section_name, card.badge, card.url) == (
        "Gempa di Palu",
        "Nasional",
        "BERITA TERKINI",
        "https://contoh.id/palu",
    )
    assert card.summary == "Gempa M6 mengguncang Palu pagi ini."
    assert card.time_label == "24 Nov 2026 10:00 WIB"
    code = draft_code(preview)
    assert _text_of(preview) == (
        "Akan dikirim ke 5 chat: konsol 1, Telegram 4.\n"
        f"Draf {code}, belum dikirim. Kirim atau batalkan sebelum 24 Nov 2026 10:10 WIB; "
        "setelah itu draf kedaluwarsa dan tidak ada yang dikirim."
    )
    assert preview.buttons == (
        Button("Kirim", f"/confirm {code}"),
        Button("Batal", f"/cancel {code}"),
    )
    assert await app.storage.articles.count() == 0
    assert await app.storage.outbox.status_counts() == {}

    sent = await platform.say(f"/confirm {code}", user=ADMIN)
    assert "akan dikirim ke 5 chat" in sent.plain_text()
    assert sorted((row[0], row[1]) for row in await _outbox(app)) == [
        ("console", "meja"),
        ("telegram", "10"),
        ("telegram", "11"),
        ("telegram", "12"),
        ("telegram", "13"),
    ]
    # The push readers get is the card the preview showed, with its number.
    await app.delivery_worker(platform).deliver_due()
    pushed = platform.sent_to("10")[0].reply.parts[0]
    assert isinstance(pushed, ArticleCard)
    assert replace(card, article_id=pushed.article_id, preview=False) == pushed


async def test_a_draft_reaching_nobody_says_so_and_is_still_stored_when_sent(
    platform: FakePlatform, app: App
) -> None:
    preview = await platform.say(f"/breaking {PALU}", user=ADMIN)
    assert _text_of(preview).startswith(
        "Belum ada chat yang akan menerimanya; berita tetap disimpan dan bisa dicari."
    )
    sent = await platform.say(f"/confirm {draft_code(preview)}", user=ADMIN)
    assert sent.plain_text() == (
        "Berita terkini #1 disimpan di rubrik Nasional; belum ada chat yang berlangganan."
    )
    assert sent.follow_up is None  # nothing to follow
    assert "Gempa di Palu" in await platform.say_text("/latest gempa")


async def test_a_draft_in_english_reads_in_english(platform: FakePlatform) -> None:
    await platform.say("/subscribe breaking", chat="21")
    await platform.say("/lang en", chat="100")
    preview = await platform.say(f"/breaking {PALU}", user=ADMIN)
    assert _text_of(preview).startswith("It will go to 1 chat: Telegram 1.\nDraft ")
    assert [button.label for button in preview.buttons] == ["Send", "Cancel"]


async def test_any_admin_sends_a_draft_once_whoever_presses_again(
    platform: FakePlatform, app: App
) -> None:
    await platform.say("/subscribe nasional", chat="21")
    code = draft_code(await platform.say(f"/breaking {PALU}", user=ADMIN))

    # Both admins press Send at the same moment: one sends it.
    answers = await asyncio.gather(
        platform.say_text(f"/confirm {code}", user=OTHER_ADMIN),
        platform.say_text(f"/confirm {code.upper()}", user=ADMIN),
    )
    assert sum("disimpan di rubrik Nasional" in answer for answer in answers) == 1
    assert await app.storage.articles.count() == 1
    assert await app.storage.outbox.status_counts() == {"pending": 1}

    again = await platform.say_text(f"/confirm {code}", user=ADMIN)
    assert again == (
        f"Draf {code} sudah dikirim sebagai berita #1. Lihat /status 1, atau tarik dengan "
        "/retract 1."
    )
    assert await platform.say_text(f"/cancel {code}", user=ADMIN) == again
    assert await app.storage.articles.count() == 1


async def test_only_admins_may_send_or_cancel_and_a_refusal_changes_nothing(
    platform: FakePlatform, app: App
) -> None:
    code = draft_code(await platform.say(f"/breaking {PALU}", user=ADMIN))
    for verb in ("confirm", "cancel"):
        refused = await platform.say_text(f"/{verb} {code}", user=READER)
        assert refused == (
            f"Hanya admin bot yang dapat memakai /{verb}. Kirim /whoami untuk melihat id Anda."
        )
    assert await app.storage.articles.count() == 0
    assert "disimpan" in await platform.say_text(f"/confirm {code}", user=ADMIN)


async def test_a_cancelled_draft_sends_nothing(platform: FakePlatform, app: App) -> None:
    await platform.say("/subscribe nasional", chat="21")
    code = draft_code(await platform.say(f"/breaking {PALU}", user=ADMIN))

    cancelled = await platform.say_text(f"/cancel {code}", user=OTHER_ADMIN)
    assert cancelled == f"Draf {code} dibatalkan; tidak ada yang dikirim."
    refused = f"Draf {code} sudah dibatalkan; tidak ada yang dikirim."
    assert await platform.say_text(f"/confirm {code}", user=ADMIN) == refused
    assert await platform.say_text(f"/cancel {code}", user=ADMIN) == refused
    assert await app.storage.articles.count() == 0
    assert await app.storage.outbox.status_counts() == {}


async def test_a_draft_not_sent_in_time_expires_and_sends_nothing(
    platform: FakePlatform, app: App, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="21")
    in_time = draft_code(await platform.say(f"/breaking {PALU}", user=ADMIN))
    late = draft_code(await platform.say("/breaking Banjir Demak | Air naik.", user=ADMIN))

    clock.advance(10 * 60 - 1)
    assert "disimpan" in await platform.say_text(f"/confirm {in_time}", user=ADMIN)
    clock.advance(1)
    expired = (
        f"Draf {late} kedaluwarsa pada 24 Nov 2026 10:10 WIB dan tidak dikirim. Kirim "
        "/breaking lagi untuk membuat draf baru."
    )
    assert await platform.say_text(f"/confirm {late}", user=ADMIN) == expired
    assert await platform.say_text(f"/cancel {late}", user=ADMIN) == expired
    assert await app.storage.articles.count() == 1  # Palu only


async def test_the_draft_lifetime_is_a_setting(settings: Settings, clock: FakeClock) -> None:
    from bot.app import open_app  # noqa: PLC0415 - an app of its own, with other settings

    short = settings.model_copy(update={"draft_ttl_minutes": 0.5})
    async with open_app(short, clock=clock) as app:
        platform = FakePlatform(app)
        preview = await platform.say(f"/breaking {PALU}", user=ADMIN)
        assert "sebelum 24 Nov 2026 10:00 WIB" in _text_of(preview)  # 10:00:30
        clock.advance(30)
        answer = await platform.say_text(f"/confirm {draft_code(preview)}", user=ADMIN)
        assert "kedaluwarsa" in answer
        assert await app.storage.articles.count() == 0


async def test_codes_that_name_no_draft_and_missing_codes(platform: FakePlatform) -> None:
    assert await platform.say_text("/confirm", user=ADMIN) == "Cara pakai: /confirm <kode draf>"
    assert await platform.say_text("/cancel  ", user=ADMIN) == "Cara pakai: /cancel <kode draf>"
    unknown = await platform.say_text("/confirm 'zz; DROP TABLE x", user=ADMIN)
    assert unknown == 'Tidak ada draf "\'zz; drop table x". Buat draf dengan /breaking.'
    long_code = await platform.say_text("/confirm " + "9" * 500, user=ADMIN)
    assert len(long_code) < 100


async def test_a_draft_of_a_story_already_sent_unchanged_is_not_made(
    platform: FakePlatform, app: App
) -> None:
    await platform.post_breaking(PALU, user=ADMIN)
    again = await platform.say(f"/breaking {PALU}", user=ADMIN)
    assert again.plain_text() == "Berita yang sama sudah tersimpan (#1); tidak dikirim ulang."
    assert again.buttons == ()


async def test_every_desk_command_is_for_admins_and_the_refusal_names_it(
    platform: FakePlatform, app: App
) -> None:
    await platform.post_breaking(PALU, user=ADMIN)
    for command in ("/correct 1 Judul | Isi", "/retract 1", "/status 1", "/audit", "/cancel x"):
        name = command.split()[0]
        refused = await platform.say_text(command, user=READER)
        assert refused == (
            f"Hanya admin bot yang dapat memakai {name}. Kirim /whoami untuk melihat id Anda."
        )
    assert await platform.say_text(f"/breaking {PALU}", user=READER) == (
        "Hanya admin bot yang dapat mengirim berita terkini. Kirim /whoami untuk melihat id Anda."
    )
    assert "Gempa di Palu" in await platform.say_text("/read 1")
    help_for_admin = await platform.say_text("/help", user=ADMIN)
    help_for_reader = await platform.say_text("/help", user=READER)
    for name in ("breaking", "confirm", "cancel", "correct", "retract", "status", "audit"):
        assert f"/{name}" in help_for_admin
        assert f"/{name}" not in help_for_reader


# Live counters ---------------------------------------------------------------------------


async def test_live_counters_follow_the_delivery_to_its_final_values(
    platform: FakePlatform, app: App, clock: FakeClock
) -> None:
    for chat in ("21", "22", "23", "24"):
        await platform.say("/subscribe breaking", chat=chat)
    sent = await platform.post_breaking(PALU, user=ADMIN)
    assert sent.plain_text() == (
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 4 chat.\n"
        "Antre 4 · terkirim 0 · gagal 0 · chat hilang 0"
    )
    assert sent.follow_up is not None
    live = FakeLiveMessage()
    sent.follow_up.shown(live)

    platform.failures = {
        "22": [ChatGone("Forbidden: bot was blocked by the user")],
        "23": [PermanentError("Bad Request: chat not writable")],
        "24": [RetryAfter(5)],
    }
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    shown = await live.until("Antre 1 · terkirim 1 · gagal 1 · chat hilang 1")
    assert live.final is None  # still going: chat 24 waits out its retry-after
    clock.advance(5)
    await worker.deliver_due()

    final = await live.until_final()
    assert final == (
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 4 chat.\n"
        "Selesai: terkirim 2 · gagal 1 · chat hilang 1. Rincian: /status 1"
    )
    texts = [text for text, _ in live.updates]
    assert shown in texts
    assert [is_final for _, is_final in live.updates].count(True) == 1
    # An update is made only when the counters change.
    assert all(a != b for a, b in itertools.pairwise(texts))
    await asyncio.sleep(0.05)
    assert live.updates[-1] == (final, True)  # nothing after the last


async def test_live_counters_wait_out_a_retry_after_and_stop_for_a_message_gone(
    platform: FakePlatform, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await platform.say("/subscribe breaking", chat="21")
    await platform.say("/subscribe breaking", chat="22")
    first = await platform.post_breaking(PALU, user=ADMIN)
    told_to_wait = FakeLiveMessage(failures=[RetryAfter(0.05)])
    assert first.follow_up is not None
    first.follow_up.shown(told_to_wait)
    await app.delivery_worker(platform).deliver_due()
    assert "Selesai: terkirim 2" in await told_to_wait.until_final()

    caplog.set_level(logging.INFO, logger="bot.newsroom.desk")
    second = await platform.post_breaking("Banjir Demak | Air naik.", user=ADMIN)
    deleted = FakeLiveMessage(failures=[PermanentError("Bad Request: message to edit not found")])
    assert second.follow_up is not None
    second.follow_up.shown(deleted)
    await app.delivery_worker(platform).deliver_due()
    async with asyncio.timeout(5):
        while "stopped the live counters of #2" not in caplog.text:  # noqa: ASYNC110 - a log
            await asyncio.sleep(0.01)
    assert deleted.updates == []
    assert "Traceback" not in caplog.text


async def test_live_counters_of_a_delivery_that_does_not_end_stop_after_an_hour(
    platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe breaking", chat="21")
    sent = await platform.post_breaking(PALU, user=ADMIN)
    live = FakeLiveMessage()
    assert sent.follow_up is not None
    sent.follow_up.shown(live)
    await asyncio.sleep(0.05)
    assert live.updates == []  # nothing changed: nothing shown again
    clock.advance(60 * 60)
    assert await live.until_final() == (
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 1 chat.\n"
        "Antre 1 · terkirim 0 · gagal 0 · chat hilang 0\n"
        "Pengiriman masih berjalan; lihat /status 1."
    )


async def test_finishing_shows_the_counters_as_they_stand(
    platform: FakePlatform, app: App
) -> None:
    await platform.say("/subscribe breaking", chat="21")
    await platform.say("/subscribe breaking", chat="22")
    sent = await platform.post_breaking(PALU, user=ADMIN)
    live = FakeLiveMessage(min_interval=3600)  # never refreshed by itself in this test
    assert sent.follow_up is not None
    sent.follow_up.shown(live)
    platform.failures = {"22": [RetryAfter(30)]}
    await app.delivery_worker(platform).deliver_due()

    await app.deps.desk.finish()

    assert live.updates == [
        (
            "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 2 chat.\n"
            "Antre 1 · terkirim 1 · gagal 0 · chat hilang 0\n"
            "Pengiriman masih berjalan; lihat /status 1.",
            True,
        )
    ]


# Corrections -----------------------------------------------------------------------------


async def test_correct_edits_every_delivered_copy(platform: FakePlatform, app: App) -> None:
    await platform.say("/subscribe nasional", chat="41")
    await platform.say("/subscribe breaking", chat="42")
    await platform.post_breaking(PALU, user=ADMIN)
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    delivered = {message.chat.chat_id: message.message_id for message in platform.sent}

    answer = await platform.say_text(
        "/correct 1 Gempa M6,2 di Palu | Gempa berkekuatan 6,2 mengguncang Palu.", user=ADMIN
    )
    assert answer == "Berita #1 diralat. Pesan yang sudah terkirim ke 2 chat akan disunting."
    await worker.deliver_due()
    assert {message.chat.chat_id: message.message_id for message in platform.edited} == delivered
    for message in platform.edited:
        card = message.reply.parts[0]
        assert isinstance(card, ArticleCard)
        assert card.title == "Gempa M6,2 di Palu"
        assert card.summary == "Gempa berkekuatan 6,2 mengguncang Palu."
        assert "(diperbarui 10:00)" in card.time_label
    assert len(platform.sent) == 2  # corrected, not sent again


async def test_correct_keeps_the_side_left_empty(platform: FakePlatform, app: App) -> None:
    await platform.post_breaking(PALU, user=ADMIN)

    await platform.say("/correct 1 | Gempa M6,2 mengguncang Palu dan Donggala.", user=ADMIN)
    article = await app.storage.articles.get(1)
    assert article is not None
    assert (article.title, article.summary) == (
        "Gempa di Palu",
        "Gempa M6,2 mengguncang Palu dan Donggala.",
    )
    await platform.say("/correct #1 Gempa Palu-Donggala |", user=ADMIN)
    article = await app.storage.articles.get(1)
    assert article is not None
    assert (article.title, article.body) == (
        "Gempa Palu-Donggala",
        "Gempa M6,2 mengguncang Palu dan Donggala.",
    )
    unchanged = await platform.say_text("/correct 1 Gempa Palu-Donggala |", user=ADMIN)
    assert unchanged == "Berita #1 sudah seperti itu; tidak ada yang berubah."


async def test_correct_of_a_feed_story_that_reached_nobody(
    platform: FakePlatform, app: App
) -> None:
    [result] = await app.deps.newsroom.publish([draft("Harga beras naik", section="ekonomi")])
    answer = await platform.say_text(
        f"/correct {result.article_id} Harga beras turun |", user=ADMIN
    )
    assert answer == (
        f"Berita #{result.article_id} diralat. Belum ada pesan terkirim yang perlu disunting."
    )
    assert "Harga beras turun" in await platform.say_text("/latest beras")


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/correct", "Cara pakai: /correct <nomor> <judul baru> | <isi baru>"),
        ("/correct 1 tanpa garis tegak", "Cara pakai: /correct"),
        ("/correct 1 |", "Cara pakai: /correct"),
        ("/correct | isi", "Cara pakai: /correct"),
        ("/correct satu Judul | Isi", "Nomor berita harus berupa angka"),
        ("/correct 99 Judul | Isi", "Berita nomor 99 tidak ada"),
    ],
)
async def test_correct_refuses_what_it_cannot_use(
    platform: FakePlatform, app: App, command: str, answer: str
) -> None:
    await platform.post_breaking(PALU, user=ADMIN)
    assert (await platform.say_text(command, user=ADMIN)).startswith(answer)
    article = await app.storage.articles.get(1)
    assert article is not None
    assert article.revised_at is None


# Retractions -----------------------------------------------------------------------------


async def test_retract_deletes_what_it_may_and_counts_what_it_may_not(
    platform: FakePlatform, console: FakePlatform, app: App, clock: FakeClock
) -> None:
    for chat in ("31", "32", "33", "35"):
        await platform.say("/subscribe nasional", chat=chat)
    await console.say("/subscribe breaking", chat="meja")
    # 32 is told to wait two hours; 35 longer than the story will live.
    platform.failures = {"32": [RetryAfter(2 * 3600)], "35": [RetryAfter(60 * 3600)]}
    await platform.post_breaking(PALU, user=ADMIN)
    telegram = app.delivery_worker(platform)
    await telegram.deliver_due()
    await app.delivery_worker(console, chat_id="meja").deliver_due()
    clock.advance(2 * 3600)
    await telegram.deliver_due()
    copies = {message.chat.chat_id: message.message_id for message in platform.sent}
    assert sorted(copies) == ["31", "32", "33"]
    await app.storage.chats.deactivate(ChatRef(Platform.TELEGRAM, "33"), "blocked", now=clock())

    # 49 hours after the story went out: 31's copy is past Telegram's 48 hours, 32's is not.
    clock.advance(47 * 3600)
    answer = await platform.say_text("/retract 1 Magnitudo keliru", user=OTHER_ADMIN)

    assert answer == (
        'Berita #1 "Gempa di Palu" ditarik: tidak lagi muncul di /latest dan /read.\n'
        "2 salinan terkirim akan dihapus.\n"
        "2 salinan tidak dapat dihapus: 1 di Telegram terkirim lebih dari 48 jam lalu (batas "
        "Telegram); 1 di chat yang sudah memblokir atau mengeluarkan bot.\n"
        "1 kiriman yang belum terkirim dibatalkan."
    )
    await telegram.deliver_due()
    await app.delivery_worker(console, chat_id="meja").deliver_due()
    assert platform.deleted == [(ChatRef(Platform.TELEGRAM, "32"), copies["32"])]
    assert [chat.chat_id for chat, _ in console.deleted] == ["meja"]
    clock.advance(12 * 3600)  # past 35's retry-after: its push was cancelled
    await telegram.deliver_due()
    assert platform.sent_to("35") == []

    assert await platform.say_text("/read 1") == "Berita nomor 1 telah ditarik oleh redaksi."
    assert "Gempa di Palu" not in await platform.say_text("/latest gempa")
    assert "Gempa di Palu" not in await platform.say_text("/latest breaking")
    assert "Gempa di Palu" not in await platform.say_text("/latest nasional")
    assert "Gempa di Palu" not in await platform.say_text("/latest")
    again = await platform.say_text("/retract 1", user=ADMIN)
    assert again == "Berita #1 sudah ditarik pada 26 Nov 2026 11:00 WIB."


async def test_retract_waits_for_a_copy_being_sent_then_deletes_it(
    platform: FakePlatform, app: App, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="51")
    await platform.post_breaking(PALU, user=ADMIN)
    # Another worker has the push in flight.
    [in_flight] = await app.storage.outbox.claim(
        Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
    )
    answer = await platform.say_text("/retract 1", user=ADMIN)
    assert "1 salinan terkirim akan dihapus." in answer
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    assert platform.deleted == []  # nothing to delete yet: no message id
    await app.storage.outbox.mark_sent(in_flight, "9001", now=clock())
    clock.advance(EDIT_WAIT_SECONDS)
    await worker.deliver_due()
    assert platform.deleted == [(ChatRef(Platform.TELEGRAM, "51"), "9001")]


async def test_a_retracted_story_stays_withdrawn(platform: FakePlatform, app: App) -> None:
    await platform.say("/subscribe nasional", chat="61")
    await platform.post_breaking(PALU, user=ADMIN)
    await app.delivery_worker(platform).deliver_due()
    # A correction waiting to go out when the story is withdrawn never goes.
    await platform.say("/correct 1 Gempa M6,2 di Palu |", user=ADMIN)
    await platform.say("/retract 1", user=ADMIN)
    assert [row[2:4] for row in await _outbox(app)] == [
        ("send", "sent"),
        ("edit", "dropped"),
        ("delete", "pending"),
    ]
    article = await app.storage.articles.get(1, include_retracted=True)
    assert article is not None
    assert article.retracted_at is not None

    # A feed (or anything else) carrying it again changes nothing.
    [again] = await app.deps.newsroom.publish(
        [draft("Gempa di Palu, terbaru", identity=article.identity, published_at=app.clock())]
    )
    assert (again.outcome, again.queued) == (PublishOutcome.DUPLICATE, 0)
    assert await app.storage.articles.get(1) is None
    # Its headline cannot be sent again as a new draft the same day.
    refused = await platform.say(f"/breaking {PALU}", user=ADMIN)
    assert refused.plain_text() == (
        "Berita dengan judul ini (#1) sudah ditarik. Ganti judulnya untuk mengirim berita baru."
    )
    assert refused.buttons == ()
    assert await platform.say_text("/correct 1 Judul | Isi", user=ADMIN) == (
        "Berita #1 sudah ditarik, jadi tidak dapat diralat."
    )


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/retract", "Cara pakai: /retract <nomor> [alasan]"),
        ("/retract satu", "Nomor berita harus berupa angka, misalnya /read 42."),
        ("/retract 42", "Berita nomor 42 tidak ada. Cari berita dengan /latest."),
    ],
)
async def test_retract_refuses_what_it_cannot_use(
    platform: FakePlatform, app: App, command: str, answer: str
) -> None:
    await platform.post_breaking(PALU, user=ADMIN)
    assert await platform.say_text(command, user=ADMIN) == answer
    assert await app.storage.articles.get(1) is not None


# Status and audit ------------------------------------------------------------------------


async def test_status_reports_each_platform_and_kind(
    platform: FakePlatform, console: FakePlatform, app: App, clock: FakeClock
) -> None:
    for chat in ("71", "72", "73"):
        await platform.say("/subscribe nasional", chat=chat)
    await console.say("/subscribe nasional", chat="meja")
    await platform.post_breaking(PALU, user=ADMIN)
    platform.failures = {"72": [ChatGone("blocked")], "73": [RetryAfter(60)]}
    await app.delivery_worker(platform).deliver_due()
    await platform.say("/correct 1 Gempa M6,2 di Palu |", user=ADMIN)
    await app.delivery_worker(platform).deliver_due()

    status = await platform.say_text("/status 1", user=ADMIN)

    assert status == (
        "#1 Gempa M6,2 di Palu\n"
        "Nasional · 24 Nov 2026 10:00 WIB\n"
        "konsol, kiriman: 1 — terkirim 0 · antre 1 · gagal 0 · dibatalkan 0\n"
        "Telegram, kiriman: 3 — terkirim 1 · antre 1 · gagal 0 · dibatalkan 1 (chat hilang 1)\n"
        "Telegram, suntingan: 1 — terkirim 1 · antre 0 · gagal 0 · dibatalkan 0"
    )
    clock.advance(60)
    await platform.say("/retract 1 Salah data", user=ADMIN)
    withdrawn = await platform.say_text("/status 1", user=ADMIN)
    assert "Ditarik 24 Nov 2026 10:01 WIB: Salah data" in withdrawn
    assert "Telegram, penghapusan: 1 — terkirim 0 · antre 1" in withdrawn


async def test_status_of_a_story_never_pushed_and_of_no_story(
    platform: FakePlatform, app: App
) -> None:
    [result] = await app.deps.newsroom.publish([draft("Arsip lama", section="ekonomi")])
    status = await platform.say_text(f"/status {result.article_id}", user=ADMIN)
    assert status.endswith("\nBerita ini belum dikirim ke chat mana pun.")
    assert await platform.say_text("/status", user=ADMIN) == "Cara pakai: /status <nomor>"
    assert await platform.say_text("/status 1 2", user=ADMIN) == "Cara pakai: /status <nomor>"
    assert (await platform.say_text("/status 404", user=ADMIN)).startswith(
        "Berita nomor 404 tidak ada"
    )


async def test_audit_lists_the_desk_actions_newest_first(
    platform: FakePlatform, app: App, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="81")  # a reader's action: not listed
    await platform.post_breaking(PALU, user=ADMIN)
    clock.advance(60)
    cancelled = draft_code(await platform.say("/breaking Banjir | Air naik.", user=OTHER_ADMIN))
    await platform.say(f"/cancel {cancelled}", user=ADMIN)
    clock.advance(60)
    await platform.say("/correct 1 Gempa M6,2 di Palu |", user=ADMIN)
    await platform.say("/retract 1 Salah data", user=OTHER_ADMIN)

    lines = (await platform.say_text("/audit", user=ADMIN)).splitlines()

    story = '#1 "Gempa M6,2 di Palu"'
    assert lines[0] == "Tindakan admin terakhir:"
    assert lines[1:4] == [
        f"24 Nov 2026 10:02 WIB · telegram:2 · menarik · {story} · Salah data",
        f"24 Nov 2026 10:02 WIB · telegram:1 · meralat · {story} · "
        '"Gempa di Palu" → "Gempa M6,2 di Palu"',
        f"24 Nov 2026 10:01 WIB · telegram:1 · membatalkan draf · {cancelled}: Banjir",
    ]
    assert lines[4] == f"24 Nov 2026 10:01 WIB · telegram:2 · membuat draf · {cancelled}: Banjir"
    assert lines[5].startswith(
        f"24 Nov 2026 10:00 WIB · telegram:1 · mengirim berita terkini · {story} · "
    )
    assert lines[6].startswith("24 Nov 2026 10:00 WIB · telegram:1 · membuat draf · ")
    assert len(lines) == 7
    assert len((await platform.say_text("/audit 2", user=ADMIN)).splitlines()) == 3
    await platform.say("/lang en", chat="100")
    english = await platform.say_text("/audit 1", user=ADMIN)
    assert english.splitlines() == [
        "Latest admin actions:",
        f"24 Nov 2026 10:02 WIB · telegram:2 · withdrew · {story} · Salah data",
    ]


async def test_audit_count_is_checked_and_capped(platform: FakePlatform) -> None:
    for number in range(55):
        await platform.say(f"/breaking Kabar {number} | Isi {number}.", user=ADMIN)
    assert len((await platform.say_text("/audit 1000", user=ADMIN)).splitlines()) == 1 + 50
    assert len((await platform.say_text("/audit", user=ADMIN)).splitlines()) == 1 + 10
    for wrong in ("0", "-3", "lima", "1.5", "²"):
        assert await platform.say_text(f"/audit {wrong}", user=ADMIN) == (
            "Cara pakai: /audit [jumlah]"
        )


async def test_audit_with_nothing_recorded(platform: FakePlatform) -> None:
    assert await platform.say_text("/audit", user=ADMIN) == (
        "Belum ada tindakan admin yang tercatat."
    )


async def test_audit_keeps_a_corrections_headline_and_text_apart(
    platform: FakePlatform,
) -> None:
    await platform.post_breaking(PALU, user=ADMIN)
    await platform.say("/correct 1 Gempa M6,2 di Palu | Gempa M6,2 mengguncang Palu.", user=ADMIN)
    await platform.say("/correct 1 | Dua rumah rusak di Palu.", user=ADMIN)

    newest, first = (await platform.say_text("/audit 2", user=ADMIN)).splitlines()[1:]

    story = '#1 "Gempa M6,2 di Palu"'
    assert first.endswith(
        f' · meralat · {story} · "Gempa di Palu" → "Gempa M6,2 di Palu" | '
        '"Gempa M6,2 mengguncang Palu."'
    )
    # The text alone: after the bar, as it is typed after /correct's.
    assert newest.endswith(f' · meralat · {story} · | "Dua rumah rusak di Palu."')
