"""`newsbot run` with a Telegram token, against a Bot API server on 127.0.0.1: real processes,
real HTTP, one database file."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi
from tests.support import QUICK_DELIVERY_POLL, Newsbot

READER = 62001
NEW_STORY = "Menlu Bertemu Sekjen NATO di Jakarta, Bahas Keamanan Laut Natuna"


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[BotApiServer]:
    with BotApiServer(api) as running:
        yield running


def _wait(
    condition: Callable[[], bool], process: subprocess.Popen[str], within: float = 20.0
) -> None:
    """Wait for `condition`; fail with the bot's output if it never comes or the bot exits."""
    deadline = time.monotonic() + within
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            raise AssertionError(f"newsbot run did not get there; its stderr:\n{stderr or ''}")
        time.sleep(0.05)


def _ask(api: FakeBotApi, process: subprocess.Popen[str], text: str) -> str:
    before = len(api.texts(READER))
    api.message_update(READER, text, user_id=READER)
    _wait(lambda: len(api.texts(READER)) > before, process)
    return api.texts(READER)[before]


def test_newsbot_run_answers_and_pushes_through_a_bot_api_server(
    tmp_path: Path, api: FakeBotApi, server: BotApiServer
) -> None:
    newsbot = Newsbot(tmp_path)
    assert newsbot("sample-news").returncode == 0
    env = {
        "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
        "NEWSBOT_TELEGRAM_API_URL": server.base_url,
        "NEWSBOT_LOG_LEVEL": "DEBUG",  # the token must stay out of even the most verbose log
        **QUICK_DELIVERY_POLL,  # the story is ingested by another process
    }
    # At DEBUG the bot writes a lot: to a file, since a pipe nobody reads fills and stops it.
    log = tmp_path / "run.log"
    bot = newsbot.start("run", env=env, output=log)
    try:
        _wait(lambda: bool(api.of_method("getUpdates")), bot)

        greeting = _ask(api, bot, "/start")
        subscribed = _ask(api, bot, "/subscribe internasional")
        found = _ask(api, bot, "/latest nato")

        story = tmp_path / "baru.jsonl"
        story.write_text(
            json.dumps(
                {
                    "id": "uji-run-1",
                    "title": NEW_STORY,
                    "section": "internasional",
                    "published_at": datetime.now(UTC).isoformat(),
                    "body": "Menteri Luar Negeri menerima Sekjen NATO di Jakarta.",
                }
            )
            + "\n",
            encoding="utf-8",
        )
        ingested = newsbot("ingest", str(story))
        assert ingested.returncode == 0, ingested.stderr
        _wait(lambda: any(NEW_STORY in text for text in api.texts(READER)), bot)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)
    stderr = log.read_text(encoding="utf-8")

    assert "Halo! Saya newsbot" in greeting
    assert "Internasional" in subscribed
    assert "Sekjen NATO Kunjungi Tokyo" in found
    pushes = [text for text in api.texts(READER) if NEW_STORY in text]
    assert len(pushes) == 1
    assert bot.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert TOKEN not in stderr
    assert TOKEN.split(":")[1] not in stderr


def test_a_refused_token_is_a_clear_configuration_error(
    tmp_path: Path, server: BotApiServer
) -> None:
    result = Newsbot(tmp_path)(
        "run",
        env={"NEWSBOT_TELEGRAM_TOKEN": "999:wrong", "NEWSBOT_TELEGRAM_API_URL": server.base_url},
    )

    assert result.returncode == 2
    assert "Telegram refused NEWSBOT_TELEGRAM_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert "999:wrong" not in result.stderr


def test_the_start_banner_names_the_absolute_database_path(
    tmp_path: Path, api: FakeBotApi, server: BotApiServer
) -> None:
    workdir = tmp_path / "redaksi"
    workdir.mkdir()
    newsbot = Newsbot(workdir)
    env = {
        "NEWSBOT_DATABASE": "data/berita.db",  # relative: to the directory newsbot starts in
        "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
        "NEWSBOT_TELEGRAM_API_URL": server.base_url,
    }
    bot = newsbot.start("run", env=env)
    try:
        _wait(lambda: bool(api.of_method("getUpdates")), bot)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, stderr = bot.communicate(timeout=30)

    database = workdir / "data" / "berita.db"
    assert f"newsbot: connecting to Telegram; database {database}\n" in stderr
    assert database.is_file()
    assert bot.returncode == 0, stderr
