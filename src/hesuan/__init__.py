"""hesuan (核算): open, standards-based carbon and natural-capital accounting.

Layers (see ARCHITECTURE.md): ``standards`` (cited, versioned factor data) feeds the pure
calculators ``transport`` and ``land``; ``quantification`` turns their results into
creditable quantities; ``registry`` issues and tracks serialised units; ``report``, ``api``
and ``cli`` sit on top.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hesuan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
