"""Run the API with uvicorn (used by ``hesuan serve`` and ``python -m hesuan.registry.api``).

``python -m hesuan.registry.api --db URL --port 8000`` starts the server without loading
the rest of the ``hesuan`` command (fast start-up for supervisors and tests).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

# The thread running a write batch releases the GIL on every database round trip; with the
# default 5 ms switch interval it can then wait behind the request threads (HTTP parsing,
# validation) for up to 5 ms per statement — py-spy showed PostgreSQL idle in transaction,
# waiting for the server process. 0.5 ms hands the GIL back sooner (docs/registry.md).
GIL_SWITCH_INTERVAL_S = 0.0005


def _tune_process() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def app_from_env() -> object:
    """App factory for worker processes: the database URL is in ``HESUAN_REGISTRY_DB``."""
    from hesuan.registry.api.app import create_app
    from hesuan.registry.service import Registry

    _tune_process()
    return create_app(Registry.open(os.environ["HESUAN_REGISTRY_DB"]))


def run_server(db: str, *, host: str = "127.0.0.1", port: int = 8000,
               log_level: str = "warning", workers: int = 1) -> None:
    """Open (and migrate) the registry at ``db`` and serve its API until stopped.

    With ``workers`` > 1, uvicorn runs that many processes (each with its own pool); the
    database's locks keep them consistent.
    """
    import uvicorn

    from hesuan.registry.api.app import create_app
    from hesuan.registry.service import Registry

    _tune_process()
    registry = Registry.open(db)  # migrate once, before any worker starts
    if workers > 1:
        registry.close()
        os.environ["HESUAN_REGISTRY_DB"] = db
        uvicorn.run("hesuan.registry.api.server:app_from_env", factory=True, host=host,
                    port=port, log_level=log_level, workers=workers)
        return
    try:
        uvicorn.run(create_app(registry), host=host, port=port, log_level=log_level)
    finally:
        registry.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hesuan.registry.api",
                                     description="Serve the hesuan registry API.")
    parser.add_argument("--db", default="hesuan-registry.db", help="SQLite path or DB URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run_server(args.db, host=args.host, port=args.port, log_level=args.log_level,
               workers=args.workers)
