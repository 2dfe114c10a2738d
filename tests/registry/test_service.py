"""The registry's use cases on SQLite and PostgreSQL: flows, every rejection code, the
idempotency rules, and the database constraints that back the domain rules.

Deduction figures follow tests/registry/SOURCE.md: 20 % buffer (Gold Standard land use),
5 % share of proceeds and 2 % overall mitigation (Article 6.4, UNDP NCR test seed 1000 → 930/50/20).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.engine import Registry

from .conftest import (
    SUMMARY,
    World,
    assert_sound,
    attestation,
    balance,
    build_world,
    fresh_summary,
)

# The shape of `hesuan transport` summary.json (src/hesuan/transport/api.py: "standard" and
# the WTW total): a transport inventory, no use for a land-sink project.
TRANSPORT_SUMMARY = ('{"standard": "ISO 14083:2023", "factor_dataset": "desnz_ghg/2025", '
                     '"wtw_t_co2e": 12.5}')


def test_issuance_deductions_and_forwarding(world: World) -> None:
    w, reg = world, world.reg
    assert balance(reg, w.meta["buffer"]) == 200
    assert balance(reg, w.meta["levy"]) == 50
    assert balance(reg, w.meta["cancellation"]) == 20
    assert balance(reg, w.proponent_account) == 730
    assert balance(reg, w.meta["issuance"]) == 0
    iss = reg.query("issuances")[0]
    assert (iss["serial_start"], iss["serial_end"]) == (1, 1000)
    # tails go out in order: buffer 801–1000, levy 751–800, OMGE 731–750, head 1–730 forwarded
    blocks = reg.query("account", actor=w.admin, account_id=w.proponent_account)["blocks"]
    assert [(b["serial_start"], b["serial_end"]) for b in blocks] == [(1, 730)]
    assert_sound(reg)


def test_transfer_splits_head_and_tail_and_retire_extinguishes(world: World) -> None:
    w, reg = world, world.reg
    out = reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                       to_account=w.holder_account, quantity=230)
    assert [(b["serial_start"], b["serial_end"]) for b in out["blocks"]] == [(501, 730)]
    assert_sound(reg)
    ret = reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=30,
                     beneficiary="ACME", purpose="voluntary", claim_start="2024-01-01",
                     claim_end="2024-12-31", note="Scope 1 2024")
    assert [(b["serial_start"], b["serial_end"]) for b in ret["blocks"]] == [(701, 730)]
    assert "ACME" in ret["statement"] and "HSN-KE-" in ret["statement"]
    hist = reg.query("serial_history", serial="710")
    assert hist["status"] == "retired" and hist["unit_status"] == "Retired"
    assert hist["retirement"]["beneficiary"] == "ACME"
    assert [e["type"] for e in hist["events"]] == ["units_issued", "units_moved", "units_moved",
                                                   "units_moved"]
    assert balance(reg, w.holder_account) == 200
    assert balance(reg, w.meta["retirement"]) == 30
    assert_sound(reg)


def test_a_move_by_quantity_reads_its_blocks_page_by_page(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are read (and locked) a page at a time, never more than the units still to
    find: with pages of 2 then 3, moving 6 one-unit blocks takes pages of 2, 3 and 1, from
    the highest serials down, and the sender keeps its lowest block."""
    from hesuan.registry.service import tx

    monkeypatch.setattr(tx, "FIRST_PAGE_BLOCKS", 2)
    monkeypatch.setattr(tx, "PAGE_BLOCKS", 3)
    w, reg = world, world.reg
    for start in (1, 3, 5, 7, 9, 11, 13):  # seven separate one-unit blocks
        reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                     to_account=w.holder_account, quantity=1, serial_start=start,
                     serial_end=start)
    out = reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                       to_account=w.holder2_account, quantity=6)
    assert [b["serial_start"] for b in out["blocks"]] == [13, 11, 9, 7, 5, 3]
    assert balance(reg, w.holder_account) == 1 and balance(reg, w.holder2_account) == 6
    assert reg.query("serial_history", serial="1")["status"] == "held"
    with pytest.raises(RegistryRejection) as exc:  # all pages read, still short
        reg.transfer(w.holder2, w.key(), from_account=w.holder2_account,
                     to_account=w.holder_account, quantity=7)
    assert exc.value.code is Rejection.quantity_must_not_exceed_balance
    assert "holds 6 unit(s)" in exc.value.message
    assert_sound(reg)


def test_explicit_serial_range_carves_the_block(world: World) -> None:
    w, reg = world, world.reg
    reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                 to_account=w.holder_account, quantity=10, serial_start=100, serial_end=109)
    blocks = reg.query("account", actor=w.admin, account_id=w.proponent_account)["blocks"]
    assert [(b["serial_start"], b["serial_end"]) for b in blocks] == [(1, 99), (110, 730)]
    assert_sound(reg)


def test_buffer_reversal_and_cancellation(world: World) -> None:
    w, reg = world, world.reg
    reg.buffer_reversal(w.admin, w.key(), project_id=w.project_id, quantity=60, reason="fire")
    reg.cancel(w.admin, w.key(), from_account=w.proponent_account, quantity=5,
               reason="correct an over-issuance")
    assert balance(reg, w.meta["buffer"]) == 140
    assert balance(reg, w.meta["cancellation"]) == 20 + 60 + 5
    totals = reg.query("totals")["1/2024"]
    assert sum(totals.values()) == 1000
    assert_sound(reg)


def test_article_6_authorisation_and_corresponding_adjustment(world: World) -> None:
    w, reg = world, world.reg
    reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                 to_account=w.holder_account, quantity=100)
    with pytest.raises(RegistryRejection) as exc:
        reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=10,
                   beneficiary="Airline", purpose="corsia", claim_start="2024-01-01",
                   claim_end="2024-12-31")
    assert exc.value.code is Rejection.units_must_be_authorised_for_purpose
    a = reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["corsia"],
                      first_transfer="authorisation", reference="KE-LoA-1",
                      authorised_on="2025-01-10")
    reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=10,
               beneficiary="Airline", purpose="corsia", claim_start="2024-01-01",
               claim_end="2024-12-31")
    with pytest.raises(RegistryRejection) as exc:  # one step at a time, never skipped
        reg.corresponding_adjustment(w.authority, w.key(),
                                     authorisation_id=a["authorisation_id"],
                                     status="Completed", reporting_year=2025)
    assert exc.value.code is Rejection.ca_status_must_advance
    for status in ("Pending", "Completed"):
        reg.corresponding_adjustment(w.authority, w.key(),
                                     authorisation_id=a["authorisation_id"], status=status,
                                     reporting_year=2025)
    with pytest.raises(RegistryRejection) as exc:  # never backwards
        reg.corresponding_adjustment(w.authority, w.key(),
                                     authorisation_id=a["authorisation_id"],
                                     status="Pending", reporting_year=2025)
    assert exc.value.code is Rejection.ca_status_must_advance
    iss = reg.query("issuances")[0]
    assert (iss["ca_declaration"], iss["ca_status"], iss["uses"]) == \
        ("Committed", "Completed", "corsia")
    assert_sound(reg)


def test_idempotency_once_mismatch_and_failed_stays_failed(world: World) -> None:
    w, reg = world, world.reg
    args = dict(from_account=w.proponent_account, to_account=w.holder_account, quantity=10)
    first = reg.transfer(w.proponent, "k-1", **args)
    again = reg.transfer(w.proponent, "k-1", **args)
    assert again["blocks"] == first["blocks"] and again["idempotent_replay"]
    assert balance(reg, w.holder_account) == 10
    with pytest.raises(RegistryRejection) as exc:
        reg.transfer(w.proponent, "k-1", **{**args, "quantity": 11})
    assert exc.value.code is Rejection.idempotency_key_must_match_payload
    with pytest.raises(RegistryRejection) as exc:
        reg.transfer(w.holder, "k-2", from_account=w.holder_account,
                     to_account=w.holder2_account, quantity=50)
    assert exc.value.code is Rejection.quantity_must_not_exceed_balance
    reg.transfer(w.proponent, w.key(), **{**args, "quantity": 100})  # now 110 available
    with pytest.raises(RegistryRejection) as exc:  # the failed key stays failed
        reg.transfer(w.holder, "k-2", from_account=w.holder_account,
                     to_account=w.holder2_account, quantity=50)
    assert exc.value.code is Rejection.quantity_must_not_exceed_balance
    with pytest.raises(RegistryRejection) as exc:
        reg.transfer(w.holder, None, from_account=w.holder_account,
                     to_account=w.holder2_account, quantity=5)
    assert exc.value.code is Rejection.idempotency_key_must_be_given
    assert_sound(reg)


def _units(text: str) -> int:
    return int(json.loads(text)["removals"]["net_creditable_units"])


def _other_methodology() -> str:
    """A sealed quantification report of AR-ACM0003@02.0 (the world's project is under
    CCER-14-001@V01)."""
    from hesuan.quantification.check import parse_report
    from hesuan.quantification.report import sealed, to_json

    rep = parse_report(fresh_summary())
    return to_json(sealed(rep.model_copy(update={
        "methodology_id": "AR-ACM0003", "methodology_version": "02.0",
        "methodology_key": "AR-ACM0003@02.0"})))


def _registered(w: World, methodology_id: str, version: str) -> int:
    """A new registered project of the world's proponent under the given methodology."""
    pid = int(_project(w, methodology_id, version)["project_id"])
    w.reg.transition_project(w.verifier, w.key(), project_id=pid, status="validated")
    w.reg.transition_project(w.admin, w.key(), project_id=pid, status="registered")
    return pid


def _other_report(w: World) -> int:
    rep = w.reg.submit_report(w.proponent, w.key(), project_id=w.project_id,
                              period_start="2025-01-01", period_end="2025-12-31",
                              reported_quantity=100, quantification=fresh_summary())
    return int(rep["report_id"])


def _retire(w: World, **kw: Any) -> Callable[[], Any]:
    args = dict(from_account=w.holder_account, quantity=1, beneficiary="B", purpose="voluntary",
                claim_start="2024-01-01", claim_end="2024-12-31") | kw
    return lambda: w.reg.retire(w.holder, w.key(), **args)


def _cases(w: World) -> list[tuple[Rejection, Callable[[], Any]]]:
    r = w.reg
    tr = dict(from_account=w.proponent_account, to_account=w.holder_account, quantity=1)
    project = dict(name="X", methodology_id="AR-AMS0007", methodology_version="03.1",
                   host_country="KE",
                   host_region="R", sector="S", crediting_start="2020-01-01",
                   crediting_end="2030-12-31")
    return [
        (Rejection.token_must_be_valid, lambda: r.authenticate("nope")),
        (Rejection.role_must_permit_operation,
         lambda: r.issue(w.holder, w.key(), report_id=w.report_id, quantity=1)),
        (Rejection.account_must_belong_to_actor,
         lambda: r.transfer(w.holder, w.key(), **tr)),
        (Rejection.authority_must_be_of_host_country,
         lambda: r.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                             first_transfer="issuance", reference="x",
                             authorised_on="2025-01-01")
         if _set_country(w, "TZ") else None),
        (Rejection.party_must_exist, lambda: r.open_account(w.admin, w.key(), party_id=999)),
        (Rejection.account_must_exist,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "to_account": 999})),
        (Rejection.project_must_exist,
         lambda: r.transition_project(w.admin, w.key(), project_id=999, status="suspended")),
        (Rejection.report_must_exist,
         lambda: r.verify_report(w.verifier, w.key(), report_id=999, verified_quantity=1)),
        (Rejection.issuance_must_exist,
         lambda: r.authorise(w.authority, w.key(), issuance_id=999, uses=["ndc"],
                             first_transfer="issuance", reference="x",
                             authorised_on="2025-01-01")),
        (Rejection.authorisation_must_exist,
         lambda: r.corresponding_adjustment(w.authority, w.key(), authorisation_id=999,
                                            status="Pending", reporting_year=2025)),
        (Rejection.serial_must_exist, lambda: r.query("serial_history", serial="999999")),
        (Rejection.document_must_exist, lambda: r.query("document", sha256="0" * 64)),
        (Rejection.retirement_must_exist, lambda: r.query("retirement", retirement_id=9)),
        (Rejection.quantity_must_be_positive,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "quantity": -5})),
        (Rejection.period_must_be_ordered,
         lambda: r.create_project(w.proponent, w.key(), **{**project,
                                                           "crediting_end": "2019-01-01"})),
        (Rejection.serial_must_be_well_formed,
         lambda: r.query("serial_history", serial="HSN-KE-1-2024-1-10-00")),
        (Rejection.methodology_must_be_in_library,
         lambda: r.create_project(w.proponent, w.key(), **{**project,
                                                           "methodology_id": "VM0048"})),
        (Rejection.methodology_must_permit_crediting,
         lambda: r.create_project(w.proponent, w.key(), **{**project,
                                                           "methodology_id": "ISO 14083",
                                                           "methodology_version": "2023"})),
        (Rejection.quantification_must_fit_methodology,
         lambda: r.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                 period_start="2025-01-01", period_end="2025-12-31",
                                 reported_quantity=1, quantification=_other_methodology())),
        (Rejection.methodology_must_have_quantification_module,
         lambda: r.submit_report(w.proponent, w.key(), project_id=_registered(w, "VM0047",
                                                                              "1.1"),
                                 period_start="2025-01-01", period_end="2025-12-31",
                                 reported_quantity=1, quantification=fresh_summary())),
        (Rejection.percentage_must_lie_in_0_100,
         lambda: r.create_project(w.proponent, w.key(), **project, buffer_pct="120")),
        (Rejection.registry_must_be_initialised_once, lambda: r.bootstrap()),
        (Rejection.project_transition_must_be_allowed,
         lambda: r.transition_project(w.admin, w.key(), project_id=w.project_id,
                                      status="validated")),
        (Rejection.project_must_be_registered,
         lambda: (r.transition_project(w.admin, w.key(), project_id=w.project_id,
                                       status="suspended"), _other_report(w))),
        (Rejection.report_period_must_lie_in_crediting_period,
         lambda: r.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                 period_start="2019-01-01", period_end="2019-12-31",
                                 reported_quantity=1, quantification=SUMMARY)),
        (Rejection.reported_quantity_must_not_exceed_quantification,
         lambda: r.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                 period_start="2025-01-01", period_end="2025-12-31",
                                 reported_quantity=_units(SUMMARY) + 1,
                                 quantification=SUMMARY)),
        (Rejection.report_must_await_verification,
         lambda: r.verify_report(w.verifier, w.key(), report_id=w.report_id,
                                 verified_quantity=1)),
        (Rejection.verified_quantity_must_not_exceed_reported,
         lambda: r.verify_report(w.verifier, w.key(), report_id=_other_report(w),
                                 verified_quantity=101)),
        (Rejection.report_must_be_verified,
         lambda: r.issue(w.admin, w.key(), report_id=_other_report(w), quantity=1)),
        (Rejection.issuance_must_not_exceed_verified_quantity,
         lambda: r.issue(w.admin, w.key(), report_id=w.report_id, quantity=3001)),
        (Rejection.vintage_must_lie_in_monitoring_period,
         lambda: r.issue(w.admin, w.key(), report_id=w.report_id, quantity=1, vintage=2023)),
        (Rejection.deductions_must_not_exceed_issuance,
         lambda: r.issue(w.admin, w.key(), report_id=_verified_report_at_buffer(w, "99"),
                         quantity=1)),
        (Rejection.accounts_must_be_different,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "to_account": w.proponent_account})),
        (Rejection.account_kind_must_permit_operation,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "to_account": w.meta["buffer"]})),
        (Rejection.serial_range_must_lie_in_one_held_block,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "quantity": 2, "serial_start": 729,
                                                     "serial_end": 730 + 1})),
        (Rejection.quantity_must_not_exceed_balance,
         lambda: r.transfer(w.proponent, w.key(), **{**tr, "quantity": 731})),
        (Rejection.retired_or_cancelled_units_must_not_move,
         lambda: r.cancel(w.admin, w.key(), from_account=w.meta["cancellation"], quantity=1,
                          reason="x")),
        (Rejection.units_must_be_authorised_for_purpose,
         lambda: (r.transfer(w.proponent, w.key(), **tr), _retire(w, purpose="ndc")())),
        (Rejection.claim_period_must_be_ordered,
         _retire(w, claim_start="2025-01-01", claim_end="2024-01-01")),
        (Rejection.issuance_must_not_be_authorised_twice,
         lambda: [r.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                              first_transfer="issuance", reference="x",
                              authorised_on="2025-01-01") for _ in range(2)]),
        (Rejection.page_limit_must_lie_in_1_500, lambda: r.query("projects", limit=501)),
        (Rejection.quantification_must_match_report_schema,
         lambda: r.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                 period_start="2025-01-01", period_end="2025-12-31",
                                 reported_quantity=1, quantification=TRANSPORT_SUMMARY)),
        (Rejection.quantification_must_be_json_object,
         lambda: r.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                 period_start="2025-01-01", period_end="2025-12-31",
                                 reported_quantity=1, quantification="[]")),
        (Rejection.ca_status_must_advance,
         lambda: [r.corresponding_adjustment(
             w.authority, w.key(), status="Pending", reporting_year=2025,
             authorisation_id=r.authorise(w.authority, w.key(), issuance_id=w.issuance_id,
                                          uses=["ndc"], first_transfer="issuance",
                                          reference="x", authorised_on="2025-01-01")
             ["authorisation_id"]) for _ in range(1)] and r.corresponding_adjustment(
             w.authority, w.key(), authorisation_id=1, status="Pending", reporting_year=2025)),
        (Rejection.date_must_be_iso_8601, _retire(w, claim_start="2024-13-01")),
        (Rejection.text_must_not_be_empty, _retire(w, beneficiary="  ")),
        (Rejection.verifier_must_not_be_proponent, lambda: _validate_own_project(w)),
        (Rejection.admin_role_must_stand_alone,
         lambda: r.create_party(w.admin, w.key(), name="Both", role="holder",
                                additional_roles=["admin"])),
    ]


def _validate_own_project(w: World) -> Any:
    """A party holding both the proponent and the verifier role lists a project and tries
    to validate it itself."""
    both = w.reg.create_party(w.admin, w.key(), name="Proponent and verifier",
                              role="proponent", additional_roles=["verifier"])
    actor = w.reg.authenticate(both["token"])
    pid = w.reg.create_project(actor, w.key(), name="Own", methodology_id="VM0047",
                               methodology_version="1.1", host_country="KE",
                               host_region="Nakuru", sector="AFOLU",
                               crediting_start="2020-01-01",
                               crediting_end="2039-12-31")["project_id"]
    return w.reg.transition_project(actor, w.key(), project_id=pid, status="validated")


def _set(w: World, stmt: Any) -> bool:
    with w.reg.engine.begin() as conn:
        conn.execute(stmt)
    return True


def _set_country(w: World, country: str) -> bool:
    w.authority = type(w.authority)(w.authority.party_id, w.authority.role, country)
    return True


def _verified_report_at_buffer(w: World, pct: str) -> int:
    """A verified report of a new registered project whose buffer share is ``pct`` [%]."""
    r = w.reg
    pid = r.create_project(w.proponent, w.key(), name="High risk",
                           methodology_id="CCER-14-001", methodology_version="V01",
                           host_country="KE", host_region="Nakuru",
                           sector="AFOLU", crediting_start="2020-01-01",
                           crediting_end="2039-12-31", buffer_pct=pct)["project_id"]
    r.transition_project(w.verifier, w.key(), project_id=pid, status="validated")
    r.transition_project(w.admin, w.key(), project_id=pid, status="registered")
    text = fresh_summary()
    rid = r.submit_report(w.proponent, w.key(), project_id=pid, period_start="2025-01-01",
                          period_end="2025-12-31", reported_quantity=10,
                          quantification=text)["report_id"]
    r.verify_report(w.verifier, w.key(), report_id=rid, verified_quantity=10,
                    attestation=attestation(text, 10))
    return int(rid)


CODES_WITHOUT_SERVICE_CASE = {
    # checked by the API layer (deps/route) — tested in test_api.py
    Rejection.idempotency_key_must_be_given,      # tested in test_idempotency_… above
    Rejection.idempotency_key_must_match_payload,  # tested in test_idempotency_… above
    Rejection.quantity_must_span_at_most_10000_blocks,  # needs 10 001 blocks: test_limits
    Rejection.document_must_fit_size_limit,        # 20 MiB document: test_limits
    # quantification reports and attestations: tests/quantification/test_registry_rules.py
    # (each on SQLite and PostgreSQL)
    Rejection.methodology_version_must_be_current,
    Rejection.quantification_must_match_report_schema,
    Rejection.quantification_hash_must_match_content,
    Rejection.quantification_must_show_net_removal,
    Rejection.quantification_period_must_cover_report_period,
    Rejection.quantification_must_back_one_report,
    Rejection.verifier_must_be_accredited_for_sector,
    Rejection.attestation_must_be_given,
    Rejection.attestation_signature_must_verify,
    Rejection.attestation_must_match_report,
    Rejection.report_must_carry_signed_attestation,
    Rejection.issuance_must_not_exceed_vintage_units,
    Rejection.public_key_must_be_ed25519,
    # a party's own API tokens: tests/registry/test_tokens.py (each on SQLite and PostgreSQL)
    Rejection.token_must_exist,
    Rejection.token_must_belong_to_actor,
    Rejection.token_must_not_be_revoked,
    Rejection.token_lifetime_must_lie_in_1_3650_days,
    Rejection.token_label_must_fit_100_characters,
    # other registries' exports and the double-issuance check: tests/registry/test_foreign.py
    # (each on SQLite and PostgreSQL)
    Rejection.foreign_registry_must_not_be_this_registry,
    Rejection.foreign_export_must_be_readable,
    # ITMOs acquired from another registry: tests/registry/test_foreign_itmos.py::test_refusals
    # (each on SQLite and PostgreSQL)
    Rejection.foreign_itmos_must_not_overlap_recorded_ones,
    Rejection.foreign_itmos_must_reach_a_holder_of_another_party,
    Rejection.foreign_itmos_must_not_be_acquired_in_the_future,
    # the Party ITMO registry ID: test_foreign_itmos.py::test_itmo_registry_id_refusals
    Rejection.itmo_registry_id_must_be_set_once,
    Rejection.itmo_registry_id_must_be_well_formed,
    Rejection.issuance_must_not_duplicate_foreign_issuance,
    # roles granted and revoked after a party's creation: tests/registry/test_roles.py
    # (each on SQLite and PostgreSQL)
    Rejection.role_must_be_known,
    Rejection.role_must_not_be_held,
    Rejection.role_must_be_held,
    Rejection.party_must_keep_a_role,
}


@pytest.fixture
def sqlite_world(tmp_path: Any) -> Any:
    reg = Registry.open(f"sqlite:///{tmp_path / 'r.db'}", pool_size=2)
    yield build_world(reg)
    reg.close()


@pytest.mark.parametrize("index", range(47))
def test_every_rejection_code_is_triggered(sqlite_world: World, index: int) -> None:
    # The rules are service logic, identical on both databases (one SQLite world per case
    # keeps the suite fast); database-specific behaviour is tested on both below.
    world = sqlite_world
    cases = _cases(world)
    assert {c for c, _ in cases} | CODES_WITHOUT_SERVICE_CASE == set(Rejection)
    code, run = cases[index]
    with pytest.raises(RegistryRejection) as exc:
        run()
    assert exc.value.code is code, exc.value
    assert exc.value.message
    with world.reg.read() as s, s.begin():
        blocks_after = s.execute(select(t.blocks)).all()
    assert sum(b.serial_end - b.serial_start + 1 for b in blocks_after) == 1000
    assert_sound(world.reg)


def test_rejections_are_checked_in_order(world: World) -> None:
    # a request breaking several rules gets the first rule of the documented order
    w = world
    with pytest.raises(RegistryRejection) as exc:
        w.reg.transfer(w.holder, w.key(), from_account=w.proponent_account,
                       to_account=w.proponent_account, quantity=0)
    assert exc.value.code is Rejection.quantity_must_be_positive
    with pytest.raises(RegistryRejection) as exc:
        w.reg.transfer(w.holder, w.key(), from_account=w.proponent_account,
                       to_account=w.proponent_account, quantity=1)
    assert exc.value.code is Rejection.accounts_must_be_different


def test_database_refuses_what_a_missed_lock_could_do(world: World) -> None:
    """Constraints and triggers hold even when the service is bypassed."""
    reg = world.reg
    attacks = [
        # a second block sharing serials with an existing one (exclusion / trigger)
        insert(t.blocks).values(serial_start=500, serial_end=1200, account_id=1, project_id=1,
                                vintage=2024, issuance_id=1, status="held"),
        insert(t.blocks).values(serial_start=5, serial_end=5, account_id=1, project_id=1,
                                vintage=2024, issuance_id=1, status="held"),
        # a negative balance
        update(t.accounts).where(t.accounts.c.id == world.holder_account).values(balance=-1),
        # retired/cancelled units moving (trigger)
        update(t.blocks).where(t.blocks.c.status == "cancelled").values(
            account_id=world.holder_account, status="held"),
        # editing or deleting history
        update(t.events).where(t.events.c.seq == 1).values(type="x"),
        t.events.delete().where(t.events.c.seq == 2),
        # issuing more than verified
        update(t.reports).values(issued_quantity=10_000),
    ]
    for stmt in attacks:
        with pytest.raises(DBAPIError), reg.engine.begin() as conn:
            conn.execute(stmt)
    assert_sound(reg)


def test_limits(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from hesuan.registry.service import parties, tx

    monkeypatch.setattr(tx, "MAX_BLOCKS_PER_OPERATION", 2)
    w = world
    for start in (1, 3, 5):
        w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                       to_account=w.holder_account, quantity=1, serial_start=start,
                       serial_end=start)
    with pytest.raises(RegistryRejection) as exc:
        w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                       to_account=w.holder2_account, quantity=3)
    assert exc.value.code is Rejection.quantity_must_span_at_most_10000_blocks
    monkeypatch.setattr(parties, "MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(RegistryRejection) as exc:
        w.reg.add_document(w.proponent, w.key(), project_id=w.project_id, name="pdd",
                           kind="pdd", content=b"x" * 11)
    assert exc.value.code is Rejection.document_must_fit_size_limit
    doc = w.reg.add_document(w.proponent, w.key(), project_id=w.project_id, name="pdd",
                             kind="pdd", content=b"hello")
    assert doc["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert w.reg.query("document", sha256=doc["sha256"]) == b"hello"
    assert_sound(w.reg)


def test_schema_matches_tables(registry: Registry) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import MetaData

    from hesuan.registry.db.engine import HEAD_REVISION, MIGRATIONS
    from hesuan.registry.transparency import store

    every = MetaData()  # the state tables and the transparency log's
    for table in [*t.metadata.tables.values(), *store.metadata.tables.values()]:
        table.to_metadata(every)
    with registry.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), every)
    assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []
    with registry.engine.connect() as conn:
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    assert head == HEAD_REVISION  # the constant that lets a current database skip Alembic


# --------------------------------------------------------------------------- methodologies


def _project(w: World, methodology_id: str, version: str) -> dict[str, Any]:
    return w.reg.create_project(w.proponent, w.key(), name="Sink", host_country="KE",
                                methodology_id=methodology_id, methodology_version=version,
                                host_region="Nakuru", sector="AFOLU",
                                crediting_start="2024-01-01", crediting_end="2033-12-31")


def test_project_stores_the_catalogue_spelling_of_its_methodology(world: World) -> None:
    w = world
    pid = _project(w, " ccer 14 001 v01 ", "v1")["project_id"]   # an alias, loosely spelt
    project = w.reg.query("project", project_id=pid)
    assert (project["methodology_id"], project["methodology_version"]) == ("CCER-14-001", "V01")
    with w.reg.read() as s, s.begin():
        event = s.execute(select(t.events).where(t.events.c.type == "project_listed")
                          .order_by(t.events.c.seq.desc())).first()
    assert event is not None
    payload = json.loads(event.payload)
    assert (payload["methodology_id"], payload["methodology_version"]) == ("CCER-14-001", "V01")
    assert_sound(w.reg)


def test_unknown_methodology_is_refused_with_the_near_ones(world: World) -> None:
    with pytest.raises(RegistryRejection) as exc:
        _project(world, "AR-ACM003", "02.0")
    assert exc.value.code is Rejection.methodology_must_be_in_library
    assert "AR-ACM0003" in exc.value.message and "did you mean" in exc.value.message
    with pytest.raises(RegistryRejection) as exc:
        _project(world, "VM0047", "2.0")        # the id exists, the version does not
    assert exc.value.code is Rejection.methodology_must_be_in_library
    assert "VM0047@1.0" in exc.value.message and "VM0047@1.1" in exc.value.message


def test_superseded_version_is_refused_for_new_projects_inventory_standard_too(
        world: World) -> None:
    # New projects must use a methodology's current version (VM0047 v1.1 supersedes v1.0);
    # existing projects keep theirs until renewal.
    with pytest.raises(RegistryRejection) as exc:
        _project(world, "VM0047", "1.0")
    assert exc.value.code is Rejection.methodology_version_must_be_current
    assert "VM0047@1.1" in exc.value.message
    with pytest.raises(RegistryRejection) as exc:
        _project(world, "ISO-14083", "2023")
    assert exc.value.code is Rejection.methodology_must_permit_crediting
    assert "inventory" in exc.value.message


def _report_count(w: World) -> int:
    with w.reg.read() as s, s.begin():
        return len(s.execute(select(t.reports.c.id)).all())


def test_monitoring_reports_carry_only_quantification_reports(world: World) -> None:
    """A project whose methodology has no quantification module (the land-summary stand-in
    hesuan-land-carbon-stock-change, VM0047) can be registered, but a monitoring report for
    it is refused with the named rejection — whatever it carries, a land summary or even a
    quantification report; a project under CCER-14-001@V01 refuses a land or transport
    summary (not the report schema) and accepts its quantification report. Nothing is
    stored on a refusal."""
    w = world
    land = '{"factor_dataset": "user table", "sequestration_t_co2e": 812.9}'
    for methodology in (("hesuan-land-carbon-stock-change", "1"), ("VM0047", "1.1")):
        pid = _registered(w, *methodology)
        assert w.reg.query("project", project_id=pid)["status"] == "registered"
        for doc in (land, TRANSPORT_SUMMARY, fresh_summary()):
            with pytest.raises(RegistryRejection) as exc:
                w.reg.submit_report(w.proponent, w.key(), project_id=pid,
                                    period_start="2024-01-01", period_end="2024-12-31",
                                    reported_quantity=1, quantification=doc)
            assert exc.value.code is Rejection.methodology_must_have_quantification_module
            assert f"{methodology[0]}@{methodology[1]}" in exc.value.message
    reports_before = _report_count(w)
    for doc in (land, TRANSPORT_SUMMARY, SUMMARY.replace('"schema_id"', '"schema"')):
        with pytest.raises(RegistryRejection) as exc:
            w.reg.submit_report(w.proponent, w.key(), project_id=w.project_id,
                                period_start="2024-01-01", period_end="2024-12-31",
                                reported_quantity=1, quantification=doc)
        assert exc.value.code is Rejection.quantification_must_match_report_schema
    assert _report_count(w) == reports_before
    rep = w.reg.submit_report(w.proponent, w.key(), project_id=w.project_id,
                              period_start="2024-01-01", period_end="2024-12-31",
                              reported_quantity=1, quantification=fresh_summary())
    assert rep["status"] == "submitted" and rep["quantification_report_sha256"]
    assert_sound(w.reg)


def test_the_current_catalogue_decides_which_methodologies_have_a_module(world: World) -> None:
    """The registry reads the newest catalogue (methodologies@2026-12-07, whose ``module``
    column replaced the summary columns): every active crediting record naming no module
    (AR-AMS0007, VM0047@1.1, hesuan-land-carbon-stock-change) registers, and its monitoring
    report is refused with ``methodology_must_have_quantification_module`` even when it
    carries a sealed quantification report; nothing is stored."""
    from hesuan.standards import load_methodologies

    w = world
    catalogue = load_methodologies()
    assert catalogue.info.key == "methodologies@2026-12-07"
    without = [r for r in catalogue if r.crediting and r.status == "active" and not r.module]
    assert {"AR-AMS0007@03.1", "VM0047@1.1"} <= {r.key for r in without}
    before = _report_count(w)
    for record in without:
        pid = _registered(w, record.id, record.version)
        with pytest.raises(RegistryRejection) as exc:
            w.reg.submit_report(w.proponent, w.key(), project_id=pid,
                                period_start="2024-01-01", period_end="2024-12-31",
                                reported_quantity=1, quantification=fresh_summary())
        assert exc.value.code is Rejection.methodology_must_have_quantification_module
        assert record.key in exc.value.message
    assert _report_count(w) == before


@pytest.mark.parametrize("authorise", [False, True])
def test_serial_history_at_block_and_issuance_boundaries(world: World, authorise: bool) -> None:
    """The block found for a serial is the one whose range holds it, at every edge of the
    blocks a carve leaves (head, carved range, tail) and of two adjacent issuances; its
    events are exactly those whose recorded range contains the serial (the containment
    condition evaluated over the whole journal)."""
    w, reg = world, world.reg
    second = reg.issue(w.admin, w.key(), report_id=w.report_id, quantity=500)  # 1001–1500
    if authorise:  # an event recording the whole first issuance's range, 1–1000
        reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                      first_transfer="issuance", reference="KE-NDC-1",
                      authorised_on="2025-01-01")
    reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                 to_account=w.holder_account, quantity=10, serial_start=100, serial_end=109)
    reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                 to_account=w.holder2_account, quantity=1, serial_start=1001, serial_end=1001)
    expected_block = {1: (1, 99), 99: (1, 99), 100: (100, 109), 109: (100, 109),
                      110: (110, 730), 730: (110, 730), 731: (731, 750), 1000: (801, 1000),
                      1001: (1001, 1001), 1002: (1002, 1365), 1500: (1401, 1500)}
    with reg.read() as s, s.begin():
        journal = s.execute(select(t.events.c.seq, t.events.c.serial_start,
                                   t.events.c.serial_end)
                            .where(t.events.c.serial_start.is_not(None))).all()
    for n, (start, end) in expected_block.items():
        hist = reg.query("serial_history", serial=str(n))
        assert (hist["serial_start"], hist["serial_end"]) == (start, end), n
        assert hist["issuance_id"] == (w.issuance_id if n <= 1000 else second["issuance_id"])
        containing = [seq for seq, a, b in sorted(journal) if a <= n <= b]
        assert [e["seq"] for e in hist["events"]] == containing, n
        assert ("units_authorised" in [e["type"] for e in hist["events"]]) is (
            authorise and n <= 1000)
    for n in (0, 1501):  # below the first and past the last issued serial
        with pytest.raises(RegistryRejection) as exc:
            reg.query("serial_history", serial=str(n))
        assert exc.value.code is Rejection.serial_must_exist
    assert_sound(reg)
