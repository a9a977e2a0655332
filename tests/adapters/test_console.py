"""The console platform: rendering, and pushes arriving while an interactive chat is open."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable

from bot.adapters.console import ConsoleIdentity, render
from bot.app import App
from bot.chat import ArticleCard, Button, Reply, Text
from tests.support import draft


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
