"""/whoami: a user's id as NEWSBOT_ADMINS writes it, answered to them alone; the id it prints,
put in NEWSBOT_ADMINS, makes that user an admin."""

from __future__ import annotations

import pytest

from bot.app import App, open_app
from bot.chat import ChatKind, Command, UserRef
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.support import FakePlatform


async def test_a_reader_learns_their_id_and_the_line_that_would_make_them_an_admin(
    platform: FakePlatform,
) -> None:
    reply = await platform.say("/whoami", user="7")

    assert reply.private
    assert reply.plain_text() == (
        "Id Anda: telegram:7\n"
        "Baris untuk .env bot: NEWSBOT_ADMINS=telegram:7\n\n"
        "Anda bukan admin bot. Untuk menjadi admin, minta operator bot menambahkan id ini ke "
        "NEWSBOT_ADMINS (dipisah koma bila sudah ada admin lain) lalu memulai ulang bot."
    )


async def test_an_admin_is_told_they_are_one_in_the_chats_language(
    platform: FakePlatform,
) -> None:
    await platform.say("/lang en", user="1")  # telegram:1 is the tests' admin

    reply = await platform.say("/whoami", user="1")

    assert reply.private
    assert reply.plain_text() == (
        "Your id: telegram:1\n"
        "The line for the bot's .env: NEWSBOT_ADMINS=telegram:1\n\n"
        "You are a bot admin: NEWSBOT_ADMINS holds this id."
    )


async def test_it_is_for_anyone_even_in_a_group_they_do_not_manage(
    platform: FakePlatform,
) -> None:
    reply = await platform.say(
        "/whoami", user="8", chat="-500", kind=ChatKind.GROUP, manager=False
    )

    assert reply.private
    assert "NEWSBOT_ADMINS=telegram:8\n" in reply.plain_text() + "\n"


async def test_help_lists_whoami_to_a_reader(platform: FakePlatform) -> None:
    listed = await platform.say_text("/help", user="7")

    assert "/whoami — Id Anda untuk NEWSBOT_ADMINS, dan apakah Anda admin bot" in listed


@pytest.mark.parametrize(
    ("platform_name", "user_id"),
    [(Platform.TELEGRAM, "123456789"), (Platform.DISCORD, "80351110224678912")],
)
async def test_the_printed_line_is_accepted_at_start_and_makes_the_user_an_admin(
    settings: Settings, platform_name: Platform, user_id: str
) -> None:
    async with open_app(settings) as app:
        before = await FakePlatform(app, platform=platform_name).say_text("/whoami", user=user_id)
    line = next(line for line in before.splitlines() if "NEWSBOT_ADMINS=" in line)
    value = line.partition("NEWSBOT_ADMINS=")[2]

    configured = Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=settings.database,
        admins=value,
    )
    async with open_app(configured) as app:
        after = await FakePlatform(app, platform=platform_name).say_text("/whoami", user=user_id)

    assert value == f"{platform_name.value}:{user_id}"
    assert "Anda bukan admin bot" in before
    assert "Anda admin bot: NEWSBOT_ADMINS memuat id ini." in after


async def test_a_command_posted_in_a_chats_name_gets_no_id(app: App) -> None:
    # A Telegram channel post: the "user" is the channel itself, whose id no admin can have.
    post = Command(
        name="whoami",
        args="",
        chat=ChatRef(Platform.TELEGRAM, "-1001987654321"),
        user=UserRef("-1001987654321", "Kanal Berita", is_chat=True),
        chat_kind=ChatKind.CHANNEL,
    )

    reply = await app.dispatcher.dispatch(post)

    assert reply.private
    assert reply.plain_text() == (
        "Perintah ini dikirim atas nama chat, bukan oleh seseorang, jadi tidak ada id pengguna "
        "untuk NEWSBOT_ADMINS. Kirim /whoami kepada bot di chat pribadi untuk melihat id Anda."
    )
    assert "-100" not in reply.plain_text()


async def test_a_console_name_with_a_space_is_not_offered_as_a_line_that_would_be_refused(
    app: App,
) -> None:
    console = FakePlatform(app, platform=Platform.CONSOLE)

    shown = await console.say_text("/whoami", user="Budi Santoso")

    assert shown == (
        "Id Anda, console:Budi Santoso, tidak dapat ditulis di NEWSBOT_ADMINS: id di sana tidak "
        "boleh memuat spasi atau koma."
    )
    assert "NEWSBOT_ADMINS=" not in shown
