"""The registry's use cases: one function per use case, one transaction per call.

Entry point: :class:`Registry` (``Registry.open(url)``); the acting party is an
:class:`Actor` obtained from :meth:`Registry.authenticate`.
"""

from hesuan.registry.service.core import Registry
from hesuan.registry.service.tx import Actor

__all__ = ["Actor", "Registry"]
