"""Use case: record the issuances of another registry's public export (journaled).

The double-issuance check that uses them is in :func:`hesuan.registry.service.units.issue`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hesuan.registry.db import tables as t
from hesuan.registry.domain.foreign import check_not_ours, record
from hesuan.registry.domain.model import Role
from hesuan.registry.domain.statements import non_empty
from hesuan.registry.service.parties import require_role
from hesuan.registry.service.tx import Tx


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
