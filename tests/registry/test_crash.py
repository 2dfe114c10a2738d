"""Crash: the server (uvicorn subprocess on 127.0.0.1, random port) is killed with SIGKILL
in the middle of a load of transfers and restarted. Every acknowledged transfer is there,
nothing is half-applied, and the audit chain verifies."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hesuan.registry.db import tables as t
from hesuan.registry.engine import Registry

from .conftest import assert_sound, balance, build_world, registry_url

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "hesuan.registry.api", "--db", url,
                             "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120  # (a loaded 2-core machine takes 20 s to import)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
    proc.kill()
    raise RuntimeError("server did not start")


def _children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _socket_dir(writer: int) -> str:
    """The private directory of the writer process ``writer``'s socket."""
    with open(f"/proc/{writer}/environ", "rb") as f:
        env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
    return os.path.dirname(env[b"HESUAN_WRITER_SOCKET"].decode())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # (a zombie has exited)


def test_the_writer_process_ends_with_the_server(tmp_path: Path) -> None:
    """The server killed with SIGKILL leaves no writer process behind: the writer is told
    of its parent's death and exits (after finishing the writes it had queued), removing
    its socket and the socket's private directory, which the server can no longer do."""
    url = str(tmp_path / "r.db")
    Registry.open(url).close()
    proc = _start(url, _free_port())
    writers = _children(proc.pid)
    assert len(writers) == 1
    socket_dir = _socket_dir(writers[0])
    assert os.path.isdir(socket_dir)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while _alive(writers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(writers[0])
    assert not os.path.exists(socket_dir)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_sigkill_mid_load_loses_nothing_acknowledged(backend: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    url = registry_url(backend, tmp_path, request)
    reg = Registry.open(url, pool_size=2)
    w = build_world(reg)
    reg.close()
    port = _free_port()
    proc = _start(url, port)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {w.tokens['proponent']}"}
    body = {"from_account": w.proponent_account, "to_account": w.holder_account, "quantity": 1}

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            while not stop.is_set():
                key = uuid.uuid4().hex
                try:
                    r = c.post("/transfers", json=body, headers=headers | {"Idempotency-Key": key})
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    with lock:
                        acked.append(key)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 20
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    writers = _children(proc.pid)
    assert writers, "the server runs its writes in a writer process"
    socket_dir = _socket_dir(writers[0])
    for pid in [*writers, proc.pid]:  # mid-load: requests are in flight in both
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    shutil.rmtree(socket_dir, ignore_errors=True)  # (no process of the server is left to)
    stop.set()
    for th in threads:
        th.join(timeout=10)
    assert len(acked) >= 40

    proc = _start(url, port)  # restart: the schema migrates/opens cleanly
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            report = c.get("/audit/verify").json()
            assert report["ok"], report["problems"]
            for key in acked[:10]:  # a retry of an acknowledged request is a replay
                r = c.post("/transfers", json=body, headers=headers | {"Idempotency-Key": key})
                assert r.status_code == 201 and r.json()["idempotent_replay"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)

    reg = Registry.open(url, pool_size=2)
    try:
        with reg.read() as s, s.begin():
            done = {k for (k,) in s.execute(select(t.requests.c.idempotency_key).where(
                t.requests.c.status == "ok", t.requests.c.operation == "transfer"))}
            moved = s.execute(select(func.count()).select_from(t.events).where(
                t.events.c.type == "units_moved",
                t.events.c.payload.like('%"reason":"transfer"%'))).scalar_one()
        assert set(acked) <= done                      # every acknowledged op is there
        assert balance(reg, w.holder_account) == len(done) == moved  # nothing half-applied
        assert balance(reg, w.proponent_account) == 730 - len(done)
        assert_sound(reg)
    finally:
        reg.close()
