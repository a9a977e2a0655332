"""/breaking: only NEWSBOT_ADMINS, stored in a section once sent, queued for its and
`breaking`'s chats."""

from __future__ import annotations

from bot.app import App
from tests.support import FakePlatform

ADMIN = "1"  # telegram:1 is the admin in the test settings


async def _outbox_chats(app: App, article_id: int) -> list[str]:
    database = app.storage.outbox._db  # type: ignore[attr-defined]  # white-box
    async with database.connection.execute(
        "SELECT chat_id FROM outbox WHERE article_id = ? ORDER BY chat_id", (article_id,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def test_non_admin_is_refused_and_nothing_is_stored(
    platform: FakePlatform, app: App
) -> None:
    text = await platform.say_text("/breaking Gempa di Palu | Gempa M6 mengguncang.", user="7")
    assert text == (
        "Hanya admin bot yang dapat mengirim berita terkini. Kirim /whoami untuk melihat id Anda."
    )
    assert await app.storage.articles.count() == 0
    assert await app.storage.outbox.status_counts() == {}


async def test_admin_story_goes_to_its_section_and_breaking_subscribers_once(
    platform: FakePlatform, app: App
) -> None:
    await platform.say_text("/subscribe internasional", chat="10")
    await platform.say_text("/subscribe breaking", chat="11")
    await platform.say_text("/subscribe internasional breaking", chat="12")
    await platform.say_text("/subscribe nasional", chat="13")
    reply = await platform.post_breaking(
        "#internasional Gempa di Jepang | Gempa M7 mengguncang Tokyo. "
        "| https://contoh.id/gempa?utm_source=x",
        user=ADMIN,
    )
    assert "disimpan di rubrik Internasional dan akan dikirim ke 3 chat" in reply.plain_text()
    [article] = await app.storage.articles.latest(section=None, terms=[], limit=1)
    assert (article.title, article.section, article.breaking) == (
        "Gempa di Jepang",
        "internasional",
        True,
    )
    assert article.url == "https://contoh.id/gempa"
    assert await _outbox_chats(app, article.id) == ["10", "11", "12"]
    [entry] = [e for e in await app.storage.audit.recent(10) if e.action == "breaking"]
    assert entry.actor == "telegram:1"


async def test_without_a_section_the_default_is_used(platform: FakePlatform, app: App) -> None:
    await platform.say_text("/subscribe nasional", chat="13")
    reply = await platform.post_breaking("Banjir Jakarta | Air setinggi 1 meter.", user=ADMIN)
    text = reply.plain_text()
    assert "rubrik Nasional" in text
    assert "1 chat" in text
    [article] = await app.storage.articles.latest(section="nasional", terms=[], limit=1)
    assert article.title == "Banjir Jakarta"


async def test_bad_breaking_input_stores_nothing(platform: FakePlatform, app: App) -> None:
    for command, answer in (
        ("/breaking tanpa isi", "Cara pakai: /breaking"),
        ("/breaking | isi saja", "Cara pakai: /breaking"),
        ("/breaking #sihir Judul | Isi", 'Rubrik "sihir" tidak ada'),
        ("/breaking #nasional | Isi", "Cara pakai: /breaking"),
        ("/breaking Judul | Isi | javascript:alert(1)", "bukan alamat http(s)"),
    ):
        assert answer in await platform.say_text(command, user=ADMIN), command
    assert await app.storage.articles.count() == 0


async def test_the_same_breaking_post_twice_is_sent_once(platform: FakePlatform, app: App) -> None:
    await platform.say_text("/subscribe nasional", chat="13")
    await platform.post_breaking("Banjir Jakarta | Air setinggi 1 meter.", user=ADMIN)
    # The same story again gets no draft at all: there is nothing to send.
    again = await platform.say("/breaking Banjir Jakarta | Air setinggi 1 meter.", user=ADMIN)
    assert "sudah tersimpan" in again.plain_text()
    assert again.buttons == ()
    corrected = await platform.post_breaking("Banjir Jakarta | Air setinggi 2 meter.", user=ADMIN)
    # Not delivered yet: the pending push will carry the corrected text, nothing to edit.
    assert "diperbarui. Belum ada pesan terkirim yang perlu disunting" in corrected.plain_text()
    assert await app.storage.articles.count() == 1
    assert await app.storage.outbox.status_counts() == {"pending": 1}
