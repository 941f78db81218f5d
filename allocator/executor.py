"""Where independent pieces of work run: in this process, or in worker processes.

The nightly re-optimisation hands its pieces (one provider's week of runs each) to an
:class:`Executor`. Anything with the same ``map_unordered`` method can stand in, so a cluster
engine (Ray, Dask, a job queue) can run the pieces for many councils later without the
optimisation code changing. Work functions and their inputs must be picklable.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` on every item and yields the results as they finish."""

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[R]: ...


class SerialExecutor:
    """One piece after another in this process (tests, small councils, debugging)."""

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[R]:
        for item in items:
            if should_stop is not None and should_stop():
                return
            yield fn(item)


class ProcessExecutor:
    """Pieces in ``workers`` fresh worker processes (spawned, so safe from a threaded server).

    Items are started in the order given (put the largest first). When ``should_stop`` turns
    true, or the caller stops reading, the workers are terminated at once: pieces not finished
    are dropped (the re-optimisation keeps today's runs for them).
    """

    poll_s = 0.2

    def __init__(self, workers: int) -> None:
        if workers < 1:
            msg = f"workers must be at least 1, got {workers}"
            raise ValueError(msg)
        self.workers = workers

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[R]:
        if not items:
            return
        pool = multiprocessing.get_context("spawn").Pool(min(self.workers, len(items)))
        pending = []
        try:
            pending = [pool.apply_async(fn, (item,)) for item in items]
            while pending:
                waiting = []
                for result in pending:
                    if result.ready():
                        yield result.get()
                    else:
                        waiting.append(result)
                pending = waiting
                if not pending or (should_stop is not None and should_stop()):
                    return
                pending[0].wait(self.poll_s)
        finally:
            if pending:  # stopped early: the unfinished pieces are not waited for
                pool.terminate()
            else:  # let the workers exit on their own, releasing what they hold
                pool.close()
            pool.join()


def default_executor(workers: int) -> Executor:
    """Serial for one worker, worker processes otherwise."""
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)
