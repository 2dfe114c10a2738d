"""Shared helpers for HTML reports.

One Jinja environment, figures embedded as PNG, and the display-rounding rule.

Rounding rule (display only): :func:`fmt` shows at most ``digits`` significant figures,
with thousands separators; the unrounded numbers remain in the machine-readable outputs.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

import jinja2

_TEMPLATES = Path(__file__).parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html", "xml"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def fmt(value: float | int | None, digits: int = 4) -> str:
    """Format a number for display: ``digits`` significant figures, thousands separators."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{round(value, decimals):,.{decimals}f}"


_env.filters["fmt"] = fmt


def figure_to_data_uri(fig: Any) -> str:
    """Render a Matplotlib figure as an embeddable ``data:image/png`` URI and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render(template: str, path: Path, **context: Any) -> Path:
    """Render ``templates/<template>`` with ``context`` to ``path`` (UTF-8); return the path."""
    html = _env.get_template(template).render(**context)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


def matplotlib_headless() -> None:
    """Select Matplotlib's non-interactive backend (reports run on servers)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
