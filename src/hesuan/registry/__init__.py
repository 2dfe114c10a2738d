"""hesuan's carbon-credit registry: serialised units, from verified quantification to retirement.

Layers (imports point downwards only):

``domain/``
    Pure rules — serial blocks and their formats, rejection codes, deductions, the canonical
    event hash chain, a replay of events into balances, invariants. No I/O.
``db/``
    SQLAlchemy tables and Alembic migrations (run programmatically on open); database
    constraints (CHECK, UNIQUE, an exclusion constraint on PostgreSQL) back the domain rules.
``service/``
    One use case = one transaction: issue, transfer, retire, cancel, …; idempotency keys,
    row locks and retries live here.
``api/``
    The FastAPI application (``hesuan serve``): bearer-token auth, role checks, thin routes.

Example
-------
>>> from hesuan.registry.engine import Registry            # doctest: +SKIP
>>> reg = Registry.open("sqlite:///registry.db")           # doctest: +SKIP
>>> admin_token = reg.bootstrap(admin_name="Registry admin")  # doctest: +SKIP
"""
