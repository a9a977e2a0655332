"""The console chat on a terminal, as a person uses it: a real `newsbot` on a pseudo-terminal.

What is asserted is what the screen shows (through a terminal emulator), what the process wrote
to the terminal, its log file and its exit code.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_app
from bot.i18n import translate
from tests.adapters.terminal_harness import CTRL_C, CTRL_D, CTRL_R, ENTER, TAB, UP, Terminal
from tests.support import QUICK_DELIVERY_POLL, Newsbot, draft, settings_on

NATO_TITLE = "NATO dan Indonesia Bahas Keamanan Laut Natuna"
PUSH_TITLE = "Gempa M6 Guncang Palu, Warga Mengungsi"

OpenTerminal = Callable[..., Terminal]


async def _two_stories(database: Path) -> None:
    published = datetime.now(UTC) - timedelta(hours=3)
    async with open_app(settings_on(database)) as app:
        await app.deps.newsroom.publish(
            [
                draft(
                    NATO_TITLE,
                    body="Delegasi NATO bertemu pejabat Kementerian Pertahanan di Jakarta.",
                    section="internasional",
                    published_at=published,
                    url="https://contoh.invalid/nato-natuna",
                ),
                draft(
                    "Harga Beras Turun di Pasar Induk",
                    body="Pedagang di Cipinang menurunkan harga beras medium.",
                    section="ekonomi",
                    published_at=published + timedelta(hours=1),
                ),
            ]
        )


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    """Two stories stored (by this process, as an ingest would: the terminal is under test)."""
    bot = Newsbot(tmp_path)
    asyncio.run(_two_stories(Path(bot.env["NEWSBOT_DATABASE"])))
    return bot


@pytest.fixture
def open_terminal(newsbot: Newsbot) -> Iterator[OpenTerminal]:
    """Starts `newsbot ARGUMENTS` on a terminal; every one is ended after the test."""
    opened: list[Terminal] = []

    def start(*arguments: str, env: dict[str, str] | None = None) -> Terminal:
        terminal = Terminal(newsbot, *arguments, env=env)
        opened.append(terminal)
        return terminal

    yield start
    for terminal in opened:
        terminal.close()


def _row_of(terminal: Terminal, text: str) -> int:
    return next(row for row, line in enumerate(terminal.lines()) if text in line)


def test_a_push_lands_above_a_half_typed_line_and_log_records_go_to_the_file(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    newsbot.chat("/subscribe nasional\n", "--chat", "meja")
    # The push is queued by another process.
    terminal = open_terminal("chat", "--chat", "meja", env=QUICK_DELIVERY_POLL)
    terminal.wait_for_prompt("meja>")
    database = newsbot.directory / "newsbot.db"
    log_file = newsbot.directory / "newsbot.log"
    assert translate("id", "console.banner.database", path=database) in terminal.text()
    assert translate("id", "console.banner.log_file", path=log_file) in terminal.text()

    # Refused, and the router logs the refusal at INFO: into the file, not onto the screen.
    terminal.type("/breaking Latihan | bukan admin" + ENTER)
    terminal.wait_for_text(translate("id", "error.not_admin"))

    terminal.type("/latest na")
    terminal.wait_for_prompt("meja> /latest na")
    newsbot.post_breaking(f"#nasional {PUSH_TITLE} | Isi.")
    push_line = f"#3 [{translate('id', 'badge.breaking')}] {PUSH_TITLE}"
    terminal.wait_for_text(push_line)
    terminal.wait_for_prompt("meja> /latest na")

    # The push has lines of its own above the prompt, which is drawn once, below it, with the
    # half-typed line intact.
    screen = terminal.lines()
    assert push_line in screen
    assert screen.count("meja> /latest na") == 1
    assert screen.index(push_line) < screen.index("meja> /latest na")
    terminal.type("to" + ENTER)
    header = translate("id", "latest.header_query", query="nato")
    terminal.wait_for_text(header)
    terminal.wait_for_prompt("meja>")
    answer = terminal.lines()[_row_of(terminal, "meja> /latest nato") :]
    assert answer[1] == header  # the answer starts on a line of its own, under the command
    assert any(NATO_TITLE in line for line in answer)
    assert any("[Baca: /read 1]" in line for line in answer)

    terminal.type(CTRL_D)
    assert terminal.wait_for_exit() == 0
    assert "refused /breaking for console:local in console:meja" in log_file.read_text("utf-8")
    assert "refused" not in terminal.raw
    assert " INFO " not in terminal.raw
    assert "Traceback" not in terminal.raw


def test_history_is_kept_and_found_again_and_tab_offers_only_what_the_user_may_run(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    first = open_terminal("chat")
    first.wait_for_prompt("local>")
    history_file = newsbot.directory / "newsbot.history"
    assert translate("id", "console.banner.history_file", path=history_file) in first.text()
    first.type("/latest nato" + ENTER)
    first.wait_for_text(NATO_TITLE)
    first.type("/sections" + ENTER)
    first.wait_for_text(translate("id", "sections.header"))
    first.wait_for_prompt("local>")
    # A reader is offered no admin command: `/re` is `/read` alone (no /retract, /removefeed).
    first.type("/re" + TAB)
    first.wait_for_prompt("local> /read")
    first.type(CTRL_C)
    first.wait_for_prompt("local>")
    first.type(CTRL_D)
    assert first.wait_for_exit() == 0

    # An admin, in the same chat and history, is offered the admin commands too.
    again = open_terminal("chat", "--admin")
    again.wait_for_prompt("local>")
    again.type(UP)
    again.wait_for_prompt("local> /sections")
    again.type(UP)
    again.wait_for_prompt("local> /latest nato")
    again.type(CTRL_C)  # drop the recalled line
    again.wait_for_prompt("local>")

    # Ctrl-R finds an earlier command; Enter runs it, as in a shell.
    again.type(CTRL_R + "nat")
    again.wait_for_text("`nat': /latest nato")
    again.type(ENTER)
    again.wait_for_text(NATO_TITLE)
    again.wait_for_prompt("local>")

    # Tab completes a command's name.
    again.type("/lat" + TAB)
    again.wait_for_prompt("local> /latest")
    again.type(CTRL_C)
    again.wait_for_prompt("local>")
    again.type("/bre" + TAB)
    again.wait_for_prompt("local> /breaking")
    again.type(CTRL_C)
    again.wait_for_prompt("local>")
    again.type(CTRL_D)
    assert again.wait_for_exit() == 0


def test_several_pasted_commands_are_each_answered(open_terminal: OpenTerminal) -> None:
    terminal = open_terminal("chat")
    terminal.wait_for_prompt("local>")

    # A terminal wraps a paste in these marks (bracketed paste).
    terminal.type("\x1b[200~/latest nato\n/lang en\n/latest beras\x1b[201~")
    terminal.type(ENTER)

    terminal.wait_for_text(translate("en", "latest.header_query", query="beras"))
    text = terminal.text()
    assert NATO_TITLE in text
    assert translate("en", "lang.set") in text
    assert text.index(NATO_TITLE) < text.index(translate("en", "lang.set"))
    assert "Harga Beras Turun di Pasar Induk" in text


def test_ctrl_c_drops_the_line_being_typed_and_on_an_empty_line_quits(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    # `newsbot run` without a token is the same chat.
    terminal = open_terminal("run")
    terminal.wait_for_prompt("local>")
    # The operator's notice in English; the chat's banner in the chat's language.
    terminal.wait_for_text("newsbot: no platform token is set")
    terminal.wait_for_text(translate("id", "console.banner.keys")[:30])
    terminal.type("/latest nato")
    terminal.wait_for_prompt("local> /latest nato")
    terminal.type(CTRL_C)
    terminal.wait_for_prompt("local>")
    terminal.type(CTRL_C)

    assert terminal.wait_for_exit() == 0
    assert NATO_TITLE not in terminal.text()  # the dropped line was never sent
    assert "Traceback" not in terminal.raw


def test_sigterm_at_the_prompt_ends_the_chat_cleanly(open_terminal: OpenTerminal) -> None:
    terminal = open_terminal("chat")
    terminal.wait_for_prompt("local>")
    terminal.type("/latest na")
    terminal.wait_for_prompt("local> /latest na")

    terminal.process.kill(signal.SIGTERM)

    assert terminal.wait_for_exit() == 0
    assert "Traceback" not in terminal.raw


def test_the_banner_speaks_the_chats_language(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    newsbot.chat("/lang en\n")
    terminal = open_terminal("chat")
    terminal.wait_for_prompt("local>")
    database = newsbot.directory / "newsbot.db"

    assert translate("en", "console.banner.database", path=database) in terminal.text()
    terminal.type("/latest nato" + ENTER)
    terminal.wait_for_text("[Read: /read 1]")


def test_at_debug_level_log_records_are_shown_above_the_prompt(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    terminal = open_terminal("chat", env={"NEWSBOT_LOG_LEVEL": "DEBUG"})
    terminal.wait_for_prompt("local>")
    # Read from the stream: at DEBUG the records scroll by quickly, and on a loaded machine
    # the banner may have left the screen by the time it is read.
    assert translate("id", "console.banner.log_here") in terminal.raw

    terminal.type("/breaking Latihan | bukan admin" + ENTER)
    terminal.wait_for(lambda: "refused /breaking for console:local" in terminal.raw, "the record")
    terminal.type("/latest na")
    terminal.wait_for_prompt("local> /latest na")
    terminal.type(CTRL_C)
    terminal.wait_for_prompt("local>")
    terminal.type(CTRL_C)

    assert terminal.wait_for_exit() == 0
    assert not (newsbot.directory / "newsbot.log").exists()


def test_a_log_or_history_file_that_cannot_be_written_is_said_and_nothing_is_lost(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    # Directories where the files should be: refused even to root, which ignores permissions.
    log_file = newsbot.directory / "newsbot.log"
    history_file = newsbot.directory / "newsbot.history"
    log_file.mkdir()
    history_file.mkdir()

    terminal = open_terminal("chat")
    terminal.wait_for_prompt("local>")
    terminal.wait_for_text(f"Log: {log_file} tidak dapat ditulis (Is a directory)")
    terminal.wait_for_text(f"Riwayat perintah: {history_file} tidak dapat ditulis")

    terminal.type("/breaking Latihan | bukan admin" + ENTER)
    terminal.wait_for_text("refused /breaking for console:local")
    terminal.wait_for_prompt("local>")
    terminal.type(UP)  # history still works within the chat
    terminal.wait_for_prompt("local> /breaking Latihan | bukan admin")
    terminal.type(CTRL_C)
    terminal.wait_for_prompt("local>")
    terminal.type(CTRL_D)

    assert terminal.wait_for_exit() == 0
    assert "Traceback" not in terminal.raw


def test_a_new_database_is_made_without_a_log_record_on_the_terminal(
    newsbot: Newsbot, open_terminal: OpenTerminal
) -> None:
    """Opening the database logs (the schema is created) before the chat exists: those
    records go to the chat's log file too, not above the banner."""
    fresh = newsbot.directory / "baru" / "berita.db"
    terminal = open_terminal("chat", "--chat", "meja", env={"NEWSBOT_DATABASE": str(fresh)})
    terminal.wait_for_prompt("meja>")
    assert "created at schema" not in terminal.raw
    assert " INFO " not in terminal.raw
    log = (fresh.parent / "berita.log").read_text(encoding="utf-8")
    assert f"database {fresh}: created at schema" in log
