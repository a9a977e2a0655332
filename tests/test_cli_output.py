"""The command line's own behaviour: help, version, and a reader that stops reading."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bot.app import open_app
from bot.settings import BREAKING_SLUG
from storage.models import ChatRef, Platform
from tests.support import Newsbot, draft, settings_on


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def test_a_plain_newsbot_prints_its_help(newsbot: Newsbot) -> None:
    result = newsbot(timeout=15, process=True)

    assert result.returncode == 2  # as for any command line that does not say what to do
    assert result.stdout.startswith("usage: newsbot")
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ")]
    assert {"run", "chat", "ingest", "sample-news"} <= set(listed)
    assert result.stderr == ""


def test_help_asked_for_is_success(newsbot: Newsbot) -> None:
    result = newsbot("--help", timeout=15)

    assert result.returncode == 0
    assert result.stdout.startswith("usage: newsbot")


def test_version_comes_from_the_package_metadata(newsbot: Newsbot) -> None:
    result = newsbot("--version", timeout=15, process=True)

    assert result.returncode == 0
    assert result.stdout == f"newsbot {metadata.version('newsbot')}\n"


def test_a_chat_whose_output_is_closed_ends_quietly(newsbot: Newsbot) -> None:
    assert newsbot("sample-news").returncode == 0
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first answer is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "chat"],
            input=b"/help\n/latest\n/latest nato\n",
            stdout=writer,
            stderr=subprocess.PIPE,
            cwd=newsbot.directory,
            env=newsbot.env,
            timeout=30,
            check=False,
        )
    finally:
        os.close(writer)

    assert result.returncode == 141  # 128 + SIGPIPE, as a shell reports for `yes | head -1`
    assert result.stderr == b""  # no BrokenPipeError traceback, no "Exception ignored"


def test_a_chat_piped_into_head_ends_quietly(newsbot: Newsbot) -> None:
    assert newsbot("sample-news").returncode == 0
    bash = shutil.which("bash")
    assert bash is not None
    python = shlex.quote(sys.executable)
    result = subprocess.run(
        [
            bash,
            "-c",
            f"printf '/help\\n/latest\\n/latest nato\\n' | {python} -m bot chat | head -1; "
            'echo "exit ${PIPESTATUS[1]}"',
        ],
        capture_output=True,
        text=True,
        cwd=newsbot.directory,
        env=newsbot.env,
        timeout=30,
        check=False,
    )

    first, status = result.stdout.splitlines()
    assert first == "Perintah:"
    # 0 when the answers all fitted in the pipe before head left, 141 when they did not.
    assert status in ("exit 0", "exit 141")
    assert result.stderr == ""


async def _three_breaking_stories_for(database: Path, chat: str) -> None:
    """`chat` (a console chat) subscribed to breaking news, and three breaking stories queued
    for it, as `/subscribe` there and an admin's three `/breaking` would leave them."""
    async with open_app(settings_on(database)) as app:
        await app.storage.subscriptions.subscribe(
            ChatRef(Platform.CONSOLE, chat), [BREAKING_SLUG], now=app.clock()
        )
        for n in range(3):
            [stored] = await app.deps.newsroom.publish(
                [
                    draft(
                        f"Kabar ke-{n}",
                        body=f"Isi kabar ke-{n}.",
                        section=BREAKING_SLUG,
                        published_at=app.clock(),
                    )
                ]
            )
            assert stored.queued == 1


def test_pushes_for_a_reader_who_left_wait_for_the_next_chat(newsbot: Newsbot) -> None:
    # Queued by this process: the runs under test are the reader's.
    asyncio.run(_three_breaking_stories_for(newsbot.directory / "newsbot.db", "meja"))
    reader, writer = os.pipe()
    os.close(reader)  # gone before the pushes are written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "chat", "--chat", "meja"],
            input=b"",
            stdout=writer,
            stderr=subprocess.PIPE,
            cwd=newsbot.directory,
            env=newsbot.env,
            timeout=30,
            check=False,
        )
    finally:
        os.close(writer)
    assert result.returncode in (0, 141)  # 141 once anything else is written and refused
    assert result.stderr == b""  # not a traceback per push
    # Nothing was seen, so nothing was lost: the next chat gets every push, once.
    pushed = newsbot.chat("", "--chat", "meja")
    for n in range(3):
        assert pushed.count(f"Kabar ke-{n}") == 1


# A Ctrl-C that lands while the verbs are still being loaded, made certain: loading them raises
# KeyboardInterrupt as Python does when SIGINT arrives in the middle of an import.
_INTERRUPTED_WHILE_LOADING = """
import sys

class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == "bot.cli_verbs":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupting())
from bot.cli import main
sys.exit(main(["chat"]))
"""


def test_ctrl_c_while_the_program_loads_is_a_quiet_stop(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_WHILE_LOADING],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=15,
        check=False,
    )
    assert result.returncode == 130
    assert result.stderr == ""
