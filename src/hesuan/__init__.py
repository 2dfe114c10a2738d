"""hesuan (核算): open, standards-based carbon and natural-capital accounting.

Layers (see ARCHITECTURE.md): ``standards`` (cited, versioned factor data) feeds the pure
calculators ``transport`` and ``land``; ``quantification`` turns their results into
creditable quantities; ``registry`` issues and tracks serialised units; ``report``, ``api``
and ``cli`` sit on top.
"""

__version__ = "0.1.0"
"""hesuan's version: the one place it is written (pyproject.toml reads it from here)."""

__all__ = ["__version__"]
