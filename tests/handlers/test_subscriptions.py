"""Subscriptions, follows, language and the permission rules."""

from __future__ import annotations

from bot.app import App
from bot.chat import ChatKind
from storage.models import ChatRef, Platform
from tests.support import FakePlatform

GROUP = ChatRef(Platform.TELEGRAM, "-500")


async def test_subscribe_lists_and_unsubscribe(platform: FakePlatform, app: App) -> None:
    chat = ChatRef(Platform.TELEGRAM, "100")
    text = await platform.say_text("/subscribe internasional, Ekonomi")
    assert "berlangganan Internasional, Ekonomi" in text
    assert await app.storage.subscriptions.sections_of(chat) == ["ekonomi", "internasional"]
    assert "sudah berlangganan Internasional" in await platform.say_text("/subscribe world")
    listed = await platform.say_text("/subscriptions")
    assert "Internasional" in listed
    assert "Ekonomi" in listed
    assert "dihentikan" in await platform.say_text("/unsubscribe ekonomi")
    assert "tidak berlangganan Ekonomi" in await platform.say_text("/unsubscribe ekonomi")
    assert "dihentikan" in await platform.say_text("/unsubscribe all")
    assert await app.storage.subscriptions.sections_of(chat) == []
    assert "tidak punya langganan" in await platform.say_text("/unsubscribe all")


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
    assert "Berhenti mengikuti 1" in await platform.say_text("/unfollow nato jepang")
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
