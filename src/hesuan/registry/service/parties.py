"""Use cases: parties, tokens, accounts, projects, documents, monitoring reports."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import (
    PROJECT_TRANSITIONS,
    AccountKind,
    ProjectStatus,
    ReportStatus,
    Role,
    check_transition,
)
from hesuan.registry.domain.quantification import (
    catalogued_methodology,
    check_claim,
    check_fit,
    project_methodology,
    read_quantification,
)
from hesuan.registry.domain.statements import non_empty, ordered_period
from hesuan.registry.service.tx import Tx, utc_now

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256 (a leaked table reveals no token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_ROLES = select(t.party_roles.c.role).where(t.party_roles.c.party_id == bindparam("p_id"),
                                          t.party_roles.c.revoked_seq.is_(None))


def roles_of(tx: Tx, party_id: int) -> frozenset[Role]:
    """Every role the party holds, as stored in this transaction (``party_roles``).

    The roles are read where the rule is checked, never taken from the request.
    """
    return frozenset(Role(r[0]) for r in tx.session.fetch(_ROLES, {"p_id": party_id}))


def require_role(tx: Tx, *roles: Role) -> frozenset[Role]:
    """Refuse unless the actor holds one of ``roles``; return the roles it holds."""
    assert tx.actor is not None
    held = roles_of(tx, tx.actor.party_id)
    if not held & set(roles):
        raise RegistryRejection(
            Rejection.role_must_permit_operation,
            f"this operation needs role {' or '.join(r.value for r in roles)}; "
            f"you hold {', '.join(sorted(r.value for r in held)) or 'no role'}",
        )
    return held


def new_token(tx: Tx, party_id: int, ttl_days: int | None) -> tuple[str, str, str | None]:
    """Return a new bearer token for ``party_id``.

    ``(token, its SHA-256, expiry or None)``; only the SHA-256 is stored (and journaled, in the
    event's private part).
    """
    token = "hsn_" + secrets.token_urlsafe(32)
    expires = None
    if ttl_days is not None:
        expires = (datetime.now(UTC) + timedelta(days=ttl_days)).isoformat(timespec="seconds")
    sha = hash_token(token)
    tx.session.execute(insert(t.tokens).values(token_sha256=sha, party_id=party_id,
                                               expires_at=expires, created_at=utc_now()))
    return token, sha, expires


def parse_pct(value: str, field: str) -> Decimal:
    """Return ``value`` as a percentage in [0, 100], refused with ``field`` named otherwise."""
    try:
        pct = Decimal(value)
    except (InvalidOperation, TypeError):
        raise RegistryRejection(Rejection.percentage_must_lie_in_0_100,
                                f"{field}: '{value}' is not a decimal number") from None
    if not (Decimal(0) <= pct <= Decimal(100)) or not pct.is_finite():
        raise RegistryRejection(Rejection.percentage_must_lie_in_0_100,
                                f"{field}: {value} must lie in 0–100")
    return pct


def party_roles(role: str, additional_roles: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Return a party's roles, sorted: its first ``role`` and any ``additional_roles``.

    The administrator's role is held alone (an administrator that is also a holder or a
    proponent would check its own work): ``admin_role_must_stand_alone``.
    """
    roles = {Role(role)} | {Role(r) for r in additional_roles}
    if Role.admin in roles and len(roles) > 1:
        raise RegistryRejection(Rejection.admin_role_must_stand_alone,
                                "the administrator role cannot be combined with other roles")
    return sorted(r.value for r in roles)


def create_party(tx: Tx, *, name: str, role: str, country: str | None = None,
                 token_ttl_days: int | None = None,
                 additional_roles: list[str] | None = None) -> dict[str, Any]:
    """Admin registers a party and gets its first bearer token (shown once).

    A party may hold several roles (``role`` first, then ``additional_roles``; e.g. a
    proponent that is also a host-country authority's agency). Checks, in order: role
    admin; name given; roles known and the administrator's alone; a host-country authority
    names its country.
    """
    require_role(tx, Role.admin)
    name = non_empty(name, "name")
    role_ = Role(role)
    roles = party_roles(role, additional_roles or [])
    if Role.host_authority.value in roles and not country:
        raise RegistryRejection(Rejection.text_must_not_be_empty,
                                "country must be given for a host-country authority")
    pid = tx.insert_returning_id(t.parties, {"name": name, "role": role_.value,
                                             "country": country, "created_at": utc_now()})
    tx.session.execute(insert(t.party_roles), [{"party_id": pid, "role": r} for r in roles])
    token, sha, expires = new_token(tx, pid, token_ttl_days)
    tx.emit("party_created", {"party_id": pid, "name": name, "role": role_.value,
                              "roles": roles, "country": country, "token_sha256": sha,
                              "token_expires_at": expires})
    return {"party_id": pid, "name": name, "role": role_.value, "roles": roles,
            "country": country, "token": token}


_PARTY_ROLE = t.party_roles.c


def _role_change(tx: Tx, party_id: int, role: str) -> tuple[Any, Role, frozenset[Role]]:
    """Run the checks a role change starts with; return the party, role and roles it holds.

    In order: role admin; party exists (locked); role known.
    """
    require_role(tx, Role.admin)
    party = tx.get(t.parties, party_id, Rejection.party_must_exist, "party", lock=True)
    try:
        role_ = Role(role)
    except ValueError:
        raise RegistryRejection(Rejection.role_must_be_known,
                                f"{role!r} is not a role (one of "
                                f"{', '.join(r.value for r in Role)})") from None
    return party, role_, roles_of(tx, party_id)


def grant_role(tx: Tx, *, party_id: int, role: str) -> dict[str, Any]:
    """Give a party another role (administrator).

    E.g. a proponent that will also hold units, or a holder that becomes an accredited
    verifier.

    Checks, in order: role admin; party exists; role known; not held already; neither the
    administrator's role nor a role for the administrator (``admin_role_must_stand_alone``);
    a host-country authority is a party with a country. Journaled as ``role_granted``.
    """
    party, role_, held = _role_change(tx, party_id, role)
    if role_ in held:
        raise RegistryRejection(Rejection.role_must_not_be_held,
                                f"party {party_id} already holds the role {role_.value}")
    party_roles(party.role, [r.value for r in held | {role_}])  # the administrator alone
    if role_ is Role.host_authority and not party.country:
        raise RegistryRejection(Rejection.text_must_not_be_empty,
                                f"party {party_id} has no country; a host-country authority "
                                "names its country when it is registered")
    roles = sorted(r.value for r in held | {role_})
    seq = tx.emit("role_granted", {"party_id": party_id, "role": role_.value, "roles": roles})
    this = (_PARTY_ROLE.party_id == party_id) & (_PARTY_ROLE.role == role_.value)
    if tx.session.execute(select(_PARTY_ROLE.role).where(this)).first() is None:
        tx.session.execute(insert(t.party_roles).values(party_id=party_id, role=role_.value))
    else:  # held before and revoked: held again
        tx.session.execute(update(t.party_roles).where(this).values(revoked_seq=None))
    return {"party_id": party_id, "role": party.role, "roles": roles, "event_seq": seq}


def revoke_role(tx: Tx, *, party_id: int, role: str) -> dict[str, Any]:
    """Take a role from a party (administrator); it keeps its other roles.

    Checks, in order: role admin; party exists; role known; held; not its last role
    (``party_must_keep_a_role``: a party with no role could do nothing, and the
    administrator's role is its only one). Journaled as ``role_revoked``, whose sequence
    number the role's row keeps (``party_roles.revoked_seq``); the party's registered role
    (``parties.role``) stays as it was, a fact of its registration.
    """
    party, role_, held = _role_change(tx, party_id, role)
    if role_ not in held:
        raise RegistryRejection(Rejection.role_must_be_held,
                                f"party {party_id} does not hold the role {role_.value}")
    left = held - {role_}
    if not left:
        raise RegistryRejection(Rejection.party_must_keep_a_role,
                                f"{role_.value} is the only role of party {party_id}")
    roles = sorted(r.value for r in left)
    seq = tx.emit("role_revoked", {"party_id": party_id, "role": role_.value, "roles": roles})
    tx.session.execute(update(t.party_roles).where(
        (_PARTY_ROLE.party_id == party_id) & (_PARTY_ROLE.role == role_.value))
        .values(revoked_seq=seq))
    return {"party_id": party_id, "role": party.role, "roles": roles, "event_seq": seq}


def revoke_tokens(tx: Tx, *, party_id: int, reason: str) -> dict[str, Any]:
    """Revoke every token of a party (administrator; they expire now).

    The party then needs a new party record or token to act. Checks, in order: role admin; party
    exists; reason given.
    """
    require_role(tx, Role.admin)
    tx.get(t.parties, party_id, Rejection.party_must_exist, "party")
    reason = non_empty(reason, "reason")
    seq = tx.emit("tokens_revoked", {"party_id": party_id, "reason": reason})
    now = tx.last_event_at
    tok = t.tokens.c
    tx.session.execute(update(t.tokens).where(
        tok.party_id == party_id, (tok.expires_at.is_(None)) | (tok.expires_at > now))
        .values(expires_at=now))
    return {"party_id": party_id, "revoked_at": now, "event_seq": seq}


TOKEN_TTL_MAX_DAYS = 3650
"""[days] the longest lifetime of a token a party issues itself (also the default)."""
TOKEN_LABEL_MAX = 100
"""[characters] the longest label of a token."""


def _token_owner(tx: Tx, party_id: int | None) -> int:
    """Return the party a token use case acts for: the actor, or another if it is the admin.

    Refused with ``token_must_belong_to_actor`` when a party other than the administrator
    names another party.
    """
    assert tx.actor is not None
    owner = tx.actor.party_id if party_id is None else party_id
    if owner != tx.actor.party_id and Role.admin not in roles_of(tx, tx.actor.party_id):
        raise RegistryRejection(Rejection.token_must_belong_to_actor,
                                "only the administrator manages another party's tokens")
    return owner


def issue_token(tx: Tx, *, party_id: int | None = None, label: str | None = None,
                ttl_days: int | None = None) -> dict[str, Any]:
    """Issue a new bearer token to the actor's party (the administrator: to any party).

    The token is in the result once; only its SHA-256 is stored and journaled (in the
    private part of ``token_issued``, with its label and expiry). Checks, in order: the
    party is the actor's unless the actor is the administrator
    (``token_must_belong_to_actor``); the party exists; the lifetime lies in 1 to
    :data:`TOKEN_TTL_MAX_DAYS` days (``token_lifetime_must_lie_in_1_3650_days``; omitted:
    the maximum, so that every token a party issues itself expires); the label has at most
    :data:`TOKEN_LABEL_MAX` characters (``token_label_must_fit_100_characters``; blank: none).
    """
    owner = _token_owner(tx, party_id)
    tx.get(t.parties, owner, Rejection.party_must_exist, "party")
    days = TOKEN_TTL_MAX_DAYS if ttl_days is None else ttl_days
    if not 1 <= days <= TOKEN_TTL_MAX_DAYS:
        raise RegistryRejection(Rejection.token_lifetime_must_lie_in_1_3650_days,
                                f"ttl_days: {days} must lie in 1–{TOKEN_TTL_MAX_DAYS}")
    name = (label or "").strip() or None
    if name is not None and len(name) > TOKEN_LABEL_MAX:
        raise RegistryRejection(Rejection.token_label_must_fit_100_characters,
                                f"label: {len(name)} characters, at most {TOKEN_LABEL_MAX}")
    token = "hsn_" + secrets.token_urlsafe(32)
    sha = hash_token(token)
    created = utc_now()
    expires = (datetime.fromisoformat(created) + timedelta(days=days)).isoformat(
        timespec="seconds")
    tx.session.execute(insert(t.tokens).values(token_sha256=sha, party_id=owner,
                                               expires_at=expires, created_at=created,
                                               label=name))
    seq = tx.emit("token_issued", {"party_id": owner, "token_sha256": sha,
                                   "expires_at": expires, "label": name})
    return {"party_id": owner, "token": token, "fingerprint": sha, "label": name,
            "created_at": created, "expires_at": expires, "event_seq": seq}


def revoke_token(tx: Tx, *, fingerprint: str, party_id: int | None = None) -> dict[str, Any]:
    """Revoke one bearer token, named by its fingerprint (its SHA-256, hexadecimal).

    By its owner or the administrator; the token that authenticates the request may be
    revoked too (a party ends a session it no longer trusts; the reply still arrives, the
    next request with it is refused). Journaled as ``token_revoked``; the token's row
    keeps the event's number (``tokens.revoked_seq``) and expires now if it had not expired.
    Checks, in order: the party is the actor's unless the actor is the administrator
    (``token_must_belong_to_actor``); the token exists (``token_must_exist``); it is the
    party's (``token_must_belong_to_actor``; the administrator may revoke any token); it
    is not revoked already (``token_must_not_be_revoked``).
    """
    assert tx.actor is not None
    owner = _token_owner(tx, party_id)
    tok = t.tokens.c
    row = tx.session.execute(select(tok.party_id, tok.expires_at, tok.revoked_seq)
                             .where(tok.token_sha256 == fingerprint)
                             .with_for_update()).first()
    if row is None:
        raise RegistryRejection(Rejection.token_must_exist,
                                f"no token has the fingerprint {fingerprint[:12]}…")
    is_admin = Role.admin in roles_of(tx, tx.actor.party_id)
    if row.party_id != owner and not (is_admin and party_id is None):
        raise RegistryRejection(Rejection.token_must_belong_to_actor,
                                f"token {fingerprint[:12]}… is not a token of party {owner}")
    if row.revoked_seq is not None:
        raise RegistryRejection(Rejection.token_must_not_be_revoked,
                                f"token {fingerprint[:12]}… was revoked already "
                                f"(event {row.revoked_seq})")
    seq = tx.emit("token_revoked", {"party_id": row.party_id, "token_sha256": fingerprint})
    now = tx.last_event_at
    expires = row.expires_at if row.expires_at is not None and row.expires_at <= now else now
    tx.session.execute(update(t.tokens).where(tok.token_sha256 == fingerprint)
                       .values(revoked_seq=seq, expires_at=expires))
    return {"party_id": row.party_id, "fingerprint": fingerprint, "revoked_at": now,
            "event_seq": seq}


def open_account(tx: Tx, *, party_id: int | None = None, name: str = "") -> dict[str, Any]:
    """Open a holding account for the caller's party (the admin may open one for anyone)."""
    assert tx.actor is not None
    owner = tx.actor.party_id if party_id is None else party_id
    if owner != tx.actor.party_id and Role.admin not in roles_of(tx, tx.actor.party_id):
        raise RegistryRejection(Rejection.account_must_belong_to_actor,
                                "only the administrator opens accounts for other parties")
    party = tx.get(t.parties, owner, Rejection.party_must_exist, "party")
    label = name.strip() or f"{party.name} holding"
    aid = _account(tx, owner, AccountKind.holding, label)
    return {"account_id": aid, "party_id": owner, "kind": "holding", "name": label}


def _account(tx: Tx, party_id: int, kind: AccountKind, name: str,
             project_id: int | None = None) -> int:
    aid = tx.insert_returning_id(t.accounts, {
        "party_id": party_id, "kind": kind.value, "project_id": project_id, "name": name,
        "balance": 0, "created_at": utc_now()})
    tx.emit("account_opened", {"account_id": aid, "party_id": party_id, "kind": kind.value,
                               "project_id": project_id, "name": name})
    return aid


def bootstrap(tx: Tx, *, admin_name: str, registry_code: str,
              share_of_proceeds_pct: str, overall_mitigation_pct: str,
              rounding: str) -> dict[str, Any]:
    """Create the administrator, the registry's system accounts and the chain's genesis."""
    from hesuan.registry.domain.events import GENESIS_HASH
    from hesuan.registry.domain.model import Rounding

    if tx.session.execute(select(t.registry_meta)).first() is not None:
        raise RegistryRejection(Rejection.registry_must_be_initialised_once,
                                "this database already holds a registry")
    sop = parse_pct(share_of_proceeds_pct, "share_of_proceeds_pct")
    omge = parse_pct(overall_mitigation_pct, "overall_mitigation_pct")
    Rounding(rounding)
    now = utc_now()
    admin = tx.insert_returning_id(t.parties, {"name": admin_name, "role": "admin",
                                               "country": None, "created_at": now})
    tx.session.execute(insert(t.party_roles).values(party_id=admin, role="admin"))
    ids: dict[str, int] = {}
    for kind in (AccountKind.retirement, AccountKind.cancellation, AccountKind.buffer,
                 AccountKind.levy):
        ids[kind.value] = tx.insert_returning_id(t.accounts, {
            "party_id": admin, "kind": kind.value, "project_id": None,
            "name": f"Registry {kind.value} account", "balance": 0, "created_at": now})
    tx.session.execute(insert(t.registry_meta).values(
        id=1, registry_code=registry_code, head_seq=0, head_hash=GENESIS_HASH, next_serial=1,
        share_of_proceeds_pct=str(sop), overall_mitigation_pct=str(omge), rounding=rounding,
        retirement_account_id=ids["retirement"], cancellation_account_id=ids["cancellation"],
        buffer_account_id=ids["buffer"], levy_account_id=ids["levy"], created_at=now))
    token, sha, _ = new_token(tx, admin, None)
    tx.emit("registry_initialised", {
        "registry_code": registry_code, "admin_party_id": admin, "admin_name": admin_name,
        "admin_token_sha256": sha,
        "share_of_proceeds_pct": str(sop), "overall_mitigation_pct": str(omge),
        "rounding": rounding,
        "accounts": [{"account_id": v, "kind": k} for k, v in ids.items()]})
    return {"admin_party_id": admin, "token": token, "accounts": ids}


def create_project(tx: Tx, *, name: str, methodology_id: str, methodology_version: str,
                   host_country: str, host_region: str, sector: str, crediting_start: str,
                   crediting_end: str, buffer_pct: str = "0",
                   forward_account_id: int | None = None,
                   external_project_id: str | None = None) -> dict[str, Any]:
    """List a proponent's project; its pending (issuance) account is opened with it.

    ``external_project_id`` is the id other registries know the project by (e.g. its CAD
    Trust ``originProjectId``); issuing for a vintage another registry issued under that id
    is refused (:func:`hesuan.registry.service.units.issue`).

    Checks, in order: role; texts not empty; methodology id and version in the standards
    library's catalogue and creditable; crediting period ordered; buffer share in 0–100;
    forward account the proponent's. The catalogue's canonical id and version are stored.
    """
    require_role(tx, Role.proponent)
    assert tx.actor is not None
    for value, field in ((name, "name"), (methodology_id, "methodology_id"),
                         (methodology_version, "methodology_version"),
                         (host_region, "host_region"), (sector, "sector")):
        non_empty(value, field)
    method = catalogued_methodology(methodology_id, methodology_version)
    methodology_id, methodology_version = method.id, method.version
    ordered_period(crediting_start, crediting_end, "crediting")
    pct = parse_pct(buffer_pct, "buffer_pct")
    if forward_account_id is None:
        forward_account_id = _account(tx, tx.actor.party_id, AccountKind.holding,
                                      f"{name.strip()} proceeds")
    else:
        acc = tx.account(forward_account_id)
        if acc.party_id != tx.actor.party_id or acc.kind != AccountKind.holding.value:
            raise RegistryRejection(Rejection.account_must_belong_to_actor,
                                    f"forward account {forward_account_id} must be one of your "
                                    "holding accounts")
    external = None if external_project_id is None else \
        non_empty(external_project_id, "external_project_id")[:120]
    now = utc_now()
    pid = tx.insert_returning_id(t.projects, {
        "name": name.strip(), "proponent_id": tx.actor.party_id,
        "methodology_id": methodology_id.strip(),
        "methodology_version": methodology_version.strip(), "host_country": host_country,
        "host_region": host_region.strip(), "sector": sector.strip(),
        "crediting_start": crediting_start, "crediting_end": crediting_end,
        "buffer_pct": str(pct), "status": ProjectStatus.listed.value,
        "issuance_account_id": 0, "forward_account_id": forward_account_id,
        "created_at": now, "external_project_id": external})
    issuance_acc = _account(tx, tx.actor.party_id, AccountKind.issuance,
                            f"Project {pid} pending account", project_id=pid)
    tx.session.execute(update(t.projects).where(t.projects.c.id == pid)
                       .values(issuance_account_id=issuance_acc))
    tx.emit("project_listed", {
        "project_id": pid, "name": name.strip(), "proponent_id": tx.actor.party_id,
        "methodology_id": methodology_id, "methodology_version": methodology_version,
        "host_country": host_country, "host_region": host_region.strip(),
        "sector": sector.strip(), "crediting_start": crediting_start,
        "crediting_end": crediting_end, "buffer_pct": str(pct),
        "issuance_account_id": issuance_acc,
        "forward_account_id": forward_account_id,
        **({} if external is None else {"external_project_id": external})}, project_id=pid)
    return {"project_id": pid, "status": "listed", "issuance_account_id": issuance_acc,
            "forward_account_id": forward_account_id}


def transition_project(tx: Tx, *, project_id: int, status: str,
                       reason: str = "") -> dict[str, Any]:
    """Move a project through its lifecycle (rules and roles in ``PROJECT_TRANSITIONS``)."""
    assert tx.actor is not None
    project = tx.get(t.projects, project_id, Rejection.project_must_exist, "project", lock=True)
    target = ProjectStatus(status)
    current = ProjectStatus(project.status)
    held = roles_of(tx, tx.actor.party_id)
    permitting = sorted(held & PROJECT_TRANSITIONS.get((current, target), frozenset()))
    check_transition(current, target, permitting[0] if permitting else
                     (sorted(held)[0] if held else tx.actor.role))
    if not permitting:
        raise RegistryRejection(Rejection.role_must_permit_operation,
                                f"{current.value} → {target.value} is not made by "
                                f"{', '.join(sorted(held)) or 'a party with no role'}")
    if Role.admin not in permitting:
        if permitting == [Role.verifier] and project.proponent_id == tx.actor.party_id:
            raise RegistryRejection(Rejection.verifier_must_not_be_proponent,
                                    f"project {project_id} is your own; another verifier "
                                    "validates it")
        if Role.proponent in permitting and project.proponent_id != tx.actor.party_id:
            raise RegistryRejection(Rejection.role_must_permit_operation,
                                    f"project {project_id} belongs to another proponent")
    tx.session.execute(update(t.projects).where(t.projects.c.id == project_id)
                       .values(status=target.value))
    seq = tx.emit("project_status_changed", {"project_id": project_id, "from": project.status,
                                             "to": target.value, "reason": reason},
                  project_id=project_id)
    return {"project_id": project_id, "status": target.value, "event_seq": seq}


def store_document(tx: Tx, content: bytes) -> str:
    """Store bytes content-addressed by SHA-256 (a second copy is not stored)."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise RegistryRejection(Rejection.document_must_fit_size_limit,
                                f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    digest = hashlib.sha256(content).hexdigest()
    exists = tx.session.execute(select(t.documents.c.sha256)
                                .where(t.documents.c.sha256 == digest)).first()
    if exists is None:
        tx.session.execute(insert(t.documents).values(sha256=digest, content=content,
                                                      size_bytes=len(content)))
    return digest


def add_document(tx: Tx, *, project_id: int, name: str, kind: str,
                 content: bytes) -> dict[str, Any]:
    """Attach a document (design document, validation report …) to a project."""
    assert tx.actor is not None
    project = tx.get(t.projects, project_id, Rejection.project_must_exist, "project")
    if not roles_of(tx, tx.actor.party_id) & {Role.admin, Role.verifier} and \
            project.proponent_id != tx.actor.party_id:
        raise RegistryRejection(Rejection.role_must_permit_operation,
                                "documents are added by the project's proponent, a verifier "
                                "or the administrator")
    digest = store_document(tx, content)
    name, kind = non_empty(name, "name"), non_empty(kind, "kind")
    tx.session.execute(insert(t.project_documents).values(
        project_id=project_id, sha256=digest, name=name, kind=kind, created_at=utc_now()))
    seq = tx.emit("document_added", {"project_id": project_id, "sha256": digest, "name": name,
                                     "kind": kind, "size_bytes": len(content)},
                  project_id=project_id)
    return {"project_id": project_id, "sha256": digest, "event_seq": seq}


def submit_report(tx: Tx, *, project_id: int, period_start: str, period_end: str,
                  reported_quantity: int, quantification: str,
                  factor_dataset: str | None = None) -> dict[str, Any]:
    """Submit a proponent's monitoring report carrying a hesuan quantification.

    Checks, in order: role; project exists and is the actor's; project registered; period
    ordered and inside the crediting period; quantity positive; the project's methodology
    has a hesuan quantification module; the quantification is a quantification report
    (its schema and seal); of the project's methodology and version; its creditable
    quantity can be read; it is a net removal; its period covers the report's; quantity ≤
    the creditable quantity; the file (or the report's content) backs no other monitoring
    report. ``factor_dataset`` is no longer read (a report names its datasets).
    """
    require_role(tx, Role.proponent)
    assert tx.actor is not None
    project = tx.get(t.projects, project_id, Rejection.project_must_exist, "project")
    if project.proponent_id != tx.actor.party_id:
        raise RegistryRejection(Rejection.role_must_permit_operation,
                                f"project {project_id} belongs to another proponent")
    if project.status != ProjectStatus.registered.value:
        raise RegistryRejection(Rejection.project_must_be_registered,
                                f"project {project_id} is {project.status}, not registered")
    start, end = ordered_period(period_start, period_end, "period")
    if not (project.crediting_start <= start.isoformat() and
            end.isoformat() <= project.crediting_end):
        raise RegistryRejection(
            Rejection.report_period_must_lie_in_crediting_period,
            f"period {start}–{end} is outside the crediting period "
            f"{project.crediting_start}–{project.crediting_end}")
    if reported_quantity <= 0:
        raise RegistryRejection(Rejection.quantity_must_be_positive,
                                f"reported_quantity {reported_quantity} must be positive")
    method = project_methodology(project.methodology_id, project.methodology_version)
    summary = read_quantification(
        quantification, method, f"{project.methodology_id}@{project.methodology_version}")
    assert method is not None  # read_quantification refuses a project without a module
    check_fit(summary, method)
    check_claim(summary, period_start=start.isoformat(), period_end=end.isoformat(),
                reported_quantity=reported_quantity)
    backed = t.reports.c.quantification_sha256 == summary.sha256
    if summary.report_sha256 is not None:
        backed = backed | (t.reports.c.quantification_report_sha256 == summary.report_sha256)
    other = tx.session.execute(select(t.reports.c.id).where(backed)).first()
    if other is not None:
        raise RegistryRejection(
            Rejection.quantification_must_back_one_report,
            f"this quantification (file {summary.sha256[:12]}…) already backs monitoring "
            f"report {other.id}")
    store_document(tx, quantification.encode("utf-8"))
    rid = tx.insert_returning_id(t.reports, {
        "project_id": project_id, "proponent_id": tx.actor.party_id,
        "period_start": period_start, "period_end": period_end,
        "reported_quantity": reported_quantity, "quantification_sha256": summary.sha256,
        "quantification_report_sha256": summary.report_sha256, "attestation_sha256": None,
        "factor_dataset": summary.factor_dataset, "status": ReportStatus.submitted.value,
        "verifier_id": None, "verified_quantity": None, "issued_quantity": 0,
        "created_at": utc_now()})
    payload: dict[str, Any] = {
        "report_id": rid, "project_id": project_id, "period_start": period_start,
        "period_end": period_end, "reported_quantity": reported_quantity,
        "quantification_sha256": summary.sha256, "quantification_kind": summary.kind,
        "factor_dataset": summary.factor_dataset}
    if summary.report_sha256 is not None:
        payload["quantification_report_sha256"] = summary.report_sha256
        payload["methodology_key"] = summary.methodology_key
    seq = tx.emit("report_submitted", payload, project_id=project_id)
    return {"report_id": rid, "status": "submitted", "quantification_sha256": summary.sha256,
            "quantification_report_sha256": summary.report_sha256,
            "factor_dataset": summary.factor_dataset, "event_seq": seq}


def accredit_verifier(tx: Tx, *, party_id: int, sector: str, public_key: str
                      ) -> dict[str, Any]:
    """Accredit a verifier for a sector (administrator).

    With the Ed25519 public key its attestations must be signed with.

    Checks, in order: role admin; party exists and has the verifier role; sector not empty;
    key is 32 bytes of hex (an Ed25519 public key). A second accreditation of the same
    verifier and sector replaces its key.
    """
    require_role(tx, Role.admin)
    party = tx.get(t.parties, party_id, Rejection.party_must_exist, "party")
    if Role.verifier not in roles_of(tx, party_id):
        raise RegistryRejection(Rejection.role_must_permit_operation,
                                f"party {party_id} ({party.name}) does not hold the verifier "
                                "role")
    non_empty(sector, "sector")
    key = public_key.strip().lower()
    try:
        ok = len(bytes.fromhex(key)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise RegistryRejection(Rejection.public_key_must_be_ed25519,
                                "public_key must be an Ed25519 public key: 64 hex digits")
    row = tx.session.execute(select(t.verifier_accreditations.c.id).where(
        (t.verifier_accreditations.c.party_id == party_id)
        & (t.verifier_accreditations.c.sector == sector.strip()))).first()
    if row is None:
        acc_id = tx.insert_returning_id(t.verifier_accreditations, {
            "party_id": party_id, "sector": sector.strip(), "public_key": key,
            "accredited_at": utc_now()})
    else:
        acc_id = row.id
        tx.session.execute(update(t.verifier_accreditations)
                           .where(t.verifier_accreditations.c.id == row.id)
                           .values(public_key=key, accredited_at=utc_now()))
    seq = tx.emit("verifier_accredited", {"accreditation_id": acc_id, "party_id": party_id,
                                          "sector": sector.strip(), "public_key": key})
    return {"party_id": party_id, "sector": sector.strip(), "public_key": key,
            "event_seq": seq}


def _check_attestation(tx: Tx, report: Any, project: Any, attestation: str | None,
                       verified_quantity: int) -> tuple[str, dict[str, Any]] | None:
    """For a report carrying a hesuan quantification report.

    The verifier's signed attestation must be given, verify under the key of the verifier's
    accreditation for the methodology's sector, attest this report's hash, and cover the verified
    quantity. Returns (attestation document hash, event payload), or ``None`` for other reports.
    """
    if report.quantification_report_sha256 is None:
        return None
    assert tx.actor is not None
    from hesuan.errors import InputError
    from hesuan.quantification.attestation import (
        AttestationError,
        parse_attestation,
        verify_attestation,
    )

    method = project_methodology(project.methodology_id, project.methodology_version)
    sector = method.sector if method is not None else project.sector
    acc = tx.session.execute(select(t.verifier_accreditations.c.public_key).where(
        (t.verifier_accreditations.c.party_id == tx.actor.party_id)
        & (t.verifier_accreditations.c.sector == sector))).first()
    if acc is None:
        raise RegistryRejection(Rejection.verifier_must_be_accredited_for_sector,
                                f"verifier {tx.actor.party_id} is not accredited for the "
                                f"sector {sector}")
    if not attestation:
        raise RegistryRejection(Rejection.attestation_must_be_given,
                                "a report with a quantification report needs the verifier's "
                                "signed attestation (`hesuan attest`)")
    try:
        att = parse_attestation(attestation)
        verify_attestation(att, public_key=acc.public_key)
    except (InputError, AttestationError) as exc:
        raise RegistryRejection(Rejection.attestation_signature_must_verify, str(exc)) from None
    if att.report_sha256 != report.quantification_report_sha256:
        raise RegistryRejection(Rejection.attestation_must_match_report,
                                f"the attestation is of report {att.report_sha256[:16]}…, "
                                f"not of this one ({report.quantification_report_sha256[:16]}…)")
    if verified_quantity > att.verified_units:
        raise RegistryRejection(Rejection.attestation_must_match_report,
                                f"verified_quantity {verified_quantity} exceeds the "
                                f"{att.verified_units} units attested")
    digest = store_document(tx, attestation.encode("utf-8"))
    return digest, {"report_id": report.id, "attestation_sha256": digest,
                    "report_sha256": att.report_sha256, "public_key": att.public_key,
                    "signature": att.signature, "verifier": att.verifier,
                    "verified_units": att.verified_units, "sector": sector}


def verify_report(tx: Tx, *, report_id: int, verified_quantity: int, approve: bool = True,
                  comment: str = "", attestation: str | None = None) -> dict[str, Any]:
    """Approve a verified quantity ≤ reported, or reject (a verifier, never the proponent).

    Checks, in order: role; report exists; verifier is not the proponent; report awaits
    verification; quantity positive (when approving); verified ≤ reported; for a report
    carrying a quantification report, when approving: the verifier is accredited for the
    methodology's sector and its signed attestation verifies, attests this report and
    covers the quantity (recorded in the audit chain as ``report_attested``).
    """
    require_role(tx, Role.verifier)
    assert tx.actor is not None
    report = tx.get(t.reports, report_id, Rejection.report_must_exist, "report", lock=True)
    if report.proponent_id == tx.actor.party_id:
        raise RegistryRejection(Rejection.verifier_must_not_be_proponent,
                                "a proponent cannot verify its own report")
    if report.status != ReportStatus.submitted.value:
        raise RegistryRejection(Rejection.report_must_await_verification,
                                f"report {report_id} is already {report.status}")
    if approve and verified_quantity <= 0:
        raise RegistryRejection(Rejection.quantity_must_be_positive,
                                f"verified_quantity {verified_quantity} must be positive")
    if verified_quantity > report.reported_quantity:
        raise RegistryRejection(
            Rejection.verified_quantity_must_not_exceed_reported,
            f"verified {verified_quantity} exceeds the {report.reported_quantity} reported")
    attested = None
    if approve:
        project = tx.get(t.projects, report.project_id, Rejection.project_must_exist,
                         "project")
        attested = _check_attestation(tx, report, project, attestation, verified_quantity)
    status = ReportStatus.verified if approve else ReportStatus.rejected
    values: dict[str, Any] = {"status": status.value, "verifier_id": tx.actor.party_id,
                              "verified_quantity": verified_quantity if approve else 0}
    if attested is not None:
        values["attestation_sha256"] = attested[0]
    tx.session.execute(update(t.reports).where(t.reports.c.id == report_id).values(**values))
    if attested is not None:
        tx.emit("report_attested", attested[1], project_id=report.project_id)
    seq = tx.emit("report_verified" if approve else "report_rejected", {
        "report_id": report_id, "verified_quantity": verified_quantity if approve else 0,
        "comment": comment}, project_id=report.project_id)
    return {"report_id": report_id, "status": status.value,
            "verified_quantity": verified_quantity if approve else 0,
            "attestation_sha256": attested[0] if attested else None, "event_seq": seq}
