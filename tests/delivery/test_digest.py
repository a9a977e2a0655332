"""Daily digests and quiet hours, on a fake clock: held pushes, one digest per hold, breaking news
at once, and a digest that survives a crash between its send and its record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, open_app
from bot.chat import Reply, StoryList, Text
from bot.delivery.errors import ChatGone, ChatMoved, PermanentError
from bot.settings import Settings
from storage.models import ChatRef, DeliveryMode, Platform, QuietHours
from tests.support import FakeClock, FakePlatform, draft

WIB = ZoneInfo("Asia/Jakarta")


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026, Jakarta time."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=WIB)


def chat(chat_id: str) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, chat_id)


async def outbox(app: App, chat_id: str) -> list[tuple[str, str | None, int]]:
    """(status, message id, delivered in a digest) of a chat's push rows, oldest first."""
    database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
    async with database.connection.execute(
        "SELECT status, message_id, in_digest FROM outbox WHERE chat_id = ? AND kind = 'send' "
        "ORDER BY id",
        (chat_id,),
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]  # type: ignore[misc]


async def publish(app: App, clock: FakeClock, title: str, section: str, **options: object) -> int:
    """Store a story published now, fanned out like any other; its id."""
    [result] = await app.deps.newsroom.publish(
        [draft(title, section=section, published_at=clock(), **options)]  # type: ignore[arg-type]
    )
    return result.article_id


def lists_of(reply: Reply) -> dict[str, list[int]]:
    """A digest's sections, in order, with the story ids each lists."""
    return {
        part.heading: [story.article_id for story in part.stories]
        for part in reply.parts
        if isinstance(part, StoryList)
    }


def header_of(reply: Reply) -> str:
    first = reply.parts[0]
    assert isinstance(first, Text)
    return first.content


@pytest.fixture
def deliver(app: App, platform: FakePlatform) -> Callable[[], Awaitable[tuple[int, int]]]:
    """One pass of the delivery engine as `newsbot run` has it: (pushes handled, digests
    sent)."""
    worker = app.delivery_worker(platform)

    async def one_pass() -> tuple[int, int]:
        return await worker.deliver_due(), worker.digests_sent

    return one_pass


async def test_a_digest_at_seven_collects_the_stories_since_the_last_one_by_section(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe internasional, ekonomi", chat="10")
    await platform.say("/follow garuda", chat="10")
    answer = await platform.say_text("/digest 07:00", chat="10")
    assert answer.startswith("Chat ini sekarang menerima satu ringkasan berita setiap hari pukul")
    assert "07:00 WIB" in answer
    await platform.say("/subscribe ekonomi", chat="11")  # instant, for comparison

    rupiah = await publish(app, clock, "Rupiah menguat terhadap dolar", "ekonomi")
    nato = await publish(app, clock, "NATO dan Jepang perkuat kerja sama", "internasional")
    assert await deliver() == (3, 0)
    clock.now = wib(24, 15, 30)
    beras = await publish(app, clock, "Harga beras turun di Cipinang", "ekonomi")
    garuda = await publish(app, clock, "Garuda Muda menang 2-0", "olahraga", body="Tim garuda.")
    assert await deliver() == (3, 0)

    # Chat 11 takes its stories as they come; chat 10's wait for its digest.
    assert [m.reply.parts[0].article_id for m in platform.sent_to("11")] == [  # type: ignore[union-attr]
        rupiah,
        beras,
    ]
    assert platform.sent_to("10") == []
    assert [row[0] for row in await outbox(app, "10")] == ["held"] * 4
    assert await app.storage.digests.next_due(Platform.TELEGRAM) == wib(25, 7)

    clock.now = wib(25, 6, 59, 59)
    assert await deliver() == (0, 0)
    clock.now = wib(25, 7)
    assert await deliver() == (0, 1)

    [digest] = platform.sent_to("10")
    assert header_of(digest.reply) == "Ringkasan berita, 25 Nov 2026 07:00 WIB: 4 berita"
    # The configured order of sections; in each, the newest first. The follow's story comes
    # under its own section.
    assert lists_of(digest.reply) == {
        "Internasional": [nato],
        "Ekonomi": [beras, rupiah],
        "Olahraga": [garuda],
    }
    ekonomi = digest.reply.parts[2]
    assert isinstance(ekonomi, StoryList)
    assert [(s.time_label, s.title) for s in ekonomi.stories] == [
        ("24 Nov 15:30", "Harga beras turun di Cipinang"),
        ("24 Nov 10:00", "Rupiah menguat terhadap dolar"),
    ]
    assert await outbox(app, "10") == [("sent", digest.message_id, 1)] * 4
    assert await deliver() == (0, 0)

    # The next day's digest has the next day's stories only.
    clock.now = wib(25, 8)
    later = await publish(app, clock, "Ekspor nikel naik", "ekonomi")
    assert await deliver() == (2, 0)
    clock.now = wib(26, 7)
    assert await deliver() == (0, 1)
    [_, second] = platform.sent_to("10")
    assert lists_of(second.reply) == {"Ekonomi": [later]}
    assert header_of(second.reply) == "Ringkasan berita, 26 Nov 2026 07:00 WIB: 1 berita"
    assert [s.time_label for s in second.reply.parts[1].stories] == ["25 Nov 08:00"]  # type: ignore[union-attr]


async def test_quiet_hours_across_midnight_hold_pushes_then_release_them_as_one_digest(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 21)
    await platform.say("/subscribe nasional", chat="10")
    answer = await platform.say_text("/quiet 22:00-06:00", chat="10")
    assert answer.startswith("Jam tenang 22:00\u201306:00 WIB: pada jam itu hanya berita terkini")

    clock.now = wib(24, 21, 59, 59)
    before = await publish(app, clock, "Sidang kabinet malam ini", "nasional")
    assert await deliver() == (1, 0)
    assert [m.reply.parts[0].article_id for m in platform.sent_to("10")] == [before]  # type: ignore[union-attr]

    held = []
    for moment, title in [
        (wib(24, 22), "Gempa kecil di Sukabumi"),
        (wib(25, 0, 30), "KRL tambah jadwal malam"),
        (wib(25, 5, 59), "Banjir surut di Kampung Melayu"),
    ]:
        clock.now = moment
        held.append(await publish(app, clock, title, "nasional"))
        assert await deliver() == (1, 0)
    assert len(platform.sent) == 1
    assert await app.storage.digests.next_due(Platform.TELEGRAM) == wib(25, 6)

    clock.now = wib(25, 6)
    assert await deliver() == (0, 1)
    [_, digest] = platform.sent_to("10")
    assert header_of(digest.reply) == "Ringkasan berita, 25 Nov 2026 06:00 WIB: 3 berita"
    assert lists_of(digest.reply) == {"Nasional": list(reversed(held))}
    assert [s.time_label for s in digest.reply.parts[1].stories] == [  # type: ignore[union-attr]
        "05:59",
        "00:30",
        "24 Nov 22:00",
    ]

    # After the quiet hours, stories come as they are published again.
    after = await publish(app, clock, "Tol Cipali lancar", "nasional")
    assert await deliver() == (1, 0)
    assert platform.sent_to("10")[-1].reply.parts[0].article_id == after  # type: ignore[union-attr]
    assert [row[0] for row in await outbox(app, "10")] == ["sent"] * 5


async def test_breaking_news_goes_at_once_in_quiet_hours_and_in_digest_mode(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 23)
    await platform.say("/subscribe nasional", chat="20")
    await platform.say("/quiet 22:00-06:00", chat="20")
    await platform.say("/subscribe nasional", chat="21")
    await platform.say("/digest 07:00", chat="21")
    await platform.say("/subscribe breaking", chat="22")
    await platform.say("/digest 18.30", chat="22")

    regular = await publish(app, clock, "Rapat DPR ditunda", "nasional")
    sent = await platform.post_breaking(
        "Gempa M6,1 guncang Banten | Tidak berpotensi tsunami.", user="1"
    )
    assert "3 chat" in sent.plain_text()
    assert await deliver() == (5, 0)

    for chat_id in ("20", "21", "22"):
        [message] = platform.sent_to(chat_id)
        assert message.reply.parts[0].badge == "BERITA TERKINI"  # type: ignore[union-attr]
    assert [row[0] for row in await outbox(app, "20")] == ["held", "sent"]
    assert [row[0] for row in await outbox(app, "21")] == ["held", "sent"]
    clock.now = wib(25, 6)
    assert await deliver() == (0, 1)
    assert lists_of(platform.sent_to("20")[-1].reply) == {"Nasional": [regular]}


async def test_a_chat_switching_back_to_instant_gets_its_held_stories_at_once(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    stories = [await publish(app, clock, f"Kabar pasar nomor {n}", "ekonomi") for n in (1, 2, 3)]
    assert await deliver() == (3, 0)
    assert platform.sent == []

    clock.now = wib(24, 13)
    answer = await platform.say_text("/digest off", chat="10")
    assert answer == (
        "Ringkasan harian dimatikan: berita baru kembali dikirim langsung.\n"
        "3 berita yang tertahan segera dikirim sebagai satu ringkasan."
    )
    assert await deliver() == (0, 1)
    [digest] = platform.sent
    assert lists_of(digest.reply) == {"Ekonomi": list(reversed(stories))}

    fresh = await publish(app, clock, "IHSG ditutup menguat", "ekonomi")
    assert await deliver() == (1, 0)
    assert platform.sent[-1].reply.parts[0].article_id == fresh  # type: ignore[union-attr]
    assert [row[0] for row in await outbox(app, "10")] == ["sent"] * 4


async def test_held_stories_follow_a_new_digest_time_or_quiet_hours(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    await publish(app, clock, "Inflasi November terkendali", "ekonomi")
    assert await deliver() == (1, 0)

    answer = await platform.say_text("/digest 18:00", chat="10")
    assert answer.endswith("1 berita yang tertahan akan dikirim dalam ringkasan pukul 18:00 WIB.")
    assert await app.storage.digests.next_due(Platform.TELEGRAM) == wib(24, 18)

    # Turned off inside quiet hours, the digest waits for their end.
    clock.now = wib(24, 17)
    await platform.say("/quiet 16:00-19:00", chat="10")
    assert await app.storage.digests.next_due(Platform.TELEGRAM) == wib(24, 19)
    answer = await platform.say_text("/digest off", chat="10")
    assert answer.endswith("1 berita yang tertahan akan dikirim dalam ringkasan pukul 19:00 WIB.")
    clock.now = wib(24, 18, 59)
    assert await deliver() == (0, 0)
    clock.now = wib(24, 19)
    assert await deliver() == (0, 1)


async def test_a_digest_time_in_quiet_hours_waits_for_their_end(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe nasional", chat="10")
    await platform.say("/quiet 22:00-06:00", chat="10")
    answer = await platform.say_text("/digest 05:00", chat="10")
    assert answer.endswith(
        "Pukul 05:00 WIB termasuk jam tenang chat ini, jadi ringkasan datang saat jam tenang "
        "berakhir, pukul 06:00 WIB."
    )
    await publish(app, clock, "Presiden resmikan bendungan", "nasional")
    assert await deliver() == (1, 0)
    clock.now = wib(25, 5)
    assert await deliver() == (0, 0)
    clock.now = wib(25, 6)
    assert await deliver() == (0, 1)


async def test_a_crash_between_sending_a_digest_and_recording_it_repeats_that_digest_only(
    app: App, settings: Settings, platform: FakePlatform, clock: FakeClock
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    stories = [await publish(app, clock, f"Berita pagi {n}", "ekonomi") for n in (1, 2)]
    await app.delivery_worker(platform).deliver_due()

    class ProcessKilled(BaseException):
        """The process dies here: nothing after this line of it runs."""

    async def killed(*args: object, **kwargs: object) -> None:
        raise ProcessKilled

    real_mark_sent = app.storage.digests.mark_sent
    app.storage.digests.mark_sent = killed  # type: ignore[method-assign]
    clock.now = wib(25, 7)
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    assert worker.digests_sent == 1  # sent; the process dies before recording it
    [first] = platform.sent
    # Neither recorded nor lost: still claimed by the dead sender.
    assert [row[0] for row in await outbox(app, "10")] == ["digesting", "digesting"]
    app.storage.digests.mark_sent = real_mark_sent  # type: ignore[method-assign]

    # A story arrives while the dead process's claim still stands; then a new process starts.
    clock.advance(30)
    extra = await publish(app, clock, "Berita siang", "ekonomi")
    restarted_clock = FakeClock(clock())
    async with open_app(settings, clock=restarted_clock) as restarted:
        again = FakePlatform(restarted)
        sender = restarted.delivery_worker(again)

        async def digests_sent() -> int:
            await sender.deliver_due()
            return sender.digests_sent

        assert await digests_sent() == 0  # the claim's lease has not run out
        assert [row[0] for row in await outbox(restarted, "10")] == [
            "digesting",
            "digesting",
            "held",  # for tomorrow's digest
        ]
        restarted_clock.advance(settings.delivery_lease_seconds - 30.1)
        assert await digests_sent() == 0
        restarted_clock.advance(0.1)
        assert await digests_sent() == 1
        assert await digests_sent() == 0
        [repeated] = again.sent
        assert (
            lists_of(repeated.reply)
            == lists_of(first.reply)
            == {"Ekonomi": list(reversed(stories))}
        )
        assert [row[:2] for row in await outbox(restarted, "10")] == [
            ("sent", repeated.message_id),
            ("sent", repeated.message_id),
            ("held", None),
        ]
        restarted_clock.now = wib(26, 7)
        assert await digests_sent() == 1
        assert lists_of(again.sent[-1].reply) == {"Ekonomi": [extra]}


async def test_a_digest_to_a_chat_that_is_gone_drops_its_stories_and_subscriptions(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    await publish(app, clock, "Harga cabai naik", "ekonomi")
    await deliver()
    platform.failures = {"10": [ChatGone("bot was blocked by the user")]}
    clock.now = wib(25, 7)
    assert await deliver() == (0, 0)
    assert await outbox(app, "10") == [("dropped", None, 0)]
    assert await app.storage.subscriptions.sections_of(chat("10")) == []
    # A chat gone while stories wait for its digest loses them with its subscriptions.
    await platform.say("/subscribe ekonomi", chat="11")
    await platform.say("/digest 07:00", chat="11")
    await publish(app, clock, "Harga bawang turun", "ekonomi")
    await deliver()
    await app.storage.chats.deactivate(chat("11"), "kicked", now=clock())
    assert await outbox(app, "11") == [("dropped", None, 0)]


async def test_a_digest_to_a_moved_chat_arrives_at_its_new_id_with_its_mode(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="-10")
    await platform.say("/digest 07:00", chat="-10")
    await platform.say("/quiet 22:00-05:00", chat="-10")
    await publish(app, clock, "Bank sentral tahan suku bunga", "ekonomi")
    await deliver()
    platform.failures = {"-10": [ChatMoved("-100777")]}
    clock.now = wib(25, 7)
    assert await deliver() == (0, 1)
    [digest] = platform.sent
    assert digest.chat == chat("-100777")
    assert await app.storage.chats.delivery_mode(chat("-100777")) == DeliveryMode(
        digest_at=wib(24, 7).time(), quiet=QuietHours(wib(24, 22).time(), wib(24, 5).time())
    )
    assert await outbox(app, "-100777") == [("sent", digest.message_id, 1)]


async def test_a_digest_the_platform_refuses_is_not_sent_again(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    await publish(app, clock, "Pajak karbon ditunda", "ekonomi")
    await deliver()
    platform.failures = {"10": [PermanentError("message is too long")]}
    clock.now = wib(25, 7)
    assert await deliver() == (0, 0)
    clock.now = wib(26, 7)
    assert await deliver() == (0, 0)
    assert await outbox(app, "10") == [("failed", None, 0)]


async def test_a_correction_does_not_overwrite_a_digest(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    await platform.say("/subscribe ekonomi", chat="11")
    story = draft("Tarif listrik tetap", section="ekonomi", published_at=clock())
    await app.deps.newsroom.publish([story])
    await deliver()
    clock.now = wib(25, 7)
    await deliver()
    assert len(platform.sent) == 2

    [result] = await app.deps.newsroom.publish([replace(story, title="Tarif listrik naik")])
    assert result.queued == 1  # the push to chat 11; the digest in chat 10 stays as it was
    await deliver()
    assert [message.chat.chat_id for message in platform.edited] == ["11"]


async def test_a_retraction_deletes_no_digest(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    """A digest lists other stories too: withdrawing one of them must not delete it."""
    clock.now = wib(24, 10)
    await platform.say("/subscribe ekonomi", chat="10")
    await platform.say("/digest 07:00", chat="10")
    await platform.say("/subscribe ekonomi", chat="11")
    withdrawn = await publish(app, clock, "Tarif listrik naik", "ekonomi")
    await publish(app, clock, "Harga beras turun", "ekonomi")
    await deliver()
    clock.now = wib(25, 7)
    await deliver()
    assert sorted(message.chat.chat_id for message in platform.sent) == ["10", "11", "11"]

    answer = await platform.say_text(f"/retract {withdrawn} Data keliru", user="1")
    assert "1 salinan terkirim akan dihapus." in answer  # chat 11's push, not the digest
    await deliver()
    assert [deleted_chat.chat_id for deleted_chat, _id in platform.deleted] == ["11"]


async def test_a_long_day_lists_the_newest_of_each_section_and_counts_the_rest(
    app: App,
    platform: FakePlatform,
    clock: FakeClock,
    deliver: Callable[[], Awaitable[tuple[int, int]]],
) -> None:
    clock.now = wib(24, 7, 30)
    await platform.say("/subscribe ekonomi, nasional", chat="10")
    await platform.say("/digest 07:00", chat="10")
    economy = []
    for number in range(20):
        clock.advance(60)
        economy.append(await publish(app, clock, f"Kabar ekonomi {number}", "ekonomi"))
    national = await publish(app, clock, "Kabar nasional", "nasional")
    await deliver()
    clock.now = wib(25, 7)
    assert await deliver() == (0, 1)
    [digest] = platform.sent
    assert header_of(digest.reply).endswith(": 21 berita")
    assert lists_of(digest.reply) == {
        "Nasional": [national],
        "Ekonomi": list(reversed(economy))[:15],
    }
    economy_list = digest.reply.parts[2]
    assert isinstance(economy_list, StoryList)
    assert economy_list.footer == "… dan 5 berita lain yang lebih lama."
    assert await outbox(app, "10") == [("sent", digest.message_id, 1)] * 21
