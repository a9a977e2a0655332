"""/digest, /quiet and how /subscriptions shows a chat's delivery mode; readers' mistakes."""

from __future__ import annotations

from datetime import time

import pytest

from bot.app import App
from bot.chat import ChatKind
from storage.models import ChatRef, DeliveryMode, Platform, QuietHours
from tests.support import FakePlatform

CHAT = ChatRef(Platform.TELEGRAM, "100")
GROUP = ChatRef(Platform.TELEGRAM, "-500")
EN_DASH = "\u2013"


async def test_digest_alone_says_how_the_chat_takes_its_news(platform: FakePlatform) -> None:
    assert await platform.say_text("/digest") == (
        "Pengiriman: langsung, setiap ada berita baru.\n"
        "Cara pakai: /digest <jam, misalnya 07:00> atau /digest off"
    )
    await platform.say("/digest 6")
    await platform.say("/quiet 23-5")
    assert await platform.say_text("/quiet") == (
        "Pengiriman: satu ringkasan setiap hari pukul 06:00 WIB; berita terkini langsung.\n"
        f"Jam tenang: 23:00{EN_DASH}05:00 WIB.\n"
        "Cara pakai: /quiet <mulai-selesai, misalnya 22:00-06:00> atau /quiet off"
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [("07:00", time(7)), ("7", time(7)), ("07.30", time(7, 30)), ("23:59", time(23, 59))],
)
async def test_digest_takes_a_time_as_readers_write_it(
    platform: FakePlatform, app: App, written: str, expected: time
) -> None:
    answer = await platform.say_text(f"/digest {written}")
    assert f"pukul {expected:%H:%M} WIB" in answer
    assert "Berita terkini tetap dikirim langsung" in answer
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(digest_at=expected)


@pytest.mark.parametrize(
    ("written", "echoed"),
    [
        ("24:00", "24:00"),
        ("7:60", "7:60"),
        ("07:0", "07:0"),
        ("pagi", "pagi"),
        ("on", "on"),
        ("-1", "-1"),
        ("\uff10\uff17:\uff10\uff10", "\uff10\uff17:\uff10\uff10"),  # full-width digits
        ("9" * 200, "9" * 19 + "…"),
    ],
)
async def test_a_time_that_is_not_one_is_refused_and_changes_nothing(
    platform: FakePlatform, app: App, written: str, echoed: str
) -> None:
    await platform.say("/digest 07:00")
    answer = await platform.say_text(f"/digest {written}")
    assert answer == (
        f'Jam "{echoed}" tidak dapat dibaca. Tulis jam dari 00:00 sampai 23:59, misalnya 07:00.'
    )
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(digest_at=time(7))


async def test_digest_with_more_than_a_time_gets_its_usage(platform: FakePlatform) -> None:
    assert await platform.say_text("/digest 07:00 19:00") == (
        "Cara pakai: /digest <jam, misalnya 07:00> atau /digest off"
    )


@pytest.mark.parametrize(
    "written",
    ["22:00-06:00", "22.00 - 06.00", f"22:00 {EN_DASH} 06:00", "22 sampai 6", "22:00 to 06:00"],
)
async def test_quiet_takes_a_range_as_readers_write_it(
    platform: FakePlatform, app: App, written: str
) -> None:
    answer = await platform.say_text(f"/quiet {written}")
    assert answer == (
        f"Jam tenang 22:00{EN_DASH}06:00 WIB: pada jam itu hanya berita terkini yang dikirim; "
        "berita lain ditahan dan datang sesudahnya sebagai satu ringkasan. Matikan dengan "
        "/quiet off."
    )
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(
        quiet=QuietHours(time(22), time(6))
    )


@pytest.mark.parametrize(
    ("written", "answer"),
    [
        ("22:00", "Cara pakai: /quiet <mulai-selesai, misalnya 22:00-06:00> atau /quiet off"),
        ("malam", "Cara pakai: /quiet <mulai-selesai, misalnya 22:00-06:00> atau /quiet off"),
        ("22:00-06:00-07:00", 'Jam "06:00-07:00" tidak dapat dibaca. Tulis jam dari 00:00 '),
        ("22:00-25:00", 'Jam "25:00" tidak dapat dibaca.'),
        ("06:00-6", "Jam mulai dan jam selesai harus berbeda, misalnya /quiet 22:00-06:00."),
    ],
)
async def test_a_range_that_is_not_one_is_refused_and_changes_nothing(
    platform: FakePlatform, app: App, written: str, answer: str
) -> None:
    await platform.say("/quiet 21:00-05:00")
    assert (await platform.say_text(f"/quiet {written}")).startswith(answer)
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(
        quiet=QuietHours(time(21), time(5))
    )


async def test_off_turns_each_off_and_keeps_the_other(platform: FakePlatform, app: App) -> None:
    await platform.say("/digest 07:00")
    await platform.say("/quiet 22:00-06:00")
    assert await platform.say_text("/quiet off") == "Jam tenang dimatikan."
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(digest_at=time(7))
    await platform.say("/quiet 22:00-06:00")
    assert await platform.say_text("/digest mati") == (
        "Ringkasan harian dimatikan: berita baru kembali dikirim langsung."
    )
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode(
        quiet=QuietHours(time(22), time(6))
    )
    # Off when already off is no mistake.
    assert await platform.say_text("/digest OFF") == (
        "Ringkasan harian dimatikan: berita baru kembali dikirim langsung."
    )


async def test_subscriptions_show_the_delivery_mode(platform: FakePlatform) -> None:
    # A chat that chose nothing yet is not told about delivery.
    assert await platform.say_text("/subscriptions") == (
        "Chat ini belum berlangganan apa pun. Contoh: /subscribe internasional atau /follow nato."
    )
    await platform.say("/quiet 22:00-06:00")
    assert await platform.say_text("/subscriptions") == (
        "Chat ini belum berlangganan apa pun. Contoh: /subscribe internasional atau /follow "
        "nato.\n\n"
        f"Pengiriman: langsung, setiap ada berita baru.\nJam tenang: 22:00{EN_DASH}06:00 WIB."
    )
    await platform.say("/subscribe ekonomi")
    await platform.say("/digest 07:15")
    assert await platform.say_text("/subscriptions") == (
        "Langganan: Ekonomi\n\n"
        "Pengiriman: satu ringkasan setiap hari pukul 07:15 WIB; berita terkini langsung.\n"
        f"Jam tenang: 22:00{EN_DASH}06:00 WIB."
    )
    await platform.say("/lang en")
    assert await platform.say_text("/subscriptions") == (
        "Subscriptions: Economy\n\n"
        "Delivery: one digest a day at 07:15 WIB; breaking news at once.\n"
        f"Quiet hours: 22:00{EN_DASH}06:00 WIB."
    )
    assert await platform.say_text("/digest 18:00") == (
        "This chat now gets one news digest a day at 18:00 WIB, with the new stories of its "
        "subscriptions and keywords. Breaking news still arrives at once. Turn it off with "
        "/digest off."
    )


async def test_group_members_cannot_change_delivery_but_may_see_it(
    platform: FakePlatform, app: App
) -> None:
    for command in ("/digest 07:00", "/digest off", "/quiet 22:00-06:00", "/quiet off"):
        answer = await platform.say_text(
            command, chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=False
        )
        assert "Hanya pengelola chat ini" in answer, command
    assert await app.storage.chats.delivery_mode(GROUP) == DeliveryMode()
    await platform.say("/digest 07:00", chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=True)
    shown = await platform.say_text(
        "/subscriptions", chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=False
    )
    assert "Pengiriman: satu ringkasan setiap hari pukul 07:00 WIB" in shown


async def test_changes_are_audited(platform: FakePlatform, app: App) -> None:
    await platform.say("/digest 7.05")
    await platform.say("/quiet 22-6")
    await platform.say("/quiet off")
    await platform.say("/digest off")
    entries = await app.storage.audit.recent(10)
    assert [(entry.action, entry.detail) for entry in reversed(entries)] == [
        ("digest", "07:05"),
        ("quiet", "22:00-06:00"),
        ("quiet", "off"),
        ("digest", "off"),
    ]
    assert {entry.actor for entry in entries} == {"telegram:7"}


async def test_help_lists_digest_and_quiet(platform: FakePlatform) -> None:
    shown = await platform.say_text("/help")
    assert (
        "/digest <jam, misalnya 07:00> atau /digest off — Satu ringkasan berita sehari, bukan "
        "tiap berita"
    ) in shown
    assert "/quiet <mulai-selesai, misalnya 22:00-06:00> atau /quiet off — Jam tenang" in shown


async def test_a_digest_for_a_chat_with_nothing_to_digest_says_what_fills_it(
    platform: FakePlatform,
) -> None:
    answer = await platform.say_text("/digest 07:00")
    assert answer.endswith(
        "\nChat ini belum berlangganan apa pun. Contoh: /subscribe internasional atau /follow "
        "nato."
    )
    await platform.say("/follow nato")
    assert "belum berlangganan" not in await platform.say_text("/digest 08:00")


async def test_quiet_hours_stored_with_equal_ends_read_as_none(app: App) -> None:
    database = app.storage.chats._db  # type: ignore[attr-defined]  # white-box
    async with database.transaction() as connection:
        await connection.execute(
            "INSERT INTO chats (platform, chat_id, quiet_start_minute, quiet_end_minute, "
            "updated_at) VALUES ('telegram', '100', 360, 360, 'x')"
        )
    assert await app.storage.chats.delivery_mode(CHAT) == DeliveryMode()
