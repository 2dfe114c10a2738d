"""Background jobs: state in the web state database, files in the job's folder.

So a page reload (or another HTTP worker) finds a run. Jobs run on a small thread pool of the HTTP
worker that accepted them, one at a time per worker (the calculation cores use their own threads).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from hesuan.errors import HesuanError
from hesuan.web.state import Job, WebState

log = logging.getLogger(__name__)

Work = Callable[[Path, Callable[[int, int], None]], None]
"""A job's work: ``work(folder, progress)`` writes its outputs into ``folder`` and reports
``progress(done, total)``; a :class:`~hesuan.errors.HesuanError` becomes the job's error."""


class JobRunner:
    """Runs jobs of one HTTP worker on a thread pool and records their state."""

    def __init__(self, state: WebState, threads: int = 1) -> None:
        self.state = state
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hesuan-job")

    def submit(self, job: Job, work: Work, *, running: str = "running",
               done: str = "done") -> Future[None]:
        """Queue ``work``.

        The job's status is ``running`` while it runs, then ``done`` (or ``failed`` with the error's
        text).
        """
        return self.pool.submit(self._run, job, work, running, done)

    def _run(self, job: Job, work: Work, running: str, done: str) -> None:
        self.state.update_job(job.id, status=running, done=0, total=0)

        def progress(done: int, total: int) -> None:
            self.state.update_job(job.id, done=int(done), total=int(total))

        try:
            work(self.state.job_dir(job.id), progress)
        except HesuanError as exc:
            self.state.update_job(job.id, status="failed", error=str(exc))
        except Exception as exc:
            log.error("job %s failed:\n%s", job.id, traceback.format_exc())
            self.state.update_job(job.id, status="failed",
                                  error=f"internal error ({type(exc).__name__}); see the log")
        else:
            self.state.update_job(job.id, status=done)
