"""How `ingest_all` tells a person how far it got: a report line per input on the output
(stdout: the command's result, which `> report.txt` keeps), and a tqdm bar on the diagnostics
stream (stderr) when that is a terminal."""

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
    """A tqdm bar over the inputs on `bar_stream`, each report's line written to `stream`
    (above the bar when both are the same terminal)."""

    def __init__(self, stream: TextIO, bar_stream: TextIO | None = None) -> None:
        self._stream = stream
        self._bar_stream = bar_stream or stream
        self._bar: tqdm[Never] | None = None

    def start(self, total: int) -> None:
        """Open the bar."""
        self._bar = tqdm(total=total, file=self._bar_stream, unit="input", desc="ingest")

    def done(self, report: InputReport) -> None:
        """Write the report's line (clearing the bar while it does) and advance the bar."""
        tqdm.write(report.line(), file=self._stream)
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        """Close the bar, leaving its final state on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class KeepingProgress:
    """Passes everything on to another sink and keeps the reports: what an ingest that was
    stopped had done, for the line that ends it."""

    def __init__(self, inner: ProgressSink) -> None:
        self.inner = inner
        self.reports: list[InputReport] = []

    def start(self, total: int) -> None:
        """Pass it on."""
        self.inner.start(total)

    def done(self, report: InputReport) -> None:
        """Keep the report and pass it on."""
        self.reports.append(report)
        self.inner.done(report)

    def close(self) -> None:
        """Pass it on."""
        self.inner.close()


def progress_for(stream: TextIO, bar_stream: TextIO | None = None) -> ProgressSink:
    """Report lines on `stream`, with a bar on `bar_stream` (default: `stream`) when that is a
    terminal; plain lines only when it is a pipe or a file."""
    bar_stream = bar_stream or stream
    if bar_stream.isatty():
        return BarProgress(stream, bar_stream)
    return PlainProgress(stream)
