"""Worker processes that parse inputs while the ingest stores others, and never outlive it.

However the ingest ends, its workers end with it:

- It stops parsing (`ParsingProcesses.close`: it is done, failed, or was stopped by Ctrl-C or
  SIGTERM): the workers are killed, whatever they are parsing; nothing waits for them. They are
  this module's own rather than a ProcessPoolExecutor's, whose manager thread could wait forever
  (and the ingest's exit with it) for the rest of a result a killed worker was sending.
- It dies (kill -9, a crash): each worker watches a pipe whose write end only the ingest holds,
  which the kernel closes when the ingest dies, and exits. prctl's PR_SET_PDEATHSIG would not do:
  a worker's parent is multiprocessing's fork server, not the ingest, and the fork server waits
  for its workers (they hold its own pipe open), so all of them stayed, for good.
- A Ctrl-C, which a terminal sends to every process of its group, is for the ingest to handle:
  the fork server, the resource tracker and the workers never see it
  (`_sigint_kept_from_children`), where it was a traceback from each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ParsingProcessLostError(Exception):
    """A worker died before it answered (out of memory, killed): the work is not done."""


class ParsingProcesses:
    """Up to `processes` workers, each started when work finds none idle, from a clean fork
    server (not forked from this process, whose other threads may hold locks) that has the
    modules `preload` imported."""

    def __init__(self, processes: int, *, preload: list[str]) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(preload)
        self._free = asyncio.Semaphore(processes)
        self._idle: list[_Worker] = []
        self._workers: list[_Worker] = []
        self._closed = False

    async def run(self, work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """`work(*args, **kwargs)` in a worker, and its result; `work`, its arguments and its
        result must be picklable. An exception it raises is raised here.

        Raises:
            ParsingProcessLostError: the worker died (later work may still succeed), or the
                workers were closed while this waited for one.
        """
        async with self._free:
            if self._closed:
                # Started now, a worker would be one that nothing ends.
                raise ParsingProcessLostError("the parsing processes were closed")
            worker = self._idle.pop() if self._idle else self._start()
            try:
                outcome = await asyncio.to_thread(
                    worker.call, functools.partial(work, *args, **kwargs)
                )
            except (EOFError, OSError) as error:
                raise ParsingProcessLostError(f"a parsing process died: {error}") from error
            except asyncio.CancelledError:
                # It may still be parsing, and would answer this late: it is not used again.
                worker.kill()
                raise
            self._idle.append(worker)
        if isinstance(outcome, _Failure):
            raise outcome.error
        result: _T = outcome
        return result

    def close(self) -> None:
        """Kill the workers, whatever they are parsing: nothing waits for them; no work starts
        a worker after this."""
        self._closed = True
        for worker in self._workers:
            worker.kill()
        for worker in self._idle:
            worker.close()
        self._workers.clear()
        self._idle.clear()

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs, _lifeline()[0]), name="newsbot parser", daemon=True
        )
        with _sigint_kept_from_children():  # the fork server and resource tracker start here
            process.start()
        theirs.close()  # the worker's end is the worker's alone: its death is our end of file
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker


class _Worker:
    """One worker process and this process's end of the pipe to it."""

    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self._process = process
        self._connection = connection

    def call(self, work: Callable[[], Any]) -> Any:
        """Have the worker do `work`; what it returned, or a `_Failure` (blocks). On any
        error the worker is ended and not used again.

        Raises:
            EOFError, OSError: the worker died.
        """
        try:
            self._connection.send(work)
            return self._connection.recv()
        except BaseException:
            self.kill()
            self.close()
            raise

    def kill(self) -> None:
        """End the process at once; a `call` waiting on it meets the end of the pipe (and
        closes it: not here, under the thread reading it)."""
        with contextlib.suppress(OSError, ValueError):
            self._process.kill()

    def close(self) -> None:
        """Close this end of the pipe, once no `call` uses it."""
        self._connection.close()


class _Failure:
    """What a worker sends back for work that raised `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@functools.cache
def _lifeline() -> tuple[Connection, Connection]:
    """A pipe (read end, write end) whose write end this process keeps open, here in the
    cache, until it ends however it ends: a worker given the read end sees its end exactly when
    this process has died. One per process, like the fork server."""
    return multiprocessing.Pipe(duplex=False)


@contextlib.contextmanager
def _sigint_kept_from_children() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile. A process started from here (multiprocessing's
    fork server and resource tracker) inherits the mask through exec, and each worker forked
    by the fork server inherits it again: none of them is ever interrupted, even while it
    starts. This process loses nothing: another of its threads takes the signal, or this one
    as soon as it is unblocked."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(connection: Connection, lifeline: Connection) -> None:
    """A worker: do each piece of work sent, send back its result or its error, until the
    other end closes (or the ingest dies: see `_exit_with`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # blocked already; this drops one pending
    threading.Thread(target=_exit_with, args=(lifeline,), name="lifeline", daemon=True).start()
    while True:
        try:
            work = connection.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = work()
        except Exception as error:  # the ingest reports it, as it would one raised there
            outcome = _Failure(error)
        try:
            connection.send(outcome)
        except (EOFError, OSError):
            return
        except Exception as error:  # the result, or its error, could not be pickled
            connection.send(_Failure(RuntimeError(f"{type(error).__name__}: {error}")))


def _exit_with(lifeline: Connection) -> None:
    """Wait for the end of `lifeline`, the ingest's death, then end this worker at once."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()  # nothing is ever sent: this returns, raising, at the end
    os._exit(0)
