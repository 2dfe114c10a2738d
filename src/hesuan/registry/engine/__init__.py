"""The registry's write engine, and :class:`Registry`, the Python API that runs through it.

Group commit (:mod:`.group`), waves (:mod:`.waves`), pipelined statements on PostgreSQL
(:mod:`.pipeline`) and the writer process (:mod:`.writer`); :class:`Registry` runs the use
cases of :mod:`hesuan.registry.service` through them.

The engine decides no rule: a request is a typed use case
(:mod:`hesuan.registry.service.requests`) and its checks are the use case's own. The engine
imports ``service``; ``service`` never imports the engine.
"""

from hesuan.registry.engine.registry import Registry
from hesuan.registry.service.tx import Actor

__all__ = ["Actor", "Registry"]
