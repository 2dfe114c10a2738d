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
from typing import Any


def app_from_env() -> object:
    """App factory for the HTTP worker processes.

    The database URL is in ``HESUAN_REGISTRY_DB``, the writer process's socket in
    ``HESUAN_WRITER_SOCKET`` and its per-start secret (hex) in ``HESUAN_WRITER_AUTHKEY``; the
    signing key's file, if any, in ``HESUAN_REGISTRY_SIGNING_KEY``.
    """
    from hesuan.registry.api.app import create_app
    from hesuan.registry.engine import Registry
    from hesuan.registry.transparency.heads import KEY_ENV, load_signing_key

    registry = Registry.open(os.environ["HESUAN_REGISTRY_DB"])
    registry.forward_writes(os.environ["HESUAN_WRITER_SOCKET"],
                            bytes.fromhex(os.environ["HESUAN_WRITER_AUTHKEY"]))
    key_path = os.environ.get(KEY_ENV)
    return create_app(registry, signing_key=load_signing_key(key_path) if key_path else None)


def writer_main() -> None:
    """Run the writer process (:mod:`hesuan.registry.engine.writer`).

    Commit the writes the HTTP workers forward on ``HESUAN_WRITER_SOCKET`` until SIGTERM (or the
    death of the server process), then finish the group under way, answer it and close. The
    per-start secret arrives on standard input (hex, one line), never in the environment.
    """
    import signal

    _exit_with_parent()  # first: the server may die while the imports below run

    from hesuan.registry.engine import Registry
    from hesuan.registry.engine.group import MAX_BATCH
    from hesuan.registry.engine.writer import serve_writes

    authkey = bytes.fromhex(sys.stdin.readline().strip())
    registry = Registry.open(os.environ["HESUAN_REGISTRY_DB"])
    stop: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    path = os.environ["HESUAN_WRITER_SOCKET"]
    try:
        serve_writes(registry.write_group, registry.authenticate, path, authkey,
                     group_at_most=MAX_BATCH, stopping=lambda: bool(stop))
    finally:
        try:
            registry.close()
        finally:
            with contextlib.suppress(OSError):  # (the server's, if it was killed; else it will)
                os.rmdir(os.path.dirname(path))


def _exit_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when the server process dies, even by SIGKILL.

    ``prctl(PR_SET_PDEATHSIG)``; elsewhere a thread watches the parent's pid.
    """
    import ctypes
    import signal
    import threading
    import time

    parent = int(os.environ.get("HESUAN_SERVER_PID", os.getppid()))  # (it may be gone)
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


class WriterSupervisor:
    """Runs the writer process for ``db`` and keeps it running.

    The writer listens on a Unix socket in a fresh directory only this user can open; its
    per-start secret (32 random bytes) reaches it on its standard input. When it dies it is
    started again (its requests in flight get 503 ``writer_unavailable`` and can be retried
    with their Idempotency-Key); if it dies ``restarts_at_most`` times within
    ``window_s`` seconds, the server is stopped (SIGTERM to this process) rather than
    serving without writes.
    """

    def __init__(self, db: str, *, start_timeout_s: float = 60.0,
                 restarts_at_most: int = 5, window_s: float = 60.0) -> None:
        import secrets
        import tempfile

        self.db = db
        self.authkey = secrets.token_bytes(32)
        self.directory = tempfile.mkdtemp(prefix="hesuan-writer-")  # mode 0700
        self.socket_path = os.path.join(self.directory, "writes.sock")
        self.start_timeout_s = start_timeout_s
        self.restarts_at_most, self.window_s = restarts_at_most, window_s
        self.restarts: list[float] = []
        self.proc: Any = None
        self._stopping = False
        self._watcher: Any = None

    def _spawn(self) -> None:
        import subprocess
        import time

        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        env = {k: v for k, v in os.environ.items() if k != "HESUAN_WRITER_AUTHKEY"}
        env |= {"HESUAN_REGISTRY_DB": self.db, "HESUAN_WRITER_SOCKET": self.socket_path,
                "HESUAN_SERVER_PID": str(os.getpid())}
        proc = subprocess.Popen([sys.executable, "-c",
                                 "from hesuan.registry.api.server import writer_main; "
                                 "writer_main()"], env=env, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(self.authkey.hex().encode() + b"\n")
        proc.stdin.close()
        deadline = time.monotonic() + self.start_timeout_s
        while not os.path.exists(self.socket_path):
            if proc.poll() is not None:
                raise RuntimeError(f"the registry's writer process exited with code "
                                   f"{proc.returncode} before it listened")
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the registry's writer process did not listen within "
                                   f"{self.start_timeout_s:.0f} s")
            time.sleep(0.02)
        self.proc = proc

    def start(self) -> None:
        """Start the writer process and the thread that restarts it if it dies."""
        import threading

        self._spawn()
        self._watcher = threading.Thread(target=self._watch, daemon=True,
                                         name="hesuan-writer-supervisor")
        self._watcher.start()

    def _watch(self) -> None:
        import logging
        import signal
        import time

        log = logging.getLogger("hesuan.registry.server")
        while not self._stopping:
            code = self.proc.wait()
            if self._stopping:
                return
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < self.window_s] + [now]
            if len(self.restarts) > self.restarts_at_most:
                log.critical("the writer process died %d times within %.0f s (last exit "
                             "code %s): stopping the server", len(self.restarts),
                             self.window_s, code)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            log.error("the writer process exited with code %s: starting it again", code)
            try:
                self._spawn()
            except RuntimeError as exc:
                log.critical("%s: stopping the server", exc)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    def stop(self) -> None:
        """Stop the writer process (it finishes the writes it has queued) and remove its folder."""
        import shutil
        import subprocess

        self._stopping = True
        if self.proc is not None:
            self.proc.terminate()  # it finishes the writes it has queued
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def writer_process(db: str, *, start_timeout_s: float = 60.0) -> Iterator[WriterSupervisor]:
    """Run (and supervise) the writer process for ``db`` while the block runs."""
    supervisor = WriterSupervisor(db, start_timeout_s=start_timeout_s)
    try:
        supervisor.start()
        yield supervisor
    finally:
        supervisor.stop()


def run_server(db: str, *, host: str = "127.0.0.1", port: int = 8000,
               log_level: str = "warning", workers: int = 1,
               allow_unverified: bool = False, signing_key: str | None = None,
               app_factory: str = "hesuan.registry.api.server:app_from_env") -> None:
    """Open (and migrate) the registry at ``db``, verify it in full and serve its API until stopped.

    A database that fails verification or lacks its append-only protections is refused
    (:class:`~hesuan.registry.service.audit.RegistryUnverified`) unless ``allow_unverified``
    (forensics).

    uvicorn runs ``workers`` HTTP processes (each with its own pool for reads); they forward
    every write to one supervised writer process (:class:`WriterSupervisor`), which runs the
    group commits. ``signing_key`` is the path of the transparency log's Ed25519 key
    (default: ``HESUAN_REGISTRY_SIGNING_KEY``); it is read now, so a bad path stops the
    start. ``app_factory`` names the app each HTTP worker builds (``module:function``): the
    REST API by default; ``hesuan serve`` names the one that also mounts the web application
    (:func:`hesuan.web.serve.app_from_env`), so this layer never imports the web layer.
    """
    import uvicorn

    from hesuan.registry.engine import Registry
    from hesuan.registry.transparency.heads import KEY_ENV, load_signing_key

    key_path = signing_key or os.environ.get(KEY_ENV)
    if key_path:
        load_signing_key(key_path)  # a clear error now, not in every worker
        os.environ[KEY_ENV] = os.path.abspath(key_path)
    registry = Registry.open(db)  # migrate once, before any process starts
    try:
        registry.check_startup(allow_unverified=allow_unverified)
    finally:
        registry.close()
    with writer_process(db) as writer:
        os.environ["HESUAN_REGISTRY_DB"] = db
        os.environ["HESUAN_WRITER_SOCKET"] = writer.socket_path
        os.environ["HESUAN_WRITER_AUTHKEY"] = writer.authkey.hex()
        uvicorn.run(app_factory, factory=True, host=host,
                    port=port, log_level=log_level, workers=workers)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the hesuan registry API (``python -m hesuan.registry.api``)."""
    parser = argparse.ArgumentParser(prog="python -m hesuan.registry.api",
                                     description="Serve the hesuan registry API.")
    parser.add_argument("--db", default="hesuan-registry.db", help="SQLite path or DB URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--allow-unverified", action="store_true",
                        help="serve a database that fails verification (forensics only)")
    parser.add_argument("--signing-key", default=None,
                        help="Ed25519 key file of the transparency log (hesuan registry "
                             "keygen); default: $HESUAN_REGISTRY_SIGNING_KEY")
    args = parser.parse_args(argv)
    run_server(args.db, host=args.host, port=args.port, log_level=args.log_level,
               workers=args.workers, allow_unverified=args.allow_unverified,
               signing_key=args.signing_key)
