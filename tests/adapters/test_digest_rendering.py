"""A digest as the console and Telegram show it: sections, a line per story with its /read hint,
escaped, within Telegram's limits, split between lines when long; and end to end on each."""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.adapters.console import ConsoleIdentity, render
from bot.adapters.telegram.render import ButtonStyle, render_reply
from bot.app import open_app
from bot.chat import Command, Reply, UserRef
from bot.render import ArticleRenderer
from bot.sections import SectionCatalog
from bot.settings import DEFAULT_SECTIONS, Settings
from storage.models import Article, ChatRef, DeliveryMode, Platform
from tests.adapters.fake_bot_api import BOT_ID, TEXT_LIMIT, FakeBotApi, parse_html, utf16_length
from tests.adapters.telegram_harness import (
    TelegramHarness,
    make_adapter,
    running_bot,
    telegram_settings,
)
from tests.support import FakeClock, draft

WIB = ZoneInfo("Asia/Jakarta")
READER = 31337
CHANNEL = -1001987654321
STYLE = ButtonStyle(private_chat=True, bot_username="berita_test_bot")


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB)


def renderer() -> ArticleRenderer:
    catalog = SectionCatalog([s.to_section() for s in DEFAULT_SECTIONS], fallback="umum")
    return ArticleRenderer(catalog, WIB)


def article(
    article_id: int, title: str, section: str, published: datetime, url: str | None = None
) -> Article:
    return Article(
        id=article_id,
        identity=f"test:{article_id}",
        title=title,
        body="Isi berita.",
        section=section,
        published_at=published,
        url=url,
        summary="",
        author=None,
        image_url=None,
        source=None,
        breaking=False,
    )


def small_digest(language: str = "id") -> Reply:
    return renderer().digest(
        [
            article(1, "Rupiah menguat", "ekonomi", wib(24, 10), "https://contoh.id/rupiah"),
            article(2, 'NATO & "Tokyo" <sepakat>', "internasional", wib(24, 15, 30)),
            article(
                3, "Harga beras turun", "ekonomi", wib(25, 6, 45), "https://contoh.id/b?x=1&y=2"
            ),
        ],
        language,
        wib(25, 7),
    )


def test_the_console_shows_a_digest_as_sections_of_one_line_stories() -> None:
    assert render(small_digest()) == (
        "Ringkasan berita, 25 Nov 2026 07:00 WIB: 3 berita\n\n"
        "Internasional\n"
        '  • 24 Nov 15:30 NATO & "Tokyo" <sepakat> [Baca: /read 2]\n\n'
        "Ekonomi\n"
        "  • 06:45 Harga beras turun [Baca: /read 3]\n"
        "  • 24 Nov 10:00 Rupiah menguat [Baca: /read 1]"
    )
    assert render(small_digest("en"), "en") == (
        "News digest, 25 Nov 2026 07:00 WIB: 3 stories\n\n"
        "International\n"
        '  • 24 Nov 15:30 NATO & "Tokyo" <sepakat> [Read: /read 2]\n\n'
        "Economy\n"
        "  • 06:45 Harga beras turun [Read: /read 3]\n"
        "  • 24 Nov 10:00 Rupiah menguat [Read: /read 1]"
    )


def test_a_digest_as_plain_text_for_logs_and_tests() -> None:
    assert small_digest().plain_text() == (
        "Ringkasan berita, 25 Nov 2026 07:00 WIB: 3 berita\n\n"
        "Internasional\n"
        '• 24 Nov 15:30 NATO & "Tokyo" <sepakat> (/read 2)\n\n'
        "Ekonomi\n"
        "• 06:45 Harga beras turun (/read 3)\n"
        "• 24 Nov 10:00 Rupiah menguat (/read 1)"
    )


def test_telegram_shows_a_short_digest_as_one_message_of_linked_lines() -> None:
    [message] = render_reply(small_digest(), STYLE)
    assert message.html == (
        "Ringkasan berita, 25 Nov 2026 07:00 WIB: 3 berita\n\n"
        "<b>Internasional</b>\n"
        '• 24 Nov 15:30 NATO &amp; "Tokyo" &lt;sepakat&gt; /read_2\n\n'
        "<b>Ekonomi</b>\n"
        '• 06:45 <a href="https://contoh.id/b?x=1&amp;y=2">Harga beras turun</a> /read_3\n'
        '• 24 Nov 10:00 <a href="https://contoh.id/rupiah">Rupiah menguat</a> /read_1'
    )
    assert message.photo_url is None
    assert message.buttons == ()
    assert not message.link_preview  # a preview of the first link would bury the list
    assert parse_html(message.html).startswith("Ringkasan berita")


def _long_digest(stories_per_section: int = 15) -> Reply:
    articles = []
    for index, section in enumerate(("internasional", "ekonomi", "olahraga")):
        for number in range(stories_per_section):
            article_id = index * 100 + number
            title = f"Berita {article_id} " + "sangat panjang & <penting> " * 8
            url = f"https://contoh.id/{section}/{article_id}?utm=x&id=" + "9" * 60
            articles.append(article(article_id, title, section, wib(24, 8, number), url))
    return renderer().digest(articles, "id", wib(25, 7))


def test_telegram_splits_a_long_digest_between_lines_within_its_limit() -> None:
    reply = _long_digest()
    messages = render_reply(reply, STYLE)

    assert len(messages) >= 3
    seen: list[int] = []
    for message in messages:
        assert utf16_length(message.html) <= TEXT_LIMIT
        assert utf16_length(parse_html(message.html)) <= TEXT_LIMIT
        assert not message.link_preview
        # A list carried over to the next message says again which section it is.
        first_line = message.html.split("\n", 1)[0]
        assert first_line.startswith(("Ringkasan berita", "<b>")), first_line
        seen += [int(number) for number in re.findall(r"/read_(\d+)", message.html)]
    expected = [part.article_id for part in _story_lines(reply)]
    assert seen == expected  # every story once, in the digest's order
    assert len(seen) == 45


def _story_lines(reply: Reply) -> list[object]:
    lines: list[object] = []
    for part in reply.parts:
        lines += list(getattr(part, "stories", ()))
    return lines


def test_a_story_line_gives_up_its_link_before_it_would_pass_the_limit() -> None:
    huge_url = "https://contoh.id/" + "a" * 5000
    reply = renderer().digest(
        [article(9, "Judul biasa", "nasional", wib(24, 9), huge_url)], "id", wib(25, 7)
    )
    [message] = render_reply(reply, STYLE)
    assert "<a href" not in message.html
    assert "• 24 Nov 09:00 Judul biasa /read_9" in message.html


async def test_a_long_digest_reaches_telegram_as_several_messages_recorded_once(
    settings: Settings,
) -> None:
    clock = FakeClock(wib(24, 8))
    api = FakeBotApi()
    reader = ChatRef(Platform.TELEGRAM, str(READER))
    async with open_app(telegram_settings(settings), clock=clock) as app:
        await app.storage.subscriptions.subscribe(
            reader, ["internasional", "ekonomi", "olahraga"], now=clock()
        )
        await app.storage.chats.set_delivery_mode(
            reader, DeliveryMode(digest_at=time(7)), now=clock(), held_until=clock()
        )
        ids = []
        for section in ("internasional", "ekonomi", "olahraga"):
            for number in range(15):
                clock.advance(60)
                title = f"{section} {number}: " + "kabar panjang <penting> & terbaru " * 3
                [result] = await app.deps.newsroom.publish(
                    [
                        draft(
                            title,
                            section=section,
                            published_at=clock(),
                            url=f"https://contoh.id/{section}/{number}?a=1&b=2",
                        )
                    ]
                )
                ids.append(result.article_id)
        async with make_adapter(app, api) as adapter:
            assert await app.delivery_worker(adapter).deliver_due() == 45
            assert api.sent(READER) == []
            clock.now = wib(25, 7)
            worker = app.delivery_worker(adapter)
            await worker.deliver_due()
            assert worker.digests_sent == 1
            await worker.deliver_due()
            assert worker.digests_sent == 0
        counts = await app.storage.outbox.status_counts()
        database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
        async with database.connection.execute(
            "SELECT DISTINCT message_id FROM outbox WHERE chat_id = ?", (str(READER),)
        ) as cursor:
            recorded = [row[0] for row in await cursor.fetchall()]

    calls = api.sent(READER)
    assert len(calls) >= 2
    shown = api.texts(READER)
    assert shown[0].startswith("Ringkasan berita, 25 Nov 2026 07:00 WIB: 45 berita")
    assert all(utf16_length(text) <= TEXT_LIMIT for text in shown)
    listed = [int(n) for text in shown for n in re.findall(r"/read_(\d+)", text)]
    assert sorted(listed) == sorted(ids)
    assert "<penting> & terbaru" in shown[0]  # escaped for Telegram, shown as written
    assert counts == {"sent": 45}
    first_id = min(message_id for chat_id, message_id in api.message_contents if chat_id == READER)
    assert recorded == [str(first_id)]


async def test_a_piped_console_chat_prints_the_digest_after_its_answers(
    settings: Settings,
) -> None:
    clock = FakeClock(wib(24, 10))
    async with open_app(settings, clock=clock) as app:
        console = ChatRef(Platform.CONSOLE, "local")
        await app.storage.subscriptions.subscribe(console, ["ekonomi"], now=clock())
        await app.dispatcher.dispatch(
            Command(name="digest", args="07:00", chat=console, user=UserRef("local"))
        )
        await app.deps.newsroom.publish(
            [draft("Cadangan devisa naik", section="ekonomi", published_at=clock())]
        )
        quiet_output = io.StringIO()
        await app.chat(
            ConsoleIdentity(), stdin=io.StringIO(""), stdout=quiet_output, interactive=False
        )
        assert quiet_output.getvalue() == ""  # held for the digest

        clock.now = wib(24, 12)
        output = io.StringIO()
        await app.chat(
            ConsoleIdentity(),
            stdin=io.StringIO("/digest off\n"),
            stdout=output,
            interactive=False,
        )
    assert output.getvalue() == (
        "Ringkasan harian dimatikan: berita baru kembali dikirim langsung.\n"
        "1 berita yang tertahan segera dikirim sebagai satu ringkasan.\n\n"
        "Ringkasan berita, 24 Nov 2026 12:00 WIB: 1 berita\n\n"
        "Ekonomi\n"
        "  • 10:00 Cadangan devisa naik [Baca: /read 1]\n\n"
    )


async def test_a_channel_admin_sets_the_channels_digest_from_a_private_chat(
    settings: Settings,
) -> None:
    api = FakeBotApi()
    user = 4242
    async with running_bot(telegram_settings(settings), api) as tg:
        tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")
        tg.api.set_member(CHANNEL, user, "administrator", can_post_messages=True)
        tg.api.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)

        shown = await tg.ask(user, "/digest 06:30 @kanalberita", user_id=user)

        assert "@kanalberita" in shown
        assert "pukul 06:30 WIB" in shown
        await _channel_mode_is(tg, DeliveryMode(digest_at=time(6, 30)))
        assert (
            await tg.app.storage.chats.delivery_mode(ChatRef(Platform.TELEGRAM, str(user)))
            == DeliveryMode()
        )
        shown = await tg.ask(user, f"/subscriptions {CHANNEL}", user_id=user)
        assert "Pengiriman: satu ringkasan setiap hari pukul 06:30 WIB" in shown


async def _channel_mode_is(tg: TelegramHarness, expected: DeliveryMode) -> None:
    channel = ChatRef(Platform.TELEGRAM, str(CHANNEL))
    assert await tg.app.storage.chats.delivery_mode(channel) == expected


def test_a_digest_reads_the_same_in_a_group_its_commands_tappable_there_too() -> None:
    group = ButtonStyle(private_chat=False, bot_username="berita_test_bot")
    [in_group] = render_reply(small_digest(), group)
    [in_private] = render_reply(small_digest(), STYLE)
    assert in_group == in_private


async def test_an_open_console_chat_shows_its_digest_when_its_quiet_hours_are_turned_off(
    settings: Settings,
) -> None:
    clock = FakeClock(wib(24, 10))
    async with open_app(settings, clock=clock) as app:
        read_end, write_end = os.pipe()
        stdin = os.fdopen(read_end, "r", encoding="utf-8")
        typing = os.fdopen(write_end, "w", encoding="utf-8")
        output = io.StringIO()
        chat = asyncio.create_task(
            app.chat(ConsoleIdentity(chat_id="meja"), stdin=stdin, stdout=output, interactive=True)
        )
        typing.write("/subscribe nasional\n/quiet 09:00-11:00\n")
        typing.flush()
        await _until(lambda: "Jam tenang 09:00" in output.getvalue())
        await app.deps.newsroom.publish(
            [draft("Kabar dari Senayan", section="nasional", published_at=clock())]
        )
        async with asyncio.timeout(10):
            # The outbox signals nothing either: poll it until the chat's delivery held the row.
            while await app.storage.outbox.status_counts() != {"held": 1}:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert "Kabar dari Senayan" not in output.getvalue()

        typing.write("/quiet off\n")
        typing.flush()
        await _until(lambda: "Ringkasan berita" in output.getvalue())
        typing.close()
        await asyncio.wait_for(chat, 10)
        stdin.close()
    shown = output.getvalue()
    assert shown.count("Kabar dari Senayan") == 1
    assert "Nasional\n  • 10:00 Kabar dari Senayan [Baca: /read 1]" in shown


async def _until(condition: Callable[[], bool]) -> None:
    # Polling is the point here: the output is a plain StringIO that signals nothing.
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - see above
            await asyncio.sleep(0.02)
