"""Public retirement statements and date rules (pure text and calendar logic)."""

from __future__ import annotations

from datetime import date

from hesuan.registry.domain.codes import RegistryRejection, Rejection


def parse_day(text: str, field: str) -> date:
    """Return an ISO 8601 calendar date ``YYYY-MM-DD``; rejects anything else naming ``field``."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise RegistryRejection(Rejection.date_must_be_iso_8601,
                                f"{field}: '{text}' is not a date YYYY-MM-DD") from None


def ordered_period(start: str, end: str, field: str,
                   code: Rejection = Rejection.period_must_be_ordered) -> tuple[date, date]:
    """Parse a period and require ``start ≤ end``."""
    a, b = parse_day(start, f"{field}_start"), parse_day(end, f"{field}_end")
    if a > b:
        raise RegistryRejection(code, f"{field}: start {a} is after end {b}")
    return a, b


def non_empty(text: str, field: str) -> str:
    """``text`` stripped; rejects an empty value naming ``field``."""
    if not text or not text.strip():
        raise RegistryRejection(Rejection.text_must_not_be_empty, f"{field} must not be empty")
    return text.strip()


def retirement_statement(*, retirement_id: int, retired_on: str, retiring_party: str,
                         beneficiary: str, purpose: str, claim_start: str, claim_end: str,
                         quantity: int, serials: list[str], projects: list[str], note: str,
                         event_seq: int, event_hash: str) -> str:
    """Return the public statement of one retirement.

    Gold Standard "using entity" and note, Toucan certificate fields: retiring entity, beneficiary,
    message.
    """
    shown = serials[:20] + ([f"… and {len(serials) - 20} more blocks"] if len(serials) > 20
                            else [])
    lines = [
        f"Retirement statement R{retirement_id}",
        f"On {retired_on}, {retiring_party} retired {quantity} unit(s) "
        f"(1 unit = 1 t CO2e) on behalf of {beneficiary}.",
        f"Purpose: {purpose}. Claim period: {claim_start} to {claim_end}.",
        "Projects: " + "; ".join(projects) + ".",
        "Serial blocks: " + ", ".join(shown) + ".",
    ]
    if note:
        lines.append(f"Note: {note}")
    lines.append(f"Recorded as audit event {event_seq} (SHA-256 chain hash {event_hash}). "
                 "Retired units are extinguished and never move again.")
    return "\n".join(lines)
