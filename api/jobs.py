"""Long jobs, run outside the request that starts them.

A job is a row in ``jobs`` (state, progress, result) and a worker thread of the server process
that started it. The request that starts a job only stores the row and hands it to the
:class:`JobRunner`; the client may disconnect at once and poll ``GET`` later. Stopping is
cooperative: ``DELETE`` sets ``cancel_requested`` and the work asks :meth:`JobContext.should_stop`
between steps, keeping the best result found so far. A server stopped while a job runs leaves
the row ``running``; the next start of a server on the same host marks it failed, saying so.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from api.db import Database
from api.tables import JobRow, utcnow

log = logging.getLogger("carealloc.jobs")

_PROGRESS_EVERY_S = 1.0


class JobState(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({JobState.QUEUED, JobState.RUNNING})


def worker_name() -> str:
    """``host:pid`` of this process, stored on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobContext:
    """What a job's work function gets: its parameters, a way to report progress, and a way
    to learn that it should stop."""

    job_id: str
    params: dict[str, Any]
    _db: Database
    _stop: threading.Event
    _last_write: float = 0.0
    _last_poll: float = 0.0
    _progress: dict[str, Any] = field(default_factory=dict)

    def progress(self, fraction: float, message: str, **figures: float | int | None) -> None:
        """Report progress (``fraction`` 0..1 and a sentence); written at most once a second."""
        self._progress = {
            "fraction": round(max(0.0, min(1.0, fraction)), 3),
            "message": message,
            **figures,
        }
        now = time.monotonic()
        if now - self._last_write >= _PROGRESS_EVERY_S:
            self._last_write = now
            self._write_progress()

    def _write_progress(self) -> None:
        with self._db.write_session() as session, session.begin():
            row = session.get(JobRow, self.job_id)
            if row is not None:
                row.progress = dict(self._progress)

    def should_stop(self) -> bool:
        """True once ``DELETE`` asked the job to stop (from this process or another)."""
        if self._stop.is_set():
            return True
        now = time.monotonic()
        if now - self._last_poll >= _PROGRESS_EVERY_S:
            self._last_poll = now
            with self._db.read_session() as session:
                if session.scalar(select(JobRow.cancel_requested).where(JobRow.id == self.job_id)):
                    self._stop.set()
        return self._stop.is_set()


Work = Callable[[JobContext], dict[str, Any]]
"""A job's work: returns its result (JSON-able); may stop early when asked."""


class JobRunner:
    """Runs jobs on a small thread pool of this process."""

    def __init__(self, db: Database, max_workers: int = 1) -> None:
        self._db = db
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="job")
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: str, work: Work) -> None:
        """Run the stored job ``job_id`` with ``work`` when a worker is free."""
        with self._lock:
            self._stops[job_id] = threading.Event()
        self._executor.submit(self._run, job_id, work)

    def stop(self, job_id: str) -> None:
        """Ask a job of this process to stop (the caller has set ``cancel_requested``)."""
        with self._lock:
            event = self._stops.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self) -> None:
        """Ask every job to stop and wait for them (the server is stopping)."""
        with self._lock:
            for event in self._stops.values():
                event.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str, work: Work) -> None:
        stop = self._stops[job_id]
        with self._db.write_session() as session, session.begin():
            row = session.get(JobRow, job_id)
            if row is None or row.state != JobState.QUEUED:
                return
            if row.cancel_requested:
                row.state, row.finished_at = JobState.CANCELLED.value, utcnow()
                return
            row.state, row.started_at, row.worker = JobState.RUNNING.value, utcnow(), worker_name()
            params = dict(row.params)
        context = JobContext(job_id=job_id, params=params, _db=self._db, _stop=stop)
        try:
            result = work(context)
        except Exception as error:  # a job's failure is reported on the job, never lost
            log.exception("job %s failed", job_id)
            self._finish(job_id, JobState.FAILED, context, error=f"{type(error).__name__}: {error}")
        else:
            state = JobState.CANCELLED if stop.is_set() else JobState.SUCCEEDED
            self._finish(job_id, state, context, result=result)
        finally:
            with self._lock:
                self._stops.pop(job_id, None)

    def _finish(
        self,
        job_id: str,
        state: JobState,
        context: JobContext,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._db.write_session() as session, session.begin():
            row = session.get(JobRow, job_id)
            if row is None:
                return
            row.state = state.value
            row.finished_at = utcnow()
            row.result = result
            row.error = error
            progress = dict(context._progress)
            if state is JobState.SUCCEEDED:
                progress.update(fraction=1.0)
            row.progress = progress


def fail_interrupted(db: Database) -> int:
    """Mark failed the jobs a stopped server of this host left queued or running; returns
    how many."""
    host = socket.gethostname()
    me = worker_name()
    count = 0
    with db.write_session() as session, session.begin():
        rows = session.scalars(select(JobRow).where(JobRow.state.in_([s.value for s in ACTIVE])))
        for row in rows:
            worker = row.worker or ""
            if worker == me or not worker.startswith(f"{host}:"):
                continue  # ours, or another host's to judge
            if _alive(int(worker.rsplit(":", 1)[1])):
                continue
            row.state = JobState.FAILED.value
            row.finished_at = utcnow()
            row.error = (
                "interrupted: the server stopped while the job was queued or running; "
                "start it again"
            )
            count += 1
    return count


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
