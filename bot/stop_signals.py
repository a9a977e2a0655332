"""SIGINT (Ctrl-C) and SIGTERM as a request to stop cleanly, for every long-running command.

One place installs the handlers and puts back what was there before: asyncio.run's own SIGINT
handler, which turns a later Ctrl-C into a quiet cancellation of the run. Removing ours without
restoring it would leave Python's default in its place, and a traceback from wherever the
program happened to be.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StopRequest:
    """The signal that asked the process to stop, once one has."""

    received: signal.Signals | None = None


@contextlib.contextmanager
def stop_signals_handled(on_stop: Callable[[], object]) -> Iterator[StopRequest]:
    """While in the block, the first SIGINT or SIGTERM is recorded and calls `on_stop`
    (instead of killing the process mid-send); later ones are ignored, the stop being under way.
    """
    loop = asyncio.get_running_loop()
    request = StopRequest()

    def stop(signal_number: signal.Signals) -> None:
        if request.received is None:
            request.received = signal_number
            on_stop()

    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    handled = []
    for signal_number in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signal_number, stop, signal_number)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            continue
        handled.append(signal_number)
    try:
        yield request
    finally:
        for signal_number in handled:
            loop.remove_signal_handler(signal_number)
            if (handler := previous[signal_number]) is not None:
                signal.signal(signal_number, handler)
