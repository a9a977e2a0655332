"""Corrections: an updated story is edited in place in every chat that received it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.app import App
from bot.delivery.errors import PermanentError, RetryAfter
from bot.delivery.scheduler import EDIT_WAIT_SECONDS, DeliveryScheduler
from bot.render import ArticleRenderer
from storage.models import ChatRef, Platform
from tests.support import START, FakeClock, FakePlatform, draft

ADMIN = "1"  # telegram:1 is the admin of the `settings` fixture


async def _rows(app: App) -> list[tuple[str, str, str, str | None, int | None]]:
    database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
    async with database.connection.execute(
        "SELECT chat_id, kind, status, message_id, edit_of FROM outbox ORDER BY id"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]  # type: ignore[misc]


def _card_line(platform_message: object) -> str:
    reply = platform_message.reply  # type: ignore[attr-defined]
    return str(reply.plain_text())


async def test_a_corrected_breaking_story_is_edited_in_every_chat_that_got_it(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    # Three chats, reached three ways: the section, the breaking section, a keyword.
    await platform.say("/subscribe nasional", chat="21")
    await platform.say("/subscribe breaking", chat="22")
    await platform.say("/follow banjir", chat="23")
    stored = await platform.post_breaking(
        "Banjir Jakarta | Air setinggi 1 meter di Kampung Melayu.", user=ADMIN
    )
    assert "3 chat" in stored.plain_text()
    worker = app.delivery_worker(platform)
    assert await worker.deliver_due() == 3
    delivered = {message.chat.chat_id: message.message_id for message in platform.sent}
    assert sorted(delivered) == ["21", "22", "23"]

    clock.advance(5 * 60)
    # The draft of the same headline says it is a correction, and of how many copies.
    draft_of_correction = await platform.say_text(
        "/breaking Banjir Jakarta | Air setinggi 2 meter di Kampung Melayu.", user=ADMIN
    )
    assert "jadi ini ralat: 3 pesan terkirim akan disunting" in draft_of_correction
    corrected = (
        await platform.post_breaking(
            "Banjir Jakarta | Air setinggi 2 meter di Kampung Melayu.", user=ADMIN
        )
    ).plain_text()
    assert "disunting" in corrected
    assert "3 chat" in corrected
    assert await worker.deliver_due() == 3

    assert len(platform.sent) == 3  # nothing sent twice
    edited = {message.chat.chat_id: message.message_id for message in platform.edited}
    assert edited == delivered
    for message in platform.edited:
        shown = _card_line(message)
        assert "Air setinggi 2 meter" in message.reply.parts[0].summary  # type: ignore[union-attr]
        assert "(diperbarui 10:05)" in shown  # WIB: START is 03:00 UTC
    rows = await _rows(app)
    assert [row[1:3] for row in rows] == [("send", "sent")] * 3 + [("edit", "sent")] * 3
    # Each edit is recorded against the message it corrected.
    pushes = {row[0]: row for row in rows if row[1] == "send"}
    for chat_id, _kind, _status, message_id, edit_of in rows[3:]:
        assert message_id == pushes[chat_id][3]
        assert edit_of is not None

    # The breaking section lists it, though it was filed in Nasional.
    listed = await platform.say_text("/latest breaking")
    assert "Banjir Jakarta" in listed
    assert "Banjir Jakarta" in await platform.say_text("/latest breaking banjir")

    # A second correction edits every copy again; a repeat of it changes nothing.
    clock.advance(60)
    await platform.post_breaking("Banjir Jakarta | Air mulai surut.", user=ADMIN)
    again = await platform.say_text("/breaking Banjir Jakarta | Air mulai surut.", user=ADMIN)
    assert "sudah tersimpan" in again
    assert await worker.deliver_due() == 3
    assert len(platform.edited) == 6
    assert await worker.deliver_due() == 0


async def test_a_feed_story_whose_headline_changes_is_edited_not_pushed_again(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe ekonomi", chat="31")
    story = draft("Harga beras naik", section="ekonomi", identity="url:https://b.example/beras")
    await app.deps.newsroom.publish([story])
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    [push] = platform.sent

    # Only the author changed: stored, but nothing a reader sees changed; no edit.
    [quiet] = await app.deps.newsroom.publish([replace(story, author="X")])
    assert quiet.queued == 0
    clock.advance(120)
    renamed = replace(story, title="Harga beras turun")
    [result] = await app.deps.newsroom.publish([renamed])
    assert result.queued == 1
    await worker.deliver_due()
    [edit] = platform.edited
    assert edit.message_id == push.message_id
    assert "Harga beras turun" in _card_line(edit)
    assert len(platform.sent) == 1
    # /latest shows the correction too.
    assert "(diperbarui 10:02)" in await platform.say_text("/latest ekonomi")


async def test_an_edit_waits_for_a_push_still_being_sent(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="41")
    story = draft("Jalan tol dibuka", identity="url:https://b.example/tol")
    await app.deps.newsroom.publish([story])
    # Another worker has the push in flight, rendered before the correction.
    [in_flight] = await app.storage.outbox.claim(
        Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
    )
    [result] = await app.deps.newsroom.publish([replace(story, title="Jalan tol dibuka besok")])
    assert result.queued == 1
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    assert platform.edited == []  # nothing to edit yet: the push has no message id
    await app.storage.outbox.mark_sent(in_flight, "9001", now=clock())
    clock.advance(EDIT_WAIT_SECONDS)
    await worker.deliver_due()
    [edit] = platform.edited
    assert edit.message_id == "9001"
    assert "Jalan tol dibuka besok" in _card_line(edit)


async def test_an_edit_of_a_push_that_went_back_to_waiting_is_dropped(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="51")
    story = draft("Kereta cepat", identity="url:https://b.example/kereta")
    await app.deps.newsroom.publish([story])
    [in_flight] = await app.storage.outbox.claim(
        Platform.TELEGRAM, now=clock(), lease_seconds=60, limit=10
    )
    await app.deps.newsroom.publish([replace(story, title="Kereta cepat ditunda")])
    # The send failed and will be tried again in a minute, with the text as it is then.
    await app.storage.outbox.retry_at(
        in_flight, clock() + timedelta(seconds=60), "timed out", count_attempt=True
    )
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    assert platform.edited == []
    assert platform.sent == []
    clock.advance(60)
    await worker.deliver_due()
    [push] = platform.sent
    assert "Kereta cepat ditunda" in _card_line(push)
    assert platform.edited == []
    rows = await _rows(app)
    assert [row[1:3] for row in rows] == [("send", "sent"), ("edit", "dropped")]


async def test_edits_obey_retry_after_and_a_refused_edit_is_not_retried(
    app: App, platform: FakePlatform, clock: FakeClock
) -> None:
    await platform.say("/subscribe nasional", chat="61")
    await platform.say("/subscribe nasional", chat="62")
    story = draft("Gempa Cianjur", identity="url:https://b.example/gempa")
    await app.deps.newsroom.publish([story])
    worker: DeliveryScheduler = app.delivery_worker(platform)
    await worker.deliver_due()
    platform.failures = {
        "61": [RetryAfter(9)],
        "62": [PermanentError("Bad Request: message to edit not found")],
    }
    await app.deps.newsroom.publish([replace(story, title="Gempa Cianjur M5,6")])
    await worker.deliver_due()
    assert platform.edited == []
    clock.advance(9)
    await worker.deliver_due()
    assert [message.chat.chat_id for message in platform.edited] == ["61"]
    statuses = [(row[0], row[1], row[2]) for row in await _rows(app)]
    assert ("62", "edit", "failed") in statuses
    assert ("61", "edit", "sent") in statuses


def test_the_revision_label_names_the_day_when_it_is_another_day(app: App) -> None:
    renderer: ArticleRenderer = app.deps.renderer
    label = renderer.revision_label(START, START + timedelta(days=1, hours=2), "en")
    assert label == "(updated 25 Nov 12:00)"
    assert renderer.revision_label(START, START + timedelta(hours=1), "id") == "(diperbarui 11:00)"


async def test_a_chat_gone_since_is_not_edited(app: App, platform: FakePlatform) -> None:
    await platform.say("/subscribe nasional", chat="71")
    story = draft("Pemilu daerah", identity="url:https://b.example/pemilu")
    await app.deps.newsroom.publish([story])
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    await app.storage.chats.deactivate(ChatRef(Platform.TELEGRAM, "71"), "blocked", now=START)
    [result] = await app.deps.newsroom.publish([replace(story, title="Pemilu daerah diundur")])
    assert result.queued == 0
    await worker.deliver_due()
    assert platform.edited == []
