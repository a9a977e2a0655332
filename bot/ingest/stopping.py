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

from bot.stop_signals import stop_signals_handled


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
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("stopped_by_signals must be used inside a task")
    with stop_signals_handled(task.cancel) as request:
        try:
            yield
        except asyncio.CancelledError:
            # Only a cancellation of ours becomes the error; anyone else's goes on.
            if request.received is not None and task.uncancel() == 0:
                raise IngestStoppedError(request.received) from None
            raise
