"""`newsbot run` with a sources file polls on its own: a story added to a served feed reaches a
subscribed console chat within one poll interval."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.feeds.feed_server import FeedServer, Item, Route
from tests.support import Newsbot

NEW_STORY = "Menlu Bertemu Sekjen ASEAN di Jakarta"


def test_newsbot_run_polls_its_sources_and_pushes_a_new_story(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with FeedServer() as server:
        server.routes["/dunia.xml"] = Route(
            items=[
                Item(
                    title="Kabar lama dari Jenewa",
                    link="https://kabar.example/lama",
                    published=now - timedelta(minutes=30),
                )
            ]
        )
        sources = tmp_path / "sources.toml"
        sources.write_text(
            "[sections.internasional]\n"
            f'feeds = [{{ url = "{server.url("/dunia.xml")}", interval = "10s" }}]\n',
            encoding="utf-8",
        )
        newsbot = Newsbot(tmp_path)
        env = {
            **newsbot.env,
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_ALLOW_PRIVATE_SOURCES": "true",
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        try:
            assert bot.stdin is not None
            bot.stdin.write("/subscribe internasional\n")
            bot.stdin.flush()
            deadline = time.monotonic() + 20
            while len(server.requests_to("/dunia.xml")) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.requests_to("/dunia.xml"), "the feed was never polled"
            added_at = time.monotonic()
            server.routes["/dunia.xml"].items.append(
                Item(title=NEW_STORY, link="https://kabar.example/asean", published=now)
            )
            while len(server.requests_to("/dunia.xml")) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            polled_again_in = time.monotonic() - added_at
            time.sleep(2)  # delivered to the console a moment after it is stored
        finally:
            # Closes its input: the end of input ends the console chat.
            stdout, stderr = bot.communicate(timeout=30)

    assert bot.returncode == 0, stderr
    assert polled_again_in <= 11
    assert f"{sources}: 1 added" in stderr
    assert stdout.count(NEW_STORY) == 1, stdout
    # The first poll stored the old story without pushing it.
    assert "Kabar lama dari Jenewa" not in stdout
    assert "Traceback" not in stderr
