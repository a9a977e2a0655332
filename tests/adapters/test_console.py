"""The console platform: rendering, and pushes arriving while an interactive chat is open."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.console import (
    ConsoleAdapter,
    ConsoleFiles,
    ConsoleIdentity,
    StreamLines,
    banner,
    render,
)
from bot.app import App, open_app, utc_now
from bot.chat import ArticleCard, Button, ChatKind, Reply, Text
from bot.settings import Settings
from tests.support import FakeClock, FakePlatform, console_draft_code, draft


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    # Polling is the point here: the output is a plain StringIO that signals nothing.
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - see above
            await asyncio.sleep(0.02)


def test_render_shows_cards_badges_and_buttons() -> None:
    reply = Reply(
        parts=(
            Text("Berita terbaru:"),
            ArticleCard(
                article_id=7,
                title='Harga cabai "meroket" & <menipis>',
                section_name="Ekonomi",
                time_label="24 Nov 2026 10:00 WIB",
                url="https://contoh.id/cabai",
                summary="Ringkas.",
                badge="BERITA TERKINI",
            ),
        ),
        buttons=(Button("Baca", "/read 7"),),
    )
    assert render(reply) == (
        "Berita terbaru:\n\n"
        '#7 [BERITA TERKINI] Harga cabai "meroket" & <menipis>\n'
        "   Ekonomi · 24 Nov 2026 10:00 WIB\n"
        "   Ringkas.\n"
        "   https://contoh.id/cabai\n\n"
        "[Baca: /read 7]"
    )


def _card(article_id: int, title: str) -> ArticleCard:
    return ArticleCard(
        article_id=article_id,
        title=title,
        section_name="Nasional",
        time_label="24 Nov 2026 10:00 WIB",
    )


def test_every_search_result_says_how_to_read_it_in_the_chats_language() -> None:
    results = Reply(
        parts=(Text("Berita terbaru:"), _card(3, "Banjir di Medan"), _card(2, "Pemilu di Bali"))
    )

    assert render(results, "id") == (
        "Berita terbaru:\n\n"
        "#3 Banjir di Medan\n   Nasional · 24 Nov 2026 10:00 WIB\n   [Baca: /read 3]\n\n"
        "#2 Pemilu di Bali\n   Nasional · 24 Nov 2026 10:00 WIB\n   [Baca: /read 2]"
    )
    english = render(results, "en")
    assert "   [Read: /read 3]" in english
    assert "Baca" not in english


def test_a_story_being_read_or_pushed_shows_no_second_hint() -> None:
    whole_story = Reply(parts=(_card(3, "Banjir di Medan"), Text("Air setinggi satu meter.")))
    push = Reply(parts=(_card(3, "Banjir di Medan"),), buttons=(Button("Baca", "/read 3"),))

    assert "/read" not in render(whole_story)
    assert render(push).count("/read 3") == 1


def test_console_files_sit_beside_the_database_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = ConsoleFiles.beside("data/berita.db")
    assert files.database == tmp_path / "data" / "berita.db"
    assert files.log == tmp_path / "data" / "berita.log"
    assert files.history == tmp_path / "data" / "berita.history"
    # A database that is itself named *.log never gets its own name back for the log.
    assert ConsoleFiles.beside("arsip.log").log == tmp_path / "arsip.log.log"


def test_the_banner_names_the_chat_its_files_and_how_to_quit() -> None:
    identity = ConsoleIdentity(chat_id="redaksi", user_id="ani", chat_kind=ChatKind.GROUP)
    files = ConsoleFiles.beside("/srv/berita/newsbot.db")

    shown = banner(
        "id",
        identity,
        database=files.database,
        log_file=files.log,
        log_problem=None,
        history_file=files.history,
        history_problem=None,
    )
    assert 'chat konsol "redaksi" (grup)' in shown
    assert '"ani"' in shown
    assert "Basis data: /srv/berita/newsbot.db" in shown
    assert "Log: /srv/berita/newsbot.log" in shown
    assert "Riwayat perintah: /srv/berita/newsbot.history" in shown
    assert "Ctrl-D" in shown
    assert "Ctrl-C" in shown

    troubled = banner(
        "en",
        identity,
        database=files.database,
        log_file=files.log,
        log_problem=PermissionError(13, "Permission denied"),
        history_file=files.history,
        history_problem=IsADirectoryError(21, "Is a directory"),
    )
    assert 'console chat "redaksi" (group)' in troubled
    assert "Log: /srv/berita/newsbot.log cannot be written (Permission denied)" in troubled
    assert "/srv/berita/newsbot.history cannot be written (Is a directory)" in troubled

    debugging = banner(
        "en",
        identity,
        database=files.database,
        log_file=None,
        log_problem=None,
        history_file=files.history,
        history_problem=None,
    )
    assert "Log: shown here (NEWSBOT_LOG_LEVEL=DEBUG)" in debugging


async def test_a_piped_search_shows_the_read_hint_for_each_result(
    app: App, clock: FakeClock
) -> None:
    clock.now = utc_now()
    await app.deps.newsroom.publish(
        [
            draft("NATO latihan di Laut Baltik", published_at=clock.now - timedelta(hours=2)),
            draft("NATO bahas anggaran", published_at=clock.now - timedelta(hours=1)),
        ]
    )
    output = io.StringIO()
    await app.chat(
        ConsoleIdentity(), stdin=io.StringIO("/latest nato\n"), stdout=output, interactive=False
    )
    shown = output.getvalue()
    assert shown.count("[Baca: /read ") == 2
    assert shown.index("NATO bahas anggaran") < shown.index("[Baca: /read 2]")
    assert shown.index("[Baca: /read 2]") < shown.index("NATO latihan di Laut Baltik")
    assert shown.index("NATO latihan di Laut Baltik") < shown.index("[Baca: /read 1]")


async def test_an_interactive_chat_shows_a_push_while_it_is_open(app: App) -> None:
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end, "r", encoding="utf-8")
    typing = os.fdopen(write_end, "w", encoding="utf-8")
    output = io.StringIO()
    chat = asyncio.create_task(
        app.chat(ConsoleIdentity(chat_id="meja"), stdin=stdin, stdout=output, interactive=True)
    )
    typing.write("/subscribe nasional\n")
    typing.flush()
    await _until(lambda: "Berlangganan rubrik Nasional" in output.getvalue())
    await app.deps.newsroom.publish([draft("Kabar baru dari Senayan", section="nasional")])
    await _until(lambda: "Kabar baru dari Senayan" in output.getvalue())
    typing.close()  # end of input ends the chat
    await asyncio.wait_for(chat, 10)
    stdin.close()
    assert output.getvalue().count("Kabar baru dari Senayan") == 1


async def test_plain_text_gets_a_hint(app: App) -> None:
    output = io.StringIO()
    await app.chat(
        ConsoleIdentity(), stdin=io.StringIO("halo\n"), stdout=output, interactive=False
    )
    assert "Kirim perintah yang diawali garis miring" in output.getvalue()


def test_a_preview_card_shows_no_number_and_nothing_to_read() -> None:
    preview = ArticleCard(
        article_id=0,
        title="Gempa di Palu",
        section_name="Nasional",
        time_label="24 Nov 2026 10:00 WIB",
        summary="Gempa M6 di Palu.",
        badge="BERITA TERKINI",
        preview=True,
    )
    shown = render(Reply(parts=(preview,), buttons=(Button("Kirim", "/confirm 0a1b2c"),)))
    assert shown == (
        "[BERITA TERKINI] Gempa di Palu\n"
        "   Nasional · 24 Nov 2026 10:00 WIB\n"
        "   Gempa M6 di Palu.\n\n"
        "[Kirim: /confirm 0a1b2c]"
    )


async def test_an_open_chat_prints_a_sent_storys_counters_once_when_done(
    settings: Settings,
) -> None:
    admin = settings.model_copy(update={"admins": frozenset({"console:local"})})
    async with open_app(admin) as app:
        app.deps.desk.refresh_seconds = 0.01
        read_end, write_end = os.pipe()
        stdin = os.fdopen(read_end, "r", encoding="utf-8")
        typing = os.fdopen(write_end, "w", encoding="utf-8")
        output = io.StringIO()
        chat = asyncio.create_task(
            app.chat(ConsoleIdentity(), stdin=stdin, stdout=output, interactive=True)
        )
        typing.write("/subscribe breaking\n/breaking Gempa di Palu | Gempa M6 di Palu.\n")
        typing.flush()
        await _until(lambda: "[Kirim: /confirm " in output.getvalue())
        typing.write(f"/confirm {console_draft_code(output.getvalue())}\n")
        typing.flush()
        done = "Selesai: terkirim 1 · gagal 0 · chat hilang 0. Rincian: /status 1"
        # Printed while the chat is open, after the push it counts.
        await _until(lambda: done in output.getvalue())
        shown = output.getvalue()
        assert shown.index("#1 [BERITA TERKINI] Gempa di Palu") < shown.index(done)
        typing.close()
        await asyncio.wait_for(chat, 10)
        stdin.close()
    assert output.getvalue().count("Selesai: terkirim") == 1
    assert output.getvalue().count("Antre ") == 1  # the answer to Send, and no other update


async def test_whoami_in_a_console_chat_names_the_user_as_newsbot_admins_does(
    settings: Settings,
) -> None:
    admin = settings.model_copy(update={"admins": frozenset({"console:local"})})
    async with open_app(admin) as app:
        shown = {}
        for user in ("local", "budi"):
            output = io.StringIO()
            identity = ConsoleIdentity(chat_id="redaksi", user_id=user, chat_kind=ChatKind.GROUP)
            await app.chat(
                identity, stdin=io.StringIO("/whoami\n"), stdout=output, interactive=False
            )
            shown[user] = output.getvalue()

    assert shown["local"].startswith(
        "Id Anda: console:local\nBaris untuk .env bot: NEWSBOT_ADMINS=console:local\n\n"
        "Anda admin bot: NEWSBOT_ADMINS memuat id ini."
    )
    assert shown["budi"].startswith(
        "Id Anda: console:budi\nBaris untuk .env bot: NEWSBOT_ADMINS=console:budi\n\n"
        "Anda bukan admin bot."
    )


async def _piped(app: App, lines: str, identity: ConsoleIdentity | None = None) -> str:
    """What a piped console chat prints for `lines`."""
    output = io.StringIO()
    await app.chat(
        identity or ConsoleIdentity(),
        stdin=io.StringIO(lines),
        stdout=output,
        interactive=False,
    )
    return output.getvalue()


async def test_a_piped_send_prints_the_stored_line_and_each_counter_once(
    settings: Settings,
) -> None:
    admin = settings.model_copy(update={"admins": frozenset({"console:local"})})
    async with open_app(admin) as app:
        await _piped(app, "/subscribe breaking\n", ConsoleIdentity(chat_id="redaksi"))
        preview = await _piped(app, "/breaking Gempa di Cianjur | Gempa M5,6 di Cianjur.\n")

        sent = await _piped(app, f"/confirm {console_draft_code(preview)}\n")

    # The redaksi chat has not run: the counters, at the end of this chat, still stand at
    # the start. They are not printed again under the same heading, only what is new.
    assert sent.split("\n\n") == [
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 1 chat.\n"
        "Antre 1 · terkirim 0 · gagal 0 · chat hilang 0",
        "Pengiriman masih berjalan; lihat /status 1.",
        "",
    ]


async def test_a_correction_and_a_withdrawal_name_the_story_as_its_reader_saw_it(
    app: App, clock: FakeClock
) -> None:
    newsroom = ConsoleIdentity(chat_id="redaksi")
    await _piped(app, "/subscribe nasional\n", newsroom)
    await app.deps.newsroom.publish(
        [draft("Gempa di Cianjur", body="Gempa M5 di Cianjur.", section="nasional")]
    )
    assert "#1 Gempa di Cianjur" in await _piped(app, "", newsroom)
    admin = FakePlatform(app)  # user 1 on Telegram is the tests' bot admin

    await admin.say("/correct 1 Gempa M5,6 di Cianjur |", user="1")
    corrected = await _piped(app, "", newsroom)
    assert corrected.startswith('Ralat berita #1 "Gempa di Cianjur":\n#1 Gempa M5,6 di Cianjur\n')

    await _piped(app, "/lang en\n", newsroom)
    await admin.say("/retract 1 Magnitudo keliru", user="1")
    assert await _piped(app, "", newsroom) == (
        'Story #1 "Gempa di Cianjur" was withdrawn by the newsroom.\n\n'
    )
    assert "console-" not in corrected


async def test_a_message_the_console_cannot_name_is_still_said_in_the_chats_language(
    app: App,
) -> None:
    """A message of several stories (a digest), or one sent before console messages were
    known by their story, is named no better than that."""
    output = io.StringIO()
    adapter = ConsoleAdapter(
        sink=app.dispatcher,
        identity=ConsoleIdentity(chat_id="redaksi"),
        lines=StreamLines(io.StringIO("")),
        output_stream=output,
    )
    await adapter.delete(adapter.chat, "console-redaksi-1")
    assert output.getvalue() == "Sebuah pesan yang terkirim sebelumnya ditarik oleh redaksi.\n\n"
