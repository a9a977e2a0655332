"""Crash safety of delivery, proven on real `newsbot run` processes: a broadcast to many
Telegram chats through a Bot API server on 127.0.0.1, the process killed (SIGKILL) or stopped
(SIGTERM) mid-broadcast and started again. Nothing is lost; a kill repeats at most the sends it
caught in flight; SIGTERM repeats nothing and exits within 2 s, even while a send hangs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import FakeBotApi
from tests.delivery.crash_trial import (
    STORIES,
    BotProcesses,
    copies,
    crash_trial,
    possible_duplicates,
    prepare,
    read_outbox,
    settled,
    tally,
    telegram_chats,
)

# SIGTERM ends the process within 2 s whatever it is sending (issue 8, point 4): the engine gives
# sends on the wire 1 s (STOP_GRACE_SECONDS), then abandons them, instead of waiting out a hung
# send's 60 s timeout. On a quiet machine it takes 0.2-1.3 s (bench/crash_safety.py); beside
# the rest of the suite on two cores, Python's own exit can take seconds more. The bound here
# keeps that room and still fails a stop that waits for the hung send.
STOP_SECONDS = 5.0


def test_a_broadcast_killed_five_times_loses_nothing_and_keeps_each_chats_order(
    tmp_path: Path,
) -> None:
    """Five kills, each at a random moment of its own stretch of the broadcast, each followed
    by a restart that takes back what the killed run left.

    300 chats (270 private, 30 groups), two stories each; every answer takes 50 ms. Each
    stretch between kills is about 100 sends, more than the 64 a run keeps in flight, so every
    kill lands mid-broadcast with sends on the wire (the assertions below check that each kill
    left messages unsent, and that the kills caught sends in flight). Most of
    the time is the restarts of `newsbot run`, not the chats: five kills make the same checks
    as ten did, in half the time; bench/crash_safety.py runs 20,000 chats and 20 kills.
    """
    result = crash_trial(tmp_path, private=270, groups=30, kills=5, seed=20261201, within=300)

    figures = (
        f"{result.tally.line()}; duplicates bound {result.duplicates_bound} "
        f"(sends in flight per kill: {[kill.in_flight for kill in result.kills]}); "
        f"{result.seconds:.1f} s"
    )
    assert len(result.kills) == 5
    # Every kill landed while the broadcast still had messages to send.
    assert all(kill.unsent > 0 for kill in result.kills), figures
    assert result.tally.lost == 0, figures
    # At most one extra copy per send that Telegram took but the killed process had not
    # recorded; the kills did catch sends in flight, so the bound is not vacuous.
    assert result.duplicates_bound > 0, figures
    assert result.tally.duplicates <= result.duplicates_bound, figures
    # Every chat that got a story twice has its row marked a possible duplicate (what /status
    # counts): the restart took the killed run's claims back as such.
    assert result.tally.unmarked_duplicates == 0, figures
    assert result.tally.order_violations == 0, figures
    assert result.tally.unsettled == 0, figures
    assert result.tally.wrong_ids == 0, figures
    assert result.exit_code == 0
    assert result.tracebacks == 0


def test_sigterm_mid_broadcast_loses_and_repeats_nothing(tmp_path: Path) -> None:
    # 150 chats, 300 messages: stopped a quarter of the way, with up to 64 sends on the wire
    # and most of the broadcast still to send, as with 300 chats before, in half the sending.
    chats = telegram_chats(private=135, groups=15)
    api = FakeBotApi(send_latency=0.05)
    with BotApiServer(api) as server:
        bots = BotProcesses(tmp_path, server)
        prepare(bots.database, chats)
        try:
            bot = bots.start()
            bots.wait(lambda: len(copies(api)) >= len(chats) // 2, bot, within=60, every=0.05)
            stop_seconds = bots.terminate(bot)
            taken = Counter((copy.chat_id, copy.story) for copy in copies(api))
            after_stop = read_outbox(bots.database)

            bot = bots.start()
            # Each look reads every message and row: not too often, to leave the machine to
            # the bot.
            bots.wait(lambda: settled(bots.database, chats), bot, within=60, every=0.1)
            bots.terminate(bot)
        finally:
            bots.close()
    final = tally(api, bots.database, chats)

    assert stop_seconds <= STOP_SECONDS
    assert bots.started[0].returncode == 0, bots.output()
    # Sends under way finished and were recorded; the rest was handed back, due at once.
    assert {row.status for row in after_stop} <= {"sent", "pending"}
    recorded = {(row.chat_id, row.story) for row in after_stop if row.status == "sent"}
    assert set(taken) == recorded
    assert max(taken.values()) == 1
    assert 0 < len(recorded) < len(chats) * len(STORIES)  # it stopped mid-broadcast
    # The next run sent the rest: each chat got each story once, in order.
    assert final.lost == 0, final.line()
    assert final.duplicates == 0, final.line()
    assert final.order_violations == 0, final.line()
    assert final.unsettled == 0, final.line()
    assert final.wrong_ids == 0, final.line()
    assert bots.started[1].returncode == 0, bots.output()
    assert "Traceback" not in bots.output()


def test_sigterm_while_a_send_hangs_exits_without_waiting_for_it(tmp_path: Path) -> None:
    chats = telegram_chats(private=18, groups=2)
    hung = chats[0]
    api = FakeBotApi(send_latency=0.02)
    api.hung_chats.add(hung)  # Telegram takes the message there but never answers
    with BotApiServer(api) as server:
        bots = BotProcesses(tmp_path, server)
        prepare(bots.database, chats)
        try:
            bot = bots.start()
            bots.wait(lambda: api.awaiting_answer(hung) == 1, bot, within=60)
            stop_seconds = bots.terminate(bot)

            api.hung_chats.clear()
            bot = bots.start()
            # Each look reads every message and row: not too often, to leave the machine to
            # the bot.
            bots.wait(lambda: settled(bots.database, chats), bot, within=60, every=0.1)
            bots.terminate(bot)
        finally:
            bots.close()
    final = tally(api, bots.database, chats)
    per_chat = Counter(copy.chat_id for copy in copies(api))

    assert stop_seconds <= STOP_SECONDS
    assert bots.started[0].returncode == 0, bots.output()
    # The hung send's outcome was unknown: it may have gone once more, never more than that;
    # nothing was lost. Other chats' sends are answered within the stop's 1 s grace on a quiet
    # machine (each story once); on a loaded one a send still unrecorded then is abandoned and
    # goes once more, as the hung one: at most twice, and marked a possible duplicate.
    assert final.lost == 0, final.line()
    assert per_chat[hung] <= len(STORIES) + 1
    per_story = Counter((copy.chat_id, copy.story) for copy in copies(api))
    assert max(per_story.values()) <= 2, per_story
    twice = {pair for pair, count in per_story.items() if count == 2}
    assert twice <= possible_duplicates(bots.database), (twice, per_chat)
    assert final.order_violations == 0, final.line()
    assert final.unsettled == 0, final.line()
    assert final.wrong_ids == 0, final.line()
    assert "Traceback" not in bots.output()
