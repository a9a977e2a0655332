"""Stopping a large `newsbot ingest`, the kind that parses in other processes: real processes on
a real database file.

Ctrl-C (SIGINT to the whole process group, as a terminal sends it) and SIGTERM stop it cleanly:
no traceback from any process, what was stored is committed and said in one line, exit code
130 or 143. However it ends, kill -9 included, none of its processes stays behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.ingest.stopping import stopped_by_signals

# Marks every process of one run (the ingest, its fork server, workers and resource tracker),
# wherever a process is re-parented once the ingest is gone.
MARK = "INGEST_STOP_TRIAL"
# A big file is over the 1 MiB that `read_source` reads of a file at first: the parsing
# processes start as the first is read. A small file first is parsed and stored here meanwhile.
SMALL, BIG = 40, 4_400
DEADLINE = 30.0


def _feed(path: Path, items: int) -> Path:
    published = format_datetime(datetime.now(UTC) - timedelta(days=2))
    entries = "".join(
        f'<item><guid isPermaLink="false">{path.stem}-{n}</guid>'
        f"<title>Laporan cuaca {path.stem} nomor {n}</title><category>Nasional</category>"
        f"<description>Hujan ringan turun di wilayah {n} sejak pagi.</description>"
        f"<pubDate>{published}</pubDate></item>"
        for n in range(items)
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Cuaca'
        f"</title>{entries}</channel></rss>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    paths = [_feed(tmp_path / f"cuaca{n}.xml", SMALL if n == 0 else BIG) for n in range(4)]
    assert all(path.stat().st_size > 1 << 20 for path in paths[1:])
    return [str(path) for path in paths]


@pytest.fixture
def ingest(tmp_path: Path, inputs: list[str]) -> Iterator[subprocess.Popen[str]]:
    """`python -m bot ingest` of the inputs, in a session of its own (a terminal's Ctrl-C
    reaches its whole process group), its output in files (a process left behind would hold
    a pipe open); killed with its group if a test leaves it running."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSBOT_")}
    env |= {"NEWSBOT_DATABASE": str(tmp_path / "newsbot.db"), MARK: str(tmp_path)}
    with (tmp_path / "stdout").open("w") as stdout, (tmp_path / "stderr").open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "ingest", *inputs],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            text=True,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
        )
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in _processes_of_run(tmp_path):  # only if the test failed: leave nothing behind
        os.kill(pid, signal.SIGKILL)


def _output(tmp_path: Path) -> tuple[str, str]:
    return (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"waited {DEADLINE} s for {what}"
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:  # the process is gone
        pass
    return found


def _has_parsing_workers(pid: int) -> bool:
    """The ingest's fork server has forked a worker: a grandchild of the ingest."""
    return any(_children(child) for child in _children(pid))


def _processes_of_run(tmp_path: Path) -> list[int]:
    """The live processes (zombies are dead) whose environment marks them as this run's."""
    found = []
    mark = f"{MARK}={tmp_path}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def _stored(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
    except sqlite3.Error:  # not created or migrated yet
        return 0


def _none_left(tmp_path: Path) -> None:
    deadline = time.monotonic() + 10
    while left := _processes_of_run(tmp_path):
        assert time.monotonic() < deadline, f"left behind: {_command_lines(left)}"
        time.sleep(0.02)


def _command_lines(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        with contextlib.suppress(OSError):
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return lines


@pytest.mark.parametrize(
    ("stop", "code"),
    [
        (signal.SIGINT, 130),  # sent to every process of the group, as a terminal's Ctrl-C is
        (signal.SIGTERM, 143),  # sent to the ingest alone, as `kill` and service managers do
    ],
)
def test_a_stopped_ingest_says_what_it_stored_and_leaves_no_process(
    ingest: subprocess.Popen[str],
    tmp_path: Path,
    inputs: list[str],
    stop: signal.Signals,
    code: int,
) -> None:
    database = tmp_path / "newsbot.db"
    _until(lambda: _has_parsing_workers(ingest.pid), "the parsing processes")
    _until(lambda: _stored(database) > 0, "the first stories stored")
    if stop is signal.SIGINT:
        os.killpg(ingest.pid, stop)
    else:
        ingest.send_signal(stop)
    ingest.wait(timeout=DEADLINE)
    stdout, stderr = _output(tmp_path)

    assert ingest.returncode == code, stderr
    assert "Traceback" not in stderr
    said = re.fullmatch(
        rf"{re.escape(str(database))}: interrupted by {stop.name}: (\d+) new, 0 duplicate, "
        r"0 updated were stored from ([1-3]) of 4 inputs; the same command again stores the rest",
        stdout.splitlines()[-1],
    )
    assert said is not None, stdout
    assert int(said[1]) == _stored(database) >= SMALL
    assert stdout.splitlines()[-2].startswith(f"{inputs[int(said[2]) - 1]}: FAILED: interrupted")
    _none_left(tmp_path)


def test_a_killed_ingest_leaves_no_process(ingest: subprocess.Popen[str], tmp_path: Path) -> None:
    _until(lambda: _has_parsing_workers(ingest.pid), "the parsing processes")
    assert len(_processes_of_run(tmp_path)) >= 4  # the ingest, fork server, tracker, worker
    ingest.kill()
    assert ingest.wait(timeout=DEADLINE) == -signal.SIGKILL
    _none_left(tmp_path)


def test_the_handlers_of_before_the_stoppable_block_are_back_after_it() -> None:
    # asyncio.run's own SIGINT handler stops a run quietly; a Ctrl-C while the database closes,
    # after the ingest, once met Python's default instead: a traceback and exit code 1.
    async def handlers_around_the_block() -> tuple[object, object]:
        before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
        with stopped_by_signals():
            await asyncio.sleep(0)
        return before, (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))

    before, after = asyncio.run(handlers_around_the_block())
    assert after == before
