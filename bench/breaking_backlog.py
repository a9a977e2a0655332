"""Breaking news confirmed while every chat has a backlog: each chat's next message.

Usage: .venv/bin/python bench/breaking_backlog.py [--private 1900] [--groups 100]

A real `newsbot run` against the tests' Bot API server on 127.0.0.1 (Telegram's per-chat limits,
a global rate far above Telegram's), 20 regular pushes queued for each chat; once the first
hundred are out, a breaking story is confirmed. It checks that every chat got the breaking
story before any push of its remaining backlog (after at most the one already on its way) and
kept its pushes in order, and prints how long the story took to reach every chat. The test of
`make test` runs the same at 600 chats (tests/delivery/test_priority.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# The Bot API server and the trial live with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.delivery.test_priority import breaking_during_backlog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=1_900)
    parser.add_argument("--groups", type=int, default=100)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        try:
            seconds = breaking_during_backlog(
                Path(directory), private=arguments.private, groups=arguments.groups
            )
        except AssertionError as failure:
            print(f"FAIL: {failure}")
            return 1
    chats = arguments.private + arguments.groups
    print(
        f"{chats} chats with 20 pushes waiting each: the breaking story was every chat's next "
        f"message; it reached all {chats} in {seconds:.1f} s ({chats / seconds:.0f} msg/s)"
    )
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
