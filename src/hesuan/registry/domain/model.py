"""Registry vocabulary: roles, account kinds, lifecycles, purposes; deductions at issuance.

Words follow one glossary (``docs/registry.md``): *retirement* is the holder's use of units
for a claim; *cancellation* is an administrative removal (including the overall-mitigation
cancellation and buffer reversals); neither kind of unit ever moves again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from hesuan.registry.domain.codes import RegistryRejection, Rejection


class Role(StrEnum):
    """What a party may do. The public (no token) may only read the explorer."""

    admin = "admin"                    # registry administrator
    host_authority = "host_authority"  # host-country authority (Article 6 authorisations)
    proponent = "proponent"            # project proponent
    verifier = "verifier"              # validation/verification body (VVB)
    holder = "holder"                  # account holder


class AccountKind(StrEnum):
    """Kinds of account. Only ``holding`` accounts belong to ordinary parties."""

    holding = "holding"
    issuance = "issuance"          # pending account of one project
    retirement = "retirement"
    cancellation = "cancellation"
    buffer = "buffer"              # pooled non-permanence buffer
    levy = "levy"                  # share of proceeds

    @property
    def terminal(self) -> bool:
        """Units in a terminal account never move again."""
        return self in (AccountKind.retirement, AccountKind.cancellation)


class BlockStatus(StrEnum):
    """Status of a block (CAD Trust ``unitStatus`` vocabulary where it exists)."""

    held = "held"
    retired = "retired"
    cancelled = "cancelled"


def status_for(kind: AccountKind) -> BlockStatus:
    """Status a block takes when it enters an account of ``kind``."""
    if kind is AccountKind.retirement:
        return BlockStatus.retired
    if kind is AccountKind.cancellation:
        return BlockStatus.cancelled
    return BlockStatus.held


def cad_unit_status(kind: AccountKind) -> str:
    """Climate Action Data Trust ``unitStatus`` of units in an account of ``kind``."""
    return {AccountKind.retirement: "Retired", AccountKind.cancellation: "Cancelled",
            AccountKind.buffer: "Buffer"}.get(kind, "Held")


class ProjectStatus(StrEnum):
    """A project's status in its lifecycle."""

    listed = "listed"
    validated = "validated"
    registered = "registered"
    suspended = "suspended"
    withdrawn = "withdrawn"


#: Allowed lifecycle transitions and the roles that may make them.
PROJECT_TRANSITIONS: dict[tuple[ProjectStatus, ProjectStatus], frozenset[Role]] = {
    (ProjectStatus.listed, ProjectStatus.validated): frozenset({Role.verifier}),
    (ProjectStatus.validated, ProjectStatus.registered): frozenset({Role.admin}),
    (ProjectStatus.registered, ProjectStatus.suspended): frozenset({Role.admin}),
    (ProjectStatus.suspended, ProjectStatus.registered): frozenset({Role.admin}),
    (ProjectStatus.listed, ProjectStatus.withdrawn): frozenset({Role.admin, Role.proponent}),
    (ProjectStatus.validated, ProjectStatus.withdrawn): frozenset({Role.admin, Role.proponent}),
    (ProjectStatus.registered, ProjectStatus.withdrawn): frozenset({Role.admin, Role.proponent}),
    (ProjectStatus.suspended, ProjectStatus.withdrawn): frozenset({Role.admin}),
}


def check_transition(current: ProjectStatus, target: ProjectStatus, role: Role) -> None:
    """Raise unless ``role`` may move a project from ``current`` to ``target``."""
    roles = PROJECT_TRANSITIONS.get((current, target))
    if roles is None:
        allowed = sorted(t.value for (c, t) in PROJECT_TRANSITIONS if c is current)
        raise RegistryRejection(
            Rejection.project_transition_must_be_allowed,
            f"a {current.value} project cannot become {target.value} "
            f"(allowed: {', '.join(allowed) or 'none'})",
        )
    if role not in roles:
        raise RegistryRejection(
            Rejection.role_must_permit_operation,
            f"{current.value} → {target.value} is made by {', '.join(sorted(roles))}, "
            f"not {role.value}",
        )


class ReportStatus(StrEnum):
    """A monitoring report's status."""

    submitted = "submitted"
    verified = "verified"
    rejected = "rejected"


class RetirementPurpose(StrEnum):
    """Why units were retired; the Article 6 purposes need an authorisation for that use."""

    voluntary = "voluntary"
    ndc = "ndc"          # use towards a nationally determined contribution
    corsia = "corsia"    # CORSIA offsetting requirements
    oimp = "oimp"        # other international mitigation purposes
    other = "other"


class AuthorisedUse(StrEnum):
    """Uses a host-country authority authorises (Decision 2/CMA.3, annex, chapter I)."""

    ndc = "ndc"
    corsia = "corsia"
    oimp = "oimp"


class FirstTransfer(StrEnum):
    """When a mitigation outcome authorised for OIMP is first transferred.

    Decision 2/CMA.3, annex, para. 2(b): at authorisation, issuance or use/cancellation.
    """

    authorisation = "authorisation"
    issuance = "issuance"
    use_or_cancellation = "use_or_cancellation"


class CaStatus(StrEnum):
    """CAD Trust ``correspondingAdjustmentStatus``."""

    not_started = "Not Started"
    pending = "Pending"
    completed = "Completed"


#: The corresponding-adjustment statuses a status may move to (one step at a time, never
#: back): Not Started → Pending → Completed (CAD Trust ``correspondingAdjustmentStatus``).
CA_TRANSITIONS: dict[CaStatus, frozenset[CaStatus]] = {
    CaStatus.not_started: frozenset({CaStatus.pending}),
    CaStatus.pending: frozenset({CaStatus.completed}),
    CaStatus.completed: frozenset(),
}


def check_ca_transition(current: CaStatus, target: CaStatus) -> None:
    """Raise ``ca_status_must_advance`` unless ``current → target`` is an allowed step."""
    if target not in CA_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in CA_TRANSITIONS[current])) or "none"
        raise RegistryRejection(
            Rejection.ca_status_must_advance,
            f"corresponding adjustment is {current.value}; it can only advance one step at a "
            f"time (Not Started → Pending → Completed); allowed now: {allowed}")


class Rounding(StrEnum):
    """How a percentage deduction is rounded to whole units.

    ``up`` (the default) never under-deducts: the buffer, share of proceeds and
    overall-mitigation cancellation are at least their stated percentage.
    """

    up = "up"
    down = "down"
    half_up = "half_up"


_ROUNDING = {Rounding.up: ROUND_CEILING, Rounding.down: ROUND_FLOOR,
             Rounding.half_up: ROUND_HALF_UP}


def percentage_of(quantity: int, pct: Decimal, rounding: Rounding) -> int:
    """``quantity × pct / 100`` rounded to a whole unit by ``rounding``.

    Parameters
    ----------
    quantity : [unit] whole units (1 unit = 1 t CO2e)
    pct : [%] percentage, 0–100, exact decimal
    rounding : rounding rule
    """
    if not (Decimal(0) <= pct <= Decimal(100)):
        raise RegistryRejection(Rejection.percentage_must_lie_in_0_100,
                                f"percentage {pct} must lie in 0–100")
    exact = Decimal(quantity) * pct / Decimal(100)
    return int(exact.to_integral_value(rounding=_ROUNDING[rounding]))


@dataclass(frozen=True)
class Deductions:
    """Units taken from one issuance before it is forwarded to the proponent [unit]."""

    buffer: int
    share_of_proceeds: int
    overall_mitigation: int
    forwarded: int


def deductions(quantity: int, *, buffer_pct: Decimal, share_of_proceeds_pct: Decimal,
               overall_mitigation_pct: Decimal, rounding: Rounding) -> Deductions:
    """Split an issuance of ``quantity`` units into buffer, levies and the forwarded rest.

    Each percentage applies to the gross issued quantity and is rounded on its own by
    ``rounding``; the rest is forwarded. With 5 % share of proceeds and 2 % overall
    mitigation, 1000 units give 930 / 50 / 20 (UNDP NCR test seed for Article 6.4; see
    ``docs/registry.md``).

    Parameters
    ----------
    quantity : [unit] units issued
    buffer_pct : [%] non-permanence buffer share from the project's risk rating
    share_of_proceeds_pct : [%] share of proceeds (to the levy account)
    overall_mitigation_pct : [%] overall mitigation in global emissions (cancelled)
    rounding : rule applied to each deduction separately

    References
    ----------
    Decision 3/CMA.3, annex (rules, modalities and procedures of the Article 6.4
    mechanism), chapters on the share of proceeds and on overall mitigation in global
    emissions; CDM registry procedures (share of proceeds deducted from the pending account);
    Verra AFOLU Non-Permanence Risk Tool v4.2 (buffer share); Gold Standard 20 % buffer.
    """
    if quantity <= 0:
        raise RegistryRejection(Rejection.quantity_must_be_positive,
                                f"quantity {quantity} must be a positive whole number")
    b = percentage_of(quantity, buffer_pct, rounding)
    s = percentage_of(quantity, share_of_proceeds_pct, rounding)
    o = percentage_of(quantity, overall_mitigation_pct, rounding)
    if b + s + o > quantity:
        raise RegistryRejection(
            Rejection.deductions_must_not_exceed_issuance,
            f"deductions {b} + {s} + {o} exceed the {quantity} units issued",
        )
    return Deductions(b, s, o, quantity - b - s - o)
