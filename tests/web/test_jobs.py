"""Background jobs whose worker dies: a real worker process is started, takes a job, and is
killed (SIGKILL, so no code of it runs after); the job is then reported failed, with the
reason, on the next look, and stays failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from hesuan.web.jobs import JobRunner
from hesuan.web.state import HOST, WORKER_LOST, WebState

WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from hesuan.web.jobs import JobRunner
    from hesuan.web.state import WebState

    state = WebState(Path(sys.argv[1]))
    job = state.job(sys.argv[2])
    runner = JobRunner(state, heartbeat_s=0.2)

    def work(folder, progress):
        progress(1, 10)
        print("running", flush=True)
        time.sleep(600)

    runner.submit(job, work)
    time.sleep(600)
""")


def _worker(folder: Path, job_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(folder), job_id],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "running"
    return proc


def test_a_job_whose_worker_was_killed_is_failed_on_the_next_look(tmp_path: Path) -> None:
    state = WebState(tmp_path)
    job = state.new_job("land", "owner", {})
    proc = _worker(tmp_path, job.id)
    try:
        seen = state.job(job.id)
        assert seen is not None and seen.status == "running"  # alive: left alone
        assert seen.worker_pid == proc.pid and seen.worker_host == HOST
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    lost = state.job(job.id)
    assert lost is not None and lost.status == "failed" and lost.finished_at
    assert lost.error is not None and lost.error.startswith(WORKER_LOST)
    assert lost.message is not None and f"process {proc.pid}" in lost.message
    assert "start the run again" in lost.message
    again = WebState(tmp_path).job(job.id)  # another HTTP worker, or a page reload
    assert again is not None and again.status == "failed" and again.error == lost.error


def test_a_job_without_a_sign_of_life_within_the_lease_is_failed(tmp_path: Path) -> None:
    """A worker on another host cannot be probed: the lease alone decides."""
    state = WebState(tmp_path, lease_s=1.0)
    job = state.new_job("transport", "owner", {})
    state.update_job(job.id, status="running", worker_host="elsewhere", worker_pid=1,
                     heartbeat_at=state.job(job.id).created_at)  # type: ignore[union-attr]
    time.sleep(2.1)
    lost = state.job(job.id)
    assert lost is not None and lost.status == "failed"
    assert lost.message is not None and "elsewhere" in lost.message


def test_a_live_runner_keeps_its_queued_and_running_jobs(tmp_path: Path) -> None:
    """Leases renewed by the heartbeat: jobs that outlive the lease are not reaped."""
    import threading

    state = WebState(tmp_path, lease_s=1.0)
    runner = JobRunner(state, heartbeat_s=0.2)
    release = threading.Event()
    first, second = state.new_job("land", "o", {}), state.new_job("land", "o", {})
    runner.submit(first, lambda _d, _p: release.wait(10) and None)
    runner.submit(second, lambda _d, _p: None)
    time.sleep(2.5)
    assert state.job(first.id).status == "running"  # type: ignore[union-attr]
    assert state.job(second.id).status == "queued"  # type: ignore[union-attr]
    release.set()
    runner.pool.shutdown(wait=True)
    assert state.job(first.id).status == "done"  # type: ignore[union-attr]
    assert state.job(second.id).status == "done"  # type: ignore[union-attr]


def test_a_failed_jobs_message_names_its_files_without_the_servers_path(
        tmp_path: Path) -> None:
    """The reason a job failed, as the page shows it, names the file by its name only."""
    from hesuan.errors import InputError

    state = WebState(tmp_path)
    runner = JobRunner(state)
    job = state.new_job("transport", "o", {})

    def work(folder: Path, _progress: object) -> None:
        raise InputError.single("not a number", file=folder / "legs.csv", row=2,
                                field="mass_t")

    runner.submit(job, work).result(timeout=30)
    runner.pool.shutdown(wait=True)
    failed = state.job(job.id)
    assert failed is not None and failed.status == "failed"
    assert failed.message == "legs.csv, line 2, field 'mass_t': not a number"
