"""Explorer pages of the web application: p50/p95 response time with 10^4 projects and
10^5 serial blocks in the registry, beside the REST API's JSON for the same data measured in
the same run (the ratio is the page's cost over the query it shows).

The registry is seeded through its Python API (``Registry.write_group``, group commits of
32): one proponent lists ``--projects`` projects (no deductions), each is validated,
registered, reported with its own sealed quantification report of CCER-14-001@V01 (the
tests' world report, ``tests/registry/conftest.py``), verified with a signed attestation and
issued (one block each), then 1-unit transfers from the projects' accounts to one holder split
blocks until there are ``--blocks``. The server is the registry's FastAPI app with the web
application mounted, run by uvicorn in a thread on 127.0.0.1; one keep-alive client
requests each page ``--requests`` times in turn (after a warm-up), so the times include HTTP
but no queueing. On a shared machine the figures are noisy: compare the ratios within one
run.

Usage::

    python benchmarks/web_bench.py [--projects 10000] [--blocks 100000] [--requests 200]
        [--db sqlite:///path.db | postgresql://…]  (default: a fresh SQLite file)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.registry.service import requests as rq
from hesuan.web import mount
from hesuan.web.queries import _memory as totals_memory
from hesuan.web.queries import totals
from hesuan.web.settings import WebSettings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
# the tests' quantification report of CCER-14-001@V01 and their accredited verifier's key
from registry.conftest import (
    VERIFIER_PUBLIC_KEY,
    attestation,
    fresh_summary,
)

BATCH = 32


def _group(reg: Registry, requests: list[tuple[str, Any, str, dict[str, Any]]]) -> list[Any]:
    """Run ``requests`` — (use case, actor, key, fields), e.g. ``("transfer", actor, key,
    {...})`` — as group commits, each built as the typed request its ``Registry`` method
    builds (``Registry.transfer`` → ``requests.Transfer``); raise the first refusal."""
    typed = [(actor, key, getattr(rq, name.title().replace("_", ""))(**fields))
             for name, actor, key, fields in requests]
    out: list[Any] = []
    for i in range(0, len(typed), 512):
        results = reg.write_group(typed[i:i + 512])
        for r in results:
            if isinstance(r, Exception):
                raise r
        out += results
    return out


def seed(reg: Registry, n_projects: int, n_blocks: int) -> dict[str, Any]:
    """Seed through the use cases; return ids the pages need."""
    t0 = time.perf_counter()
    boot = reg.bootstrap()
    admin = reg.authenticate(boot["token"])
    prop = reg.authenticate(reg.create_party(admin, "b-p", name="Proponent",
                                             role="proponent", country="KE")["token"])
    ver = reg.authenticate(reg.create_party(admin, "b-v", name="Verifier",
                                            role="verifier")["token"])
    hold = reg.authenticate(reg.create_party(admin, "b-h", name="Holder", role="holder",
                                             country="DE")["token"])
    holding = reg.open_account(hold, "b-a", name="Holder account")["account_id"]
    reg.accredit_verifier(admin, "b-acc", party_id=ver.party_id, sector="AFOLU",
                          public_key=VERIFIER_PUBLIC_KEY)
    per_project = 1 + (n_blocks - n_projects) // n_projects
    created = _group(reg, [("create_project", prop, f"c{i}", dict(
        name=f"Project {i}", methodology_id="CCER-14-001",
        methodology_version="V01", host_country="KE", host_region="Nakuru", sector="AFOLU",
        crediting_start="2020-01-01", crediting_end="2039-12-31", buffer_pct="0"))
        for i in range(n_projects)])
    pids = [c["project_id"] for c in created]
    forward = [c["forward_account_id"] for c in created]
    _group(reg, [("transition_project", ver, f"v{p}", dict(project_id=p, status="validated"))
                 for p in pids])
    _group(reg, [("transition_project", admin, f"r{p}", dict(project_id=p,
                                                            status="registered"))
                 for p in pids])
    # one sealed quantification report of the projects' methodology per monitoring report (a
    # quantification backs one only; its period, 2022-12-31–2025-12-31, covers 2024), and the
    # verifier's signed attestation of each
    texts = {p: fresh_summary() for p in pids}
    reports = _group(reg, [("submit_report", prop, f"m{p}", dict(
        project_id=p, period_start="2024-01-01", period_end="2024-12-31",
        reported_quantity=1000, quantification=texts[p])) for p in pids])
    rids = [r["report_id"] for r in reports]
    _group(reg, [("verify_report", ver, f"w{r}", dict(
        report_id=r, verified_quantity=1000, attestation=attestation(texts[p], 1000)))
        for p, r in zip(pids, rids, strict=True)])
    issued = _group(reg, [("issue", admin, f"i{r}", dict(report_id=r, quantity=1000))
                          for r in rids])
    transfers = [("transfer", prop, f"t{a}-{k}", dict(from_account=a, to_account=holding,
                                                      quantity=1))
                 for k in range(per_project - 1) for a in forward]
    transfers = transfers[:max(0, n_blocks - n_projects)]
    _group(reg, transfers)
    retired = reg.retire(hold, "b-ret", from_account=holding, quantity=3, beneficiary="Bench",
                         purpose="voluntary", claim_start="2024-01-01", claim_end="2024-12-31")
    middle = issued[len(issued) // 2]
    return {"seconds": time.perf_counter() - t0, "serial": middle["serial_start"] + 7,
            "project": pids[len(pids) // 2], "retirement": retired["retirement_id"],
            "writes": 6 * n_projects + len(transfers)}


def measure(client: httpx.Client, url: str, n: int) -> dict[str, float]:
    for _ in range(5):
        client.get(url).raise_for_status()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (n - 1))]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=10_000)
    ap.add_argument("--blocks", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hesuan-web-bench-"))
    reg = Registry.open(args.db or f"sqlite:///{folder / 'registry.db'}")
    seeded = seed(reg, args.projects, args.blocks)
    blocks = sum(totals(reg).by_status.values())
    print(f"seeded {args.projects} projects, {args.blocks} blocks target ({seeded['writes']} "
          f"writes) in {seeded['seconds']:.0f} s; units in blocks: {blocks}")
    totals_memory.clear()
    t = time.perf_counter()
    totals(reg)
    totals_ms = (time.perf_counter() - t) * 1000
    app = mount(create_app(reg), WebSettings.from_env(folder / "web"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    last = (args.projects // 50) * 50 - 50
    pages = [
        ("overview (totals, chain head)", "/web/", "/health"),
        ("projects, first page", "/web/projects", "/projects?limit=50"),
        ("projects, last page", f"/web/projects?offset={last}",
         f"/projects?limit=50&offset={last}"),
        ("one project", f"/web/projects/{seeded['project']}", f"/projects/{seeded['project']}"),
        ("issuances, first page", "/web/issuances", "/issuances?limit=50"),
        ("serial search", f"/web/serials?q={seeded['serial']}", f"/serials/{seeded['serial']}"),
        ("retirement certificate page", f"/web/retirements/{seeded['retirement']}",
         f"/retirements/{seeded['retirement']}"),
        ("audit log", "/web/audit", "/audit/events?limit=20"),
    ]
    rows = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for name, page, rest in pages:
            w = measure(client, page, args.requests)
            r = measure(client, rest, args.requests)
            rows.append({"page": name, "url": page, **w, "rest_p95_ms": r["p95_ms"],
                         "ratio_p95": w["p95_ms"] / r["p95_ms"] if r["p95_ms"] else None})
    server.should_exit = True
    thread.join(timeout=10)
    reg.close()
    print(f"totals query without the {5:.0f} s memory: {totals_ms:.1f} ms")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'REST p95':>9} {'ratio':>6}")
    for row in rows:
        print(f"{row['page']:32} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
              f"{row['rest_p95_ms']:9.1f} {row['ratio_p95']:6.2f}")
    worst = max(r["p95_ms"] for r in rows)
    print(f"worst p95 {worst:.1f} ms: {'meets' if worst <= 100 else 'misses'} the 100 ms target")
    print(json.dumps({"projects": args.projects, "blocks": args.blocks,
                      "totals_uncached_ms": totals_ms, "pages": rows}, default=float))


if __name__ == "__main__":
    main()
