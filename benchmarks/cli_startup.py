"""Start-up time of the ``hesuan`` command, against a bare Python start in the same run.

Each command runs in its own process, ``--repeat`` times, interleaved with the baselines
(so load on the machine affects all alike); the table gives the median wall-clock and CPU
(user + system) seconds and each command's ratio to ``python -c pass``. With
``--baseline-src DIR`` every hesuan command also runs against another checkout's ``src``
(interleaved in the same run), e.g. the code before a change. The targets of issue 15:
``hesuan --version`` and ``--help`` (and a sub-command's ``--help``) under 0.5 s, a registry
call on a local database under 1 s.

Usage::

    python benchmarks/cli_startup.py --repeat 7 [--baseline-src ../main/src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="Also run each hesuan command against this src folder.")
    args = parser.parse_args()
    py = sys.executable
    # this checkout's code, whatever is installed (the commands run in a temporary folder)
    src = Path(__file__).resolve().parents[1] / "src"
    here = dict(os.environ, PYTHONPATH=str(src))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        done = subprocess.run([py, "-m", "hesuan", "registry", "init", "--db", "reg.db",
                               "--json"], cwd=work, check=True, capture_output=True,
                              text=True, env=here)
        token = json.loads(done.stdout[done.stdout.index("{"):done.stdout.rindex("}") + 1]
                           )["token"]
        hesuan = [py, "-m", "hesuan"]
        commands = {
            "hesuan --version": ["--version"],
            "hesuan --help": ["--help"],
            "hesuan transport --help": ["transport", "--help"],
            "hesuan registry issue --help": ["registry", "issue", "--help"],
            "hesuan registry show projects --db reg.db": [
                "registry", "show", "projects", "--db", "reg.db"],
            "hesuan registry party … --db reg.db (a write)": [
                "registry", "party", "Holder", "--role", "holder", "--db", "reg.db",
                "--token", token],
            "hesuan registry show account 1 --db reg.db": [
                "registry", "show", "account", "1", "--db", "reg.db", "--token", token],
            "hesuan registry token list --db reg.db": [
                "registry", "token", "list", "--db", "reg.db", "--token", token],
        }
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass (baseline)": ([py, "-c", "pass"], here),
            "python -c 'import typer' (baseline)": ([py, "-c", "import typer"], here),
        }
        for name, argv in commands.items():
            cases[name] = (hesuan + argv, here)
            if args.baseline_src is not None:
                other = dict(here, PYTHONPATH=str(args.baseline_src.resolve()))
                cases[f"{name} [baseline src]"] = (hesuan + argv, other)
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
        for _ in range(args.repeat):
            for name, (argv, env) in cases.items():
                times[name].append(_run(argv, work, env))
    base = statistics.median(w for w, _ in times["python -c pass (baseline)"])
    print(f"{'command':<62} {'wall s':>8} {'cpu s':>8} {'× baseline':>11}")
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<62} {wall:8.3f} {cpu:8.3f} {wall / base:11.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
