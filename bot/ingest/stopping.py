"""Stopping an ingest cleanly on SIGINT (Ctrl-C) or SIGTERM.

The signal cancels the task running the ingest: `bot.ingest.runner.ingest_all` then stores the
batch it was storing whole, reports the input it was handling and ends its parsing processes,
so that the command can say what was stored before the stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class IngestStoppedError(Exception):
    """The ingest was stopped by `signal` before it had handled every input."""

    def __init__(self, stopped_by: signal.Signals) -> None:
        super().__init__(f"stopped by {stopped_by.name}")
        self.signal = stopped_by

    @property
    def exit_code(self) -> int:
        """What a shell reports for a program ended by the signal: 130 for SIGINT, 143 for
        SIGTERM."""
        return 128 + self.signal


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """While in the block, the first SIGINT or SIGTERM cancels the current task, and the
    block raises `IngestStoppedError` once the cancellation has gone through it. Later signals
    are ignored: the stop is under way, and takes no longer than storing one batch.

    Raises:
        IngestStoppedError: a signal stopped the work of the block.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("stopped_by_signals must be used inside a task")
    caught: list[signal.Signals] = []

    def stop(signal_number: signal.Signals) -> None:
        if not caught:
            caught.append(signal_number)
            task.cancel()

    # asyncio.run's own SIGINT handler (a Ctrl-C after the block cancels the run, quietly):
    # removing ours would leave Python's default in its place, a traceback from wherever.
    previous = {number: signal.getsignal(number) for number in _STOP_SIGNALS}
    handled = []
    for signal_number in _STOP_SIGNALS:
        try:
            loop.add_signal_handler(signal_number, stop, signal_number)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            continue
        handled.append(signal_number)
    try:
        yield
    except asyncio.CancelledError:
        # Only a cancellation of ours becomes the error; anyone else's goes on.
        if caught and task.uncancel() == 0:
            raise IngestStoppedError(caught[0]) from None
        raise
    finally:
        for signal_number in handled:
            loop.remove_signal_handler(signal_number)
            if (handler := previous[signal_number]) is not None:
                signal.signal(signal_number, handler)
