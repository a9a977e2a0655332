"""Subscriptions, follows, language and the permission rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.chat import ChatKind
from storage.models import ChatRef, Platform
from tests.support import FakePlatform, draft

GROUP = ChatRef(Platform.TELEGRAM, "-500")


async def test_subscribe_lists_and_unsubscribe(platform: FakePlatform, app: App) -> None:
    chat = ChatRef(Platform.TELEGRAM, "100")
    text = await platform.say_text("/subscribe internasional, Ekonomi")
    assert (
        text == "Berlangganan rubrik Internasional, Ekonomi. Berita barunya akan dikirim ke sini."
    )
    assert await app.storage.subscriptions.sections_of(chat) == ["ekonomi", "internasional"]
    assert await platform.say_text("/subscribe world") == (
        "Chat ini sudah berlangganan rubrik Internasional."
    )
    assert await platform.say_text("/subscriptions") == (
        "Langganan: Ekonomi, Internasional\n\nPengiriman: langsung, setiap ada berita baru."
    )
    assert await platform.say_text("/unsubscribe ekonomi") == (
        "Langganan rubrik Ekonomi dihentikan."
    )
    assert await platform.say_text("/unsubscribe ekonomi") == (
        "Chat ini tidak berlangganan rubrik Ekonomi."
    )
    assert "Langganan rubrik Internasional dihentikan" in await platform.say_text(
        "/unsubscribe all"
    )
    assert await app.storage.subscriptions.sections_of(chat) == []
    assert await platform.say_text("/unsubscribe all") == (
        "Chat ini belum berlangganan rubrik apa pun."
    )


async def test_unknown_section_changes_nothing(platform: FakePlatform, app: App) -> None:
    text = await platform.say_text("/subscribe internasional sihir")
    assert 'Rubrik "sihir" tidak ada' in text
    assert await app.storage.subscriptions.sections_of(ChatRef(Platform.TELEGRAM, "100")) == []


async def test_group_member_is_refused_and_nothing_changes(
    platform: FakePlatform, app: App
) -> None:
    for command in ("/subscribe nasional", "/follow nato", "/lang en", "/unsubscribe all"):
        text = await platform.say_text(
            command, chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=False
        )
        assert "Hanya pengelola chat ini" in text, command
    assert await app.storage.subscriptions.sections_of(GROUP) == []
    assert await app.storage.subscriptions.follows_of(GROUP) == []
    assert await app.storage.chats.language(GROUP) is None
    # Anyone may read the chat's subscriptions and search.
    assert "belum berlangganan" in await platform.say_text(
        "/subscriptions", chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=False
    )


async def test_group_manager_changes_subscriptions_and_is_audited(
    platform: FakePlatform, app: App
) -> None:
    await platform.say_text(
        "/subscribe nasional", chat=GROUP.chat_id, kind=ChatKind.GROUP, manager=True
    )
    assert await app.storage.subscriptions.sections_of(GROUP) == ["nasional"]
    [entry] = await app.storage.audit.recent(5)
    assert (entry.actor, entry.action, entry.detail) == ("telegram:7", "subscribe", "nasional")


async def test_follow_and_unfollow(platform: FakePlatform, app: App) -> None:
    chat = ChatRef(Platform.TELEGRAM, "100")
    assert 'tentang "NATO Jepang"' in await platform.say_text("/follow NATO Jepang")
    assert "sudah mengikuti" in await platform.say_text("/follow jepang nato")
    [follow] = await app.storage.subscriptions.follows_of(chat)
    assert follow.terms == ("jepang", "nato")
    assert "Kata kunci harus memuat huruf" in await platform.say_text("/follow 🙂")
    assert "tidak mengikuti" in await platform.say_text("/unfollow gempa")
    assert await platform.say_text("/unfollow nato jepang") == (
        'Berhenti mengikuti "NATO Jepang".'
    )
    assert await app.storage.subscriptions.follows_of(chat) == []


async def test_usage_lines_for_missing_arguments(platform: FakePlatform) -> None:
    assert "Cara pakai: /subscribe <rubrik>" in await platform.say_text("/subscribe")
    assert "Cara pakai: /follow" in await platform.say_text("/follow")
    assert "Cara pakai: /lang id atau /lang en" in await platform.say_text("/lang fr")


async def test_lang_en_switches_the_chat_to_english(platform: FakePlatform) -> None:
    assert await platform.say_text("/lang en") == "This chat's language is now English."
    assert "Unknown command /nope" in await platform.say_text("/nope")
    assert "Usage: /read <story number>" in await platform.say_text("/read")
    help_text = await platform.say_text("/help")
    assert "Latest news, optionally by section and keywords" in help_text
    # Another chat keeps the default language.
    assert "tidak dikenal" in await platform.say_text("/nope", chat="200")
    assert "Bahasa Indonesia" in await platform.say_text("/lang indonesia")


CHAT = ChatRef(Platform.TELEGRAM, "100")


async def test_subscribe_takes_hashtags_as_breaking_does(platform: FakePlatform, app: App) -> None:
    assert await platform.say_text("/subscribe #ekonomi #International") == (
        "Berlangganan rubrik Ekonomi, Internasional. Berita barunya akan dikirim ke sini."
    )
    assert await app.storage.subscriptions.sections_of(CHAT) == ["ekonomi", "internasional"]
    assert await platform.say_text("/unsubscribe #ekonomi") == (
        "Langganan rubrik Ekonomi dihentikan."
    )
    assert await app.storage.subscriptions.sections_of(CHAT) == ["internasional"]


async def test_subscribe_takes_names_of_several_words(platform: FakePlatform, app: App) -> None:
    assert await platform.say_text("/subscribe dalam negeri") == (
        "Berlangganan rubrik Nasional. Berita barunya akan dikirim ke sini."
    )
    assert "Berlangganan rubrik Olahraga, Internasional." in await platform.say_text(
        "/subscribe Sepak Bola luar negeri"
    )
    assert await app.storage.subscriptions.sections_of(CHAT) == [
        "internasional",
        "nasional",
        "olahraga",
    ]
    assert await platform.say_text("/unsubscribe dalam negeri, sepak bola") == (
        "Langganan rubrik Nasional, Olahraga dihentikan."
    )
    assert await app.storage.subscriptions.sections_of(CHAT) == ["internasional"]


async def test_a_name_that_is_only_part_of_a_section_name_changes_nothing(
    platform: FakePlatform, app: App
) -> None:
    text = await platform.say_text("/subscribe ekonomi dalam")
    assert text.startswith('Rubrik "dalam" tidak ada. Rubrik yang tersedia: internasional, ')
    text = await platform.say_text("/subscribe sihir hitam, ekonomi")
    assert text.startswith('Rubrik "sihir hitam" tidak ada.')
    assert await app.storage.subscriptions.sections_of(CHAT) == []
    # A long unknown name is echoed cut short.
    text = await platform.say_text("/subscribe " + "abrakadabra " * 20)
    assert text.startswith('Rubrik "abrakadabra abrakadabra abrakadabra…" tidak ada.')


async def test_unsubscribe_without_words_lists_the_sections_and_changes_nothing(
    platform: FakePlatform, app: App
) -> None:
    assert await platform.say_text("/unsubscribe") == (
        "Chat ini belum berlangganan rubrik apa pun."
    )
    await platform.say_text("/subscribe ekonomi, olahraga")
    assert await platform.say_text("/unsubscribe") == (
        "Langganan: Ekonomi, Olahraga\nCara pakai: /unsubscribe <rubrik>... atau /unsubscribe all"
    )
    assert await app.storage.subscriptions.sections_of(CHAT) == ["ekonomi", "olahraga"]
    await platform.say_text("/lang en")
    assert await platform.say_text("/unsubscribe") == (
        "Subscriptions: Economy, Sports\nUsage: /unsubscribe <section>... or /unsubscribe all"
    )


async def test_unfollow_without_words_lists_the_follows_and_asks_for_all(
    platform: FakePlatform, app: App
) -> None:
    assert await platform.say_text("/unfollow") == "Chat ini tidak mengikuti kata kunci apa pun."
    await platform.say_text("/follow nato")
    await platform.say_text('/follow "harga beras"')
    assert await platform.say_text("/unfollow") == (
        'Kata kunci yang diikuti: "nato", "harga beras"\n'
        "Cara pakai: /unfollow <kata kunci> atau /unfollow all"
    )
    assert len(await app.storage.subscriptions.follows_of(CHAT)) == 2  # nothing went
    assert await platform.say_text("/unfollow all") == (
        'Berhenti mengikuti "nato", "harga beras".'
    )
    assert await app.storage.subscriptions.follows_of(CHAT) == []
    assert await platform.say_text("/unfollow semua") == (
        "Chat ini tidak mengikuti kata kunci apa pun."
    )
    [*_, entry] = reversed(await app.storage.audit.recent(10))
    assert (entry.action, entry.detail) == ("unfollow", '"nato", "harga beras"')


async def test_unfollow_names_the_words_as_they_were_followed(platform: FakePlatform) -> None:
    await platform.say_text("/follow Harga Beras")
    await platform.say_text("/follow NATO")
    # The words in another order and case are the same follow; the answer names it as followed.
    assert await platform.say_text("/unfollow beras harga") == (
        'Berhenti mengikuti "Harga Beras".'
    )
    await platform.say_text("/lang en")
    assert await platform.say_text("/unfollow all") == 'Stopped following "NATO".'
    assert await platform.say_text("/unfollow all") == "This chat follows no keywords."


async def test_a_quoted_follow_is_not_quoted_twice(platform: FakePlatform, app: App) -> None:
    assert await platform.say_text('/follow "harga beras"') == (
        'Setiap berita baru tentang "harga beras" akan dikirim ke sini.'
    )
    assert await platform.say_text("/follow \u201charga  beras\u201d") == (
        'Chat ini sudah mengikuti "harga beras".'
    )
    assert await platform.say_text("/follow 'gempa bumi'") == (
        'Setiap berita baru tentang "gempa bumi" akan dikirim ke sini.'
    )
    assert await platform.say_text("/follow Jum'at berkah") == (
        'Setiap berita baru tentang "Jum\'at berkah" akan dikirim ke sini.'
    )
    assert await platform.say_text("/subscriptions") == (
        'Kata kunci yang diikuti: "harga beras", "gempa bumi", "Jum\'at berkah"\n\n'
        "Pengiriman: langsung, setiap ada berita baru."
    )
    assert [f.words for f in await app.storage.subscriptions.follows_of(CHAT)] == [
        "harga beras",
        "gempa bumi",
        "Jum'at berkah",
    ]


@pytest.mark.parametrize("words", ["yang", "the", "di dan ke", "The Of", "yang, dan!", '"the"'])
async def test_a_follow_of_common_words_alone_is_refused(
    platform: FakePlatform, app: App, words: str
) -> None:
    text = await platform.say_text(f"/follow {words}")
    assert "terlalu umum untuk diikuti" in text
    assert "/follow nato" in text
    assert await app.storage.subscriptions.follows_of(CHAT) == []


async def test_common_words_are_left_out_of_a_follow_and_the_answer_says_so(
    platform: FakePlatform, app: App
) -> None:
    assert await platform.say_text("/follow harga beras di pasar") == (
        'Setiap berita baru tentang "harga beras di pasar" akan dikirim ke sini.\n'
        "Kata yang terlalu umum tidak dihitung: di."
    )
    [follow] = await app.storage.subscriptions.follows_of(CHAT)
    assert follow.terms == ("beras", "harga", "pasar")
    # An English "the" would never be in an Indonesian story: it is not required either.
    assert "sudah mengikuti" not in await platform.say_text("/follow the NATO")
    assert "sudah mengikuti" in await platform.say_text("/follow nato")
    assert await platform.say_text("/unfollow the nato") == 'Berhenti mengikuti "the NATO".'
    await platform.say_text("/lang en")
    assert await platform.say_text("/follow the") == (
        '"the" is too common to follow. Choose a more specific word, for example /follow nato.'
    )
    assert await platform.say_text("/follow rice and the price") == (
        'Every new story about "rice and the price" will arrive here.\n'
        "Words too common to count were left out: and, the."
    )


async def test_a_follow_without_its_common_words_still_reaches_a_story(
    platform: FakePlatform, app: App
) -> None:
    await platform.say_text("/follow the harga beras")
    [result] = await app.deps.newsroom.publish(
        [
            draft(
                "Harga Beras Turun di Pasar Induk",
                body="Harga beras medium turun dua ratus rupiah per kilogram.",
                published_at=app.clock() - timedelta(minutes=5),
            )
        ]
    )
    assert result.queued == 1
