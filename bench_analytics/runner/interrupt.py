"""Ctrl-C during a run: stop at once, return nothing, whatever SIGINT's inherited disposition.

``asyncio.run`` only turns SIGINT into a cancellation when the current handler is Python's
``signal.default_int_handler``. A process started by a non-interactive shell with ``&``
(``make test &``, CI scripts, test harnesses) inherits SIGINT as *ignored*; Python then
keeps it ignored, asyncio installs nothing, and a ``kill -INT`` is silently dropped: the
run goes on to the end and writes its file. A run is a long, paid, blocking operation and
its documented contract is "Ctrl-C writes nothing", so while a run is guarded SIGINT
always stops it, whatever handler or disposition was there before (restored afterwards):

* the first SIGINT cancels the running cases (pending calls are dropped, the client is
  closed) and the run raises :class:`RunInterrupted`, also when the signal arrived before
  the first request or after the last answer: an interrupted run never returns a result;
* a second SIGINT raises :class:`RunInterrupted` at once, without waiting for clean-up.

Signals can only be handled in the main thread: elsewhere the guard does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

MESSAGE = "interrupted: nothing was written"

_active: SigintGuard | None = None


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted by SIGINT (Ctrl-C); it returns nothing, so nothing is written.

    A ``KeyboardInterrupt``, so ``except Exception`` never swallows it and callers that
    already catch ``KeyboardInterrupt`` need nothing more.
    """

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class SigintGuard:
    """Turns SIGINT into a request to stop the run it guards (see :func:`stop_on_sigint`)."""

    def __init__(self) -> None:
        self.signals = 0
        self.active = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None

    @property
    def requested(self) -> bool:
        """Whether a SIGINT arrived while the guard was installed."""
        return self.signals > 0

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler: cancel the run on the first signal, raise on the second."""
        if self._closed:  # a stale handler (restoring it was itself interrupted)
            raise KeyboardInterrupt
        self.signals += 1
        if self.signals > 1:
            raise RunInterrupted
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not task.done():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._cancel, task)

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        # in the loop, later: not once the task left the guarded part (it is cleaning up)
        if self._task is task:
            task.cancel()

    def attach(self, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` on the next SIGINT (the caller checks ``requested`` right after,
        for one that arrived before)."""
        self._loop = task.get_loop()
        self._task = task

    def detach(self) -> None:
        """Stop cancelling the task (it finished)."""
        self._task = None
        self._loop = None

    def check(self) -> None:
        """Raise :class:`RunInterrupted` if a SIGINT arrived."""
        if self.requested:
            raise RunInterrupted


@contextlib.contextmanager
def stop_on_sigint() -> Iterator[SigintGuard]:
    """Guard a run: SIGINT inside stops it and the block raises :class:`RunInterrupted`.

    Nested guards share the outermost one, so a caller can guard its own preparation
    (reading cases, building the provider) and the run together. The previous handler is
    restored on the way out.
    """
    global _active
    outer = _active
    if threading.current_thread() is not threading.main_thread():
        yield SigintGuard()  # signals only reach the main thread: nothing to guard here
        return
    if outer is not None:
        yield outer
        outer.check()
        return
    guard = SigintGuard()
    try:
        previous: Any = signal.signal(signal.SIGINT, guard.handle)
        guard.active = True
    except ValueError:  # an interpreter without signal support (embedded, sub-interpreter)
        previous = None
    _active = guard
    try:
        yield guard
    finally:
        _active = None
        guard._closed = True
        if guard.active:
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
    guard.check()
