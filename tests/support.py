"""Fakes and builders shared by the tests: a fake platform, a settable clock, article drafts."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.chat import ChatKind, Command, Reply, UserRef, parse_command_text
from bot.cli import main
from bot.delivery.errors import TransientError
from bot.platform.budget import SendBudget
from bot.settings import Settings
from storage.models import ArticleDraft, ChatRef, Platform

START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def settings_on(database: Path) -> Settings:
    """Settings on `database` alone, ignoring the developer's .env and environment: for a
    test's own process preparing the database that its `newsbot` processes then work on."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(database),
    )


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    """Return once `condition()` holds, looking every 10 ms; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never came true in {within} s"
        await asyncio.sleep(0.01)


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
    source: str | None = None,
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
        source=source,
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
    # On the app's clock, so that a test moving the clock moves the platform's holds too.
    budget: SendBudget = field(init=False)
    sent: list[SentMessage] = field(default_factory=list)
    edited: list[SentMessage] = field(default_factory=list)
    deleted: list[tuple[ChatRef, str]] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    # Chat id -> seconds its sends take to be answered (real seconds).
    answer_delays: dict[str, float] = field(default_factory=dict)
    # While True, a probe of the platform fails (it is down); how many probes were made.
    down: bool = False
    probes: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def __post_init__(self) -> None:
        self.budget = SendBudget(
            sends_per_second=None,
            interval=lambda _chat: 0.0,
            clock=lambda: self.app.clock().timestamp(),
        )

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

    async def final_text(self, text: str, **options: object) -> str:
        """The plain text the asker ends up with: the answer to `text`, or, when that only
        says the answer is on its way (/post fetching a page), the answer once it came."""
        reply = await self.say(text, **options)  # type: ignore[arg-type]  # test convenience
        if reply.follow_up is None or not reply.follow_up.placeholder:
            return reply.plain_text()
        message = FakeLiveMessage()
        reply.follow_up.shown(message)
        return await message.until_final()

    async def post_breaking(self, text: str, *, user: str = "1", chat: str = "100") -> Reply:
        """`/breaking ...` by `user`, then its Send button pressed: the answer to the press."""
        preview = await self.say(f"/breaking {text}", user=user, chat=chat)
        return await self.say(f"/confirm {draft_code(preview)}", user=user, chat=chat)

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()

    async def send(self, chat: ChatRef, reply: Reply, *, key: str | None = None) -> str:
        queued = self.failures.get(chat.chat_id)
        if queued:
            error = queued.pop(0)
            raise error
        if chat.chat_id in self.answer_delays:
            await asyncio.sleep(self.answer_delays[chat.chat_id])
        message_id = str(next(self._ids))
        self.sent.append(SentMessage(chat, reply, message_id))
        return message_id

    async def direct_chat(self, user_id: str) -> ChatRef:
        return ChatRef(self.platform, user_id)

    async def probe(self) -> None:
        self.probes += 1
        if self.down:
            raise TransientError("the platform does not answer")

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        queued = self.failures.get(chat.chat_id)
        if queued:
            raise queued.pop(0)
        self.edited.append(SentMessage(chat, reply, message_id))

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        queued = self.failures.get(chat.chat_id)
        if queued:
            raise queued.pop(0)
        self.deleted.append((chat, message_id))

    def sent_to(self, chat_id: str) -> list[SentMessage]:
        """The messages sent to one chat."""
        return [message for message in self.sent if message.chat.chat_id == chat_id]


def draft_code(preview: Reply) -> str:
    """The code of the draft a /breaking answer shows, from its Send button."""
    [send] = [button for button in preview.buttons if button.command.startswith("/confirm ")]
    return send.command.removeprefix("/confirm ")


# `[Kirim: /confirm 7f3a9c]` (or `[Send: ...]`) as a console prints a draft's Send button.
_CONSOLE_SEND_BUTTON = re.compile(r"\[(?:Kirim|Send): /confirm ([0-9a-f]+)\]")


def console_draft_code(printed: str) -> str:
    """The code of the draft a console printed."""
    match = _CONSOLE_SEND_BUTTON.search(printed)
    assert match is not None, f"no Send button in {printed!r}"
    return match.group(1)


@dataclass
class FakeLiveMessage:
    """An answer shown on a fake platform that records the desk's updates of it.

    `failures` are raised by the next updates, in order, as a platform would.
    """

    min_interval: float = 0.0
    updates: list[tuple[str, bool]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def update(self, reply: Reply, *, final: bool) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.updates.append((reply.plain_text(), final))
        self._changed.set()

    @property
    def final(self) -> str | None:
        """The text of the last update, once it came."""
        return self.updates[-1][0] if self.updates and self.updates[-1][1] else None

    async def until(self, text: str, *, within: float = 10.0) -> str:
        """Wait for an update that contains `text` (the desk works in the background)."""
        async with asyncio.timeout(within):
            while True:
                for shown, _final in self.updates:
                    if text in shown:
                        return shown
                self._changed.clear()
                await self._changed.wait()

    async def until_final(self, *, within: float = 10.0) -> str:
        """Wait for the last update; its text."""
        async with asyncio.timeout(within):
            while self.final is None:
                self._changed.clear()
                await self._changed.wait()
        return self.final


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


# For a process that a test waits on to deliver what another process queued: it looks for it
# every 0.1 s instead of every second.
QUICK_DELIVERY_POLL = {"NEWSBOT_DELIVERY_POLL_SECONDS": "0.1"}


def run_in_this_process(
    argv: list[str], *, stdin: str, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`newsbot ARGV` run by `bot.cli.main` in this process, as a process would run it: `env` as
    the whole environment, `cwd` as the working directory, `stdin` as piped standard input,
    standard output and error captured; its exit code, output and error.

    It runs on a thread of its own, so that a test already inside an event loop can call it,
    and everything it swaps (environment, directory, streams, the root logger's handlers) is put
    back after. Signals are a process's business: tests of them use a real process.
    """
    codes: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            codes.append(main(argv))
        except SystemExit as exit_:  # argparse's usage errors, --help, --version
            codes.append(exit_.code if isinstance(exit_.code, int) else 1)
        except BaseException as error:
            errors.append(error)  # raised again in the test's own thread

    out, err = io.StringIO(), io.StringIO()
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level)
    saved_levels = {
        name: logging.getLogger(name).level for name in logging.root.manager.loggerDict
    }
    threads_before = set(threading.enumerate())
    with _IN_PROCESS:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            thread = threading.Thread(target=run, name=f"newsbot {' '.join(argv)[:40]}")
            thread.start()
            thread.join(timeout)
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            root.handlers[:], root.level = saved_logging
            for name in logging.root.manager.loggerDict:
                # Levels the run set (quiet HTTP clients), on loggers made before it or by it.
                logging.getLogger(name).setLevel(saved_levels.get(name, logging.NOTSET))
    command = ["newsbot", *argv]
    if thread.is_alive():
        raise subprocess.TimeoutExpired(command, timeout, out.getvalue(), err.getvalue())
    # A process ends only once its other non-daemon threads have: one left running (a database
    # connection never closed, say) is a command that never exits.
    for leftover in set(threading.enumerate()) - threads_before:
        if not leftover.daemon:
            leftover.join(timeout)
            if leftover.is_alive():
                raise subprocess.TimeoutExpired(command, timeout, out.getvalue(), err.getvalue())
    if errors:
        raise errors[0]
    return subprocess.CompletedProcess(command, codes[0], out.getvalue(), err.getvalue())


# One in-process run at a time: they share the process's environment and streams.
_IN_PROCESS = threading.Lock()


class Newsbot:
    """Runs `newsbot` in a scratch directory with its own database and no .env.

    A call runs the command line in this process by default, on a thread of its own, with the
    process's environment, working directory and standard streams swapped for the call's: what a
    test of a verb's answers, output and exit code needs, without the half second of a new
    interpreter loading newsbot (the suite starts hundreds). `process=True` runs `python -m bot`
    as a real process, for what only a process shows: signals, a closed pipe, a terminal, file
    permissions (`as_unprivileged`), start-up itself.
    """

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
        process: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """`newsbot ARGUMENTS`: in this process, or (`process`, `as_unprivileged`) as
        `python -m bot ARGUMENTS`; `as_unprivileged`: file permissions hold even for root."""
        if not (process or as_unprivileged):
            return run_in_this_process(
                list(arguments),
                stdin=stdin,
                env={**self.env, **(env or {})},
                cwd=self.directory,
                timeout=timeout,
            )
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

    def chat(
        self, lines: str, *options: str, env: dict[str, str] | None = None, process: bool = False
    ) -> str:
        """What a piped `newsbot chat OPTIONS` printed for `lines`; it must succeed."""
        result = self("chat", *options, stdin=lines, env=env, process=process)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def post_breaking(self, text: str, *options: str) -> tuple[str, str]:
        """`/breaking TEXT` in an admin's console chat, then `/confirm CODE` in another run, as
        an admin who reads the preview first would: what each run printed."""
        preview = self.chat(f"/breaking {text}\n", "--admin", *options)
        sent = self.chat(f"/confirm {console_draft_code(preview)}\n", "--admin", *options)
        return preview, sent

    def start(
        self,
        *arguments: str,
        env: dict[str, str] | None = None,
        output: Path | None = None,
        stdin: bool = False,
    ) -> subprocess.Popen[str]:
        """`python -m bot ARGUMENTS` in the background; its output is piped, or appended to
        the file `output` (for a long run, whose output could fill a pipe nobody reads); its
        input is a pipe the test writes to (`stdin`), else empty."""
        with contextlib.ExitStack() as files:
            log = files.enter_context(output.open("a", encoding="utf-8")) if output else None
            return subprocess.Popen(
                [sys.executable, "-m", "bot", *arguments],
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=log or subprocess.PIPE,
                stderr=subprocess.STDOUT if log else subprocess.PIPE,
                text=True,
                cwd=self.directory,
                env={**self.env, **(env or {})},
            )


# Another process that takes SQLite's write lock over and over, as briefly as it can, and prints
# the longest it had to wait for it so far: how long the process under test kept others out.
# Run as `python -c WRITE_LOCK_PROBE DATABASE`.
WRITE_LOCK_PROBE = textwrap.dedent(
    """
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=600)
    longest = 0.0
    while True:
        started = time.monotonic()
        connection.execute("BEGIN IMMEDIATE")
        longest = max(longest, time.monotonic() - started)
        connection.execute("COMMIT")
        print(f"{longest:.3f}", flush=True)
        time.sleep(0.02)
    """
)
