"""The console platform: one named chat over standard input and output.

A console chat is a real platform chat: its subscriptions live in the database under
`console:<name>`, pushes for it wait in the outbox until a `newsbot chat --chat <name>` runs, and
then appear in that process's output.

Piped, lines are read as they come and answered in order. On a terminal the chat is a prompt
(`bot.adapters.terminal`): line editing, history, pushes printed above the line being typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from bot.chat import (
    ArticleCard,
    ChatKind,
    Command,
    Part,
    Reply,
    StoryList,
    Text,
    UserRef,
    actor_of,
    parse_command_text,
)
from bot.delivery.errors import OutputClosed, TransientError
from bot.i18n import LANGUAGES, translate
from bot.platform import CommandSink
from bot.platform.budget import SendBudget
from bot.render import shorten
from storage.models import ChatRef, Platform


@dataclass(frozen=True)
class ConsoleIdentity:
    """Who is typing, and where: the chat's name, the user's, and the user's role."""

    chat_id: str = "local"
    user_id: str = "local"
    chat_kind: ChatKind = ChatKind.PRIVATE
    can_manage_chat: bool = True

    @property
    def actor(self) -> str:
        """The user as NEWSBOT_ADMINS writes them: `console:<user>`."""
        return actor_of(Platform.CONSOLE, self.user_id)


@dataclass(frozen=True)
class ConsoleFiles:
    """The database of a terminal chat, and the log and input history kept beside it."""

    database: Path
    log: Path
    history: Path

    @classmethod
    def beside(cls, database: str) -> ConsoleFiles:
        """`newsbot.db` gives `newsbot.log` and `newsbot.history` in the same directory."""
        path = Path(database).resolve()
        return cls(database=path, log=_sibling(path, ".log"), history=_sibling(path, ".history"))


def _sibling(path: Path, suffix: str) -> Path:
    candidate = path.with_suffix(suffix)
    # A database named `news.log` must not get its own name back as the log file.
    return candidate if candidate != path else path.with_name(path.name + suffix)


def render(reply: Reply, language: str = LANGUAGES[0]) -> str:
    """A reply as console text: parts in order, cards as numbered blocks, buttons as hints.

    Every card says how to read its story (`[Baca: /read 7]`, as a push's button does), unless
    a button already says it or the story itself follows the card (the answer to /read), or
    it is a preview of a story not stored yet, which has no number. A list of stories (a
    digest's section) is its heading, then a line per story, each with how to read it.
    """
    button_commands = {button.command for button in reply.buttons}
    read_label = translate(language, "button.read")
    blocks = []
    for index, part in enumerate(reply.parts):
        if isinstance(part, Text):
            blocks.append(part.content)
            continue
        if isinstance(part, StoryList):
            blocks.append(_render_story_list(part, read_label=read_label))
            continue
        read_command = f"/read {part.article_id}"
        opened = isinstance(_next_part(reply, index), Text)
        hidden = opened or part.preview or read_command in button_commands
        hint = None if hidden else read_command
        blocks.append(_render_card(part, read_hint=hint, read_label=read_label))
    if reply.buttons:
        blocks.append("  ".join(f"[{button.label}: {button.command}]" for button in reply.buttons))
    return "\n\n".join(block for block in blocks if block)


def _next_part(reply: Reply, index: int) -> Part | None:
    return reply.parts[index + 1] if index + 1 < len(reply.parts) else None


def _render_story_list(story_list: StoryList, *, read_label: str) -> str:
    lines = [story_list.heading]
    lines += [
        f"  • {story.time_label} {story.title} [{read_label}: /read {story.article_id}]"
        for story in story_list.stories
    ]
    if story_list.footer:
        lines.append(f"  {story_list.footer}")
    return "\n".join(lines)


def _render_card(card: ArticleCard, *, read_hint: str | None, read_label: str) -> str:
    badge = f"[{card.badge}] " if card.badge else ""
    number = "" if card.preview else f"#{card.article_id} "
    lines = [
        f"{number}{badge}{card.title}",
        f"   {card.section_name} · {card.time_label}",
    ]
    if card.summary:
        lines.append(f"   {card.summary}")
    if card.url:
        lines.append(f"   {card.url}")
    if read_hint:
        lines.append(f"   [{read_label}: {read_hint}]")
    return "\n".join(lines)


def banner(
    language: str,
    identity: ConsoleIdentity,
    *,
    database: Path,
    log_file: Path | None,
    log_problem: OSError | None,
    history_file: Path,
    history_problem: OSError | None,
) -> str:
    """What a terminal chat says first: which chat, where things are kept, how to leave.

    `log_file` is None when log records are shown in the chat (NEWSBOT_LOG_LEVEL=DEBUG).
    """
    kind = translate(language, f"console.kind.{identity.chat_kind.value}")
    if log_file is None:
        log = translate(language, "console.banner.log_here")
    elif log_problem is not None:
        log = translate(
            language, "console.banner.log_failed", path=log_file, reason=_reason(log_problem)
        )
    else:
        log = translate(language, "console.banner.log_file", path=log_file)
    if history_problem is not None:
        history = translate(
            language,
            "console.banner.history_failed",
            path=history_file,
            reason=_reason(history_problem),
        )
    else:
        history = translate(language, "console.banner.history_file", path=history_file)
    chat = translate(
        language, "console.banner.chat", chat=identity.chat_id, kind=kind, user=identity.user_id
    )
    database_line = translate(language, "console.banner.database", path=database)
    return "\n".join(
        (chat, database_line, log, history, translate(language, "console.banner.keys"))
    )


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


class LineSource(Protocol):
    """Where a console chat's lines come from."""

    async def read_line(self) -> str | None:
        """The next line; None once the input has ended."""


class StreamLines:
    """The lines of a text stream (a pipe, a file), read on a thread of their own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: asyncio.Queue[str | None] | None = None
        self._ended = False

    async def read_line(self) -> str | None:
        """The next line, or None at end of input."""
        if self._ended:
            return None
        if self._lines is None:
            self._lines = asyncio.Queue()
            self._start_reading(asyncio.get_running_loop(), self._lines)
        line = await self._lines.get()
        self._ended = line is None
        return line

    def _start_reading(
        self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
    ) -> None:
        def pump() -> None:
            try:
                for line in iter(self._stream.readline, ""):
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, None)
            except RuntimeError:  # the loop closed while we were reading
                return

        # A daemon thread, not the default executor: a read blocked on a terminal must not
        # keep the process alive after Ctrl-C.
        threading.Thread(target=pump, name="console-input", daemon=True).start()


class ConsoleAdapter:
    """Reads commands from a line source, writes replies and pushes to a text stream."""

    platform = Platform.CONSOLE

    def __init__(
        self,
        *,
        sink: CommandSink,
        identity: ConsoleIdentity,
        lines: LineSource,
        output_stream: TextIO,
    ) -> None:
        self._sink = sink
        self._identity = identity
        self._lines = lines
        self._output = output_stream
        self._message_ids = itertools.count(1)
        self.chat = ChatRef(Platform.CONSOLE, identity.chat_id)
        # A terminal has no rate limit; the budget only orders what the scheduler sends.
        self.budget = SendBudget(sends_per_second=None, interval=lambda _chat: 0.0)

    def command_for(self, line: str) -> Command | None:
        """The command a typed line stands for; None for a line that is not a command."""
        parsed = parse_command_text(line)
        if parsed is None:
            return None
        name, _bot, args = parsed
        return Command(
            name=name,
            args=args,
            chat=self.chat,
            user=UserRef(self._identity.user_id, self._identity.user_id),
            chat_kind=self._identity.chat_kind,
            can_manage_chat=self._identity.can_manage_chat,
        )

    async def language(self) -> str:
        """This chat's UI language."""
        return await self._sink.language(self.chat)

    async def handle_line(self, line: str) -> None:
        """Answer one typed line."""
        if not line.strip():
            return
        command = self.command_for(line)
        if command is None:
            reply = await self._sink.not_a_command(self.chat)
        else:
            reply = await self._sink.dispatch(command)
        await self._show(reply)

    async def run(self, stop: asyncio.Event) -> None:
        """Answer lines, in order, until end of input or `stop`."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(self._lines.read_line())
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    # Let a prompt put the terminal back the way it found it.
                    with contextlib.suppress(asyncio.CancelledError):
                        await reading
                    return
                line = reading.result()
                if line is None:
                    return
                await self.handle_line(line)
        finally:
            stopping.cancel()

    async def send(self, chat: ChatRef, reply: Reply, *, key: str | None = None) -> str:
        """Print a push for this console chat; its id names the story it shows, if one."""
        if chat != self.chat:
            # The worker of a console chat claims only that chat's rows; keep any other row.
            raise TransientError(f"{chat} is not the console chat of this process")
        story = _story_shown(reply)
        if story is not None:
            message_id = f"#{story.article_id} {story.title}"
        else:
            message_id = f"console-{self.chat.chat_id}-{next(self._message_ids)}"
        await self._deliver(render(reply, await self.language()))
        return message_id

    async def direct_chat(self, user_id: str) -> ChatRef:
        """This console chat: the one user at this terminal."""
        return self.chat

    async def probe(self) -> None:
        """A console is always there while it runs."""

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Print the corrected message under a line saying which story it corrects."""
        language = await self.language()
        story = _story_named(message_id) or _story_shown(reply)
        if story is None:
            heading = translate(language, "console.correction_unnamed")
        else:
            heading = translate(language, "console.correction", **_named(story))
        await self._deliver(f"{heading}\n{render(reply, language)}")

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Print that the story of a message was withdrawn."""
        language = await self.language()
        story = _story_named(message_id)
        if story is None:
            await self._deliver(translate(language, "console.withdrawn_unnamed"))
        else:
            await self._deliver(translate(language, "console.withdrawn", **_named(story)))

    async def show_update(self, reply: Reply, *, shown: str) -> None:
        """Print a newer state of an answer already printed as `shown`: what it adds, not the
        lines it begins with that are on screen already (see `_PrintedAtTheEnd`)."""
        update = render(reply, await self.language()).split("\n")
        printed = shown.split("\n")
        repeated = 0
        while repeated < min(len(update), len(printed)) and update[repeated] == printed[repeated]:
            repeated += 1
        if update[repeated:]:
            await self._deliver("\n".join(update[repeated:]))

    async def _deliver(self, text: str) -> None:
        """Write a delivery; output nobody reads any more leaves it in the outbox."""
        try:
            await self.write(text)
        except BrokenPipeError as error:
            # `newsbot chat | head`: the reader left. The story was not seen, so it waits for
            # the next chat, quietly (a delivery error, not a crash to log).
            raise OutputClosed("the console's output was closed") from error

    async def _show(self, reply: Reply) -> None:
        text = render(reply, await self.language())
        await self.write(text)
        if reply.follow_up is None:
            return
        message = _PrintedAtTheEnd(self, text)
        reply.follow_up.shown(message)
        if reply.follow_up.placeholder:
            # The answer itself is still coming: lines are answered in order.
            await message.ended.wait()

    async def write(self, text: str) -> None:
        """Print a block of text and a blank line."""
        self.write_now(text)

    def write_now(self, text: str) -> None:
        """Print a block of text and a blank line, at once."""
        self._output.write(text + "\n\n")
        self._output.flush()


@dataclass(frozen=True)
class _Story:
    """A story as a console reader knows it: its number and the headline they were shown."""

    article_id: int
    title: str


# How much of a headline a correction or a withdrawal quotes.
_TITLE_CHARS = 100
# The id of a console message that showed one story (`#7 Gempa di Palu`): a printed message
# has no other name. It is kept with the delivery, and read back when the story is corrected
# or withdrawn, perhaps by another process, which has printed nothing of it.
_STORY_MESSAGE_ID = re.compile(r"#([0-9]+) (.*)", re.DOTALL)


def _story_shown(reply: Reply) -> _Story | None:
    """The story a message shows, when it shows one (a push), not several (a digest)."""
    cards = [part for part in reply.parts if isinstance(part, ArticleCard) and not part.preview]
    if len(cards) != 1:
        return None
    return _Story(cards[0].article_id, cards[0].title)


def _story_named(message_id: str) -> _Story | None:
    """The story a console message id names; None for a message of several, or of none."""
    match = _STORY_MESSAGE_ID.fullmatch(message_id)
    return _Story(int(match.group(1)), match.group(2)) if match else None


def _named(story: _Story) -> dict[str, object]:
    return {"id": story.article_id, "title": shorten(story.title, _TITLE_CHARS)}


class _PrintedAtTheEnd:
    """An answer the console keeps up to date: it cannot change what it printed, so it prints
    the last update alone (the desk's counters once delivery is done, or the chat ends), and
    of it only what is not on screen already (the heading of the answer is)."""

    min_interval = 0.0

    def __init__(self, adapter: ConsoleAdapter, shown: str) -> None:
        self._adapter = adapter
        self._shown = shown
        # Set once the last update has been printed (or could not be).
        self.ended = asyncio.Event()

    async def update(self, reply: Reply, *, final: bool) -> None:
        """Print `reply` if it is the last update."""
        if not final:
            return
        try:
            await self._adapter.show_update(reply, shown=self._shown)
        finally:
            self.ended.set()
