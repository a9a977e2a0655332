"""How long another process waits for SQLite's write lock while a large ingest fans out.

Usage: .venv/bin/python bench/ingest_lock.py [--stories 2000] [--chats 2000]

A database with CHATS subscribed chats, a JSON Lines file of STORIES fresh stories in their
section, and the real `newsbot ingest` storing them (every story queued for every chat: STORIES
x CHATS outbox rows). Meanwhile another process takes the write lock over and over, as briefly
as it can, and reports the longest it had to wait: the longest the ingest kept others out.
The make-test version (tests/delivery/test_database_contention.py) runs 150 stories.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The probe lives with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import WRITE_LOCK_PROBE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2_000)
    parser.add_argument("--chats", type=int, default=2_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        database = work / "newsbot.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env |= {"NEWSBOT_DATABASE": str(database), "NEWSBOT_LOG_LEVEL": "WARNING"}
        newsbot = [sys.executable, "-m", "bot"]
        subprocess.run([*newsbot, "sample-news"], env=env, check=True, capture_output=True)
        with sqlite3.connect(database) as connection:
            connection.executemany(
                "INSERT INTO subscriptions (platform, chat_id, section, created_at) "
                "VALUES ('telegram', ?, 'nasional', '2026-11-01T00:00:00+00:00')",
                [(str(90_000 + n),) for n in range(arguments.chats)],
            )
        now = datetime.now(UTC)
        stories = work / "kabar.jsonl"
        stories.write_text(
            "".join(
                json.dumps(
                    {
                        "id": f"kabar-{n}",
                        "title": f"Kabar daerah nomor {n}",
                        "body": f"Isi kabar daerah nomor {n}.",
                        "section": "nasional",
                        "published_at": (now - timedelta(minutes=20, seconds=n)).isoformat(),
                    }
                )
                + "\n"
                for n in range(arguments.stories)
            ),
            encoding="utf-8",
        )
        probe = subprocess.Popen(
            [sys.executable, "-c", WRITE_LOCK_PROBE, str(database)],
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        result = subprocess.run(
            [*newsbot, "ingest", str(stories)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        probe.kill()
        output, _ = probe.communicate()
        longest = float(output.split()[-1]) if output.split() else float("nan")
        with sqlite3.connect(database) as connection:
            [(queued,)] = connection.execute("SELECT COUNT(*) FROM outbox").fetchall()
        size = database.stat().st_size / 1e6
        print(result.stdout.strip().splitlines()[-1])
        print(
            f"{arguments.stories} stories x {arguments.chats} chats: {queued} pushes queued in "
            f"{elapsed:.1f} s ({queued / elapsed:,.0f}/s), database {size:,.0f} MB; "
            f"another process waited at most {longest:.2f} s for the write lock"
        )


if __name__ == "__main__":
    main()
