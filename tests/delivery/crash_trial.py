"""Crash trials: real `newsbot run` processes broadcasting to many Telegram chats through a Bot
API server on 127.0.0.1, stopped (SIGKILL, SIGTERM) and started again, then checked against
what the server received and what the outbox recorded.

Used by tests/delivery/test_crash_safety.py (small) and bench/crash_safety.py (large).
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_app
from storage.models import ChatRef, Platform
from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi
from tests.support import Newsbot, draft, settings_on

SECTION = "nasional"
# Two stories of one event, published in this order: every chat must see them in this order.
STORIES = (
    (
        "Banjir rob menggenangi pesisir Semarang, ratusan warga mengungsi",
        "Air laut pasang masuk ke permukiman di Tanjung Emas sejak subuh. Warga membawa "
        "barang berharga ke balai kelurahan yang lebih tinggi.",
    ),
    (
        "Rob mulai surut, warga pesisir Semarang kembali membersihkan rumah",
        "Genangan turun menjelang sore. Petugas kelurahan membagikan air bersih dan "
        "cairan pembersih kepada warga yang pulang.",
    ),
)
SEND_METHODS = ("sendMessage", "sendPhoto")
# Where an outbox row ends: delivered, or given up with a reason.
FINAL_STATUSES = ("sent", "failed", "dropped")
# Pacing far above Telegram's, so that a trial takes seconds: the trial is about what a crash
# does to delivery, not about flood limits.
FAST_PACING = {
    "NEWSBOT_TELEGRAM_SENDS_PER_SECOND": "1000",
    "NEWSBOT_TELEGRAM_PRIVATE_SENDS_PER_SECOND": "1000",
    "NEWSBOT_TELEGRAM_GROUP_SENDS_PER_MINUTE": "60000",
}
# A dead process's claims come back when their lease ends at the latest; short, so that a
# trial is quick whether or not a restart takes them back at once.
LEASE_SECONDS = "3"
# A send abandoned by a stop (its outcome unknown) is tried once more this much later: sooner
# than the default 5 s, so that the next run need not wait for it.
LATE_ANSWER_SECONDS = "0.5"


def telegram_chats(private: int, groups: int) -> list[int]:
    """Chat ids: `private` private chats (positive) and `groups` supergroups (negative)."""
    chats = [10_000 + number for number in range(private)]
    chats += [-1_001_000_000_000 - number for number in range(groups)]
    return chats


async def _prepare(database: Path, chats: Sequence[int]) -> None:
    async with open_app(settings_on(database)) as app:
        now = app.clock()
        for chat_id in chats:
            chat = ChatRef(Platform.TELEGRAM, str(chat_id))
            await app.storage.subscriptions.subscribe(chat, [SECTION], now=now)
        # One publish per story, oldest first, as two ingests a minute apart would.
        for number, (title, body) in enumerate(STORIES):
            published = datetime.now(UTC) - timedelta(minutes=len(STORIES) - number)
            await app.deps.newsroom.publish(
                [
                    draft(
                        title,
                        body=body,
                        section=SECTION,
                        published_at=published,
                        identity=f"uji-crash:{number}",
                    )
                ]
            )


def prepare(database: Path, chats: Sequence[int]) -> None:
    """Subscribe every chat to the section, then publish the stories one after another (fanned
    out, not yet delivered), through the repository and the newsroom as ingest would."""
    asyncio.run(_prepare(database, chats))


def subscribe_all(database: Path, chats: Sequence[int], section: str = SECTION) -> None:
    """Subscribe every Telegram chat of `chats` to `section`."""

    async def subscribe() -> None:
        async with open_app(settings_on(database)) as app:
            for chat_id in chats:
                chat = ChatRef(Platform.TELEGRAM, str(chat_id))
                await app.storage.subscriptions.subscribe(chat, [section], now=app.clock())

    asyncio.run(subscribe())


def publish_stories(database: Path, stories: Sequence[tuple[str, bool]]) -> list[int]:
    """Publish (title, breaking) stories of the section one after another, a minute apart and
    the last a minute ago, as ingests and the desk would, from this process; their ids."""

    async def publish() -> list[int]:
        ids = []
        async with open_app(settings_on(database)) as app:
            for number, (title, breaking) in enumerate(stories):
                published = datetime.now(UTC) - timedelta(minutes=len(stories) - number)
                story = draft(title, section=SECTION, published_at=published, breaking=breaking)
                [result] = await app.deps.newsroom.publish([story])
                ids.append(result.article_id)
        return ids

    return asyncio.run(publish())


@dataclass(frozen=True)
class OutboxRow:
    """What the outbox says of one delivery."""

    story: int
    chat_id: int
    kind: str
    status: str
    message_id: str | None
    last_error: str | None


def read_outbox(database: Path) -> list[OutboxRow]:
    """Every outbox row of the trial's stories (read while no process writes, or in WAL)."""
    connection = sqlite3.connect(database, timeout=30)
    try:
        rows = connection.execute(
            """SELECT a.identity, o.chat_id, o.kind, o.status, o.message_id, o.last_error
                 FROM outbox o JOIN articles a ON a.id = o.article_id
                WHERE a.identity LIKE 'uji-crash:%'
                ORDER BY o.id"""
        ).fetchall()
    finally:
        connection.close()
    return [
        OutboxRow(int(identity.split(":")[1]), int(chat_id), kind, status, message_id, error)
        for identity, chat_id, kind, status, message_id, error in rows
    ]


def possible_duplicates(database: Path) -> set[tuple[int, int]]:
    """The (chat id, story) of every push row marked a possible duplicate."""
    with sqlite3.connect(database, timeout=30) as connection:
        rows = connection.execute(
            """SELECT a.identity, o.chat_id FROM outbox o JOIN articles a ON a.id = o.article_id
                WHERE a.identity LIKE 'uji-crash:%' AND o.kind = 'send'
                  AND o.possible_duplicate = 1"""
        ).fetchall()
    return {(int(chat_id), int(identity.split(":")[1])) for identity, chat_id in rows}


@dataclass(frozen=True)
class Copy:
    """One message of a story that Telegram took, in the order it took them."""

    story: int
    chat_id: int
    message_id: int


def story_of(shown: str) -> int:
    """Which of the trial's stories a message shows."""
    [number] = [number for number, (title, _) in enumerate(STORIES) if title in shown]
    return number


def copies(api: FakeBotApi, start: int = 0, *, chats: Collection[int] | None = None) -> list[Copy]:
    """The stories Telegram took, from `api.calls[start:]` (a send gets its message id a
    moment after it is recorded: one still without counts at the next look); only those to
    `chats` when given (a bot admin's notices are no copies)."""
    return [
        Copy(
            story_of(call.params["_shown"]),
            int(call.params["chat_id"]),
            call.params["_message_id"],
        )
        for call in api.calls[start:]  # a copy; calls are only ever appended
        if call.method in SEND_METHODS
        and "_message_id" in call.params
        and (chats is None or int(call.params["chat_id"]) in chats)
    ]


@dataclass
class Tally:
    """What a trial ended with, from the server's messages and the outbox."""

    expected: int  # chats times stories
    received: int  # messages Telegram took
    lost: int  # (chat, story) pairs with no message at all
    duplicates: int  # messages beyond the first of a (chat, story)
    unmarked_duplicates: int  # (chat, story) pairs received twice whose row says nothing of it
    order_violations: int  # chats that saw a later story before an earlier one
    statuses: dict[str, int]  # outbox rows by status
    unsettled: int  # rows not sent, nor failed or dropped with a reason
    wrong_ids: int  # sent rows whose message id is no message of that story in that chat

    def line(self) -> str:
        return (
            f"{self.expected} expected, {self.received} received; lost {self.lost}, "
            f"duplicates {self.duplicates} ({self.unmarked_duplicates} not marked possible "
            f"duplicates), order violations {self.order_violations}; "
            f"outbox {dict(sorted(self.statuses.items()))}, unsettled {self.unsettled}, "
            f"wrong message ids {self.wrong_ids}"
        )


def tally(api: FakeBotApi, database: Path, chats: Sequence[int]) -> Tally:
    """Count lost, duplicate and out-of-order messages, and how the outbox ended."""
    received = copies(api, chats=set(chats))
    per_pair = Counter((copy.chat_id, copy.story) for copy in received)
    wanted = {(chat, story) for chat in chats for story in range(len(STORIES))}
    sequences: dict[int, list[int]] = defaultdict(list)
    for copy in received:
        sequences[copy.chat_id].append(copy.story)
    message_ids = {(copy.chat_id, copy.story, str(copy.message_id)) for copy in received}
    rows = read_outbox(database)
    return Tally(
        expected=len(wanted),
        received=len(received),
        lost=len(wanted - set(per_pair)),
        duplicates=sum(count - 1 for count in per_pair.values()),
        unmarked_duplicates=len(
            {pair for pair, count in per_pair.items() if count > 1} - possible_duplicates(database)
        ),
        order_violations=sum(1 for seq in sequences.values() if seq != sorted(seq)),
        statuses=dict(Counter(row.status for row in rows)),
        unsettled=sum(
            1
            for row in rows
            if row.status not in FINAL_STATUSES or (row.status != "sent" and not row.last_error)
        ),
        wrong_ids=sum(
            1
            for row in rows
            if row.status == "sent" and (row.chat_id, row.story, row.message_id) not in message_ids
        ),
    )


def settled(database: Path, chats: Sequence[int]) -> bool:
    """Every push of the trial is in the outbox and sent, or failed or dropped: delivery has
    nothing left to do (whether it did it right is for `tally`)."""
    rows = read_outbox(database)
    pushes = sum(1 for row in rows if row.kind == "send")
    return pushes == len(chats) * len(STORIES) and all(
        row.status in FINAL_STATUSES for row in rows
    )


class BotProcesses:
    """`newsbot run` processes on one database and one Bot API server, one at a time."""

    def __init__(self, directory: Path, server: BotApiServer) -> None:
        self.newsbot = Newsbot(directory)
        self.database = Path(self.newsbot.env["NEWSBOT_DATABASE"])
        self.log = directory / "newsbot-run.log"
        self.env = {
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            "NEWSBOT_DELIVERY_LEASE_SECONDS": LEASE_SECONDS,
            "NEWSBOT_DELIVERY_LATE_ANSWER_SECONDS": LATE_ANSWER_SECONDS,
            **FAST_PACING,
        }
        self.started: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        process = self.newsbot.start("run", env=self.env, output=self.log)
        self.started.append(process)
        return process

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def wait(
        self,
        condition: Callable[[], bool],
        process: subprocess.Popen[str],
        within: float,
        every: float = 0.02,
    ) -> None:
        """Wait for `condition`, looking `every` seconds; fail with the bot's output if it
        never comes or the bot exits."""
        deadline = time.monotonic() + within
        while not condition():
            if process.poll() is not None:
                raise AssertionError(
                    f"newsbot run exited with {process.returncode}; its output:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"not there after {within} s; output:\n{self.output()}")
            time.sleep(every)

    def terminate(self, process: subprocess.Popen[str], within: float = 30.0) -> float:
        """SIGTERM; the seconds until the process exited (it is killed after `within`)."""
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return time.monotonic() - sent

    def close(self) -> None:
        """Kill whatever still runs (a failed test)."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


def quiet(server: BotApiServer, within: float = 30.0) -> None:
    """After a kill: wait until requests already on their way have arrived and been handled,
    and every answer held back has been written (`BotApiServer.idle`)."""
    deadline = time.monotonic() + within
    while not server.idle():
        if time.monotonic() > deadline:
            raise AssertionError(f"the Bot API server was still busy {within} s after the kill")
        time.sleep(0.01)


@dataclass(frozen=True)
class Kill:
    """One SIGKILL of a delivering process."""

    sends_before: int  # messages Telegram had taken (all runs) when the kill landed
    unsent: int  # outbox rows the kill left not recorded as sent: the broadcast's rest
    # Messages of the killed run that Telegram took but the outbox did not record as sent:
    # the sends in flight at the kill that reached Telegram, each of which may go again.
    in_flight: int


@dataclass
class TrialResult:
    """What a crash trial measured."""

    kills: list[Kill]
    tally: Tally
    seconds: float
    most_awaiting_answer: int  # the most sends Telegram held unanswered at once
    tracebacks: int  # "Traceback" in the processes' output
    exit_code: int  # of the last run, stopped with SIGTERM
    stop_seconds: float  # SIGTERM to exit of the last run

    @property
    def duplicates_bound(self) -> int:
        """At most one extra copy per send in flight at a kill."""
        return sum(kill.in_flight for kill in self.kills)


@dataclass
class _SendCounter:
    """Counts the sends made to Telegram, reading only calls recorded since the last look."""

    api: FakeBotApi
    seen: int = 0
    sends: int = 0

    def __call__(self) -> int:
        calls = self.api.calls[self.seen :]  # a copy; calls are only ever appended
        self.seen += len(calls)
        self.sends += sum(1 for call in calls if call.method in SEND_METHODS)
        return self.sends


def kill_moments(total: int, kills: int, rng: random.Random) -> list[int]:
    """After how many messages taken each kill lands: one at a random point of each of
    `kills` equal stretches of the broadcast's first `kills/(kills+1)`, so that every kill
    finds sends still to do."""
    stretch = total / (kills + 1)
    return [int((number + rng.random()) * stretch) for number in range(kills)]


def crash_trial(
    directory: Path,
    *,
    private: int,
    groups: int,
    kills: int,
    seed: int,
    latency: float = 0.05,
    within: float = 600.0,
    on_kill: Callable[[Kill], None] | None = None,
) -> TrialResult:
    """Broadcast the stories to the chats with `kills` SIGKILLs of `newsbot run` at random
    moments (seeded), each followed by a restart; then run to the end and stop with SIGTERM.

    `latency` is how long Telegram takes to answer each send, so that sends are in flight
    when a kill lands; `within` bounds the whole trial (it fails after that); `on_kill` hears
    of each kill as it is done.
    """
    chats = telegram_chats(private, groups)
    rng = random.Random(seed)
    api = FakeBotApi(send_latency=latency)
    with BotApiServer(api) as server:
        bots = BotProcesses(directory, server)
        prepare(bots.database, chats)
        sends = _SendCounter(api)
        total = len(chats) * len(STORIES)
        kill_log: list[Kill] = []
        deadline = time.monotonic() + within
        started = time.monotonic()
        try:
            for target in kill_moments(total, kills, rng):
                first_call = len(api.calls)
                at_start = sends()
                bot = bots.start()
                # Kill while this run is delivering: past the moment, and after its first send.
                bots.wait(
                    lambda target=target, at_start=at_start: sends() > max(target, at_start),
                    bot,
                    within=deadline - time.monotonic(),
                )
                # Somewhere within a send's round trip, not always right after a message.
                time.sleep(rng.uniform(0, 2 * latency))
                sends_before = sends()
                bot.kill()
                bot.wait()
                quiet(server)
                pushes = [row for row in read_outbox(bots.database) if row.kind == "send"]
                recorded = {(row.chat_id, row.story) for row in pushes if row.status == "sent"}
                taken = {(copy.chat_id, copy.story) for copy in copies(api, first_call)}
                kill_log.append(
                    Kill(sends_before, len(pushes) - len(recorded), len(taken - recorded))
                )
                if on_kill is not None:
                    on_kill(kill_log[-1])
            bot = bots.start()
            bots.wait(
                lambda: settled(bots.database, chats),
                bot,
                within=deadline - time.monotonic(),
                every=0.25,  # each look reads every message and row
            )
            seconds = time.monotonic() - started
            stop_seconds = bots.terminate(bot)
        finally:
            bots.close()
        return TrialResult(
            kills=kill_log,
            tally=tally(api, bots.database, chats),
            seconds=seconds,
            most_awaiting_answer=api.most_awaiting_answer,
            tracebacks=bots.output().count("Traceback"),
            exit_code=bot.returncode,
            stop_seconds=stop_seconds,
        )
