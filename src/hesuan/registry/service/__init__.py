"""The registry's rules: one function per use case, each run in one transaction.

The use cases' typed requests are :mod:`.requests`; the write engine that runs them in
group commits is :mod:`hesuan.registry.engine` (entry point: ``Registry.open(url)``). The
acting party is an :class:`Actor` obtained from ``Registry.authenticate``.
"""

from hesuan.registry.service.tx import Actor

__all__ = ["Actor"]
