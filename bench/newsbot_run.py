"""The resident memory of a real `newsbot run` process on a database, once it answered /latest.

The process talks to the tests' Bot API server on 127.0.0.1 (tests/adapters/bot_api_server.py)
with the tests' token: no real Telegram, no network. Memory is read from the kernel
(/proc/PID/status): VmRSS, what it holds now, and VmHWM, the most it ever held.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.adapters.bot_api_server import BotApiServer
from tests.adapters.fake_bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
READER_CHAT = 7_100_001


@dataclass(frozen=True, slots=True)
class RunMemory:
    """What one `newsbot run` held after answering."""

    rss_mb: float
    peak_mb: float
    # From the process's start to the answer of /latest in the fake Telegram.
    answered_after: float


def _status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    raise LookupError(f"{field} not in /proc/{pid}/status")


def run_memory(database: Path, *, query: str = "", within: float = 120.0) -> RunMemory:
    """Start `newsbot run` on `database`, send it `/latest QUERY`, read its memory, stop it."""
    api = FakeBotApi()
    api.add_chat(READER_CHAT, "private")
    with BotApiServer(api) as server:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSBOT_")}
        env |= {
            "NEWSBOT_DATABASE": str(database),
            "NEWSBOT_TELEGRAM_TOKEN": TOKEN,
            "NEWSBOT_TELEGRAM_API_URL": server.base_url,
            "NEWSBOT_LOG_LEVEL": "WARNING",
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api.message_update(READER_CHAT, f"/latest {query}".strip(), user_id=READER_CHAT)
            while not api.sent(READER_CHAT):
                if process.poll() is not None or time.monotonic() - started > within:
                    raise SystemExit(f"newsbot run did not answer /latest:\n{_stop(process)}")
                time.sleep(0.05)
            answered_after = time.monotonic() - started
            memory = RunMemory(
                rss_mb=_status_mb(process.pid, "VmRSS"),
                peak_mb=_status_mb(process.pid, "VmHWM"),
                answered_after=answered_after,
            )
        finally:
            errors = _stop(process)
        if process.returncode != 0:
            raise SystemExit(f"newsbot run exited with {process.returncode}:\n{errors}")
    return memory


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as an operator stops it; its error output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, errors = process.communicate()
    return errors
