"""Fakes and builders shared by the tests: a fake platform, a settable clock, article drafts."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.chat import ChatKind, Command, Reply, UserRef, parse_command_text
from storage.models import ArticleDraft, ChatRef, Platform

START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


_draft_numbers = itertools.count(1)


def draft(
    title: str = "Berita contoh",
    *,
    body: str = "Isi berita contoh.",
    section: str = "nasional",
    published_at: datetime = START,
    identity: str | None = None,
    breaking: bool = False,
    url: str | None = None,
    image_url: str | None = None,
    summary: str = "",
) -> ArticleDraft:
    """An article draft with sensible defaults and a fresh identity."""
    return ArticleDraft(
        identity=identity or f"test:{next(_draft_numbers)}",
        title=title,
        body=body,
        section=section,
        published_at=published_at,
        url=url,
        breaking=breaking,
        image_url=image_url,
        summary=summary,
    )


@dataclass
class SentMessage:
    """One message the fake platform was asked to send."""

    chat: ChatRef
    reply: Reply
    message_id: str


@dataclass
class FakePlatform:
    """A platform adapter over no network: records sends, and fails them as a test scripts.

    `failures` maps a chat id to the errors its next sends (and edits) raise, in order.
    """

    app: App
    platform: Platform = Platform.TELEGRAM
    sends_per_second: float | None = None
    sent: list[SentMessage] = field(default_factory=list)
    edited: list[SentMessage] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def say(
        self,
        text: str,
        *,
        chat: str = "100",
        user: str = "7",
        kind: ChatKind = ChatKind.PRIVATE,
        manager: bool = True,
    ) -> Reply:
        """What the bot answers `text` typed by `user` in `chat`."""
        parsed = parse_command_text(text)
        assert parsed is not None, f"not a command: {text!r}"
        name, _bot, args = parsed
        return await self.app.dispatcher.dispatch(
            Command(
                name=name,
                args=args,
                chat=ChatRef(self.platform, chat),
                user=UserRef(user),
                chat_kind=kind,
                can_manage_chat=manager,
            )
        )

    async def say_text(self, text: str, **options: object) -> str:
        """The plain text of the answer to `text`."""
        reply = await self.say(text, **options)  # type: ignore[arg-type]  # test convenience
        return reply.plain_text()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()

    async def send(self, chat: ChatRef, reply: Reply) -> str:
        queued = self.failures.get(chat.chat_id)
        if queued:
            error = queued.pop(0)
            raise error
        message_id = str(next(self._ids))
        self.sent.append(SentMessage(chat, reply, message_id))
        return message_id

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        queued = self.failures.get(chat.chat_id)
        if queued:
            raise queued.pop(0)
        self.edited.append(SentMessage(chat, reply, message_id))

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        raise NotImplementedError

    def send_interval(self, chat: ChatRef) -> float:
        return 0.0

    def sent_to(self, chat_id: str) -> list[SentMessage]:
        """The messages sent to one chat."""
        return [message for message in self.sent if message.chat.chat_id == chat_id]


# Run as `python -c _WITHOUT_ROOT_POWERS COMMAND...`: empties the capability bounding set
# (prctl PR_CAPBSET_DROP = 24), then execs COMMAND, which as root then has no capabilities
# and meets file permissions like anyone else (CAP_DAC_OVERRIDE gone). A fresh one-thread
# process does it, not a preexec_fn in the test process, which may have threads.
_WITHOUT_ROOT_POWERS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as last:
    capabilities = range(int(last.read()) + 1)
for capability in capabilities:
    if libc.prctl(24, capability, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
os.execv(sys.argv[1], sys.argv[1:])
"""


def unprivileged(command: list[str]) -> list[str]:
    """`command`, run so that file permissions hold for it.

    Tests of read-only files need it because this machine and CI run as root, which ignores
    permissions. Not `user=nobody`: the interpreter lives under root's 0700 home here. For any
    other user, `command` itself.
    """
    if os.geteuid() != 0:
        return command
    return [sys.executable, "-c", _WITHOUT_ROOT_POWERS, *command]


def assert_cannot_write(path: Path) -> None:
    """Prove that a process run `unprivileged` really cannot write `path`."""
    probe = subprocess.run(
        unprivileged([sys.executable, "-c", f"open({str(path)!r}, 'a')"]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert probe.returncode != 0, f"{path} is writable for an unprivileged process"
    assert "PermissionError" in probe.stderr, probe.stderr


class Newsbot:
    """Runs `python -m bot` in a scratch directory with its own database and no .env."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("NEWSBOT_")
        }
        self.env["NEWSBOT_DATABASE"] = str(directory / "newsbot.db")

    def __call__(
        self,
        *arguments: str,
        stdin: str = "",
        env: dict[str, str] | None = None,
        timeout: float = 60,
        as_unprivileged: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """`python -m bot ARGUMENTS`; `as_unprivileged`: file permissions hold even for root."""
        command = [sys.executable, "-m", "bot", *arguments]
        return subprocess.run(
            unprivileged(command) if as_unprivileged else command,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.directory,
            env={**self.env, **(env or {})},
            timeout=timeout,
            check=False,
        )

    def chat(self, lines: str, *options: str) -> str:
        result = self("chat", *options, stdin=lines)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, *arguments: str, env: dict[str, str] | None = None) -> BackgroundNewsbot:
        """`python -m bot ARGUMENTS` in the background; its output is discarded, its stderr
        collected."""
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.directory,
            env={**self.env, **(env or {})},
        )
        return BackgroundNewsbot(process)


class BackgroundNewsbot:
    """A newsbot process running beside the test, its stderr read as it comes.

    Read on a thread, not at the end: a pipe nobody reads holds 64 KiB, and a process logging
    at DEBUG level fills it within seconds and then stops at its next log line.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="newsbot-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.append(line)

    def finish(self, timeout: float) -> str:
        """Wait for the process to end; everything it wrote to stderr."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout)
        return "".join(self._lines)
