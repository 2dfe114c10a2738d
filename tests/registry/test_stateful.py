"""A Hypothesis state machine drives random sequences of every operation and checks, after
each step, every invariant (``Registry.verify``: chain, replay, conservation, disjoint
blocks, balances) and the balances of an independent model."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import Rounding, deductions
from hesuan.registry.engine import Registry

from .conftest import World, balance, build_world

HOLDERS = ("proponent", "holder", "holder2")


class RegistryMachine(RuleBasedStateMachine):
    url_factory = None  # set per backend

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        url = type(self).url_factory(self.tmp)  # type: ignore[misc]
        self.reg = Registry.open(url, pool_size=2)
        self.w: World = build_world(self.reg, issue_quantity=100)
        self.held = {"proponent": 73, "holder": 0, "holder2": 0}
        self.buffer, self.retired, self.cancelled, self.levy = 20, 0, 2, 5
        self.issued = 100
        self.last: tuple | None = None

    def teardown(self) -> None:
        self.reg.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _acc(self, who: str) -> int:
        return {"proponent": self.w.proponent_account, "holder": self.w.holder_account,
                "holder2": self.w.holder2_account}[who]

    def _actor(self, who: str):  # type: ignore[no-untyped-def]
        return getattr(self.w, who)

    @rule(q=st.integers(20, 400))  # ≥ 20: each rounded-up deduction fits
    def issue(self, q: int) -> None:
        key = uuid.uuid4().hex
        if self.issued + q > 4000:
            with pytest.raises(RegistryRejection) as exc:
                self.reg.issue(self.w.admin, key, report_id=self.w.report_id, quantity=q)
            assert exc.value.code is Rejection.issuance_must_not_exceed_verified_quantity
            return
        self.reg.issue(self.w.admin, key, report_id=self.w.report_id, quantity=q)
        d = deductions(q, buffer_pct=Decimal(20), share_of_proceeds_pct=Decimal(5),
                       overall_mitigation_pct=Decimal(2), rounding=Rounding.up)
        self.issued += q
        self.buffer += d.buffer
        self.levy += d.share_of_proceeds
        self.cancelled += d.overall_mitigation
        self.held["proponent"] += d.forwarded

    @rule(src=st.sampled_from(HOLDERS), dst=st.sampled_from(HOLDERS), q=st.integers(1, 120),
          by_range=st.booleans())
    def transfer(self, src: str, dst: str, q: int, by_range: bool) -> None:
        key = uuid.uuid4().hex
        args: dict = dict(from_account=self._acc(src), to_account=self._acc(dst), quantity=q)
        if by_range:
            blocks = self.reg.query("account", actor=self.w.admin, account_id=self._acc(src),
                                    limit=1)["blocks"]
            if blocks:
                b = blocks[0]
                args |= {"serial_start": b["serial_start"],
                         "serial_end": b["serial_start"] + q - 1}
        ok = src != dst and q <= self.held[src] and (
            not by_range or "serial_start" not in args
            or args["serial_end"] <= blocks[0]["serial_end"])
        if ok:
            self.reg.transfer(self._actor(src), key, **args)
            self.held[src] -= q
            self.held[dst] += q
            self.last = (src, key, args)
        else:
            with pytest.raises(RegistryRejection):
                self.reg.transfer(self._actor(src), key, **args)

    @rule(src=st.sampled_from(HOLDERS), q=st.integers(1, 60))
    def retire(self, src: str, q: int) -> None:
        args = dict(from_account=self._acc(src), quantity=q, beneficiary="B",
                    purpose="voluntary", claim_start="2024-01-01", claim_end="2024-12-31")
        if q <= self.held[src]:
            self.reg.retire(self._actor(src), uuid.uuid4().hex, **args)
            self.held[src] -= q
            self.retired += q
        else:
            with pytest.raises(RegistryRejection) as exc:
                self.reg.retire(self._actor(src), uuid.uuid4().hex, **args)
            assert exc.value.code is Rejection.quantity_must_not_exceed_balance

    @rule(src=st.sampled_from(HOLDERS), q=st.integers(1, 30))
    def cancel(self, src: str, q: int) -> None:
        if q <= self.held[src]:
            self.reg.cancel(self.w.admin, uuid.uuid4().hex, from_account=self._acc(src),
                            quantity=q, reason="correction")
            self.held[src] -= q
            self.cancelled += q

    @rule(q=st.integers(1, 30))
    def buffer_reversal(self, q: int) -> None:
        if q <= self.buffer:
            self.reg.buffer_reversal(self.w.admin, uuid.uuid4().hex,
                                     project_id=self.w.project_id, quantity=q, reason="loss")
            self.buffer -= q
            self.cancelled += q

    @rule()
    def retry_last_transfer(self) -> None:
        if self.last is not None:  # a retry has its effect once
            src, key, args = self.last
            out = self.reg.transfer(self._actor(src), key, **args)
            assert out.get("idempotent_replay")

    @rule(thief=st.sampled_from(HOLDERS), victim=st.sampled_from(HOLDERS))
    def steal(self, thief: str, victim: str) -> None:
        if thief != victim:
            with pytest.raises(RegistryRejection) as exc:
                self.reg.transfer(self._actor(thief), uuid.uuid4().hex,
                                  from_account=self._acc(victim), to_account=self._acc(thief),
                                  quantity=1)
            assert exc.value.code is Rejection.account_must_belong_to_actor

    @invariant()
    def ledger_is_sound(self) -> None:
        report = self.reg.verify()
        assert report["ok"], report["problems"]
        # every refusal came before its request's first write: no batch had to be undone
        assert self.reg.undone_batches == 0
        for who in HOLDERS:
            assert balance(self.reg, self._acc(who)) == self.held[who]
        assert balance(self.reg, self.w.meta["buffer"]) == self.buffer
        assert balance(self.reg, self.w.meta["retirement"]) == self.retired
        assert balance(self.reg, self.w.meta["cancellation"]) == self.cancelled
        assert balance(self.reg, self.w.meta["levy"]) == self.levy
        assert report["units_issued"] == self.issued == (
            sum(self.held.values()) + self.buffer + self.retired + self.cancelled + self.levy)


def _sqlite_url(tmp: str) -> str:
    return f"sqlite:///{tmp}/r.db"


class SQLiteMachine(RegistryMachine):
    url_factory = staticmethod(_sqlite_url)


TestSQLiteRegistry = SQLiteMachine.TestCase
# No shrinking phase: it replays whole registries and can run for minutes; a failure still
# prints its full step list.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
TestSQLiteRegistry.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                                       phases=PHASES, suppress_health_check=list(HealthCheck))


@pytest.mark.postgres
def test_postgres_state_machine(pg_database: str) -> None:
    import psycopg
    from hypothesis.stateful import run_state_machine_as_test

    def url(_tmp: str) -> str:
        schema = f"s_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{pg_database}?options=-csearch_path%3D{schema}"

    class PGMachine(RegistryMachine):
        url_factory = staticmethod(url)

    run_state_machine_as_test(PGMachine, settings=settings(
        max_examples=3, stateful_step_count=12, deadline=None, phases=PHASES,
        suppress_health_check=list(HealthCheck)))
