"""The registry and quantification reports: acceptance rules, signed attestations, issuance per
vintage with the buffer — each rule on SQLite and PostgreSQL, and two reports racing for one
quantification file.

Rounding rule checked by the property test: a period's net creditable removals become whole
units by rounding down (floor); at issuance the buffer is rounded up from the gross quantity
and the rest is forwarded, so issued-to-proponent + buffer = the vintage's units exactly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from hesuan.quantification import quantify, to_json
from hesuan.quantification.attestation import attest, new_key
from hesuan.quantification.report import QuantificationReport
from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import Rounding, deductions
from hesuan.registry.engine import Actor, Registry
from registry.conftest import assert_sound


@dataclass
class Chain:
    reg: Registry
    admin: Actor
    proponent: Actor
    verifier: Actor
    verifier2: Actor
    project_id: int
    key: bytes
    key2: bytes
    reports: list[QuantificationReport]
    texts: list[str]
    n: list[int]

    def k(self) -> str:
        self.n[0] += 1
        return f"k{self.n[0]}"

    def submit(self, i: int = 1, *, quantity: int | None = None, start: str = "2023-01-01",
               end: str = "2025-12-31", text_: str | None = None) -> dict[str, Any]:
        return self.reg.submit_report(
            self.proponent, self.k(), project_id=self.project_id, period_start=start,
            period_end=end, quantification=text_ if text_ is not None else self.texts[i],
            reported_quantity=quantity or self.reports[i].removals.net_creditable_units)

    def verify(self, report_id: int, i: int = 1, *, key: bytes | None = None,
               verifier: Actor | None = None, attestation: str | None = "sign",
               quantity: int | None = None) -> dict[str, Any]:
        q = quantity or self.reports[i].removals.net_creditable_units
        if attestation == "sign":
            attestation = attest(self.reports[i], key or self.key, verifier="EcoVerify",
                                 verified_units=q).model_dump_json()
        return self.reg.verify_report(verifier or self.verifier, self.k(), report_id=report_id,
                                      verified_quantity=q, attestation=attestation)


_REPORTS: dict[str, tuple[list[QuantificationReport], list[str]]] = {}


def _example_reports(example: Path) -> tuple[list[QuantificationReport], list[str]]:
    if "x" not in _REPORTS:
        reports = quantify(example)
        _REPORTS["x"] = (reports, [to_json(r) for r in reports])
    return _REPORTS["x"]


@pytest.fixture
def chain(registry: Registry, example: Path) -> Chain:
    reg = registry
    boot = reg.bootstrap()
    admin = reg.authenticate(boot["token"])
    actors = {}
    for name, role in (("proponent", "proponent"), ("verifier", "verifier"),
                       ("verifier2", "verifier")):
        out = reg.create_party(admin, f"p-{name}", name=name, role=role,
                               country="CN" if role == "proponent" else None)
        actors[name] = reg.authenticate(out["token"])
    pid = reg.create_project(actors["proponent"], "proj", name="Example afforestation",
                             methodology_id="CCER-14-001", methodology_version="V01",
                             host_country="CN", host_region="Hubei", sector="AFOLU",
                             crediting_start="2020-03-01", crediting_end="2049-12-31",
                             buffer_pct="20")["project_id"]
    reg.transition_project(actors["verifier"], "val", project_id=pid, status="validated")
    reg.transition_project(admin, "regi", project_id=pid, status="registered")
    key, pub = new_key()
    key2, pub2 = new_key()
    reg.accredit_verifier(admin, "acc", party_id=actors["verifier"].party_id, sector="AFOLU",
                          public_key=pub)
    reg.accredit_verifier(admin, "acc2", party_id=actors["verifier2"].party_id,
                          sector="energy", public_key=pub2)
    reports, texts = _example_reports(example)
    return Chain(reg, admin, actors["proponent"], actors["verifier"], actors["verifier2"], pid,
                 key, key2, reports, texts, [0])


def _reports_count(reg: Registry) -> int:
    with reg.read() as s, s.begin():
        return len(s.execute(select(t.reports.c.id)).all())


def test_the_chain_submit_attest_issue_per_vintage_with_buffer(chain: Chain) -> None:
    c = chain
    rep = c.submit()
    out = c.verify(rep["report_id"])
    assert out["status"] == "verified" and out["attestation_sha256"]
    units = {v.year: v.units for v in c.reports[1].vintages}
    for year, n in units.items():
        iss = c.reg.issue(c.admin, c.k(), report_id=rep["report_id"], quantity=n, vintage=year)
        # buffer 20 % rounded up, the rest forwarded: issued + buffer = the vintage's units
        assert iss["buffer_quantity"] + iss["forwarded_quantity"] == n
        assert iss["buffer_quantity"] == -(-n * 20 // 100)
    with c.reg.read() as s, s.begin():
        types = [r.type for r in s.execute(select(t.events.c.type)).all()]
    assert types.count("report_attested") == 1 and types.count("verifier_accredited") == 2
    assert types.index("report_attested") < types.index("units_issued")
    assert_sound(c.reg)


def _assert_refused(c: Chain, code: Rejection, fn: Any) -> None:
    before = _reports_count(c.reg)
    with pytest.raises(RegistryRejection) as exc:
        fn()
    assert exc.value.code is code, exc.value
    assert exc.value.message
    assert _reports_count(c.reg) == before      # nothing submitted on a refusal


def test_submission_rules(chain: Chain, example: Path) -> None:
    c = chain
    r = Rejection
    # a land summary is not a quantification report
    _assert_refused(c, r.quantification_must_match_report_schema, lambda: c.submit(
        text_='{"kind": "land", "factor_dataset": "x/1", "net_removals_t_co2e": 50}',
        quantity=1))
    # not the schema
    _assert_refused(c, r.quantification_must_match_report_schema, lambda: c.submit(
        text_='{"schema_id": "hesuan.quantification-report/1", "removals": 5}', quantity=1))
    # one changed byte: the seal breaks
    tampered = c.texts[1].replace('"net_creditable_units": ', '"net_creditable_units": 9', 1)
    _assert_refused(c, r.quantification_hash_must_match_content,
                    lambda: c.submit(text_=tampered))
    # a period the quantification does not cover
    _assert_refused(c, r.quantification_period_must_cover_report_period,
                    lambda: c.submit(start="2022-01-01"))
    # a claim above the creditable units
    units = c.reports[1].removals.net_creditable_units
    _assert_refused(c, r.reported_quantity_must_not_exceed_quantification,
                    lambda: c.submit(quantity=units + 1))
    rep = c.submit()
    # the same file, and the same report content in another file (re-run: other run time)
    _assert_refused(c, r.quantification_must_back_one_report, lambda: c.submit())
    regenerated = c.texts[1].replace(c.reports[1].generated_at, "2030-01-01T00:00:00+00:00")
    assert regenerated != c.texts[1]
    _assert_refused(c, r.quantification_must_back_one_report,
                    lambda: c.submit(text_=regenerated))
    assert rep["quantification_report_sha256"] == c.reports[1].report_sha256
    assert_sound(c.reg)


def test_report_of_another_methodology_is_refused(chain: Chain, example: Path) -> None:
    c = chain
    text_ = example.read_text(encoding="utf-8").replace(
        'methodology = "CCER-14-001"', 'methodology = "AR-ACM0003"').replace(
        'methodology_version = "V01"', 'methodology_version = "02.0"').replace(
        "[applicability]", "[applicability]\norganic_soil_disturbance_pct = 0"
        "\nrestricted_land_disturbance_pct = 0")
    example.write_text(text_, encoding="utf-8")
    other = quantify(example)[1]
    _assert_refused(c, Rejection.quantification_must_fit_methodology,
                    lambda: c.submit(text_=to_json(other),
                                     quantity=other.removals.net_creditable_units))


def test_a_net_loss_is_refused(chain: Chain, example: Path) -> None:
    import polars as pl

    c = chain
    trees = example.parent / "trees_2025.csv"
    pl.read_csv(trees).with_columns(pl.lit(2.5).alias("dbh_cm")).write_csv(trees)
    loss = quantify(example)[1]
    assert loss.removals.net_creditable_units == 0
    _assert_refused(c, Rejection.quantification_must_show_net_removal,
                    lambda: c.submit(text_=to_json(loss), quantity=1))


def test_a_methodology_without_module_registers_but_its_reports_are_refused(
        registry: Registry, example: Path) -> None:
    """VM0047 has no quantification module: a project under it is listed and registered
    (superseded v1.0 refused for a new project), but every monitoring report for it — a
    land summary, or a quantification report of another methodology — is refused with
    ``methodology_must_have_quantification_module``, and nothing is stored."""
    reg = registry
    admin = reg.authenticate(reg.bootstrap()["token"])
    prop = reg.authenticate(reg.create_party(admin, "p", name="P", role="proponent",
                                             country="KE")["token"])
    ver = reg.authenticate(reg.create_party(admin, "v", name="V", role="verifier")["token"])
    with pytest.raises(RegistryRejection) as exc:
        reg.create_project(prop, "old", name="Old", methodology_id="VM0047",
                           methodology_version="1.0", host_country="KE", host_region="N",
                           sector="AFOLU", crediting_start="2024-01-01",
                           crediting_end="2030-12-31")
    assert exc.value.code is Rejection.methodology_version_must_be_current
    pid = reg.create_project(prop, "new", name="New", methodology_id="VM0047",
                             methodology_version="1.1", host_country="KE", host_region="N",
                             sector="AFOLU", crediting_start="2022-01-01",
                             crediting_end="2030-12-31")["project_id"]
    reg.transition_project(ver, "va", project_id=pid, status="validated")
    reg.transition_project(admin, "re", project_id=pid, status="registered")
    assert reg.query("project", project_id=pid)["status"] == "registered"
    _reports, texts = _example_reports(example)
    for k, summary in enumerate((
            '{"kind": "land", "factor_dataset": "x/1", "sequestration_t_co2e": 40.5}',
            texts[1])):
        with pytest.raises(RegistryRejection) as exc:
            reg.submit_report(prop, f"s{k}", project_id=pid, period_start="2024-01-01",
                              period_end="2024-12-31", reported_quantity=1,
                              quantification=summary)
        assert exc.value.code is Rejection.methodology_must_have_quantification_module
        assert "VM0047@1.1" in exc.value.message
    assert _reports_count(reg) == 0


def test_verification_rules(chain: Chain) -> None:
    c = chain
    r = Rejection
    rid = c.submit()["report_id"]
    first = c.submit(0, start="2020-03-01", end="2022-12-31")["report_id"]
    with pytest.raises(RegistryRejection) as exc:   # accredited for energy, not AFOLU
        c.verify(rid, verifier=c.verifier2, key=c.key2)
    assert exc.value.code is r.verifier_must_be_accredited_for_sector
    for kwargs, code in (
            ({"attestation": None}, r.attestation_must_be_given),
            ({"key": c.key2}, r.attestation_signature_must_verify),      # another key
            ({"attestation": attest(c.reports[0], c.key, verifier="EcoVerify")
              .model_dump_json()}, r.attestation_must_match_report)):    # another report
        with pytest.raises(RegistryRejection) as exc:
            c.verify(rid, **kwargs)
        assert exc.value.code is code, exc.value
    signed = attest(c.reports[1], c.key, verifier="EcoVerify")
    forged = signed.model_copy(update={"verified_units": signed.verified_units + 5})
    with pytest.raises(RegistryRejection) as exc:
        c.verify(rid, attestation=forged.model_dump_json())
    assert exc.value.code is r.attestation_signature_must_verify
    with pytest.raises(RegistryRejection) as exc:
        c.reg.accredit_verifier(c.admin, c.k(), party_id=c.verifier.party_id,
                                sector="AFOLU", public_key="abc")
    assert exc.value.code is r.public_key_must_be_ed25519
    c.verify(rid)
    # issuance: above a vintage's units, and a report whose attestation went missing
    units = {v.year: v.units for v in c.reports[1].vintages}
    with pytest.raises(RegistryRejection) as exc:
        c.reg.issue(c.admin, c.k(), report_id=rid, quantity=units[2024] + 1, vintage=2024)
    assert exc.value.code is r.issuance_must_not_exceed_vintage_units
    c.verify(first, 0)
    with c.reg.engine.begin() as conn:
        conn.execute(update(t.reports).where(t.reports.c.id == first)
                     .values(attestation_sha256=None))
    c.reg.forget_tokens()
    with pytest.raises(RegistryRejection) as exc:
        c.reg.issue(c.admin, c.k(), report_id=first, quantity=1, vintage=2021)
    assert exc.value.code is r.report_must_carry_signed_attestation


@pytest.mark.parametrize("how", ["registered-second", "granted-later"])
def test_a_verifier_that_holds_another_role_is_accredited_and_attests(chain: Chain,
                                                                      how: str) -> None:
    """Every check of a verifier considers all of its roles, not the one it was registered
    with first: a party registered as a holder that also holds the verifier role (from its
    registration, or granted later by the administrator) is accredited for a sector,
    validates a project and verifies a quantification report with its signed attestation.
    Once the verifier role is revoked, its accreditation no longer lets it verify."""
    c = chain
    if how == "registered-second":
        party = c.reg.create_party(c.admin, c.k(), name="Holder and VVB", role="holder",
                                   additional_roles=["verifier"])
    else:
        party = c.reg.create_party(c.admin, c.k(), name="Holder, later VVB", role="holder")
        with pytest.raises(RegistryRejection) as exc:  # not (yet) a verifier
            c.reg.accredit_verifier(c.admin, c.k(), party_id=party["party_id"],
                                    sector="AFOLU", public_key=new_key()[1])
        assert exc.value.code is Rejection.role_must_permit_operation
        c.reg.grant_role(c.admin, c.k(), party_id=party["party_id"], role="verifier")
    both = c.reg.authenticate(party["token"])
    assert both.role.value == "holder"  # its registered role is not the verifier's
    key, pub = new_key()
    c.reg.accredit_verifier(c.admin, c.k(), party_id=both.party_id, sector="AFOLU",
                            public_key=pub)
    rid = c.submit()["report_id"]
    out = c.verify(rid, key=key, verifier=both)
    assert out["status"] == "verified" and out["attestation_sha256"]
    other = c.submit(0, start="2020-03-01", end="2022-12-31")["report_id"]
    c.reg.revoke_role(c.admin, c.k(), party_id=both.party_id, role="verifier")
    with pytest.raises(RegistryRejection) as exc:
        c.verify(other, 0, key=key, verifier=both)
    assert exc.value.code is Rejection.role_must_permit_operation
    report = c.reg.verify(full=True)
    assert report["ok"], report["problems"]


def test_two_reports_racing_for_one_quantification_file(chain: Chain) -> None:
    c = chain
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def submit(n: int) -> None:
        barrier.wait()
        try:
            results.append(c.reg.submit_report(
                c.proponent, f"race-{n}", project_id=c.project_id, period_start="2023-01-01",
                period_end="2025-12-31", quantification=c.texts[1],
                reported_quantity=c.reports[1].removals.net_creditable_units))
        except RegistryRejection as exc:
            results.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ok = [x for x in results if isinstance(x, dict)]
    refused = [x for x in results if isinstance(x, RegistryRejection)]
    assert len(ok) == 1 and len(refused) == 1
    assert refused[0].code is Rejection.quantification_must_back_one_report
    assert _reports_count(c.reg) == 1
    with c.reg.engine.connect() as conn:   # the unique index backs the rule
        n = conn.execute(text("SELECT COUNT(*) FROM reports WHERE quantification_sha256 = "
                              ":h"), {"h": ok[0]["quantification_sha256"]}).scalar()
    assert n == 1
    assert_sound(c.reg)


@given(units=st.integers(1, 10**9), pct=st.decimals(0, 100, places=2))
def test_issued_plus_buffer_equals_net_creditable_units(units: int, pct: Decimal) -> None:
    d = deductions(units, buffer_pct=pct, share_of_proceeds_pct=Decimal(0),
                   overall_mitigation_pct=Decimal(0), rounding=Rounding.up)
    assert d.forwarded + d.buffer == units
    assert d.buffer * 100 >= units * pct          # never under-deducted (rounded up)


def test_the_api_serves_the_report_schema_and_the_public_trace(chain: Chain) -> None:
    import httpx

    from hesuan.quantification.report import json_schema
    from hesuan.registry.api import create_app
    from hesuan.registry.api.inprocess import InProcessTransport

    c = chain
    rid = c.submit()["report_id"]
    c.verify(rid)
    c.reg.issue(c.admin, c.k(), report_id=rid, quantity=100, vintage=2024)
    with httpx.Client(base_url="http://registry.local",
                      transport=InProcessTransport(create_app(c.reg))) as client:
        schema = client.get("/schemas/quantification-report.json")
        assert schema.status_code == 200 and schema.json() == json_schema()
        serial = c.reg.query("issuances", project_id=c.project_id)[0]["serial_start"]
        tr = client.get(f"/serials/{serial}/trace")       # public: no token
        assert tr.status_code == 200, tr.text
        body = tr.json()
        assert body["quantification"]["report_sha256"] == c.reports[1].report_sha256
        assert body["attestation"]["signature_verifies"] is True
