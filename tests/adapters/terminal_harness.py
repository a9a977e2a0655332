"""A real `newsbot` process on a pseudo-terminal, and the screen a person would see.

ptyprocess runs the process on a pty; pyte, a terminal emulator, turns what it writes into
screen lines, and answers its cursor-position requests the way a real terminal does. Tests then
type keys and wait for the screen to show something, never for a fixed time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pyte
from ptyprocess import PtyProcess

from tests.support import Newsbot

ROWS, COLUMNS = 60, 120
# Generous: a loaded 2-core machine may take seconds to start Python and open the database.
WAIT_SECONDS = 30.0

CTRL_C = "\x03"
CTRL_D = "\x04"
CTRL_R = "\x12"
ENTER = "\r"
TAB = "\t"
UP = "\x1b[A"


class _AnsweringScreen(pyte.Screen):  # type: ignore[misc]  # pyte ships no type information
    """A screen that answers the program's terminal queries (cursor position) on the pty."""

    def __init__(self, columns: int, lines: int, answer: Callable[[str], None]) -> None:
        super().__init__(columns, lines)
        self._answer = answer

    def write_process_input(self, data: str) -> None:
        self._answer(data)


class Terminal:
    """`python -m bot ARGUMENTS` on a terminal of ROWS x COLUMNS."""

    def __init__(
        self, newsbot: Newsbot, *arguments: str, env: dict[str, str] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self.process = PtyProcess.spawn(
            [sys.executable, "-m", "bot", *arguments],
            cwd=str(newsbot.directory),
            env={**newsbot.env, "TERM": "xterm", **(env or {})},
            dimensions=(ROWS, COLUMNS),
        )
        self._screen = _AnsweringScreen(COLUMNS, ROWS, self._answer)
        self._stream = pyte.ByteStream(self._screen)
        self._raw = bytearray()
        self._ended = threading.Event()
        threading.Thread(target=self._read, name="terminal-reader", daemon=True).start()

    def _answer(self, data: str) -> None:
        self.process.write(data.encode())

    def _read(self) -> None:
        while True:
            try:
                chunk = self.process.read(65536)
            except EOFError:
                break
            with self._lock:
                self._raw.extend(chunk)
                self._stream.feed(chunk)
        self._ended.set()

    def type(self, keys: str) -> None:
        """Type `keys` (text, or the control keys above)."""
        self.process.write(keys.encode())

    @property
    def raw(self) -> str:
        """Everything the process has written to the terminal, escape sequences included."""
        with self._lock:
            return self._raw.decode("utf-8", errors="replace")

    def lines(self) -> list[str]:
        """The screen's lines, without trailing blanks."""
        with self._lock:
            return [line.rstrip() for line in self._screen.display]

    def text(self) -> str:
        """The screen as one text, a line the terminal wrapped joined up again."""
        with self._lock:
            rows = list(self._screen.display)
        text = ""
        for row in rows:
            text += row.rstrip()
            # A row filled to its last column was wrapped by the terminal, not ended.
            if not row.endswith(" "):
                continue
            text += "\n"
        return text

    def cursor_line(self) -> str:
        """The line the cursor is on: where the user is typing."""
        with self._lock:
            return str(self._screen.display[self._screen.cursor.y]).rstrip()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Wait until `condition()` holds; else fail naming `what`, showing the screen."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{self.text()}")
            time.sleep(0.05)

    def wait_for_text(self, text: str) -> None:
        """Wait until `text` is on the screen."""
        self.wait_for(lambda: text in self.text(), repr(text))

    def wait_for_prompt(self, line: str) -> None:
        """Wait until the cursor is on `line` (a prompt, and what has been typed after it)."""
        self.wait_for(lambda: self.cursor_line() == line, f"the cursor line {line!r}")

    def wait_for_exit(self) -> int:
        """The exit code, once the process has ended and its last output is on the screen."""
        self.wait_for(self._ended.is_set, "the process to end")
        self.process.wait()
        return int(self.process.exitstatus)

    def close(self) -> None:
        """End the process if it still runs (a failed test), and release the pty."""
        if self.process.isalive():
            self.process.terminate(force=True)
        self.process.close(force=True)
