"""Commands through the real PTB Application: private chats, groups, channels, buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import BOT_ID, BOT_USERNAME, FakeBotApi, wait_until
from tests.adapters.telegram_harness import TelegramHarness, running_bot, telegram_settings

USER = 4242
GROUP = -1001234567890
CHANNEL = -1001987654321
OTHER_USER = 5151

NATO_TITLE = 'Sekjen NATO <Rutte> & "Tokyo": kerja sama 🇯🇵🤝'


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[TelegramHarness]:
    api = FakeBotApi()
    async with running_bot(telegram_settings(settings), api) as harness:
        await harness.publish(
            NATO_TITLE,
            section="internasional",
            body="Sekretaris Jenderal NATO bertemu Perdana Menteri Jepang di Tokyo.",
            url="https://berita.example/nato-tokyo?a=1&b=2",
        )
        yield harness


async def test_latest_in_a_private_chat_answers_with_escaped_html(tg: TelegramHarness) -> None:
    shown = await tg.ask(USER, "/latest nato", user_id=USER)

    [call] = tg.api.sent(USER)
    assert call.params["parse_mode"] == "HTML"
    html = call.params["text"]
    assert '&lt;Rutte&gt; &amp; "Tokyo"' in html or "&lt;Rutte&gt; &amp; &quot;Tokyo&quot;" in html
    assert '<a href="https://berita.example/nato-tokyo?a=1&amp;b=2">' in html
    # What the reader sees: the title exactly as written, emoji and all.
    assert NATO_TITLE in shown
    assert "Internasional" in shown


async def test_latest_in_a_group_addressed_to_this_bot(tg: TelegramHarness) -> None:
    shown = await tg.ask(GROUP, f"/latest@{BOT_USERNAME} nato", user_id=USER)

    assert NATO_TITLE in shown
    [call] = tg.api.sent(GROUP)
    # In a busy group the answer quotes the command it answers.
    assert call.params["reply_parameters"]["message_id"] > 0


async def test_a_command_for_another_bot_is_ignored(tg: TelegramHarness) -> None:
    tg.api.message_update(GROUP, "/latest@other_news_bot nato", user_id=USER)
    tg.api.message_update(GROUP, "/latest nato", **{"from": _bot_user()})
    await tg.ask(GROUP, "/help", user_id=USER)

    [only] = tg.api.texts(GROUP)
    assert "/latest" in only  # the /help answer, and nothing for the other two


async def test_latest_as_a_channel_post_answers_in_the_channel(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")

    shown = await tg.ask(CHANNEL, "/latest nato")

    assert NATO_TITLE in shown
    [call] = tg.api.sent(CHANNEL)
    assert "reply_parameters" not in call.params


async def test_plain_text_gets_a_hint_in_private_and_silence_in_groups(
    tg: TelegramHarness,
) -> None:
    tg.api.message_update(GROUP, "halo semua", user_id=USER)
    hint = await tg.ask(USER, "halo", user_id=USER)
    await tg.ask(GROUP, "/help", user_id=USER)

    assert "/latest nato" in hint
    assert len(tg.api.texts(GROUP)) == 1


async def test_read_button_in_a_private_chat_comes_back_as_a_command(
    tg: TelegramHarness,
) -> None:
    article_id = await tg.publish("Kabar ekonomi pekan ini", section="ekonomi", body="Isi.")
    tg.api.callback_update(USER, USER, f"/read {article_id}")

    [shown] = await tg.answered(USER)
    assert "Kabar ekonomi pekan ini" in shown
    # The button's spinner is stopped once the answer is out.
    await wait_until(lambda: bool(tg.api.of_method("answerCallbackQuery")))


async def test_tappable_read_command_and_deep_link_open_the_story(tg: TelegramHarness) -> None:
    article_id = await tg.publish("Panen raya di Jawa Timur", body="Petani bersyukur.")

    tapped = await tg.ask(USER, f"/read_{article_id}", user_id=USER)
    linked = await tg.ask(USER, f"/start read_{article_id}", user_id=USER)

    assert "Petani bersyukur." in tapped
    assert "Petani bersyukur." in linked


async def test_group_member_who_is_not_an_admin_cannot_subscribe(tg: TelegramHarness) -> None:
    tg.api.set_member(GROUP, USER, "administrator")

    refused = await tg.ask(GROUP, "/subscribe internasional", user_id=OTHER_USER)
    assert "pengelola" in refused
    assert await tg.sections_of(GROUP) == []

    allowed = await tg.ask(GROUP, "/subscribe internasional", user_id=USER)
    assert "Internasional" in allowed
    assert await tg.sections_of(GROUP) == ["internasional"]
    # Reading commands need no admin check at all.
    await tg.ask(GROUP, "/latest nato", user_id=OTHER_USER)
    asked = [call.params["user_id"] for call in tg.api.of_method("getChatMember")]
    assert sorted(asked) == [USER, OTHER_USER]


async def test_group_admin_status_is_cached_briefly(tg: TelegramHarness) -> None:
    tg.api.set_member(GROUP, USER, "creator")

    await tg.ask(GROUP, "/subscribe internasional", user_id=USER)
    await tg.ask(GROUP, "/subscribe ekonomi", user_id=USER)

    assert len(tg.api.of_method("getChatMember")) == 1
    assert await tg.sections_of(GROUP) == ["ekonomi", "internasional"]


async def test_channel_post_commands_come_from_the_channel_admins(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")

    await tg.ask(CHANNEL, "/subscribe internasional")

    assert await tg.sections_of(CHANNEL) == ["internasional"]
    assert not tg.api.of_method("getChatMember")


async def test_channel_admin_subscribes_a_channel_from_a_private_chat(
    tg: TelegramHarness,
) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")
    tg.api.set_member(CHANNEL, USER, "administrator", can_post_messages=True)
    tg.api.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)

    shown = await tg.ask(USER, "/subscribe internasional @kanalberita", user_id=USER)

    assert "@kanalberita" in shown
    assert "Internasional" in shown
    assert await tg.sections_of(CHANNEL) == ["internasional"]
    assert await tg.sections_of(USER) == []
    # And by numeric id, to see the channel's subscriptions.
    listed = await tg.ask(USER, f"/subscriptions {CHANNEL}", user_id=USER)
    assert "Internasional" in listed


async def test_remote_subscription_is_refused_to_a_non_admin(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")
    tg.api.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)

    shown = await tg.ask(USER, "/subscribe internasional @kanalberita", user_id=USER)

    assert "Hanya admin @kanalberita" in shown
    assert await tg.sections_of(CHANNEL) == []


async def test_remote_subscription_needs_a_bot_that_can_post(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")
    tg.api.set_member(CHANNEL, USER, "creator")
    tg.api.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=False)

    shown = await tg.ask(USER, "/subscribe internasional @kanalberita", user_id=USER)

    assert "izin mengirim pesan" in shown
    assert await tg.sections_of(CHANNEL) == []


async def test_remote_subscription_to_an_unknown_channel(tg: TelegramHarness) -> None:
    shown = await tg.ask(USER, "/subscribe internasional @tidakada_kanal", user_id=USER)

    assert "tidak menemukan @tidakada_kanal" in shown


async def test_command_menu_is_set_in_both_languages(tg: TelegramHarness) -> None:
    menus = {
        call.params.get("language_code"): call.params["commands"]
        for call in tg.api.of_method("setMyCommands")
        if "scope" not in call.params
    }

    assert set(menus) == {"id", "en", None}
    english = {command["command"]: command["description"] for command in menus["en"]}
    assert "latest" in english
    assert "breaking" not in english
    assert english["latest"] != {c["command"]: c["description"] for c in menus["id"]}["latest"]


async def test_bot_admins_get_the_admin_menu_in_their_chat(settings: Settings) -> None:
    api = FakeBotApi()
    api.add_chat(1, "private")  # NEWSBOT_ADMINS holds telegram:1 in the test settings
    async with running_bot(telegram_settings(settings), api):
        await wait_until(lambda: len(api.of_method("setMyCommands")) >= 4)
    [scoped] = [call for call in api.of_method("setMyCommands") if "scope" in call.params]
    assert scoped.params["scope"] == {"type": "chat", "chat_id": 1}
    assert "breaking" in {command["command"] for command in scoped.params["commands"]}


def _bot_user() -> dict[str, object]:
    return {"id": BOT_ID + 1, "is_bot": True, "first_name": "Bot lain"}


async def test_a_link_cannot_unsubscribe_whoever_taps_it(tg: TelegramHarness) -> None:
    await tg.ask(USER, "/subscribe internasional", user_id=USER)

    after_link = await tg.ask(USER, "/start unsubscribe_all", user_id=USER)
    after_tap = await tg.ask(USER, "/unsubscribe_all", user_id=USER)

    assert "Halo! Saya newsbot" in after_link  # just the greeting
    assert "/unsubscribe_all" in after_tap  # an unknown command, answered as such
    assert await tg.sections_of(USER) == ["internasional"]


async def test_an_unknown_command_in_a_group_is_left_to_other_bots(tg: TelegramHarness) -> None:
    tg.api.message_update(GROUP, "/ban spammer", user_id=USER)
    addressed = await tg.ask(GROUP, f"/ban@{BOT_USERNAME} spammer", user_id=USER)

    assert "/ban" in addressed
    assert len(tg.api.texts(GROUP)) == 1


async def test_an_answer_told_to_wait_briefly_waits_and_arrives(tg: TelegramHarness) -> None:
    tg.api.flood[USER] = 1

    shown = await tg.ask(USER, "/sections", user_id=USER)

    assert "Internasional" in shown
    refused = [call for call in tg.api.of_method("sendMessage") if call.params.get("_refused")]
    assert len(refused) == 1


async def test_every_part_of_an_answer_stays_in_its_forum_topic(tg: TelegramHarness) -> None:
    body = "\n\n".join(f"Paragraf {n}. " + "Kalimat panjang tentang kota. " * 40 for n in range(8))
    article_id = await tg.publish("Laporan panjang", body=body)

    tg.api.message_update(
        GROUP,
        f"/read {article_id}",
        user_id=USER,
        is_topic_message=True,
        message_thread_id=77,
    )
    await tg.answered(GROUP, 2)
    await wait_until(lambda: any("Paragraf 7." in text for text in tg.api.texts(GROUP)))

    assert {call.params.get("message_thread_id") for call in tg.api.sent(GROUP)} == {77}


async def test_a_group_admin_manages_the_group_from_a_private_chat(tg: TelegramHarness) -> None:
    tg.api.add_chat(GROUP, "supergroup", title="Warga RT 05")
    tg.api.set_member(GROUP, USER, "administrator")  # the bot is an ordinary member there

    subscribed = await tg.ask(USER, f"/subscribe ekonomi {GROUP}", user_id=USER)
    language = await tg.ask(USER, f"/lang en {GROUP}", user_id=USER)

    assert "Warga RT 05" in subscribed
    assert await tg.sections_of(GROUP) == ["ekonomi"]
    assert "For Warga RT 05:" not in language  # the heading is in the asker's language...
    assert "Untuk Warga RT 05:" in language
    assert "English" in language  # ...the answer in the group's new one
    chat = tg.app.storage.chats
    assert await chat.language(ChatRef(Platform.TELEGRAM, str(GROUP))) == "en"
    assert await chat.language(ChatRef(Platform.TELEGRAM, str(USER))) is None


async def test_a_muted_bot_cannot_be_aimed_at_a_group(tg: TelegramHarness) -> None:
    tg.api.add_chat(GROUP, "supergroup", title="Warga RT 05")
    tg.api.set_member(GROUP, USER, "creator")
    tg.api.set_member(GROUP, BOT_ID, "restricted", can_send_messages=False)

    shown = await tg.ask(USER, f"/subscribe ekonomi {GROUP}", user_id=USER)

    assert "Bot belum bisa mengirim pesan ke Warga RT 05" in shown
    assert await tg.sections_of(GROUP) == []


async def test_a_busy_group_does_not_hold_up_other_chats(tg: TelegramHarness) -> None:
    tg.api.send_delays[GROUP] = 0.3  # each answer there takes a while to go out
    for _ in range(40):
        tg.api.message_update(GROUP, "/help", user_id=OTHER_USER)
    await wait_until(lambda: len(tg.api.texts(GROUP)) >= 1)

    await tg.ask(USER, "/sections", user_id=USER)

    # The reader was answered while the group's queue was still long.
    assert len(tg.api.texts(GROUP)) < 10
    tg.api.send_delays.clear()  # let the rest go quickly as the bot stops


async def test_a_part_told_to_wait_is_sent_again_alone(tg: TelegramHarness) -> None:
    body = "\n\n".join(f"Paragraf {n}. " + "Kalimat panjang tentang desa. " * 40 for n in range(8))
    article_id = await tg.publish("Laporan desa", body=body)
    tg.api.flood_nth[USER] = (2, 1)  # the second part gets "retry after 1"

    tg.api.message_update(USER, f"/read {article_id}", user_id=USER)
    await wait_until(lambda: any("Paragraf 7." in text for text in tg.api.texts(USER)))

    shown = tg.api.texts(USER)
    assert sum("Laporan desa" in text for text in shown) == 1  # the first part, once
    joined = "\n\n".join(shown)
    assert [joined.count(f"Paragraf {n}.") for n in range(8)] == [1] * 8


async def test_whoami_gives_a_person_their_numeric_id_for_newsbot_admins(
    tg: TelegramHarness,
) -> None:
    reader = await tg.ask(USER, "/whoami", user_id=USER)
    admin = await tg.ask(1, "/whoami", user_id=1)  # NEWSBOT_ADMINS holds telegram:1
    in_group = await tg.ask(GROUP, f"/whoami@{BOT_USERNAME}", user_id=OTHER_USER)

    assert reader.startswith(
        f"Id Anda: telegram:{USER}\nBaris untuk .env bot: NEWSBOT_ADMINS=telegram:{USER}\n"
    )
    assert "Anda bukan admin bot." in reader
    assert "NEWSBOT_ADMINS=telegram:1\n" in admin
    assert "Anda admin bot: NEWSBOT_ADMINS memuat id ini." in admin
    # Telegram cannot show a message to one member of a group: the answer quotes its asker.
    assert f"NEWSBOT_ADMINS=telegram:{OTHER_USER}\n" in in_group
    [call] = tg.api.sent(GROUP)
    assert call.params["reply_parameters"]["message_id"] > 0


async def test_whoami_posted_in_a_chats_name_says_there_is_no_user(tg: TelegramHarness) -> None:
    tg.api.add_chat(CHANNEL, "channel", title="Kanal Berita", username="kanalberita")
    group_chat = {"id": GROUP, "type": "supergroup", "title": "Grup"}
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}  # GroupAnonymousBot

    channel_post = await tg.ask(CHANNEL, "/whoami")
    tg.api.message_update(GROUP, "/whoami", sender_chat=group_chat, **{"from": anonymous})
    [anonymous_admin] = await tg.answered(GROUP)

    for shown in (channel_post, anonymous_admin):
        assert shown.startswith("Perintah ini dikirim atas nama chat, bukan oleh seseorang")
        assert "telegram:" not in shown
        assert "-100" not in shown


async def test_whoami_is_in_the_command_menu_of_everyone_in_both_languages(
    tg: TelegramHarness,
) -> None:
    menus = {
        call.params.get("language_code"): {
            command["command"]: command["description"] for command in call.params["commands"]
        }
        for call in tg.api.of_method("setMyCommands")
        if "scope" not in call.params
    }

    assert menus["id"]["whoami"] == "Id Anda untuk NEWSBOT_ADMINS, dan apakah Anda admin bot"
    assert menus["en"]["whoami"] == "Your id for NEWSBOT_ADMINS, and whether you are a bot admin"
