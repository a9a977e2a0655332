"""The console platform: one named chat over standard input and output.

A console chat is a real platform chat: its subscriptions live in the database under
`console:<name>`, pushes for it wait in the outbox until a `newsbot chat --chat <name>` runs, and
then appear in that process's output.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass
from typing import TextIO

from bot.chat import ArticleCard, ChatKind, Command, Reply, Text, UserRef, parse_command_text
from bot.delivery.errors import TransientError
from bot.platform import CommandSink
from storage.models import ChatRef, Platform


@dataclass(frozen=True)
class ConsoleIdentity:
    """Who is typing, and where: the chat's name, the user's, and the user's role."""

    chat_id: str = "local"
    user_id: str = "local"
    chat_kind: ChatKind = ChatKind.PRIVATE
    can_manage_chat: bool = True


def render(reply: Reply) -> str:
    """A reply as console text: parts in order, cards as numbered blocks, buttons as hints."""
    blocks = []
    for part in reply.parts:
        if isinstance(part, Text):
            blocks.append(part.content)
        else:
            blocks.append(_render_card(part))
    if reply.buttons:
        blocks.append("  ".join(f"[{button.label}: {button.command}]" for button in reply.buttons))
    return "\n\n".join(block for block in blocks if block)


def _render_card(card: ArticleCard) -> str:
    badge = f"[{card.badge}] " if card.badge else ""
    lines = [
        f"#{card.article_id} {badge}{card.title}",
        f"   {card.section_name} · {card.time_label}",
    ]
    if card.summary:
        lines.append(f"   {card.summary}")
    if card.url:
        lines.append(f"   {card.url}")
    return "\n".join(lines)


class ConsoleAdapter:
    """Reads commands from a text stream, writes replies and pushes to another."""

    platform = Platform.CONSOLE
    sends_per_second: float | None = None

    def __init__(
        self,
        *,
        sink: CommandSink,
        identity: ConsoleIdentity,
        input_stream: TextIO,
        output_stream: TextIO,
    ) -> None:
        self._sink = sink
        self._identity = identity
        self._input = input_stream
        self._output = output_stream
        self._message_ids = itertools.count(1)
        self.chat = ChatRef(Platform.CONSOLE, identity.chat_id)

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

    async def handle_line(self, line: str) -> None:
        """Answer one typed line."""
        if not line.strip():
            return
        command = self.command_for(line)
        if command is None:
            reply = await self._sink.not_a_command(self.chat)
        else:
            reply = await self._sink.dispatch(command)
        self._write(render(reply))

    async def run(self, stop: asyncio.Event) -> None:
        """Answer lines, in order, until end of input or `stop`."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            # A daemon thread, not the default executor: a read blocked on a terminal must not
            # keep the process alive after Ctrl-C.
            try:
                for line in iter(self._input.readline, ""):
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, "")
            except RuntimeError:  # the loop closed while we were reading
                return

        threading.Thread(target=pump, name="console-input", daemon=True).start()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(lines.get())
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    return
                line = reading.result()
                if not line:
                    return
                await self.handle_line(line)
        finally:
            stopping.cancel()

    async def send(self, chat: ChatRef, reply: Reply) -> str:
        """Print a push for this console chat."""
        if chat != self.chat:
            # The worker of a console chat claims only that chat's rows; keep any other row.
            raise TransientError(f"{chat} is not the console chat of this process")
        message_id = f"console-{self.chat.chat_id}-{next(self._message_ids)}"
        self._write(render(reply))
        return message_id

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Print the corrected message, marked as a correction of `message_id`."""
        self._write(f"({message_id})\n{render(reply)}")

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Print that a message was withdrawn."""
        self._write(f"({message_id} withdrawn)")

    def send_interval(self, chat: ChatRef) -> float:
        """No limit between console messages."""
        return 0.0

    def _write(self, text: str) -> None:
        self._output.write(text + "\n\n")
        self._output.flush()
