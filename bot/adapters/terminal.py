"""The console chat on a terminal: a prompt_toolkit prompt with line editing and history.

Kept apart from `bot.adapters.console` so that only a chat on a terminal loads prompt_toolkit:
piped chats, scripts and the other verbs start without it. Pushes are printed above the line
being typed, and history is kept in a file beside the database.
"""

from __future__ import annotations

import collections
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO, cast

from prompt_toolkit import PromptSession, search
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.completion import WordCompleter
from prompt_toolkit.filters import is_searching
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from bot.adapters.console import ConsoleAdapter, ConsoleFiles, ConsoleIdentity, banner
from bot.logging_config import logging_redirected
from bot.platform import CommandSink
from bot.settings import Settings


class TerminalPrompt:
    """Lines typed at a prompt: line editing, history with Ctrl-R search, Tab completion.

    Ctrl-D on an empty line ends the input. Ctrl-C drops the line being typed, as in a shell;
    on an empty line it ends the input too, so neither key leaves a traceback.
    """

    def __init__(self, *, prompt: str, history: History, commands: Sequence[str]) -> None:
        bindings = KeyBindings()

        @bindings.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            if event.current_buffer.text:
                event.app.exit(exception=KeyboardInterrupt, style="class:aborting")
            else:
                event.app.exit(exception=EOFError, style="class:exiting")

        @bindings.add("enter", filter=is_searching)
        def _run_found_line(event: KeyPressEvent) -> None:
            # As in a shell: Enter on a line found with Ctrl-R runs it, not just leaves it there.
            search.accept_search()
            event.app.current_buffer.validate_and_handle()

        self._session: PromptSession[str] = PromptSession(
            message=prompt,
            history=history,
            key_bindings=bindings,
            # Completes the command name at the start of the line; Tab asks, typing does not.
            completer=WordCompleter(list(commands), sentence=True),
            complete_while_typing=False,
        )
        self._entered: collections.deque[str] = collections.deque()

    async def read_line(self) -> str | None:
        """The next line entered, or None when the user ends the chat.

        Several lines pasted at once come back one by one, as if typed one after another.
        """
        while not self._entered:
            try:
                # SIGINT is left to the app (a clean stop); at the prompt Ctrl-C is a key.
                entered = await self._session.prompt_async(handle_sigint=False)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None
            self._entered.extend(entered.splitlines() or [""])
        return self._entered.popleft()


def _history_at(path: Path) -> tuple[History, OSError | None]:
    """Input history kept in `path`; in memory only (and why) when the file cannot be written."""
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        return InMemoryHistory(), error
    return FileHistory(str(path)), None


class TerminalConsoleAdapter(ConsoleAdapter):
    """A console chat whose output shares the terminal with a prompt."""

    async def write(self, text: str) -> None:
        """Print a block of text and a blank line, above the prompt while one is shown."""
        # Without a prompt on screen (while a command is answered) this writes at once; with
        # one, the prompt and the line being typed are redrawn below the text.
        await run_in_terminal(lambda: self.write_now(text))


@contextlib.asynccontextmanager
async def terminal_console(
    *,
    sink: CommandSink,
    identity: ConsoleIdentity,
    settings: Settings,
    commands: Sequence[str],
    terminal: TextIO,
) -> AsyncIterator[TerminalConsoleAdapter]:
    """A console chat on the process's terminal, its banner shown, ready to `run`.

    The chat's own messages are written to `terminal`, in order with the prompt. Inside the
    block `sys.stdout` and `sys.stderr` print above the prompt (patch_stdout), so that nothing
    else written while the user types (a warning, a stray print) breaks the line being edited;
    and log records go to a file beside the database, or above the prompt at DEBUG level.
    """
    files = ConsoleFiles.beside(settings.database)
    # prompt_toolkit's default session (the process's stdin and stdout): patch_stdout's
    # writer thread finds the running prompt only there, not in one from create_app_session.
    with patch_stdout(raw=True), contextlib.ExitStack() as logging_stack:
        above_prompt = cast(TextIO, sys.stdout)  # patch_stdout's stream
        log_file: Path | None = files.log
        log_problem: OSError | None = None
        if settings.log_level == "DEBUG":
            # Debugging: the records are wanted on screen.
            log_file = None
            logging_stack.enter_context(logging_redirected(settings, above_prompt))
        else:
            try:
                logging_stack.enter_context(logging_redirected(settings, files.log))
            except OSError as error:
                log_problem = error
                logging_stack.enter_context(logging_redirected(settings, above_prompt))
        history, history_problem = _history_at(files.history)
        adapter = TerminalConsoleAdapter(
            sink=sink,
            identity=identity,
            lines=TerminalPrompt(
                prompt=f"{identity.chat_id}> ", history=history, commands=commands
            ),
            output_stream=terminal,
        )
        await adapter.write(
            banner(
                await adapter.language(),
                identity,
                database=files.database,
                log_file=log_file,
                log_problem=log_problem,
                history_file=files.history,
                history_problem=history_problem,
            )
        )
        yield adapter
