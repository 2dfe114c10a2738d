"""Start-up time of the ``hesuan`` command, against a bare Python start in the same run.

Each command runs in its own process, ``--repeat`` times, interleaved with the baselines
(so load on the machine affects all alike); the table gives the median wall-clock and CPU
(user + system) seconds and each command's ratio to ``python -c pass``. The targets of
issue 15: ``hesuan --version`` and ``hesuan --help`` under 0.5 s, a registry call on a local
database under 1 s.

Usage::

    python benchmarks/cli_startup.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(argv: list[str], cwd: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([py, "-m", "hesuan", "registry", "init", "--db", "reg.db"], cwd=work,
                       check=True, capture_output=True)
        cases = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "python -c 'import typer' (baseline)": [py, "-c", "import typer"],
            "hesuan --version": [py, "-m", "hesuan", "--version"],
            "hesuan --help": [py, "-m", "hesuan", "--help"],
            "hesuan factors --help": [py, "-m", "hesuan", "factors", "--help"],
            "hesuan registry show projects --db reg.db": [
                py, "-m", "hesuan", "registry", "show", "projects", "--db", "reg.db"],
        }
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
        for _ in range(args.repeat):
            for name, argv in cases.items():
                times[name].append(_run(argv, work))
    base = statistics.median(w for w, _ in times["python -c pass (baseline)"])
    print(f"{'command':<45} {'wall s':>8} {'cpu s':>8} {'× baseline':>11}")
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<45} {wall:8.3f} {cpu:8.3f} {wall / base:11.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
