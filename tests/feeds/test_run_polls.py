"""`newsbot run` with a sources file polls on its own: a story added to a served feed reaches a
subscribed console chat within one poll interval."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.feeds.feed_server import (
    POLL_INTERVAL,
    FeedServer,
    Item,
    Route,
    feeds_polled_every_second,
)
from tests.support import Newsbot

NEW_STORY = "Menlu Bertemu Sekjen ASEAN di Jakarta"


def _until(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.02)


def test_newsbot_run_polls_its_sources_and_pushes_a_new_story(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with FeedServer() as server:
        paths = feeds_polled_every_second(server)
        old = Item(
            title="Kabar lama dari Jenewa",
            link="https://kabar.example/lama",
            published=now - timedelta(minutes=30),
        )
        for path in paths:
            server.routes[path] = Route(items=[old])
        feeds = ", ".join(f'{{ url = "{server.url(path)}", interval = "10s" }}' for path in paths)
        sources = tmp_path / "sources.toml"
        sources.write_text(f"[sections.internasional]\nfeeds = [{feeds}]\n", encoding="utf-8")
        newsbot = Newsbot(tmp_path)
        env = {
            **newsbot.env,
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_ALLOW_PRIVATE_SOURCES": "true",
        }
        output, errors = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        with output.open("w", encoding="utf-8") as out, errors.open("w", encoding="utf-8") as err:
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                text=True,
                cwd=tmp_path,
                env=env,
            )
        try:
            assert bot.stdin is not None
            bot.stdin.write("/subscribe internasional\n")
            bot.stdin.flush()
            _until(lambda: all(server.requests_to(path) for path in paths))
            added_at = time.monotonic()
            polls = len(server.requests)
            for path in paths:  # the same story, as outlets syndicating it would carry it
                server.routes[path].items.append(
                    Item(title=NEW_STORY, link="https://kabar.example/asean", published=now)
                )
            _until(lambda: len(server.requests) > polls)
            polled_again_in = time.monotonic() - added_at
            # Delivered to the console a moment after it is stored.
            _until(lambda: NEW_STORY in output.read_text(encoding="utf-8"))
        finally:
            # Closes its input: the end of input ends the console chat.
            bot.communicate(timeout=30)
    stdout = output.read_text(encoding="utf-8")
    stderr = errors.read_text(encoding="utf-8")

    assert bot.returncode == 0, stderr
    assert polled_again_in <= POLL_INTERVAL.total_seconds() + 1
    assert f"{sources}: {len(paths)} added" in stderr
    assert stdout.count(NEW_STORY) == 1, stdout  # once, whichever feeds carried it
    # The first polls stored the old story without pushing it.
    assert "Kabar lama dari Jenewa" not in stdout
    assert "Traceback" not in stderr
