"""Fixtures: a registry on SQLite (a temporary file) or PostgreSQL (a schema of a database
created for this test run), and a populated 'world' to operate on.

PostgreSQL comes from ``HESUAN_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
test``). Each run creates ``hesuan_test_<random>`` and drops it at the end; each test gets its
own schema inside it, so parallel runs and xdist workers never collide. When the server is
unreachable the PostgreSQL tests are skipped with the reason shown.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hesuan.quantification import quantify
from hesuan.quantification.attestation import attest, new_key
from hesuan.quantification.check import parse_report
from hesuan.quantification.report import QuantificationReport, sealed, to_json
from hesuan.registry.domain.model import Role
from hesuan.registry.engine import Actor, Registry

QUANT_EXAMPLE = Path(__file__).parents[2] / "src/hesuan/examples/quantification"

PG_URL = os.environ.get("HESUAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin_conn() -> Any:
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (dropped afterwards)."""
    try:
        conn = _pg_admin_conn()
    except Exception as exc:  # any connection failure → skip, visibly
        pytest.skip(f"PostgreSQL unreachable at {PG_URL} ({type(exc).__name__}: {exc}); "
                    "set HESUAN_TEST_PG_URL")
    name = f"hesuan_test_{uuid.uuid4().hex[:12]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def registry_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL for an empty registry on ``backend`` (a new SQLite file or PostgreSQL schema)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    database = request.getfixturevalue("pg_database")
    import psycopg

    schema = f"s_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{database}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return registry_url(backend, tmp_path, request)


@pytest.fixture
def registry(url: str) -> Iterator[Registry]:
    reg = Registry.open(url, pool_size=5)
    yield reg
    reg.close()


@dataclass
class World:
    """A registry with every role, a registered project and one issuance of 1000 units
    (20 % buffer, 5 % share of proceeds, 2 % overall mitigation: 200/50/20/730)."""

    reg: Registry
    admin: Actor
    proponent: Actor
    verifier: Actor
    holder: Actor
    holder2: Actor
    authority: Actor
    tokens: dict[str, str]
    project_id: int
    report_id: int
    issuance_id: int
    proponent_account: int
    holder_account: int
    holder2_account: int
    meta: dict[str, int]

    def key(self) -> str:
        return uuid.uuid4().hex


#: The verifier's Ed25519 key (PEM) and public key: the world's verifier is accredited for
#: AFOLU with it and signs every attestation with it.
VERIFIER_KEY, VERIFIER_PUBLIC_KEY = new_key()
_BASE: list[QuantificationReport] = []


def _world_report() -> QuantificationReport:
    """The second monitoring period (2023–2025) of the bundled quantification example, with its
    strata ten times larger so that vintage 2024 holds well over the world's 4000 verified
    units (computed once per test session)."""
    if not _BASE:
        with tempfile.TemporaryDirectory() as tmp:
            dst = Path(tmp) / "project"
            shutil.copytree(QUANT_EXAMPLE, dst, ignore=shutil.ignore_patterns("__pycache__"))
            strata = (dst / "strata.csv").read_text(encoding="utf-8").splitlines()
            rows = [strata[0]] + [f"{name},{float(area) * 10}" for name, area in
                                  (line.split(",") for line in strata[1:])]
            (dst / "strata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            _BASE.append(quantify(dst / "project.toml")[1])
    return _BASE[0]


def report_text(tag: str = "") -> str:
    """A quantification report of CCER-14-001@V01 for the world's project (period
    2022-12-31–2025-12-31, vintage 2024 > 4000 units); another ``tag`` gives another report
    (another project name, sealed anew: a report backs one monitoring report only)."""
    base = _world_report()
    if not tag:
        return to_json(base)
    return to_json(sealed(base.model_copy(update={"project": {**base.project,
                                                              "name": f"World {tag}"}})))


def attestation(text: str, units: int) -> str:
    """The world verifier's signed attestation of the report ``text`` for ``units``."""
    return attest(parse_report(text), VERIFIER_KEY, verifier="Verifier",
                  verified_units=units).model_dump_json()


SUMMARY = report_text()


def fresh_summary() -> str:
    """A quantification report like SUMMARY but another one (a report backs one monitoring
    report only)."""
    return report_text(uuid.uuid4().hex)


def build_world(reg: Registry, *, issue_quantity: int = 1000,
                registry_code: str = "HSN") -> World:
    boot = reg.bootstrap(share_of_proceeds_pct="5", overall_mitigation_pct="2",
                         registry_code=registry_code)
    admin = reg.authenticate(boot["token"])
    tokens = {"admin": boot["token"]}
    actors = {}
    for name, role, country in (("proponent", "proponent", "KE"), ("verifier", "verifier", None),
                                ("holder", "holder", "DE"), ("holder2", "holder", "FR"),
                                ("authority", "host_authority", "KE")):
        out = reg.create_party(admin, f"party-{name}", name=name.title(), role=role,
                               country=country)
        tokens[name] = out["token"]
        actors[name] = reg.authenticate(out["token"])
    reg.accredit_verifier(admin, "accredit", party_id=actors["verifier"].party_id,
                          sector="AFOLU", public_key=VERIFIER_PUBLIC_KEY)
    proj = reg.create_project(actors["proponent"], "project", name="Mau Forest",
                              methodology_id="CCER-14-001", methodology_version="V01",
                              host_country="KE", host_region="Nakuru", sector="AFOLU",
                              crediting_start="2020-01-01", crediting_end="2039-12-31",
                              buffer_pct="20")
    pid = proj["project_id"]
    reg.transition_project(actors["verifier"], "validate", project_id=pid, status="validated")
    reg.transition_project(admin, "register", project_id=pid, status="registered")
    rep = reg.submit_report(actors["proponent"], "report", project_id=pid,
                            period_start="2024-01-01", period_end="2024-12-31",
                            reported_quantity=5000, quantification=SUMMARY)
    reg.verify_report(actors["verifier"], "verify", report_id=rep["report_id"],
                      verified_quantity=4000, attestation=attestation(SUMMARY, 4000))
    iss = reg.issue(admin, "issue", report_id=rep["report_id"], quantity=issue_quantity)
    h1 = reg.open_account(actors["holder"], "acc-h1")["account_id"]
    h2 = reg.open_account(actors["holder2"], "acc-h2")["account_id"]
    with reg.read() as s, s.begin():
        from sqlalchemy import select

        from hesuan.registry.db import tables as t
        m = s.execute(select(t.registry_meta)).one()
    meta = {"retirement": m.retirement_account_id, "cancellation": m.cancellation_account_id,
            "buffer": m.buffer_account_id, "levy": m.levy_account_id,
            "issuance": proj["issuance_account_id"]}
    return World(reg, admin, actors["proponent"], actors["verifier"], actors["holder"],
                 actors["holder2"], actors["authority"], tokens, pid, rep["report_id"],
                 iss["issuance_id"], proj["forward_account_id"], h1, h2, meta)


@pytest.fixture
def world(registry: Registry) -> World:
    return build_world(registry)


def assert_sound(reg: Registry) -> dict[str, Any]:
    """Every invariant holds and stored state equals the replayed audit log."""
    report = reg.verify()
    assert report["ok"], report["problems"]
    assert report["first_bad_event"] is None
    return report


def balance(reg: Registry, account_id: int) -> int:
    """Return the stored balance of account ``account_id`` (as the administrator sees it)."""
    administrator = Actor(0, Role.admin)  # the account views check the role only
    return int(reg.query("account", actor=administrator, account_id=account_id,
                         limit=1)["balance"])
