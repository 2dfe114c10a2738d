"""Read-only views the pages show that the registry's query module does not offer yet.

The audit chain's head and unit totals by vintage, methodology and status (public, aggregate data:
no account or party is named), and the signed-in party's own API tokens (their fingerprints and
dates, never a secret: the registry stores only each token's SHA-256). They read through
:meth:`hesuan.registry.engine.Registry.read`; every other page uses :meth:`Registry.query
<hesuan.registry.engine.Registry.query>`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from hesuan.registry.db import tables as t
from hesuan.registry.engine import Registry

TOTALS_MEMORY_S = 5.0
"""[s] how long a computed set of totals is shown before it is computed again."""


@dataclass(frozen=True)
class ChainHead:
    """The newest event of the audit chain."""

    seq: int
    hash: str
    registry_code: str


@dataclass(frozen=True)
class Totals:
    """Units [count] by vintage, by methodology and by block status."""

    issued_by_vintage: dict[int, int]
    issued_by_methodology: dict[str, int]
    by_status: dict[str, int]
    projects: int
    issuances: int
    retirements: int

    @property
    def issued(self) -> int:
        """Return the units issued, over every vintage."""
        return sum(self.issued_by_vintage.values())


FINGERPRINT_HEX = 12
"""Hex digits of a token's SHA-256 shown as its fingerprint (the first 48 bits)."""


@dataclass(frozen=True)
class TokenView:
    """One API token of a party as its owner sees it.

    A fingerprint (the start of the token's SHA-256, as stored by the registry), when it was
    created and when it expires (``None``: never).
    """

    fingerprint: str
    created_at: str
    expires_at: str | None
    sha256: str = ""
    """The token's whole SHA-256 (what the revoke form names)."""
    label: str | None = None
    revoked: bool = False
    """Whether it was revoked one by one (a revocation of all tokens ends their expiry)."""

    @property
    def expired(self) -> bool:
        """Whether the expiry has passed (as the page says; the registry decides on use)."""
        from datetime import UTC, datetime

        if self.expires_at is None:
            return False
        try:
            return datetime.fromisoformat(self.expires_at) <= datetime.now(UTC)
        except (TypeError, ValueError):  # unreadable: the registry refuses it, say expired
            return True


def own_tokens(reg: Registry, party_id: int) -> list[TokenView]:
    """Return the API tokens of party ``party_id``, newest first.

    Callers pass the signed-in party's own id: a party sees only its own tokens.
    """
    return [TokenView(row["fingerprint"][:FINGERPRINT_HEX], str(row["created_at"]),
                      None if row["expires_at"] is None else str(row["expires_at"]),
                      sha256=row["fingerprint"], label=row["label"], revoked=row["revoked"])
            for row in reg.query("tokens", party_id=party_id)]


def token_fingerprint(token: str) -> str:
    """Return the fingerprint of a bearer token (as :func:`own_tokens` shows it)."""
    from hesuan.registry.service.parties import hash_token

    return hash_token(token)[:FINGERPRINT_HEX]


def chain_head(reg: Registry) -> ChainHead | None:
    """Return the chain head, ``None`` before the registry is initialised."""
    m = t.registry_meta.c
    with reg.read() as s, s.begin():
        row = s.execute(select(m.head_seq, m.head_hash, m.registry_code)
                        .where(m.id == 1)).first()
    return None if row is None else ChainHead(int(row[0]), str(row[1]), str(row[2]))


_memory: dict[int, tuple[float, Totals]] = {}
_memory_lock = threading.Lock()


def totals(reg: Registry) -> Totals:
    """Return units issued per vintage and methodology, and units per block status.

    Issuances and blocks, remembered for ``TOTALS_MEMORY_S`` per registry.
    """
    now = time.monotonic()
    with _memory_lock:
        known = _memory.get(id(reg))
    if known is not None and known[0] > now:
        return known[1]
    i, p, b = t.issuances.c, t.projects.c, t.blocks.c
    units = i.serial_end - i.serial_start + 1
    with reg.read() as s, s.begin():
        vintages = s.execute(select(i.vintage, func.sum(units)).group_by(i.vintage)
                             .order_by(i.vintage)).all()
        methods = s.execute(select(p.methodology_id + "@" + p.methodology_version,
                                   func.sum(units))
                            .join(t.projects, p.id == i.project_id)
                            .group_by(p.methodology_id, p.methodology_version)).all()
        status = s.execute(select(b.status, func.sum(b.serial_end - b.serial_start + 1))
                           .group_by(b.status)).all()
        n_projects = s.execute(select(func.count()).select_from(t.projects)).scalar_one()
        n_issuances = s.execute(select(func.count()).select_from(t.issuances)).scalar_one()
        n_retirements = s.execute(select(func.count()).select_from(t.retirements)).scalar_one()
    out = Totals({int(v): int(n) for v, n in vintages},
                 {str(k): int(n) for k, n in methods},
                 {str(k): int(n) for k, n in status},
                 int(n_projects), int(n_issuances), int(n_retirements))
    with _memory_lock:
        _memory[id(reg)] = (now + TOTALS_MEMORY_S, out)
    return out
