"""Background jobs.

A run's state lives in the web state database and its files in the job's folder, so a page reload
(or another HTTP worker) finds it. Jobs run on a small thread pool of the HTTP worker that accepted
them, one at a time per worker (the calculation cores use their own threads).

Each job the runner holds (queued or running) has a lease: the runner's pid and host and a
heartbeat renewed every :data:`HEARTBEAT_S` seconds by a thread of its own. A job whose
worker died (killed, crashed, the server stopped) stops being renewed, and
:meth:`hesuan.web.state.WebState.job` marks it failed when it is next looked at.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from hesuan.errors import HesuanError
from hesuan.web.state import Job, WebState

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
"""[s] how often a runner renews the leases of its jobs (well inside the state's lease)."""

Work = Callable[[Path, Callable[[int, int], None]], None]
"""A job's work: ``work(folder, progress)`` writes its outputs into ``folder`` and reports
``progress(done, total)``; a :class:`~hesuan.errors.HesuanError` becomes the job's error."""


class JobRunner:
    """Runs jobs of one HTTP worker on a thread pool and records their state."""

    def __init__(self, state: WebState, threads: int = 1,
                 heartbeat_s: float = HEARTBEAT_S) -> None:
        self.state = state
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hesuan-job")
        self.heartbeat_s = heartbeat_s
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None

    def submit(self, job: Job, work: Work, *, running: str = "running",
               done: str = "done") -> Future[None]:
        """Queue ``work``.

        The job's status is ``running`` while it runs, then ``done`` (or ``failed`` with the
        error's text). The job's lease is held from now on.
        """
        with self._lock:
            self._held.add(job.id)
            if self._beat is None:
                self._beat = threading.Thread(target=self._heartbeat, daemon=True,
                                              name="hesuan-job-heartbeat")
                self._beat.start()
        self.state.hold([job.id])
        return self.pool.submit(self._run, job, work, running, done)

    def _heartbeat(self) -> None:
        """Renew the leases of the held jobs, for as long as the process lives."""
        wait = threading.Event()
        while True:
            wait.wait(self.heartbeat_s)
            with self._lock:
                held = sorted(self._held)
            try:
                self.state.hold(held)
            except Exception:  # a busy database: the next beat tries again
                log.warning("job heartbeat failed:\n%s", traceback.format_exc())

    def _run(self, job: Job, work: Work, running: str, done: str) -> None:
        try:
            self._work(job, work, running, done)
        finally:
            with self._lock:
                self._held.discard(job.id)

    def _work(self, job: Job, work: Work, running: str, done: str) -> None:
        self.state.update_job(job.id, status=running, done=0, total=0)
        self.state.hold([job.id])

        def progress(done: int, total: int) -> None:
            self.state.update_job(job.id, done=int(done), total=int(total))

        folder = self.state.job_dir(job.id)
        try:
            work(folder, progress)
        except HesuanError as exc:
            self.state.update_job(job.id, status="failed", error=_without(str(exc), folder))
        except Exception as exc:
            log.error("job %s failed:\n%s", job.id, traceback.format_exc())
            self.state.update_job(job.id, status="failed",
                                  error=f"internal error ({type(exc).__name__}); see the log")
        else:
            self.state.update_job(job.id, status=done)


def _without(message: str, folder: Path) -> str:
    """``message`` without the server's path of the job's ``folder``: its files by name."""
    for prefix in {str(folder.resolve()), str(folder)}:
        message = message.replace(prefix + os.sep, "")
    return message
