"""Crash safety at scale: a broadcast by real `newsbot run` processes, killed and restarted.

Usage: .venv/bin/python bench/crash_safety.py [--chats 20000] [--kills 20] [--seed 1]
                                              [--latency 0.05]

One database with `--chats` subscribed Telegram chats (a tenth of them groups) and two stories
published one after the other, fanned out to every chat. `newsbot run` delivers them to the
tests' Bot API server on 127.0.0.1 (`tests/adapters/bot_api_server.py`), which answers each
send after `--latency` seconds; the process is killed with SIGKILL at `--kills` random moments
spread over the broadcast (seeded), restarted each time, then run to the end and stopped with
SIGTERM. Pacing is set far above Telegram's limits: this measures what crashes do, not speed.

Printed: lost (chat and story pairs never delivered), duplicates against their bound (one per
send in flight at a kill: taken by Telegram, not yet recorded), order violations (chats that saw
the second story before the first), the outbox's final state, and the time taken. Exit code 0
when nothing was lost, duplicates stayed within the bound, order was kept and every outbox row
ended sent, or failed or dropped with a reason; else 1.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

# The trial lives with the tests; run from anywhere, this script finds them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.delivery.crash_trial import STORIES, Kill, crash_trial


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20_000, help="subscribed chats")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs during the broadcast")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the Bot API takes to answer a send"
    )
    parser.add_argument(
        "--within", type=float, default=3600.0, help="give up after this many seconds"
    )
    arguments = parser.parse_args()
    groups = arguments.chats // 10
    private = arguments.chats - groups
    print(
        f"crash trial: {arguments.chats} chats ({private} private, {groups} groups), "
        f"{len(STORIES)} stories, {arguments.kills} kills (seed {arguments.seed}), "
        f"sends answered after {arguments.latency * 1000:.0f} ms",
        flush=True,
    )
    kills = itertools.count(1)

    def report(kill: Kill) -> None:
        print(
            f"kill {next(kills):2d} after {kill.sends_before:6d} messages, "
            f"{kill.unsent:6d} rows still to send: "
            f"{kill.in_flight} sends in flight that Telegram had taken unrecorded",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as scratch:
        result = crash_trial(
            Path(scratch),
            private=private,
            groups=groups,
            kills=arguments.kills,
            seed=arguments.seed,
            latency=arguments.latency,
            within=arguments.within,
            on_kill=report,
        )
    outcome = result.tally
    print(f"messages: {outcome.expected} expected, {outcome.received} received")
    print(f"lost: {outcome.lost}")
    print(
        f"duplicates: {outcome.duplicates}, bound {result.duplicates_bound} (one per send in "
        f"flight at a kill); most sends in flight at once {result.most_awaiting_answer}, "
        f"times {len(result.kills)} kills = {result.most_awaiting_answer * len(result.kills)}; "
        f"received twice but not marked a possible duplicate: {outcome.unmarked_duplicates}"
    )
    print(f"order violations: {outcome.order_violations} chats (bound 0)")
    print(
        f"outbox: {dict(sorted(outcome.statuses.items()))}; unsettled {outcome.unsettled}; "
        f"sent rows with a wrong message id {outcome.wrong_ids}"
    )
    print(
        f"time: {result.seconds:.1f} s to deliver everything; the last run stopped "
        f"{result.stop_seconds:.1f} s after SIGTERM with exit code {result.exit_code}; "
        f"tracebacks in the output: {result.tracebacks}"
    )
    passed = (
        outcome.lost == 0
        and outcome.duplicates <= result.duplicates_bound
        and outcome.unmarked_duplicates == 0
        and outcome.order_violations == 0
        and outcome.unsettled == 0
        and outcome.wrong_ids == 0
    )
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
