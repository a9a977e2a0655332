"""SQLite keyword follows: unfollow says which follows it removed."""

from __future__ import annotations

from bot.app import App
from storage.models import ChatRef, Platform

CHAT = ChatRef(Platform.TELEGRAM, "100")
OTHER = ChatRef(Platform.DISCORD, "100")


async def test_unfollow_returns_the_removed_follows_oldest_first(app: App) -> None:
    follows = app.storage.subscriptions
    now = app.clock()
    for words in ("NATO", "harga beras", "gempa"):
        await follows.follow(CHAT, words, words.lower().split(), now=now)
    await follows.follow(OTHER, "NATO", ["nato"], now=now)

    [one] = await follows.unfollow(CHAT, ["beras", "harga"])
    assert (one.chat, one.words, one.terms) == (CHAT, "harga beras", ("beras", "harga"))
    assert await follows.unfollow(CHAT, ["beras", "harga"]) == []
    assert await follows.unfollow(CHAT, ["nato", "harga"]) == []  # not exactly a follow's terms

    removed = await follows.unfollow(CHAT, None)
    assert [follow.words for follow in removed] == ["NATO", "gempa"]
    assert await follows.follows_of(CHAT) == []
    assert await follows.unfollow(CHAT, None) == []
    # Another platform's chat with the same id keeps its follow.
    assert [follow.words for follow in await follows.follows_of(OTHER)] == ["NATO"]
