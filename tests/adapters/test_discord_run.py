"""`newsbot run` with Discord (and Telegram beside it): real processes, a fake Discord and a
Bot API server on 127.0.0.1, one database file."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi
from tests.adapters.fake_discord import (
    DEFAULT_EDITOR_ID,
    DEFAULT_NEWS_CHANNEL_ID,
    DEFAULT_TOKEN,
    FakeDiscordProcess,
)
from tests.support import QUICK_DELIVERY_POLL, Newsbot

TELEGRAM_READER = 63001
NEW_STORY = "Presiden Bertemu Sekjen NATO, Bahas Keamanan Laut Natuna Utara"


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
def bot_api(api: FakeBotApi) -> Iterator[BotApiServer]:
    with BotApiServer(api) as running:
        yield running


@pytest.fixture
def discord_server(tmp_path: Path) -> Iterator[FakeDiscordProcess]:
    workdir = tmp_path / "fake-discord"
    workdir.mkdir()
    with FakeDiscordProcess(workdir) as running:
        yield running


def _wait(
    condition: Callable[[], bool], process: subprocess.Popen[str], log: Path, within: float = 30.0
) -> None:
    """Wait for `condition`; fail with the bot's log if it never comes or the bot exits."""
    deadline = time.monotonic() + within
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(
                f"newsbot run did not get there; its log:\n{log.read_text(encoding='utf-8')}"
            )
        time.sleep(0.05)


def _story(tmp_path: Path) -> Path:
    path = tmp_path / "baru.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "uji-dua-platform-1",
                "title": NEW_STORY,
                "section": "internasional",
                "published_at": datetime.now(UTC).isoformat(),
                "body": "Presiden menerima Sekjen NATO di Istana Merdeka.",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def _settled_pushes(database: Path) -> int:
    """The pushes recorded as sent, once no push is waiting or being sent; else 0."""
    with sqlite3.connect(database, timeout=30) as connection:
        counts = dict(
            connection.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        )
    if set(counts) - {"sent", "failed", "dropped"}:
        return 0
    return int(counts.get("sent", 0))


def _embed_titles(messages: list[dict[str, object]]) -> list[str]:
    return [
        str(embed.get("title"))
        for message in messages
        for embed in message.get("embeds") or []  # type: ignore[attr-defined]
    ]


def test_newsbot_run_with_both_tokens_pushes_one_story_to_each_platform_once(
    tmp_path: Path, api: FakeBotApi, bot_api: BotApiServer, discord_server: FakeDiscordProcess
) -> None:
    newsbot = Newsbot(tmp_path)
    env = {
        "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
        "NEWSBOT_TELEGRAM_API_URL": bot_api.base_url,
        "NEWSBOT_DISCORD_TOKEN": DEFAULT_TOKEN,
        "NEWSBOT_DISCORD_API_URL": discord_server.api_base,
        "NEWSBOT_LOG_LEVEL": "DEBUG",  # the tokens must stay out of even the most verbose log
        **QUICK_DELIVERY_POLL,  # the story is ingested by another process
    }
    log = tmp_path / "run.log"
    bot = newsbot.start("run", env=env, output=log)
    try:
        _wait(lambda: bool(api.of_method("getUpdates")), bot, log)
        discord_server.wait_gateway(count=1, timeout=30)
        api.message_update(TELEGRAM_READER, "/subscribe internasional", user_id=TELEGRAM_READER)
        _wait(lambda: bool(api.texts(TELEGRAM_READER)), bot, log)
        subscribed = discord_server.interaction(
            channel_id=DEFAULT_NEWS_CHANNEL_ID,
            user_id=DEFAULT_EDITOR_ID,
            command="subscribe",
            options={"section": "internasional"},
        )
        assert subscribed["callback"] is not None, subscribed

        ingested = newsbot("ingest", str(_story(tmp_path)))
        assert ingested.returncode == 0, ingested.stderr

        def both_arrived() -> bool:
            on_telegram = any(NEW_STORY in text for text in api.texts(TELEGRAM_READER))
            on_discord = NEW_STORY in _embed_titles(
                discord_server.messages(DEFAULT_NEWS_CHANNEL_ID)
            )
            return on_telegram and on_discord

        _wait(both_arrived, bot, log)
        # Until delivery has nothing left: a second copy queued for either chat (which would
        # wait for the first, a chat's pushes going one after another) would have gone too.
        database = tmp_path / "newsbot.db"
        _wait(lambda: _settled_pushes(database) >= 2, bot, log)
    finally:
        bot.send_signal(signal.SIGTERM)
        started = time.monotonic()
        bot.wait(timeout=30)
        stopped_in = time.monotonic() - started
    stderr = log.read_text(encoding="utf-8")

    assert bot.returncode == 0, stderr
    assert stopped_in < 5, stderr
    assert [text for text in api.texts(TELEGRAM_READER) if NEW_STORY in text] != []
    assert len([text for text in api.texts(TELEGRAM_READER) if NEW_STORY in text]) == 1
    assert _embed_titles(discord_server.messages(DEFAULT_NEWS_CHANNEL_ID)) == [NEW_STORY]
    [push] = [
        call
        for call in discord_server.calls()
        if call["method"] == "POST"
        and call["path"] == f"/channels/{DEFAULT_NEWS_CHANNEL_ID}/messages"
    ]
    assert push["json"]["allowed_mentions"] == {"parse": []}
    assert push["json"]["nonce"].startswith("nb")
    assert push["json"]["enforce_nonce"] is True
    assert "connecting to Telegram and Discord" in stderr
    assert "Traceback" not in stderr
    assert "voice will NOT be supported" not in stderr  # the bot uses none: not warned of
    assert DEFAULT_TOKEN not in stderr
    assert TOKEN.split(":")[1] not in stderr
    # The least intents: guilds (1 << 0) only, nothing privileged.
    identifies = discord_server.state()["identifies"]
    assert [identify["intents"] for identify in identifies] == [1]
    assert discord_server.unexpected_calls() == []


def test_a_refused_discord_token_is_a_clear_configuration_error(
    tmp_path: Path, discord_server: FakeDiscordProcess
) -> None:
    result = Newsbot(tmp_path)(
        "run",
        env={
            "NEWSBOT_DISCORD_TOKEN": "not-the-token",
            "NEWSBOT_DISCORD_API_URL": discord_server.api_base,
        },
        # A process of its own: discord.py warns about voice once per process, so in a process
        # where a client was made before, the warning's absence would prove nothing.
        process=True,
    )

    assert result.returncode == 2
    assert "Discord refused NEWSBOT_DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-the-token" not in result.stderr
    # The bot uses no voice: discord.py's warnings about voice libraries are not shown.
    assert "voice will NOT be supported" not in result.stderr
