"""hesuan (核算): open, standards-based carbon and natural-capital accounting.

Layers (see ARCHITECTURE.md): ``standards`` (cited, versioned factor data) feeds the pure
calculators ``transport`` and ``land``; ``quantification`` turns their results into
creditable quantities; ``registry`` issues and tracks serialised units; ``report``, ``api``
and ``cli`` sit on top.
"""

import os

# Polars' allocator (jemalloc, read once when Polars loads): keep freed pages for reuse for
# 30 s instead of returning them to the system at once. The engines free and reallocate
# batch-sized buffers many times a second; with jemalloc's default decay half the page
# faults of a 10 M-leg transport run came from that churn (system CPU time 4.2–4.9 s →
# 2.2–2.7 s; peak memory +0.4 GB). A setting of the user's own is kept; it has no effect if
# Polars was imported before hesuan.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:30000,muzzy_decay_ms:0")

__version__ = "0.1.0"
"""hesuan's version: the one place it is written (pyproject.toml reads it from here)."""

__all__ = ["__version__"]
