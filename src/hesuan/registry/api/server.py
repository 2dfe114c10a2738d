"""Run the API with uvicorn (used by ``hesuan serve`` and ``python -m hesuan.registry.api``).

``python -m hesuan.registry.api --db URL --port 8000`` starts the server without loading
the rest of the ``hesuan`` command (fast start-up for supervisors and tests).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence


def app_from_env() -> object:
    """App factory for the HTTP worker processes: the database URL is in
    ``HESUAN_REGISTRY_DB``, the writer process's socket in ``HESUAN_WRITER_SOCKET``."""
    from hesuan.registry.api.app import create_app
    from hesuan.registry.service import Registry

    registry = Registry.open(os.environ["HESUAN_REGISTRY_DB"])
    registry.forward_writes(os.environ["HESUAN_WRITER_SOCKET"])
    from hesuan.web import mount  # the web application at /web (docs/web.md)

    return mount(create_app(registry))


def writer_main() -> None:
    """The writer process (:mod:`hesuan.registry.service.writer`): commit the writes the
    HTTP workers forward on ``HESUAN_WRITER_SOCKET`` until SIGTERM (or the death of the
    server process), then finish the group under way, answer it and close."""
    import signal

    from hesuan.registry.service import Registry
    from hesuan.registry.service.core import MAX_BATCH
    from hesuan.registry.service.writer import serve_writes

    _exit_with_parent()
    registry = Registry.open(os.environ["HESUAN_REGISTRY_DB"])
    stop: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    path = os.environ["HESUAN_WRITER_SOCKET"]
    try:
        serve_writes(registry.write_group, path, group_at_most=MAX_BATCH,
                     stopping=lambda: bool(stop))
    finally:
        try:
            registry.close()
        finally:
            with contextlib.suppress(OSError):  # (the server's, if it was killed; else it will)
                os.rmdir(os.path.dirname(path))


def _exit_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when the server process dies, even by
    SIGKILL (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread watches the parent's pid."""
    import ctypes
    import signal
    import threading
    import time

    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        if ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM) == 0:
            if os.getppid() != parent:  # died before the call
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="hesuan-parent-watch").start()


@contextlib.contextmanager
def writer_process(db: str, *, start_timeout_s: float = 60.0) -> Iterator[str]:
    """Run the writer process for ``db``; yield the path of its socket once it listens."""
    import shutil
    import subprocess
    import tempfile
    import time

    directory = tempfile.mkdtemp(prefix="hesuan-writer-")  # mode 0700: this user only
    path = os.path.join(directory, "writes.sock")
    env = {**os.environ, "HESUAN_REGISTRY_DB": db, "HESUAN_WRITER_SOCKET": path}
    proc = subprocess.Popen([sys.executable, "-c",
                             "from hesuan.registry.api.server import writer_main; "
                             "writer_main()"], env=env)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not os.path.exists(path):
            if proc.poll() is not None:
                raise RuntimeError(f"the registry's writer process exited with code "
                                   f"{proc.returncode} before it listened")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the registry's writer process did not listen within "
                                   f"{start_timeout_s:.0f} s")
            time.sleep(0.02)
        yield path
    finally:
        proc.terminate()  # it finishes the writes it has queued
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(directory, ignore_errors=True)


def run_server(db: str, *, host: str = "127.0.0.1", port: int = 8000,
               log_level: str = "warning", workers: int = 1) -> None:
    """Open (and migrate) the registry at ``db`` and serve its API until stopped.

    uvicorn runs ``workers`` HTTP processes (each with its own pool for reads); they forward
    every write to one writer process (:func:`writer_process`), which runs the group commits.
    """
    import uvicorn

    from hesuan.registry.service import Registry

    Registry.open(db).close()  # migrate once, before any process starts
    with writer_process(db) as socket_path:
        os.environ["HESUAN_REGISTRY_DB"] = db
        os.environ["HESUAN_WRITER_SOCKET"] = socket_path
        uvicorn.run("hesuan.registry.api.server:app_from_env", factory=True, host=host,
                    port=port, log_level=log_level, workers=workers)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hesuan.registry.api",
                                     description="Serve the hesuan registry API.")
    parser.add_argument("--db", default="hesuan-registry.db", help="SQLite path or DB URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run_server(args.db, host=args.host, port=args.port, log_level=args.log_level,
               workers=args.workers)
