"""The registry's explorer read queries against the forms they replaced, in the same run.

Seeds a registry as ``benchmarks/web_bench.py`` does (``Registry.write_group``: one block per
project issued, then 1-unit transfers splitting blocks), or opens one it seeded before
(``--db`` with ``--no-seed``), and times, ``--repeat`` times each, median and p95 [ms]:

* the block holding a serial: the containment form ``serial_start <= n AND serial_end >= n``
  (baseline) against ``serial_start <= n ORDER BY serial_start DESC LIMIT 1``;
* the events holding a serial: the containment form over all events (baseline) against the
  form bounded below by the serial's issuance's first serial;
* :func:`hesuan.registry.service.queries.serial_history` as a whole;
* the issuances page (50 rows): per-row look-ups of the registry code and host country
  (baseline) against :func:`hesuan.registry.service.queries.issuances`, one query.

The serial asked for lies in the middle issuance, as in ``web_bench.py``. The baselines are
checked to give the same rows as the current queries before they are timed.

Usage::

    python benchmarks/explorer_queries_bench.py [--projects 1000] [--blocks 10000]
        [--repeat 200] [--db sqlite:///path.db | postgresql://…] [--no-seed]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.domain.serials import BlockSerial, format_serial
from hesuan.registry.engine import Registry
from hesuan.registry.service import queries

sys.path.insert(0, str(Path(__file__).parent))
from web_bench import seed


def _time(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (n - 1))]


def old_block(s: Session, n: int) -> Any:
    return s.execute(select(t.blocks.c.id).where(t.blocks.c.serial_start <= n,
                                                 t.blocks.c.serial_end >= n)).scalar_one()


def new_block(s: Session, n: int) -> Any:
    row = s.execute(select(t.blocks.c.id, t.blocks.c.serial_end)
                    .where(t.blocks.c.serial_start <= n)
                    .order_by(t.blocks.c.serial_start.desc()).limit(1)).one()
    assert row.serial_end >= n
    return row.id


def old_events(s: Session, n: int) -> list[int]:
    return list(s.execute(select(t.events.c.seq).where(
        and_(t.events.c.serial_start <= n, t.events.c.serial_end >= n))
        .order_by(t.events.c.seq).limit(100)).scalars())


def new_events(s: Session, n: int, issuance_start: int) -> list[int]:
    return list(s.execute(select(t.events.c.seq).where(
        and_(t.events.c.serial_start >= issuance_start, t.events.c.serial_start <= n,
             t.events.c.serial_end >= n))
        .order_by(t.events.c.seq).limit(100)).scalars())


def old_issuance_serials(s: Session, limit: int) -> list[str]:
    rows = s.execute(select(t.issuances).order_by(t.issuances.c.id).limit(limit)).all()
    out = []
    for r in rows:
        code = s.execute(select(t.registry_meta.c.registry_code)).scalar_one()
        country = s.execute(select(t.projects.c.host_country)
                            .where(t.projects.c.id == r.project_id)).scalar_one()
        out.append(format_serial(BlockSerial(code, country, r.project_id, r.vintage,
                                             r.serial_start, r.serial_end)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=1_000)
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--db", default=None)
    ap.add_argument("--no-seed", action="store_true",
                    help="time an already seeded registry (--db)")
    args = ap.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='hesuan-q-')) / 'r.db'}"
    reg = Registry.open(url)
    if not args.no_seed:
        seeded = seed(reg, args.projects, args.blocks)
        print(f"seeded {args.projects} projects, {args.blocks} blocks target in "
              f"{seeded['seconds']:.0f} s")
    with reg.read() as s, s.begin():
        n_blocks = s.execute(select(func.count()).select_from(t.blocks)).scalar_one()
        n_events = s.execute(select(func.count()).select_from(t.events)).scalar_one()
        ids = list(s.execute(select(t.issuances.c.id).order_by(t.issuances.c.id)).scalars())
        middle = s.execute(select(t.issuances).where(
            t.issuances.c.id == ids[len(ids) // 2])).one()
        n = middle.serial_start + 7
        assert old_block(s, n) == new_block(s, n)
        assert old_events(s, n) == new_events(s, n, middle.serial_start)
        assert old_issuance_serials(s, 50) == [
            r["serial"] for r in queries.issuances(s, limit=50)]
        cases = [
            ("block of a serial", lambda: old_block(s, n), lambda: new_block(s, n)),
            ("events of a serial", lambda: old_events(s, n),
             lambda: new_events(s, n, middle.serial_start)),
            ("issuances page (50)", lambda: old_issuance_serials(s, 50),
             lambda: queries.issuances(s, limit=50)),
        ]
        print(f"{n_blocks} blocks, {n_events} events, {len(ids)} issuances; serial {n}; "
              f"{url.split(':', 1)[0]}")
        print(f"{'query':24} {'old p50':>8} {'old p95':>8} {'new p50':>8} {'new p95':>8} "
              f"{'old/new p95':>11}")
        for name, old, new in cases:
            o50, o95 = _time(old, args.repeat)
            n50, n95 = _time(new, args.repeat)
            print(f"{name:24} {o50:8.2f} {o95:8.2f} {n50:8.2f} {n95:8.2f} {o95 / n95:11.1f}")
        w50, w95 = _time(lambda: queries.serial_history(s, serial=str(n)), args.repeat)
        print(f"serial_history (whole, current): p50 {w50:.2f} ms, p95 {w95:.2f} ms")
    reg.close()


if __name__ == "__main__":
    main()
