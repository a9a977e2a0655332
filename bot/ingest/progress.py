"""How `ingest_all` tells a person how far it got: a tqdm bar on a terminal, lines otherwise."""

from __future__ import annotations

from typing import Never, Protocol, TextIO

from tqdm import tqdm

from bot.ingest.report import InputReport


class ProgressSink(Protocol):
    """Receives progress from `bot.ingest.runner.ingest_all`."""

    def start(self, total: int) -> None:
        """Called once, before the first input, with the number of inputs."""

    def done(self, report: InputReport) -> None:
        """Called once per input, in input order, when it has been handled."""

    def close(self) -> None:
        """Called once at the end, also when ingesting stopped with an exception."""


class PlainProgress:
    """Writes each report's line as it completes; for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def start(self, total: int) -> None:
        """Nothing to show before the first result."""

    def done(self, report: InputReport) -> None:
        """Write the report's line."""
        self._stream.write(report.line() + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Flush what was written."""
        self._stream.flush()


class BarProgress:
    """A tqdm bar over the inputs, with each report's line printed above it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: tqdm[Never] | None = None

    def start(self, total: int) -> None:
        """Open the bar."""
        self._bar = tqdm(total=total, file=self._stream, unit="input", desc="ingest")

    def done(self, report: InputReport) -> None:
        """Print the report's line above the bar and advance it."""
        tqdm.write(report.line(), file=self._stream)
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        """Close the bar, leaving its final state on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_for(stream: TextIO) -> ProgressSink:
    """A bar when `stream` is a terminal, plain lines when it is a pipe or a file."""
    return BarProgress(stream) if stream.isatty() else PlainProgress(stream)
