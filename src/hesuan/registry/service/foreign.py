"""Use cases: record another registry's issuances, and ITMOs acquired from it (journaled).

The double-issuance check that uses them is in :func:`hesuan.registry.service.units.issue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import select, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.foreign import (
    ForeignItmos,
    check_acquisition,
    check_itmo_registry_id,
    check_not_ours,
    record,
)
from hesuan.registry.domain.model import AccountKind, Role
from hesuan.registry.domain.statements import non_empty
from hesuan.registry.service.parties import require_role
from hesuan.registry.service.tx import Tx, utc_now


def record_foreign_issuances(tx: Tx, *, source: str,
                             records: list[dict[str, Any]]) -> dict[str, Any]:
    """Record blocks another registry issued (administrator).

    Checks, in order: role admin; source named; every record well formed; no record of this
    registry itself. Blocks already recorded (same registry, project, vintage, first
    serial) are skipped, so a newer export of the same registry can be imported again.
    One ``foreign_issuances_recorded`` event lists the new rows.
    """
    require_role(tx, Role.admin)
    source = non_empty(source, "source")[:200]
    checked = [record(r.get("registry"), r.get("external_project_id"), r.get("vintage"),
                      r.get("block_start"), r.get("block_end"), f"record {i + 1}")
               for i, r in enumerate(records)]
    check_not_ours(checked, tx.meta().registry_code)
    have = {(r.registry, r.external_project_id, r.vintage, r.block_start)
            for r in tx.session.execute(select(
                t.foreign_issuances.c.registry, t.foreign_issuances.c.external_project_id,
                t.foreign_issuances.c.vintage, t.foreign_issuances.c.block_start)).all()}
    new = []
    for r in checked:
        k = (r.registry, r.external_project_id, r.vintage, r.block_start)
        if k not in have:
            have.add(k)
            new.append(r)
    if not new:
        return {"recorded": 0, "already_recorded": len(checked), "event_seq": None}
    tx.lock_meta()  # the chain head: one writer of foreign_issuances at a time
    first = tx.count(t.foreign_issuances) + 1
    rows = [{"id": first + i, **r.as_dict(), "source": source} for i, r in enumerate(new)]
    seq = tx.emit("foreign_issuances_recorded", {"source": source, "first_id": first,
                                                 "records": [r.as_dict() for r in new]})
    tx.session.execute(t.foreign_issuances.insert(), [{**r, "event_seq": seq} for r in rows])
    return {"recorded": len(new), "already_recorded": len(checked) - len(new),
            "first_id": first, "event_seq": seq}


def record_foreign_itmos(tx: Tx, *, account_id: int,
                         records: Sequence[ForeignItmos]) -> dict[str, Any]:
    """Record ITMOs that reached ``account_id`` from another Party's registry (administrator).

    Checks, in order: role admin; the account exists; it is a holding account of a holder
    registered with a country; every block well formed; no block of this registry itself
    (its code or its Party ITMO registry ID, :func:`set_itmo_registry_id`);
    each comes from a Party other than the holder's; none arrived after today (UTC); no
    block overlaps a recorded one or
    another of the list. One ``foreign_itmos_acquired`` event lists them (the account in
    its private part). The AEF export reports each as an *Acquisition* of the holder's
    country and holds it, under its original unique identifiers, from the later of the
    day it arrived and the day it is recorded (a year already reported is not rewritten).
    """
    require_role(tx, Role.admin)
    acc = tx.account(account_id)
    country = tx.session.execute(select(t.parties.c.country).where(
        t.parties.c.id == acc.party_id)).scalar_one_or_none()
    if acc.kind != AccountKind.holding.value or country is None:
        raise RegistryRejection(
            Rejection.foreign_itmos_must_reach_a_holder_of_another_party,
            f"account {account_id}: ITMOs from another registry reach a holding account of "
            "a holder registered with its country")
    if not records:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                "records: no block of ITMOs listed")
    tx.lock_meta()  # the chain head: one writer of foreign_itmos at a time
    recorded = [ForeignItmos(**{k: getattr(r, k) for k in _ITMO_FIELDS})
                for r in tx.session.execute(select(t.foreign_itmos)
                                            .order_by(t.foreign_itmos.c.id)).all()]
    checked = list(records)
    check_acquisition(checked, country=country, ours=_ours(tx),
                      recorded=recorded, first_id=len(recorded) + 1, today=utc_now()[:10])
    first = len(recorded) + 1
    seq = tx.emit("foreign_itmos_acquired", {"account_id": account_id, "first_id": first,
                                             "records": [r.as_dict() for r in checked]})
    tx.session.execute(t.foreign_itmos.insert(), [
        {"id": first + i, "account_id": account_id, **r.as_dict(), "event_seq": seq}
        for i, r in enumerate(checked)])
    return {"recorded": len(checked), "first_id": first,
            "quantity": sum(r.quantity for r in checked), "event_seq": seq}


def set_itmo_registry_id(tx: Tx, *, itmo_registry_id: str) -> dict[str, Any]:
    """Set this registry's Party ITMO registry ID, once (administrator).

    It is the registry part of the unique identifier of every ITMO the AEF export reports,
    and ``import-itmos`` refuses blocks of it (they are this registry's own). Checks, in
    order: role admin; not set before; of its form; no ITMOs of it imported
    (:func:`~hesuan.registry.domain.foreign.check_itmo_registry_id`). One
    ``itmo_registry_id_set`` event.
    """
    require_role(tx, Role.admin)
    tx.lock_meta()  # the chain head: the setting is read and written under it
    current = tx.session.execute(select(t.registry_meta.c.itmo_registry_id)).scalar_one()
    imported = tx.session.execute(select(t.foreign_itmos.c.registry_id).distinct()).scalars()
    value = check_itmo_registry_id(itmo_registry_id, current=current, imported_from=imported)
    seq = tx.emit("itmo_registry_id_set", {"itmo_registry_id": value})
    tx.session.execute(update(t.registry_meta).where(t.registry_meta.c.id == 1)
                       .values(itmo_registry_id=value))
    return {"itmo_registry_id": value, "event_seq": seq}


def _ours(tx: Tx) -> tuple[str, ...]:
    """Return this registry's own identifiers: its code and its Party ITMO registry ID.

    Read under the chain head's lock (the ID may have been set after the cached settings).
    """
    itmo = tx.session.execute(select(t.registry_meta.c.itmo_registry_id)).scalar_one()
    return (tx.meta().registry_code, *([itmo] if itmo else []))


_ITMO_FIELDS = tuple(f.name for f in fields(ForeignItmos))
