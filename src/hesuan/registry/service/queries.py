"""Read-only queries: the public explorer and account views.

Every list is paginated (``limit`` 1–500) — no query returns an unbounded number of rows. Each query
runs in one read-only transaction that sees one snapshot (:meth:`Registry.query`; REPEATABLE READ on
PostgreSQL), so an account's balance and its blocks, or a page and its totals, agree.

**What is public** (``docs/registry.md``, "Privacy"): projects, documents, reports,
issuances, authorisations, retirements (beneficiary, purpose, statement), block status and
where a serial is (which kind of account, not which holding account), and the journal's
hashed event bodies — whose private parts (holdings' account ids, who moved units between
them, token hashes, idempotency keys, stored replies) appear only as a salted SHA-256.
Holdings per account are not public: the account views (:func:`account`, :func:`accounts`)
take the authenticated actor and show an account only to its owner or the administrator.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import PRIVATE_ALWAYS, StoredEvent, public_event
from hesuan.registry.domain.model import AccountKind, Role, cad_unit_status
from hesuan.registry.domain.replay import BlockRow, Snapshot
from hesuan.registry.domain.serials import BlockSerial, format_serial, parse_serial
from hesuan.registry.service.tx import Actor

LIMIT_MAX = 500


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= LIMIT_MAX or offset < 0:
        raise RegistryRejection(Rejection.page_limit_must_lie_in_1_500,
                                f"limit must lie in 1–{LIMIT_MAX} and offset ≥ 0 "
                                f"(got limit={limit}, offset={offset})")


def _rows(session: Session, q: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(q).all()]


_REGISTRY_CODE = select(t.registry_meta.c.registry_code).scalar_subquery().label("_code")
"""The registry's code as a column of a page's query (one row in ``registry_meta``)."""


def _serial(session: Session, project_id: int, vintage: int, start: int, end: int) -> str:
    code = session.execute(select(t.registry_meta.c.registry_code)).scalar_one()
    country = session.execute(select(t.projects.c.host_country)
                              .where(t.projects.c.id == project_id)).scalar_one()
    return format_serial(BlockSerial(code, country, project_id, vintage, start, end))


def projects(session: Session, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Return a page of projects, by id."""
    _page(limit, offset)
    return _rows(session, select(t.projects).order_by(t.projects.c.id).limit(limit)
                 .offset(offset))


def project(session: Session, *, project_id: int) -> dict[str, Any]:
    """Return project ``project_id`` with its documents and reports."""
    row = session.execute(select(t.projects).where(t.projects.c.id == project_id)).first()
    if row is None:
        raise RegistryRejection(Rejection.project_must_exist,
                                f"project {project_id} does not exist")
    out = dict(row._mapping)
    out["documents"] = _rows(session, select(
        t.project_documents.c.sha256, t.project_documents.c.name, t.project_documents.c.kind,
        t.project_documents.c.created_at).where(t.project_documents.c.project_id == project_id)
        .order_by(t.project_documents.c.id).limit(LIMIT_MAX))
    out["reports"] = _rows(session, select(t.reports).where(t.reports.c.project_id == project_id)
                           .order_by(t.reports.c.id).limit(LIMIT_MAX))
    return out


def report(session: Session, *, report_id: int) -> dict[str, Any]:
    """Return monitoring report ``report_id``."""
    row = session.execute(select(t.reports).where(t.reports.c.id == report_id)).first()
    if row is None:
        raise RegistryRejection(Rejection.report_must_exist, f"report {report_id} does not exist")
    return dict(row._mapping)


def document(session: Session, *, sha256: str) -> bytes:
    """Return the content of the document with SHA-256 ``sha256``."""
    row = session.execute(select(t.documents.c.content)
                          .where(t.documents.c.sha256 == sha256)).first()
    if row is None:
        raise RegistryRejection(Rejection.document_must_exist,
                                f"no document with SHA-256 {sha256}")
    return bytes(row[0])


def issuances(session: Session, *, project_id: int | None = None, limit: int = 100,
              offset: int = 0) -> list[dict[str, Any]]:
    """Return a page of issuances (of one project if given), by id, with serial identifiers."""
    _page(limit, offset)
    q = select(t.issuances, t.authorisations.c.uses, t.authorisations.c.ca_status,
               t.authorisations.c.ca_declaration, _REGISTRY_CODE,
               t.projects.c.host_country.label("_country")).outerjoin(
        t.authorisations, t.authorisations.c.issuance_id == t.issuances.c.id).join(
        t.projects, t.projects.c.id == t.issuances.c.project_id)
    if project_id is not None:
        q = q.where(t.issuances.c.project_id == project_id)
    out = _rows(session, q.order_by(t.issuances.c.id).limit(limit).offset(offset))
    for r in out:
        r["serial"] = format_serial(BlockSerial(r.pop("_code"), r.pop("_country"),
                                                r["project_id"], r["vintage"],
                                                r["serial_start"], r["serial_end"]))
        r["ca_declaration"] = r["ca_declaration"] or "Not Required"
        r["ca_status"] = r["ca_status"] or "Not Started"
    return out


def retirements(session: Session, *, limit: int = 100, offset: int = 0
                ) -> list[dict[str, Any]]:
    """Return a page of retirements, by id, with their blocks (the holding account withheld)."""
    _page(limit, offset)
    out = _rows(session, select(t.retirements).order_by(t.retirements.c.id)
                .limit(limit).offset(offset))
    for r in out:
        r["blocks"] = json.loads(r.pop("blocks_json"))
        r.pop("account_id")  # the retiring party is public, its holding account is not
    return out


def retirement(session: Session, *, retirement_id: int) -> dict[str, Any]:
    """Return retirement ``retirement_id`` with its blocks (the holding account withheld)."""
    row = session.execute(select(t.retirements)
                          .where(t.retirements.c.id == retirement_id)).first()
    if row is None:
        raise RegistryRejection(Rejection.retirement_must_exist,
                                f"retirement {retirement_id} does not exist")
    out = dict(row._mapping)
    out["blocks"] = json.loads(out.pop("blocks_json"))
    out.pop("account_id")
    return out


def serial_history(session: Session, *, serial: str, limit: int = 100,
                   offset: int = 0) -> dict[str, Any]:
    """Who holds (or retired) serial X, and every event that touched it.

    ``serial`` is a plain integer serial or a hesuan block identifier (its first serial
    is used).
    """
    _page(limit, offset)
    s = serial.strip()
    asked = None if s.isdigit() else parse_serial(s)
    number = int(s) if asked is None else asked.serial_start
    # Blocks are disjoint and ``serial_start`` is unique (indexed): the block holding
    # ``number`` is the one starting last at or before it — one index probe — if it
    # reaches ``number``.
    block = session.execute(select(t.blocks, t.accounts.c.kind, t.accounts.c.party_id,
                                   t.parties.c.name.label("holder_name"),
                                   t.issuances.c.serial_start.label("issuance_start"))
                            .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
                            .join(t.parties, t.parties.c.id == t.accounts.c.party_id)
                            .join(t.issuances, t.issuances.c.id == t.blocks.c.issuance_id)
                            .where(t.blocks.c.serial_start <= number)
                            .order_by(t.blocks.c.serial_start.desc()).limit(1)).first()
    if block is None or block.serial_end < number:
        raise RegistryRejection(Rejection.serial_must_exist,
                                f"serial {number} has not been issued")
    b = dict(block._mapping)
    auth = session.execute(select(t.authorisations).where(
        t.authorisations.c.issuance_id == b["issuance_id"])).first()
    # Every event that records serials records a range inside one issuance (units_issued
    # and the authorisation events: the issuance's range; units_moved: part of one block,
    # and blocks never cross issuances), and issuances are disjoint. So an event holding
    # ``number`` starts within ``number``'s issuance: bounding ``serial_start`` from below
    # by the issuance's first serial keeps the scan of ``ix_events_serials`` to that
    # issuance instead of every event below ``number``.
    rows = session.execute(select(t.events)
                           .where(and_(t.events.c.serial_start >= b.pop("issuance_start"),
                                       t.events.c.serial_start <= number,
                                       t.events.c.serial_end >= number))
                           .order_by(t.events.c.seq).limit(limit).offset(offset)).all()
    events = [_public(r) for r in rows]
    retirement_info: dict[str, Any] | None = None
    if b["kind"] == AccountKind.retirement.value:
        for e in events:
            if e["type"] == "units_moved" and e["payload"].get("reason") == "retirement":
                found = session.execute(
                    select(t.retirements.c.id, t.retirements.c.beneficiary,
                           t.retirements.c.purpose, t.retirements.c.statement)
                    .where(t.retirements.c.event_seq > e["seq"])
                    .order_by(t.retirements.c.event_seq).limit(1)).first()
                retirement_info = None if found is None else dict(found._mapping)
    holding = b["kind"] == AccountKind.holding.value  # holdings are not public
    now = _serial(session, b["project_id"], b["vintage"], b["serial_start"], b["serial_end"])
    return {
        "serial": number,
        "block": now,
        "serial_start": b["serial_start"], "serial_end": b["serial_end"],
        "project_id": b["project_id"], "vintage": b["vintage"],
        "issuance_id": b["issuance_id"],
        "account_id": None if holding else b["account_id"],
        "account_kind": b["kind"],
        "holder_party_id": None if holding else b["party_id"],
        "holder_name": None if holding else b["holder_name"], "status": b["status"],
        "unit_status": cad_unit_status(AccountKind(b["kind"])),
        "authorised_uses": [] if auth is None else auth.uses.split(","),
        "ca_declaration": "Not Required" if auth is None else auth.ca_declaration,
        "ca_status": "Not Started" if auth is None else auth.ca_status,
        "retirement": retirement_info,
        "asked_block": None if asked is None else _where_block_went(session, asked, now),
        "events": events,
    }


def _where_block_went(session: Session, asked: BlockSerial, now: str) -> dict[str, Any]:
    """For a serial looked up by a block identifier.

    Whether that block still exists as such, and if it was split, the blocks its serials lie in now
    (status and account kind, at most one page).
    """
    asked_id = format_serial(asked)
    parts = session.execute(
        select(t.blocks.c.serial_start, t.blocks.c.serial_end, t.blocks.c.project_id,
               t.blocks.c.vintage, t.blocks.c.status, t.accounts.c.kind)
        .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
        .where(t.blocks.c.serial_end >= asked.serial_start,
               t.blocks.c.serial_start <= asked.serial_end)
        .order_by(t.blocks.c.serial_start).limit(LIMIT_MAX)).all()
    return {
        "block": asked_id,
        "exists": asked_id == now,
        "now_in": [{"block": _serial(session, r.project_id, r.vintage, r.serial_start,
                                     r.serial_end),
                    "serial_start": r.serial_start, "serial_end": r.serial_end,
                    "status": r.status, "account_kind": r.kind} for r in parts],
    }


def _public(r: Any) -> dict[str, Any]:
    return public_event(StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, r.prev_hash,
                                    r.hash, r.private))


def account(session: Session, *, actor: Actor, account_id: int, limit: int = 100,
            offset: int = 0) -> dict[str, Any]:
    """Return account ``account_id`` with a page of its blocks, each with its serial identifier.

    Holdings are private: only the account's owner or the administrator may see them.

    Parameters
    ----------
    session : Session
        A read-only session in one transaction (:meth:`Registry.query`).
    actor : Actor
        The authenticated party asking.
    account_id : int
        The account.
    limit, offset : int
        The page of blocks (``limit`` 1–500).

    Returns
    -------
    dict
        The account's row with its ``blocks``.

    Raises
    ------
    RegistryRejection
        ``account_must_exist``, or ``account_must_belong_to_actor`` when ``actor`` is neither
        the account's owner nor the administrator.
    """
    _page(limit, offset)
    row = session.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
    if row is None:
        raise RegistryRejection(Rejection.account_must_exist,
                                f"account {account_id} does not exist")
    if row.party_id != actor.party_id and actor.role is not Role.admin:
        raise RegistryRejection(Rejection.account_must_belong_to_actor,
                                f"account {account_id} belongs to another party")
    out = dict(row._mapping)
    blocks = _rows(session, select(t.blocks).where(t.blocks.c.account_id == account_id)
                   .order_by(t.blocks.c.serial_start).limit(limit).offset(offset))
    for b in blocks:
        b["serial"] = _serial(session, b["project_id"], b["vintage"], b["serial_start"],
                              b["serial_end"])
    out["blocks"] = blocks
    return out


def accounts(session: Session, *, actor: Actor, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
    """Return a page of the accounts ``actor`` may see, by id.

    Parameters
    ----------
    session : Session
        A read-only session in one transaction (:meth:`Registry.query`).
    actor : Actor
        The authenticated party asking: its own accounts, or every account for the
        administrator.
    limit, offset : int
        The page (``limit`` 1–500).

    Returns
    -------
    list of dict
        The accounts' rows.
    """
    _page(limit, offset)
    q = select(t.accounts)
    if actor.role is not Role.admin:
        q = q.where(t.accounts.c.party_id == actor.party_id)
    return _rows(session, q.order_by(t.accounts.c.id).limit(limit).offset(offset))


#: Payload keys of an event that name an account (whole payload: public and private parts).
ACCOUNT_KEYS = ("from_account", "to_account", "account_id", "forward_account_id")


def account_events(session: Session, *, actor: Actor, account_ids: list[int],
                   window: int = 500, limit: int = 100) -> list[dict[str, Any]]:
    """Return the events that name one of ``account_ids`` among the registry's newest ``window``.

    An account's history for its owner: the events newest first, each with its whole payload —
    the public part and the private one (the accounts a transfer moved units between, the
    account a retirement or cancellation took them from), never the request keys or stored
    replies —, which the public feed (:func:`events`) shows only by SHA-256. Of the account
    ids in a payload (:data:`ACCOUNT_KEYS`) the owner sees its own accounts' only, the others
    (a transfer's counterparty) are ``None``; the administrator sees them all.

    Parameters
    ----------
    session : Session
        A read-only session in one transaction (:meth:`Registry.query`).
    actor : Actor
        The authenticated party asking: the accounts' owner, or the administrator.
    account_ids : list of int
        The accounts.
    window : int
        How many of the newest events are searched (1–500).
    limit : int
        At most this many events are returned (1–500).

    Returns
    -------
    list of dict
        ``seq``, ``type``, ``at``, ``payload`` and ``hash`` of each event.

    Raises
    ------
    RegistryRejection
        ``account_must_exist``, or ``account_must_belong_to_actor`` when ``actor`` is neither
        an account's owner nor the administrator.
    """
    _page(window, 0)
    _page(limit, 0)
    wanted = set(account_ids)
    owners = dict(session.execute(select(t.accounts.c.id, t.accounts.c.party_id)
                                  .where(t.accounts.c.id.in_(wanted))).all()) if wanted else {}
    for account_id in sorted(wanted):
        if account_id not in owners:
            raise RegistryRejection(Rejection.account_must_exist,
                                    f"account {account_id} does not exist")
        if owners[account_id] != actor.party_id and actor.role is not Role.admin:
            raise RegistryRejection(Rejection.account_must_belong_to_actor,
                                    f"account {account_id} belongs to another party")
    if not wanted:
        return []
    head = session.execute(select(func.max(t.events.c.seq))).scalar_one() or 0
    out: list[dict[str, Any]] = []
    for r in session.execute(select(t.events).where(t.events.c.seq > head - window)
                             .order_by(t.events.c.seq.desc())).all():
        payload = StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, r.prev_hash, r.hash,
                              r.private).full_payload()
        if any(payload.get(k) in wanted for k in ACCOUNT_KEYS):
            out.append({"seq": r.seq, "type": r.type, "at": r.at, "hash": r.hash,
                        "payload": {k: v for k, v in payload.items()
                                    if k not in PRIVATE_ALWAYS}})
            if len(out) == limit:
                break
    if actor.role is not Role.admin:
        _redact_counterparties(session, actor, out)
    return out


def _redact_counterparties(session: Session, actor: Actor, events: list[dict[str, Any]]) -> None:
    """Set to ``None`` every account id in ``events`` that is not one of ``actor``'s accounts.

    The holdings per account are private (docs/registry.md, "Privacy"): a receiver does not
    learn the sender's account, nor the sender the receiver's.
    """
    named = {e["payload"][k] for e in events for k in ACCOUNT_KEYS
             if e["payload"].get(k) is not None}
    own = set(session.execute(select(t.accounts.c.id).where(
        t.accounts.c.id.in_(named), t.accounts.c.party_id == actor.party_id)).scalars()
              ) if named else set()
    for e in events:
        for k in ACCOUNT_KEYS:
            if k in e["payload"] and e["payload"][k] not in own:
                e["payload"][k] = None


def tokens(session: Session, *, party_id: int) -> list[dict[str, Any]]:
    """Return the bearer tokens of party ``party_id``, newest first, never a secret.

    Each by its fingerprint (the token's SHA-256, hexadecimal: all the registry stores),
    label, creation, expiry and the ``token_revoked`` event that revoked it (``None``: not
    revoked one by one; the administrator's revocation of all a party's tokens ends their
    expiry instead). Callers pass the authenticated party's own id.
    """
    k = t.tokens.c
    rows = session.execute(select(k.token_sha256, k.label, k.created_at, k.expires_at,
                                  k.revoked_seq).where(k.party_id == party_id)
                           .order_by(k.created_at.desc(), k.token_sha256)).all()
    return [{"fingerprint": r.token_sha256, "label": r.label, "created_at": r.created_at,
             "expires_at": r.expires_at, "revoked": r.revoked_seq is not None,
             "revoked_seq": r.revoked_seq} for r in rows]


def events(session: Session, *, after_seq: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Return the public feed.

    Each event's hashed body (public payload; its private part only by SHA-256; the actor unless
    private), ``prev_hash`` and ``hash`` — enough to recompute the chain, not enough to replay
    holdings.
    """
    _page(limit, 0)
    return [_public(r) for r in session.execute(
        select(t.events).where(t.events.c.seq > after_seq)
        .order_by(t.events.c.seq).limit(limit)).all()]


def totals(session: Session) -> dict[str, Any]:
    """Units per account kind and per project/vintage (for summaries and the demo)."""
    rows = session.execute(
        select(t.blocks.c.project_id, t.blocks.c.vintage, t.accounts.c.kind,
               func.sum(t.blocks.c.serial_end - t.blocks.c.serial_start + 1))
        .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
        .group_by(t.blocks.c.project_id, t.blocks.c.vintage, t.accounts.c.kind)).all()
    out: dict[str, dict[str, int]] = {}
    for project_id, vintage, kind, n in rows:
        out.setdefault(f"{project_id}/{vintage}", {})[kind] = int(n)
    return out


def snapshot(session: Session) -> Snapshot:
    """All stored state the invariants talk about (for verification and tests)."""
    blocks = [BlockRow(r.serial_start, r.serial_end, r.account_id, r.project_id, r.vintage,
                       r.issuance_id, r.status)
              for r in session.execute(select(t.blocks)).all()]
    accs = session.execute(select(t.accounts.c.id, t.accounts.c.kind,
                                  t.accounts.c.balance)).all()
    iss = {r.id: (r.project_id, r.vintage, r.serial_start, r.serial_end)
           for r in session.execute(select(t.issuances)).all()}
    reps = {r.id: (r.verified_quantity or 0, r.issued_quantity)
            for r in session.execute(select(t.reports)).all()}
    return Snapshot(blocks, {a.id: AccountKind(a.kind) for a in accs},
                    {a.id: a.balance for a in accs}, iss, reps)


def trace(session: Session, *, serial: str) -> dict[str, Any]:
    """From a serial back to the plots.

    Its holder or retirement, issuance and deductions, monitoring report, the verifier's signed
    attestation (its signature re-checked), and the quantification report's trail for the unit's
    vintage (:func:`hesuan.registry.domain.trace.trail`): every number with the step, function,
    methodology clause, dataset records and input files behind it.
    """
    from hesuan.quantification.attestation import (
        AttestationError,
        parse_attestation,
        verify_attestation,
    )
    from hesuan.quantification.check import parse_report
    from hesuan.registry.domain.trace import trail

    unit = serial_history(session, serial=serial, limit=20)
    unit.pop("events")
    iss = session.execute(select(t.issuances).where(
        t.issuances.c.id == unit["issuance_id"])).one()
    rep = session.execute(select(t.reports).where(t.reports.c.id == iss.report_id)).one()
    proj = session.execute(select(t.projects).where(t.projects.c.id == rep.project_id)).one()

    def doc(sha: str | None) -> str | None:
        if sha is None:
            return None
        content = session.execute(select(t.documents.c.content)
                                  .where(t.documents.c.sha256 == sha)).scalar_one()
        return bytes(content).decode("utf-8")

    out: dict[str, Any] = {
        "unit": unit,
        "issuance": {"issuance_id": iss.id, "vintage": iss.vintage,
                     "quantity": iss.serial_end - iss.serial_start + 1,
                     "buffer": iss.buffer_quantity,
                     "share_of_proceeds": iss.share_of_proceeds_quantity,
                     "overall_mitigation": iss.overall_mitigation_quantity,
                     "forwarded": iss.forwarded_quantity, "buffer_pct": proj.buffer_pct},
        "project": {"project_id": proj.id, "name": proj.name,
                    "methodology": f"{proj.methodology_id}@{proj.methodology_version}",
                    "host_country": proj.host_country},
        "monitoring_report": {"report_id": rep.id, "period_start": rep.period_start,
                              "period_end": rep.period_end,
                              "reported_quantity": rep.reported_quantity,
                              "verified_quantity": rep.verified_quantity,
                              "quantification_sha256": rep.quantification_sha256},
        "attestation": None, "quantification": None, "trail": [],
    }
    text = doc(rep.quantification_sha256)
    if rep.quantification_report_sha256 is None or text is None:
        return out
    report = parse_report(text, f"document {rep.quantification_sha256}")
    att_text = doc(rep.attestation_sha256)
    if att_text is not None:
        att = parse_attestation(att_text)
        try:
            verify_attestation(att, report)
            ok = True
        except AttestationError:
            ok = False
        out["attestation"] = {"verifier": att.verifier, "public_key": att.public_key,
                              "report_sha256": att.report_sha256,
                              "verified_units": att.verified_units,
                              "attested_at": att.attested_at, "signature_verifies": ok,
                              "attestation_sha256": rep.attestation_sha256}
    out["quantification"] = {"report_sha256": report.report_sha256,
                             "methodology": report.methodology_key, "tools": report.tools,
                             "period_start": report.period_start,
                             "period_end": report.period_end,
                             "net_creditable_units": report.removals.net_creditable_units,
                             "verified": report.verified}
    out["trail"] = trail(report, iss.vintage)
    return out
