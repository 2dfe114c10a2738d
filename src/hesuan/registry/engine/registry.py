"""The registry's Python API: :class:`Registry`.

It runs the use cases of :mod:`hesuan.registry.service` through the write engine
(:class:`~hesuan.registry.engine.group.GroupCommit`).

A write is one typed request (:mod:`hesuan.registry.service.requests`) given to
:meth:`~GroupCommit.write` (or :meth:`~GroupCommit.write_async` on an event loop); the
methods named after the use cases (``reg.transfer(actor, key, from_account=…, …)``) build
that request from their keyword arguments — an unknown or ill-typed field is refused when
the request is built, before anything is queued.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.db.engine import make_engine, migrate
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import Role
from hesuan.registry.engine.group import GroupCommit
from hesuan.registry.service import audit, queries
from hesuan.registry.service import requests as rq
from hesuan.registry.service.parties import hash_token
from hesuan.registry.service.tx import Actor

_TOKEN = select(t.tokens.c.expires_at, t.parties.c.id, t.parties.c.role, t.parties.c.country,
                t.parties.c.name) \
    .join(t.parties, t.parties.c.id == t.tokens.c.party_id) \
    .where(t.tokens.c.token_sha256 == bindparam("token"))
_TOKENS_AT_MOST = 100_000  # tokens remembered per process (forgotten all at once beyond)
TOKEN_MEMORY_S = 1.0  # how long a looked-up token is trusted without asking the database


class Registry(GroupCommit):
    """A registry stored in one SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        # token SHA-256 → (party, expiry, remembered until — time.monotonic())
        self._tokens: dict[str, tuple[Actor, str | None, float]] = {}
        self._tokens_lock = threading.Lock()
        self._verify_lock = threading.Lock()
        self._verified: audit.Verified | None = None  # where the next verify continues

    @classmethod
    def open(cls, url: str, *, pool_size: int = 40) -> Registry:
        """Open (and migrate to the newest schema) the registry at ``url``."""
        engine = make_engine(url, pool_size=pool_size)
        migrate(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """The SQL dialect of the database (``sqlite`` or ``postgresql``)."""
        return self.engine.dialect.name

    def read(self) -> Session:
        """Return a session for read-only work (plain ``BEGIN`` on SQLite)."""
        return Session(self._read)

    # -- authentication ------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Actor:
        """Return the party a bearer token belongs to; reject unknown or expired tokens."""
        actor = self.authenticate_known(token)
        if actor is not None:
            return actor
        digest = hash_token(token or "")
        with self._read.connect() as conn:
            row = conn.execute(_TOKEN, {"token": digest}).first()
        if row is None:
            raise RegistryRejection(Rejection.token_must_be_valid, "unknown bearer token")
        actor = Actor(row.id, Role(row.role), row.country, row.name)
        with self._tokens_lock:
            if len(self._tokens) >= _TOKENS_AT_MOST:
                self._tokens.clear()
            self._tokens[digest] = (actor, row.expires_at, time.monotonic() + TOKEN_MEMORY_S)
        return self._check_expiry(actor, row.expires_at)

    def authenticate_known(self, token: str | None) -> Actor | None:
        """Run :meth:`authenticate` without I/O, from the tokens this process remembers.

        Return the actor if this process looked the token up less than ``TOKEN_MEMORY_S``
        ago, ``None`` if the database must be asked.

        The API has no way to change a token or a party's role once written; an operator who
        expires or revokes a token in the database sees it refused within
        ``TOKEN_MEMORY_S``. The remembered expiry is checked on every request.
        """
        if not token:
            raise RegistryRejection(Rejection.token_must_be_valid, "a bearer token is required")
        known = self._tokens.get(hash_token(token))
        if known is None or known[2] < time.monotonic():
            return None
        return self._check_expiry(known[0], known[1])

    def forget_tokens(self) -> None:
        """Forget the tokens this process remembers (:meth:`authenticate_known`).

        For an operator who has just changed a token or a party's role in the database by
        hand.
        """
        with self._tokens_lock:
            self._tokens.clear()

    @staticmethod
    def _check_expiry(actor: Actor, expires_at: str | None) -> Actor:
        """Refuse an expired token, or one whose stored expiry has no UTC offset.

        Failing closed: a stored expiry that is not an ISO 8601 time with a UTC offset (a
        hand-written naive time says no instant) is refused too.
        """
        if expires_at is None:
            return actor
        try:
            expiry = datetime.fromisoformat(expires_at)
        except (TypeError, ValueError):
            expiry = None
        if expiry is None or expiry.tzinfo is None:
            raise RegistryRejection(Rejection.token_must_be_valid,
                                    "bearer token has an expiry without a time zone; "
                                    "refused until an operator fixes it")
        if expiry <= datetime.now(UTC):
            raise RegistryRejection(Rejection.token_must_be_valid,
                                    f"bearer token expired at {expires_at}")
        return actor

    def write(self, actor: Actor | None, key: str | None,
              request: rq.WriteRequest) -> dict[str, Any]:
        """Run ``request`` as :meth:`GroupCommit.write` does.

        A token revocation also empties this process's memory of tokens
        (:meth:`forget_tokens`), so that the revoked token is refused at once.
        """
        out = super().write(actor, key, request)
        if isinstance(request, rq.RevokeToken | rq.RevokeTokens):
            self.forget_tokens()
        return out

    async def write_async(self, actor: Actor, key: str | None,
                          request: rq.WriteRequest) -> dict[str, Any]:
        """Run ``request`` as :meth:`GroupCommit.write_async` does.

        Tokens are forgotten after a revocation, as :meth:`write` does.
        """
        out = await super().write_async(actor, key, request)
        if isinstance(request, rq.RevokeToken | rq.RevokeTokens):
            self.forget_tokens()
        return out

    # -- use cases -----------------------------------------------------------------------
    def bootstrap(self, **fields: Any) -> dict[str, Any]:
        """Initialise an empty database; return the administrator's token (shown once).

        Fields as :class:`~hesuan.registry.service.requests.Bootstrap`.
        """
        return self.write(None, None, rq.Bootstrap(**fields))

    def create_party(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``create_party`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.CreateParty`;
        rules in :func:`hesuan.registry.service.parties.create_party`.
        """
        return self.write(actor, key, rq.CreateParty(**fields))

    def grant_role(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``grant_role`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.GrantRole`;
        rules in :func:`hesuan.registry.service.parties.grant_role`.
        """
        return self.write(actor, key, rq.GrantRole(**fields))

    def revoke_role(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``revoke_role`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.RevokeRole`;
        rules in :func:`hesuan.registry.service.parties.revoke_role`.
        """
        return self.write(actor, key, rq.RevokeRole(**fields))

    def revoke_tokens(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``revoke_tokens`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.RevokeTokens`;
        rules in :func:`hesuan.registry.service.parties.revoke_tokens`.
        """
        return self.write(actor, key, rq.RevokeTokens(**fields))

    def issue_token(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Issue a token: :class:`~hesuan.registry.service.requests.IssueToken`.

        See :func:`hesuan.registry.service.parties.issue_token`; the token is shown once.
        """
        return self.write(actor, key, rq.IssueToken(**fields))

    def revoke_token(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Revoke one token: :class:`~hesuan.registry.service.requests.RevokeToken`.

        See :func:`hesuan.registry.service.parties.revoke_token`.
        """
        return self.write(actor, key, rq.RevokeToken(**fields))

    def open_account(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``open_account`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.OpenAccount`;
        rules in :func:`hesuan.registry.service.parties.open_account`.
        """
        return self.write(actor, key, rq.OpenAccount(**fields))

    def create_project(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``create_project`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.CreateProject`;
        rules in :func:`hesuan.registry.service.parties.create_project`.
        """
        return self.write(actor, key, rq.CreateProject(**fields))

    def transition_project(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``transition_project`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.TransitionProject`;
        rules in :func:`hesuan.registry.service.parties.transition_project`.
        """
        return self.write(actor, key, rq.TransitionProject(**fields))

    def add_document(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``add_document`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.AddDocument`;
        rules in :func:`hesuan.registry.service.parties.add_document`.
        """
        return self.write(actor, key, rq.AddDocument(**fields))

    def submit_report(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``submit_report`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.SubmitReport`;
        rules in :func:`hesuan.registry.service.parties.submit_report`.
        """
        return self.write(actor, key, rq.SubmitReport(**fields))

    def verify_report(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``verify_report`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.VerifyReport`;
        rules in :func:`hesuan.registry.service.parties.verify_report`.
        """
        return self.write(actor, key, rq.VerifyReport(**fields))

    def accredit_verifier(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``accredit_verifier`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.AccreditVerifier`;
        rules in :func:`hesuan.registry.service.parties.accredit_verifier`.
        """
        return self.write(actor, key, rq.AccreditVerifier(**fields))

    def issue(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``issue`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.Issue`;
        rules in :func:`hesuan.registry.service.units.issue`.
        """
        return self.write(actor, key, rq.Issue(**fields))

    def transfer(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``transfer`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.Transfer`;
        rules in :func:`hesuan.registry.service.units.transfer`.
        """
        return self.write(actor, key, rq.Transfer(**fields))

    def retire(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``retire`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.Retire`;
        rules in :func:`hesuan.registry.service.units.retire`.
        """
        return self.write(actor, key, rq.Retire(**fields))

    def cancel(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``cancel`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.Cancel`;
        rules in :func:`hesuan.registry.service.units.cancel`.
        """
        return self.write(actor, key, rq.Cancel(**fields))

    def buffer_reversal(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``buffer_reversal`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.BufferReversal`;
        rules in :func:`hesuan.registry.service.units.buffer_reversal`.
        """
        return self.write(actor, key, rq.BufferReversal(**fields))

    def authorise(self, actor: Actor, key: str | None, **fields: Any) -> dict[str, Any]:
        """Run the ``authorise`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.Authorise`;
        rules in :func:`hesuan.registry.service.units.authorise`.
        """
        return self.write(actor, key, rq.Authorise(**fields))

    def corresponding_adjustment(self, actor: Actor, key: str | None,
                                 **fields: Any) -> dict[str, Any]:
        """Run the ``corresponding_adjustment`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.CorrespondingAdjustment`;
        rules in :func:`hesuan.registry.service.units.corresponding_adjustment`.
        """
        return self.write(actor, key, rq.CorrespondingAdjustment(**fields))

    def record_foreign_issuances(self, actor: Actor, key: str | None,
                                 **fields: Any) -> dict[str, Any]:
        """Run the ``record_foreign_issuances`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.RecordForeignIssuances`;
        rules in :func:`hesuan.registry.service.foreign.record_foreign_issuances`.
        """
        return self.write(actor, key, rq.RecordForeignIssuances(**fields))

    def record_foreign_itmos(self, actor: Actor, key: str | None,
                             **fields: Any) -> dict[str, Any]:
        """Run the ``record_foreign_itmos`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.RecordForeignItmos`; rules in
        :func:`hesuan.registry.service.foreign.record_foreign_itmos`.
        """
        return self.write(actor, key, rq.RecordForeignItmos(**fields))

    def set_itmo_registry_id(self, actor: Actor, key: str | None,
                             **fields: Any) -> dict[str, Any]:
        """Run the ``set_itmo_registry_id`` use case as one write; return its result.

        Fields as :class:`~hesuan.registry.service.requests.SetItmoRegistryId`; rules in
        :func:`hesuan.registry.service.foreign.set_itmo_registry_id`.
        """
        return self.write(actor, key, rq.SetItmoRegistryId(**fields))

    # -- reading -------------------------------------------------------------------------
    def query(self, name: str, **kwargs: Any) -> Any:
        """Run a read-only query from :mod:`hesuan.registry.service.queries`."""
        fn = getattr(queries, name)
        with self.read() as s, s.begin():
            return fn(s, **kwargs)

    def verify(self, *, max_events: int = 10_000_000, full: bool = False,
               public: bool = False) -> dict[str, Any]:
        """Verify the registry (read-only, one snapshot).

        Protections, hash chain, each event's actor, every stored table against the
        journal, invariants (:func:`hesuan.registry.service.audit.verify`).

        Incremental: after a successful call, the next one replays only the events since
        (``full=True`` replays the whole log). ``public`` withholds private keys and values
        in the report (the public ``/audit/verify``).
        """
        with self._verify_lock:
            since = None if full else self._verified
            with self.read() as s, s.begin():
                report, state = audit.verify(s, max_events=max_events, since=since,
                                             public=public)
            self._verified = state
            return report

    def check_startup(self, *, allow_unverified: bool = False) -> dict[str, Any]:
        """Run a server's start-up check, a full verification; return its report.

        Raises :class:`~hesuan.registry.service.audit.RegistryUnverified` if it fails
        (unless ``allow_unverified``, for forensics).
        """
        report = self.verify(full=True)
        if not allow_unverified and report["problems"] != ["registry not initialised"]:
            audit.startup_check(report)  # (an empty database has nothing to verify yet)
        return report


__all__ = ["Actor", "Registry", "make_engine", "migrate"]
