"""Use cases that create or move units.

Issue, transfer, retire, cancel, buffer reversal, and the Article 6 records (authorisation,
corresponding adjustment).

Each function runs inside one transaction (:class:`~hesuan.registry.service.tx.Tx`), checks
its rules in the order its docstring lists, and only then writes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import (
    AccountKind,
    AuthorisedUse,
    CaStatus,
    FirstTransfer,
    ProjectStatus,
    ReportStatus,
    RetirementPurpose,
    Role,
    Rounding,
    check_ca_transition,
    deductions,
)
from hesuan.registry.domain.serials import Block, BlockSerial, format_serial
from hesuan.registry.domain.statements import non_empty, ordered_period, parse_day
from hesuan.registry.service.parties import require_role
from hesuan.registry.service.tx import Take, Tx, utc_now


def _positive(quantity: int, field: str = "quantity") -> None:
    if quantity <= 0:
        raise RegistryRejection(Rejection.quantity_must_be_positive,
                                f"{field} {quantity} must be a positive whole number of units")


def _range(serial_start: int | None, serial_end: int | None) -> Block | None:
    if serial_start is None and serial_end is None:
        return None
    if serial_start is None or serial_end is None or not (1 <= serial_start <= serial_end):
        raise RegistryRejection(Rejection.serial_range_must_lie_in_one_held_block,
                                f"serial range {serial_start}–{serial_end} must give 1 ≤ start ≤ "
                                "end")
    return Block(serial_start, serial_end)


def block_serial(tx: Tx, project_id: int, vintage: int, block: Block) -> str:
    """Return hesuan's public identifier of a block."""
    return format_serial(BlockSerial(tx.meta().registry_code, tx.host_country(project_id),
                                     project_id, vintage, block.serial_start, block.serial_end))


def _check_vintage_units(tx: Tx, report: Any, vintage: int, quantity: int) -> None:
    """Check that a report issues at most its quantification report's units of each vintage.

    The report's ``vintages``: whole units per calendar year of the monitoring period.
    """
    from hesuan.registry.domain.quantification import read_report

    content = tx.session.execute(select(t.documents.c.content).where(
        t.documents.c.sha256 == report.quantification_sha256)).scalar_one()
    units = dict(read_report(bytes(content).decode("utf-8")).vintages).get(vintage, 0)
    done = tx.session.execute(select(
        func.coalesce(func.sum(t.issuances.c.serial_end - t.issuances.c.serial_start + 1), 0))
        .where((t.issuances.c.report_id == report.id)
               & (t.issuances.c.vintage == vintage))).scalar_one()
    if done + quantity > units:
        raise RegistryRejection(
            Rejection.issuance_must_not_exceed_vintage_units,
            f"report {report.id}: {done} issued + {quantity} requested > the {units} units of "
            f"vintage {vintage} in its quantification report")


def _check_not_issued_elsewhere(tx: Tx, project: Any, vintage: int) -> None:
    """Check against double issuance across registries.

    No other registry's recorded export (:mod:`hesuan.registry.service.foreign`) holds an issuance
    of this project's external id and vintage.
    """
    if project.external_project_id is None:
        return
    found = tx.session.execute(select(t.foreign_issuances.c.registry).where(
        (t.foreign_issuances.c.external_project_id == project.external_project_id)
        & (t.foreign_issuances.c.vintage == vintage)).limit(1)).first()
    if found is not None:
        raise RegistryRejection(
            Rejection.issuance_must_not_duplicate_foreign_issuance,
            f"{found.registry} already issued units of project {project.external_project_id} "
            f"(project {project.id} here), vintage {vintage}")


def issue(tx: Tx, *, report_id: int, quantity: int,
          vintage: int | None = None) -> dict[str, Any]:
    """Issue verified units into the project's pending account, deduct, forward the rest.

    Checks, in order: role admin; quantity positive; report exists; report verified;
    project registered; issued so far + quantity ≤ verified; vintage inside the monitoring
    period; deductions ≤ quantity; (with the chain head locked) no other registry's recorded
    export issued the project's external id and vintage. Then: new serials from the
    registry's one counter, one block in the pending account, tails moved to buffer, levy
    (share of proceeds) and cancellation (overall mitigation), the head forwarded to the
    proponent.
    """
    require_role(tx, Role.admin)
    _positive(quantity)
    report = tx.get(t.reports, report_id, Rejection.report_must_exist, "report", lock=True)
    if report.status != ReportStatus.verified.value:
        raise RegistryRejection(Rejection.report_must_be_verified,
                                f"report {report_id} is {report.status}, not verified")
    project = tx.get(t.projects, report.project_id, Rejection.project_must_exist, "project")
    if project.status != ProjectStatus.registered.value:
        raise RegistryRejection(Rejection.project_must_be_registered,
                                f"project {project.id} is {project.status}, not registered")
    if report.issued_quantity + quantity > report.verified_quantity:
        raise RegistryRejection(
            Rejection.issuance_must_not_exceed_verified_quantity,
            f"report {report_id}: {report.issued_quantity} issued + {quantity} requested > "
            f"{report.verified_quantity} verified")
    if report.quantification_report_sha256 is not None and report.attestation_sha256 is None:
        raise RegistryRejection(Rejection.report_must_carry_signed_attestation,
                                f"report {report_id} has no verifier's signed attestation")
    first_year, last_year = int(report.period_start[:4]), int(report.period_end[:4])
    vintage = last_year if vintage is None else vintage
    if not first_year <= vintage <= last_year:
        raise RegistryRejection(Rejection.vintage_must_lie_in_monitoring_period,
                                f"vintage {vintage} is outside the period "
                                f"{report.period_start}–{report.period_end}")
    if report.quantification_report_sha256 is not None:
        _check_vintage_units(tx, report, vintage, quantity)
    meta = tx.meta()
    d = deductions(quantity, buffer_pct=Decimal(project.buffer_pct),
                   share_of_proceeds_pct=Decimal(meta.share_of_proceeds_pct),
                   overall_mitigation_pct=Decimal(meta.overall_mitigation_pct),
                   rounding=Rounding(meta.rounding))
    accs = tx.lock_accounts([project.issuance_account_id, meta.buffer_account_id,
                             meta.levy_account_id, meta.cancellation_account_id,
                             project.forward_account_id])
    tx.lock_meta()
    # after the chain head's lock: a concurrent import of foreign issuances is seen (or this
    # transaction is retried), never missed
    _check_not_issued_elsewhere(tx, project, vintage)
    block = Block(tx.next_serial, tx.next_serial + quantity - 1)
    tx.next_serial = block.serial_end + 1
    now = utc_now()
    iid = tx.insert_returning_id(t.issuances, {
        "report_id": report_id, "project_id": project.id, "vintage": vintage,
        "serial_start": block.serial_start, "serial_end": block.serial_end,
        "buffer_quantity": d.buffer, "share_of_proceeds_quantity": d.share_of_proceeds,
        "overall_mitigation_quantity": d.overall_mitigation, "forwarded_quantity": d.forwarded,
        "event_seq": 0, "created_at": now})
    tx.session.execute(t.blocks.insert().values(
        serial_start=block.serial_start, serial_end=block.serial_end,
        account_id=project.issuance_account_id, project_id=project.id, vintage=vintage,
        issuance_id=iid, status="held"))
    tx.session.execute(update(t.accounts).where(t.accounts.c.id == project.issuance_account_id)
                       .values(balance=t.accounts.c.balance + quantity))
    seq = tx.emit("units_issued", {
        "issuance_id": iid, "report_id": report_id, "project_id": project.id,
        "vintage": vintage, "account_id": project.issuance_account_id,
        "serial_start": block.serial_start, "serial_end": block.serial_end,
        "serial_count": quantity, "buffer_quantity": d.buffer,
        "share_of_proceeds_quantity": d.share_of_proceeds,
        "overall_mitigation_quantity": d.overall_mitigation,
        "forwarded_quantity": d.forwarded}, project_id=project.id, serials=block)
    tx.session.execute(update(t.issuances).where(t.issuances.c.id == iid).values(event_seq=seq))
    tx.session.execute(update(t.reports).where(t.reports.c.id == report_id)
                       .values(issued_quantity=t.reports.c.issued_quantity + quantity))
    placed: dict[str, list[str]] = {}
    for count, account_id, reason in (
        (d.buffer, meta.buffer_account_id, "buffer_deduction"),
        (d.share_of_proceeds, meta.levy_account_id, "share_of_proceeds"),
        (d.overall_mitigation, meta.cancellation_account_id, "overall_mitigation"),
        (d.forwarded, project.forward_account_id, "forward_to_proponent"),
    ):
        if count == 0:
            continue
        for take in tx.choose_blocks(project.issuance_account_id, count):
            tx.move(take, accs[account_id], reason, {"issuance_id": iid})
            placed.setdefault(reason, []).append(
                block_serial(tx, project.id, vintage, take.part))
    return {"issuance_id": iid, "project_id": project.id, "vintage": vintage,
            "quantity": quantity, "serial_start": block.serial_start,
            "serial_end": block.serial_end,
            "serial": block_serial(tx, project.id, vintage, block),
            "buffer_quantity": d.buffer, "share_of_proceeds_quantity": d.share_of_proceeds,
            "overall_mitigation_quantity": d.overall_mitigation,
            "forwarded_quantity": d.forwarded, "blocks": placed, "event_seq": seq}


def _source(tx: Tx, from_account: int, *, own: bool, locked: Any = None) -> Any:
    acc = locked if locked is not None else tx.account(from_account)
    assert tx.actor is not None
    if own and acc.party_id != tx.actor.party_id:
        raise RegistryRejection(Rejection.account_must_belong_to_actor,
                                f"account {from_account} belongs to another party")
    if AccountKind(acc.kind).terminal:
        raise RegistryRejection(Rejection.retired_or_cancelled_units_must_not_move,
                                f"account {from_account} is a {acc.kind} account; its units "
                                "never move")
    return acc


def _moved(tx: Tx, takes: list[Take]) -> list[dict[str, Any]]:
    return [{"serial_start": k.part.serial_start, "serial_end": k.part.serial_end,
             "serial_count": k.part.serial_count, "project_id": k.row.project_id,
             "vintage": k.row.vintage,
             "serial": block_serial(tx, k.row.project_id, k.row.vintage, k.part)}
            for k in takes]


def transfer(tx: Tx, *, from_account: int, to_account: int, quantity: int,
             serial_start: int | None = None, serial_end: int | None = None,
             project_id: int | None = None, vintage: int | None = None) -> dict[str, Any]:
    """Move units between two holding accounts.

    Checks, in order: quantity positive; accounts different; sender exists and is the
    actor's; sender is not retirement/cancellation; both are holding accounts; recipient
    exists; (locks) serial range inside one block of the sender, else enough units.
    """
    _positive(quantity)
    if from_account == to_account:
        raise RegistryRejection(Rejection.accounts_must_be_different,
                                "sender and recipient accounts must differ")
    accs = tx.lock_accounts(  # lock first, check in order; the block read travels along
        **_transfer_reads(from_account, to_account, quantity, serial_start, serial_end,
                          project_id, vintage))
    if from_account not in accs:
        raise RegistryRejection(Rejection.account_must_exist,
                                f"account {from_account} does not exist")
    src = _source(tx, from_account, own=True, locked=accs[from_account])
    if src.kind != AccountKind.holding.value:
        raise RegistryRejection(Rejection.account_kind_must_permit_operation,
                                f"transfers leave holding accounts, not {src.kind} accounts")
    if to_account not in accs:
        raise RegistryRejection(Rejection.account_must_exist,
                                f"account {to_account} does not exist")
    dst = accs[to_account]
    if dst.kind != AccountKind.holding.value:
        raise RegistryRejection(Rejection.account_kind_must_permit_operation,
                                f"transfers go to holding accounts, not {dst.kind} accounts "
                                "(use retire or cancel)")
    takes = tx.choose_blocks(from_account, quantity, serial_range=_range(serial_start, serial_end),
                             project_id=project_id, vintage=vintage)
    seqs = [tx.move(k, accs[to_account], "transfer") for k in takes]
    return {"from_account": from_account, "to_account": to_account, "quantity": quantity,
            "blocks": _moved(tx, takes), "event_seqs": seqs}


def _transfer_reads(from_account: int, to_account: int, quantity: int,
                    serial_start: int | None, serial_end: int | None, project_id: int | None,
                    vintage: int | None) -> dict[str, Any]:
    """:meth:`Tx.lock_accounts`' arguments for a transfer.

    Both accounts, then the first page of the sender's blocks (none for a serial range that
    :func:`_range` refuses).
    """
    try:
        serial_range = _range(serial_start, serial_end)
    except RegistryRejection:
        return {"ids": [from_account, to_account]}
    return {"ids": [from_account, to_account], "then_blocks_of": from_account,
            "serial_range": serial_range, "quantity": quantity, "project_id": project_id,
            "vintage": vintage}


_ID_LIMIT = 2**31  # ids are 32-bit columns
_SERIAL_LIMIT = 2**63  # serials and quantities are 64-bit


def transfer_accounts(args: dict[str, Any]) -> frozenset[int] | None:
    """Return the accounts a :func:`transfer` with ``args`` reads or writes.

    It touches nothing else but their blocks and the chain — or ``None`` if ``args`` are not the
    whole numbers that can name them (the transfer will then refuse them itself).

    A group commit runs transfers with disjoint accounts as one wave, their reads in one
    round trip (:mod:`hesuan.registry.engine.waves`).
    """
    names = ("from_account", "to_account")
    optional = ("serial_start", "serial_end", "project_id", "vintage")
    if set(args) - {*names, "quantity", *optional}:
        return None
    ids: list[Any] = [args.get(n) for n in names]
    numbers = [args.get("quantity"), *(args.get(n) for n in optional)]
    if not all(type(v) is int and 0 < v < _ID_LIMIT for v in ids):
        return None
    if type(numbers[0]) is not int or not all(
            v is None or (type(v) is int and abs(v) < _SERIAL_LIMIT) for v in numbers):
        return None
    return frozenset(ids)


def prefetch_transfer(tx: Tx, *, from_account: int, to_account: int, quantity: int,
                      serial_start: int | None = None, serial_end: int | None = None,
                      project_id: int | None = None, vintage: int | None = None) -> None:
    """Send the reads :func:`transfer` starts with, without waiting for them.

    Its account locks and the sender's first block page; the transfer takes them from
    ``tx.prefetched``. Call only with arguments :func:`transfer_accounts` accepts.
    """
    tx.prefetch_locks(**_transfer_reads(from_account, to_account, quantity, serial_start,
                                        serial_end, project_id, vintage))


def retire(tx: Tx, *, from_account: int, quantity: int, beneficiary: str, purpose: str,
           claim_start: str, claim_end: str, note: str = "",
           serial_start: int | None = None, serial_end: int | None = None,
           project_id: int | None = None, vintage: int | None = None) -> dict[str, Any]:
    """Retire units for a claim, with a public statement; retired units never move again.

    Checks, in order: quantity positive; beneficiary given; claim period ordered; sender
    exists and is the actor's; sender is a holding account; (locks) serial range / balance;
    units authorised for the purpose (NDC, CORSIA, OIMP need a host-country authorisation
    of that use).
    """
    _positive(quantity)
    beneficiary = non_empty(beneficiary, "beneficiary")
    purpose_ = RetirementPurpose(purpose)
    ordered_period(claim_start, claim_end, "claim", Rejection.claim_period_must_be_ordered)
    src = _source(tx, from_account, own=True)
    if src.kind != AccountKind.holding.value:
        raise RegistryRejection(Rejection.account_kind_must_permit_operation,
                                f"retirements leave holding accounts, not {src.kind} accounts")
    meta = tx.meta()
    accs = tx.lock_accounts([from_account, meta.retirement_account_id])
    takes = tx.choose_blocks(from_account, quantity, serial_range=_range(serial_start, serial_end),
                             project_id=project_id, vintage=vintage)
    if purpose_ in (RetirementPurpose.ndc, RetirementPurpose.corsia, RetirementPurpose.oimp):
        for iid in sorted({k.row.issuance_id for k in takes}):
            auth = tx.session.execute(select(t.authorisations)
                                      .where(t.authorisations.c.issuance_id == iid)).first()
            if auth is None or purpose_.value not in auth.uses.split(","):
                raise RegistryRejection(
                    Rejection.units_must_be_authorised_for_purpose,
                    f"units of issuance {iid} are not authorised by the host country for "
                    f"{purpose_.value}")
    for k in takes:
        tx.move(k, accs[meta.retirement_account_id], "retirement")
    blocks = _moved(tx, takes)
    now = utc_now()
    rid = tx.insert_returning_id(t.retirements, {
        "account_id": from_account, "party_id": src.party_id, "quantity": quantity,
        "beneficiary": beneficiary, "purpose": purpose_.value, "claim_start": claim_start,
        "claim_end": claim_end, "note": note, "statement": "",
        "blocks_json": json.dumps(blocks), "event_seq": 0, "created_at": now})
    seq = tx.emit("retirement_recorded", {
        "retirement_id": rid, "account_id": from_account, "quantity": quantity,
        "beneficiary": beneficiary, "purpose": purpose_.value, "claim_start": claim_start,
        "claim_end": claim_end, "note": note,
        "blocks": [[b["serial_start"], b["serial_end"]] for b in blocks]})
    from hesuan.registry.domain.statements import retirement_statement
    party = tx.get(t.parties, src.party_id, Rejection.party_must_exist, "party")
    projects = sorted({b["project_id"] for b in blocks})
    names = [f"{p} {tx.get(t.projects, p, Rejection.project_must_exist, 'project').name}"
             for p in projects]
    statement = retirement_statement(
        retirement_id=rid, retired_on=tx.last_event_at[:10], retiring_party=party.name,
        beneficiary=beneficiary, purpose=purpose_.value, claim_start=claim_start,
        claim_end=claim_end, quantity=quantity, serials=[b["serial"] for b in blocks],
        projects=names, note=note, event_seq=seq, event_hash=tx.last_event_hash)
    tx.session.execute(update(t.retirements).where(t.retirements.c.id == rid)
                       .values(statement=statement, event_seq=seq))
    return {"retirement_id": rid, "quantity": quantity, "blocks": blocks,
            "statement": statement, "event_seq": seq}


def cancel(tx: Tx, *, from_account: int, quantity: int, reason: str,
           serial_start: int | None = None, serial_end: int | None = None,
           project_id: int | None = None, vintage: int | None = None,
           kind: str = "administrative", loss_project_id: int | None = None
           ) -> dict[str, Any]:
    """Administrative cancellation (also used to correct errors).

    Units to the cancellation account, never to move again.

    Checks, in order: role admin; quantity positive; reason given; account exists and is
    not retirement/cancellation; (locks) serial range / balance.
    """
    require_role(tx, Role.admin)
    _positive(quantity)
    reason = non_empty(reason, "reason")
    _source(tx, from_account, own=False)
    meta = tx.meta()
    accs = tx.lock_accounts([from_account, meta.cancellation_account_id])
    takes = tx.choose_blocks(from_account, quantity, serial_range=_range(serial_start, serial_end),
                             project_id=project_id, vintage=vintage)
    for k in takes:
        tx.move(k, accs[meta.cancellation_account_id], kind)
    blocks = _moved(tx, takes)
    recorded_project = loss_project_id if loss_project_id is not None else project_id
    cid = tx.insert_returning_id(t.cancellations, {
        "kind": kind, "account_id": from_account, "project_id": recorded_project,
        "quantity": quantity, "reason": reason, "blocks_json": json.dumps(blocks),
        "event_seq": 0, "created_at": utc_now()})
    seq = tx.emit("cancellation_recorded", {
        "cancellation_id": cid, "kind": kind, "account_id": from_account,
        "project_id": recorded_project, "quantity": quantity, "reason": reason,
        "blocks": [[b["serial_start"], b["serial_end"]] for b in blocks]},
        project_id=recorded_project)
    tx.session.execute(update(t.cancellations).where(t.cancellations.c.id == cid)
                       .values(event_seq=seq))
    return {"cancellation_id": cid, "quantity": quantity, "blocks": blocks, "event_seq": seq}


def buffer_reversal(tx: Tx, *, project_id: int, quantity: int, reason: str) -> dict[str, Any]:
    """Cancel units from the pooled buffer after a loss of ``quantity`` t CO2e at a project.

    A loss such as fire or harvest (Verra AFOLU Non-Permanence Risk Tool v4.2; Gold Standard pooled
    buffer). Checks: role admin; project exists; then as :func:`cancel`.
    """
    require_role(tx, Role.admin)
    tx.get(t.projects, project_id, Rejection.project_must_exist, "project")
    meta = tx.meta()
    out = cancel(tx, from_account=meta.buffer_account_id, quantity=quantity, reason=reason,
                 kind="buffer_reversal", loss_project_id=project_id)
    return {**out, "project_id": project_id}


def authorise(tx: Tx, *, issuance_id: int, uses: list[str], first_transfer: str,
              reference: str, authorised_on: str) -> dict[str, Any]:
    """Authorise an issuance's units for Article 6 uses (the host-country authority).

    Checks, in order: role host authority; issuance exists; authority of the project's host
    country; uses non-empty and known; date valid; not already authorised. The
    corresponding-adjustment declaration becomes ``Committed`` (CAD Trust) with status
    ``Not Started``.
    """
    require_role(tx, Role.host_authority)
    assert tx.actor is not None
    iss = tx.get(t.issuances, issuance_id, Rejection.issuance_must_exist, "issuance")
    project = tx.get(t.projects, iss.project_id, Rejection.project_must_exist, "project")
    if tx.actor.country != project.host_country:
        raise RegistryRejection(Rejection.authority_must_be_of_host_country,
                                f"project {project.id} is hosted by {project.host_country}; "
                                f"you are the authority of {tx.actor.country}")
    uses_ = sorted({AuthorisedUse(u).value for u in uses})
    if not uses_:
        raise RegistryRejection(Rejection.text_must_not_be_empty,
                                "uses must name at least one authorised use")
    ft = FirstTransfer(first_transfer)
    parse_day(authorised_on, "authorised_on")
    reference = non_empty(reference, "reference")
    if tx.session.execute(select(t.authorisations.c.id)
                          .where(t.authorisations.c.issuance_id == issuance_id)).first():
        raise RegistryRejection(Rejection.issuance_must_not_be_authorised_twice,
                                f"issuance {issuance_id} is already authorised (record a new "
                                "authorisation only by a correcting operation)")
    aid = tx.insert_returning_id(t.authorisations, {
        "issuance_id": issuance_id, "authority_id": tx.actor.party_id,
        "uses": ",".join(uses_), "first_transfer": ft.value, "reference": reference,
        "authorised_on": authorised_on, "ca_declaration": "Committed",
        "ca_status": CaStatus.not_started.value, "ca_reporting_year": None, "event_seq": 0})
    seq = tx.emit("units_authorised", {
        "authorisation_id": aid, "issuance_id": issuance_id, "uses": uses_,
        "first_transfer": ft.value, "reference": reference, "authorised_on": authorised_on,
        "ca_declaration": "Committed", "ca_status": CaStatus.not_started.value},
        project_id=project.id, serials=Block(iss.serial_start, iss.serial_end))
    tx.session.execute(update(t.authorisations).where(t.authorisations.c.id == aid)
                       .values(event_seq=seq))
    return {"authorisation_id": aid, "issuance_id": issuance_id, "uses": uses_,
            "first_transfer": ft.value, "ca_declaration": "Committed",
            "ca_status": CaStatus.not_started.value, "event_seq": seq}


def corresponding_adjustment(tx: Tx, *, authorisation_id: int, status: str,
                             reporting_year: int) -> dict[str, Any]:
    """Record the host country's corresponding adjustment for authorised units.

    Checks, in order: role host authority; authorisation exists; authority of the host
    country; status moves one allowed step (Not Started → Pending → Completed,
    :data:`~hesuan.registry.domain.model.CA_TRANSITIONS`).
    """
    require_role(tx, Role.host_authority)
    assert tx.actor is not None
    auth = tx.get(t.authorisations, authorisation_id, Rejection.authorisation_must_exist,
                  "authorisation", lock=True)
    iss = tx.get(t.issuances, auth.issuance_id, Rejection.issuance_must_exist, "issuance")
    project = tx.get(t.projects, iss.project_id, Rejection.project_must_exist, "project")
    if tx.actor.country != project.host_country:
        raise RegistryRejection(Rejection.authority_must_be_of_host_country,
                                f"project {project.id} is hosted by {project.host_country}")
    new = CaStatus(status)
    check_ca_transition(CaStatus(auth.ca_status), new)
    tx.session.execute(update(t.authorisations).where(t.authorisations.c.id == authorisation_id)
                       .values(ca_status=new.value, ca_reporting_year=reporting_year))
    seq = tx.emit("corresponding_adjustment_recorded", {
        "authorisation_id": authorisation_id, "issuance_id": auth.issuance_id,
        "ca_status": new.value, "reporting_year": reporting_year},
        project_id=project.id, serials=Block(iss.serial_start, iss.serial_end))
    return {"authorisation_id": authorisation_id, "ca_status": new.value,
            "reporting_year": reporting_year, "event_seq": seq}
