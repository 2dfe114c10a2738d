"""A small registry for the web tests, built through the registry's Python API: parties, a
registered project, a verified report, an issuance of 1 000 units (buffer 20 %, share of
proceeds 5 %, overall mitigation 2 %: 200 / 50 / 20 / 730, docs/registry.md), a transfer of
300 units to a holder and a retirement of 120."""

from __future__ import annotations

from dataclasses import dataclass

from hesuan.registry.engine import Registry
from registry.conftest import VERIFIER_PUBLIC_KEY, attestation, fresh_summary


@dataclass(frozen=True)
class Seeded:
    tokens: dict[str, str]
    holder_account: int
    other_account: int
    forward_account: int
    retirement_id: int


def seed(reg: Registry) -> Seeded:
    report_text = fresh_summary()   # a quantification report of CCER-14-001@V01
    boot = reg.bootstrap(share_of_proceeds_pct="5", overall_mitigation_pct="2", rounding="up")
    admin = reg.authenticate(boot["token"])
    tokens = {"admin": boot["token"]}
    for k, (name, role, country) in enumerate([
            ("proponent", "proponent", "KE"), ("verifier", "verifier", None),
            ("holder", "holder", "DE"), ("authority", "host_authority", "KE"),
            ("other", "holder", "FR")]):
        tokens[name] = reg.create_party(admin, f"seed-party-{k}", name=f"{name.title()} Ltd",
                                        role=role, country=country)["token"]
    prop, ver, hold, other = (reg.authenticate(tokens[n])
                              for n in ("proponent", "verifier", "holder", "other"))
    proj = reg.create_project(prop, "seed-project", name="Mau Forest restoration",
                              methodology_id="CCER-14-001",
                              methodology_version="V01", host_country="KE",
                              host_region="Nakuru", sector="AFOLU",
                              crediting_start="2020-01-01", crediting_end="2039-12-31",
                              buffer_pct="20")
    pid = proj["project_id"]
    reg.transition_project(ver, "seed-validate", project_id=pid, status="validated")
    reg.transition_project(admin, "seed-register", project_id=pid, status="registered")
    rep = reg.submit_report(prop, "seed-report", project_id=pid, period_start="2024-01-01",
                            period_end="2024-12-31", reported_quantity=1200,
                            quantification=report_text)
    reg.accredit_verifier(admin, "seed-accredit", party_id=ver.party_id, sector="AFOLU",
                          public_key=VERIFIER_PUBLIC_KEY)
    reg.verify_report(ver, "seed-verify", report_id=rep["report_id"], verified_quantity=1000,
                      attestation=attestation(report_text, 1000))
    reg.issue(admin, "seed-issue", report_id=rep["report_id"], quantity=1000)
    mine = reg.open_account(hold, "seed-account", name="Holder account")
    theirs = reg.open_account(other, "seed-account-2", name="Other account")
    reg.transfer(prop, "seed-transfer", from_account=proj["forward_account_id"],
                 to_account=mine["account_id"], quantity=300)
    ret = reg.retire(hold, "seed-retire", from_account=mine["account_id"], quantity=120,
                     beneficiary="Seed passengers 2024", purpose="voluntary",
                     claim_start="2024-01-01", claim_end="2024-12-31")
    return Seeded(tokens, mine["account_id"], theirs["account_id"],
                  proj["forward_account_id"], ret["retirement_id"])
