"""The registry's Python API: one method per use case, each one transaction.

:meth:`Registry._write` owns the transaction (``with session.begin():``), the idempotency
record and the retries:

1. the ``(party, idempotency key)`` is looked up first — a key seen before returns its stored
   outcome (success or the same rejection) if the payload is identical, and
   ``idempotency_key_must_match_payload`` if not;
2. the use case runs its checks in order and writes; the key and the outcome are stored in
   the same transaction;
3. a rejection rolls the work back, then the failure is recorded under the key in a second
   transaction, so a failed key stays failed;
4. a serialisation failure or deadlock (SQLSTATE 40001/40P01) or a busy SQLite retries the
   whole transaction with jittered back-off, at most ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.db.engine import make_engine, migrate, read_engine
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import canonical_json
from hesuan.registry.domain.model import Role
from hesuan.registry.service import audit, parties, queries, units
from hesuan.registry.service.parties import hash_token
from hesuan.registry.service.tx import Actor, Tx, utc_now

MAX_ATTEMPTS = 20
_RETRY_SQLSTATES = {"40001", "40P01"}


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def _strip_secrets(result: dict[str, Any]) -> dict[str, Any]:
    """What is stored under an idempotency key: never a token (tokens are hashed at rest)."""
    if "token" not in result:
        return result
    return {**{k: v for k, v in result.items() if k != "token"},
            "token": None, "token_note": "shown once; request a new token to get another"}


class Registry:
    """A registry stored in one SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = read_engine(engine)
        # SQLite admits one writer at a time; queueing this process's writers on a lock is
        # fairer and faster than letting them spin in SQLite's busy handler (other processes
        # still wait through busy_timeout). PostgreSQL writers run concurrently under row locks.
        self._write_gate: Any = (threading.Lock() if engine.dialect.name == "sqlite"
                                 else contextlib.nullcontext())

    @classmethod
    def open(cls, url: str, *, pool_size: int = 40) -> Registry:
        """Open (and migrate to the newest schema) the registry at ``url``."""
        engine = make_engine(url, pool_size=pool_size)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- transactions --------------------------------------------------------------------
    def read(self) -> Session:
        """A session for read-only work (plain ``BEGIN`` on SQLite)."""
        return Session(self._read)

    def _write(self, actor: Actor | None, key: str | None, operation: str,
               payload: dict[str, Any], fn: Callable[[Tx], dict[str, Any]]) -> dict[str, Any]:
        if actor is not None and not key:
            raise RegistryRejection(Rejection.idempotency_key_must_be_given,
                                    "every change needs an idempotency key (header "
                                    "Idempotency-Key, CLI --key)")
        digest = hashlib.sha256(canonical_json({"operation": operation, "payload": payload})
                                .encode()).hexdigest()
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._write_gate, Session(self.engine) as session, session.begin():
                    if actor is not None and key is not None:
                        prior = self._prior(session, actor, key)
                        if prior is not None:
                            return self._outcome(prior, operation, digest)
                    tx = Tx(session, actor, key)
                    result = fn(tx)
                    tx.finish()
                    if actor is not None and key is not None:
                        session.execute(insert(t.requests).values(
                            party_id=actor.party_id, idempotency_key=key, operation=operation,
                            payload_sha256=digest, status="ok",
                            response=json.dumps(_strip_secrets(result)), created_at=utc_now()))
                return result
            except RegistryRejection as rej:
                if rej.code is not Rejection.idempotency_key_must_match_payload and \
                        actor is not None and key is not None:
                    self._record_failure(actor, key, operation, digest, rej)
                raise
            except IntegrityError:
                # the same key committed by a concurrent request → return its outcome
                if actor is not None and key is not None:
                    with Session(self._read) as s:
                        prior = self._prior(s, actor, key)
                    if prior is not None:
                        return self._outcome(prior, operation, digest)
                raise
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
        raise AssertionError("unreachable")

    @staticmethod
    def _prior(session: Session, actor: Actor, key: str) -> Any:
        return session.execute(select(t.requests).where(
            t.requests.c.party_id == actor.party_id,
            t.requests.c.idempotency_key == key)).first()

    @staticmethod
    def _outcome(prior: Any, operation: str, digest: str) -> dict[str, Any]:
        if prior.operation != operation or prior.payload_sha256 != digest:
            raise RegistryRejection(
                Rejection.idempotency_key_must_match_payload,
                f"idempotency key was used before for a different request ({prior.operation}); "
                "use a new key for a new request")
        body = json.loads(prior.response)
        if prior.status == "failed":
            raise RegistryRejection(Rejection(body["code"]), body["message"])
        return dict(body) | {"idempotent_replay": True}

    def _record_failure(self, actor: Actor, key: str, operation: str, digest: str,
                        rej: RegistryRejection) -> None:
        try:
            with self._write_gate, Session(self.engine) as session, session.begin():
                session.execute(insert(t.requests).values(
                    party_id=actor.party_id, idempotency_key=key, operation=operation,
                    payload_sha256=digest, status="failed",
                    response=json.dumps({"code": rej.code.value, "message": rej.message}),
                    created_at=utc_now()))
        except IntegrityError:
            pass  # a concurrent request with this key already recorded its outcome

    # -- authentication ------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Actor:
        """The party a bearer token belongs to; rejects unknown or expired tokens."""
        if not token:
            raise RegistryRejection(Rejection.token_must_be_valid, "a bearer token is required")
        with self.read() as s, s.begin():
            row = s.execute(
                select(t.tokens.c.expires_at, t.parties)
                .join(t.parties, t.parties.c.id == t.tokens.c.party_id)
                .where(t.tokens.c.token_sha256 == hash_token(token))).first()
        if row is None:
            raise RegistryRejection(Rejection.token_must_be_valid, "unknown bearer token")
        if row.expires_at is not None and \
                datetime.fromisoformat(row.expires_at) <= datetime.now(UTC):
            raise RegistryRejection(Rejection.token_must_be_valid,
                                    f"bearer token expired at {row.expires_at}")
        return Actor(row.id, Role(row.role), row.country, row.name)

    # -- use cases -----------------------------------------------------------------------
    def bootstrap(self, *, admin_name: str = "Registry administrator",
                  registry_code: str = "HSN", share_of_proceeds_pct: str = "0",
                  overall_mitigation_pct: str = "0", rounding: str = "up") -> dict[str, Any]:
        """Initialise an empty database; returns the administrator's token (shown once)."""
        args = dict(admin_name=admin_name, registry_code=registry_code,
                    share_of_proceeds_pct=share_of_proceeds_pct,
                    overall_mitigation_pct=overall_mitigation_pct, rounding=rounding)
        return self._write(None, None, "bootstrap", args,
                           lambda tx: parties.bootstrap(tx, **args))

    def _run(self, name: str, fn: Callable[..., dict[str, Any]], actor: Actor,
             key: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        payload = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in kwargs.items()}
        return self._write(actor, key, name, payload, lambda tx: fn(tx, **kwargs))

    def create_party(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.create_party`."""
        return self._run("create_party", parties.create_party, actor, key, kw)

    def open_account(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.open_account`."""
        return self._run("open_account", parties.open_account, actor, key, kw)

    def create_project(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.create_project`."""
        return self._run("create_project", parties.create_project, actor, key, kw)

    def transition_project(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.transition_project`."""
        return self._run("transition_project", parties.transition_project, actor, key, kw)

    def add_document(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.add_document`."""
        return self._run("add_document", parties.add_document, actor, key, kw)

    def submit_report(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.submit_report`."""
        return self._run("submit_report", parties.submit_report, actor, key, kw)

    def verify_report(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.verify_report`."""
        return self._run("verify_report", parties.verify_report, actor, key, kw)

    def issue(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.issue`."""
        return self._run("issue", units.issue, actor, key, kw)

    def transfer(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.transfer`."""
        return self._run("transfer", units.transfer, actor, key, kw)

    def retire(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.retire`."""
        return self._run("retire", units.retire, actor, key, kw)

    def cancel(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.cancel`."""
        return self._run("cancel", units.cancel, actor, key, kw)

    def buffer_reversal(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.buffer_reversal`."""
        return self._run("buffer_reversal", units.buffer_reversal, actor, key, kw)

    def authorise(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.authorise`."""
        return self._run("authorise", units.authorise, actor, key, kw)

    def corresponding_adjustment(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.corresponding_adjustment`."""
        return self._run("corresponding_adjustment", units.corresponding_adjustment, actor, key, kw)

    # -- reading -------------------------------------------------------------------------
    def query(self, name: str, **kwargs: Any) -> Any:
        """Run a read-only query from :mod:`hesuan.registry.service.queries`."""
        fn = getattr(queries, name)
        with self.read() as s, s.begin():
            return fn(s, **kwargs)

    def verify(self, *, max_events: int = 10_000_000) -> dict[str, Any]:
        """Recompute the hash chain, replay the log, check invariants (read-only)."""
        with self.read() as s, s.begin():
            return audit.verify(s, max_events=max_events)


__all__ = ["Actor", "Registry", "make_engine", "migrate"]
