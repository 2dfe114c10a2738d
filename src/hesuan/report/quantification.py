"""HTML report of a quantification, rendered from the report document itself.

Reads a :class:`~hesuan.quantification.report.QuantificationReport` and never recomputes
it; numbers are rounded for display only (:func:`hesuan.report._html.fmt`).
"""

from __future__ import annotations

from pathlib import Path

from hesuan.quantification.report import QuantificationReport
from hesuan.report._html import figure_to_data_uri, matplotlib_headless, render


def _stock_chart(r: QuantificationReport) -> str:
    matplotlib_headless()
    import matplotlib.pyplot as plt
    import numpy as np

    strata = [s.stratum for s in r.events[-1].strata]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(r.events), 1)
    x = np.arange(len(strata))
    for k, e in enumerate(r.events):
        by = {s.stratum: s.stock_t_co2e for s in e.strata}
        ax.bar(x + k * width, [by.get(s, 0.0) for s in strata], width, label=e.date)
    ax.set_xticks(x + width * (len(r.events) - 1) / 2, strata)
    ax.set_ylabel("tree carbon stock [t CO2e]")
    ax.legend(title="monitoring event")
    ax.set_title(f"{r.methodology_key}: stock by stratum")
    return figure_to_data_uri(fig)


def write_report(report: QuantificationReport, path: Path) -> Path:
    """Write the HTML report of ``report`` to ``path`` (atomically); return the path."""
    return render("quantification_report.html", path, r=report, chart=_stock_chart(report),
                  hesuan_version=report.hesuan_version)


def write_pdf(html: Path, pdf: Path) -> Path:
    """Print the HTML report to PDF with a headless Chromium, atomically; return the path.

    ``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH.

    Raises
    ------
    hesuan.errors.HesuanError
        when no Chromium is installed, or it fails.
    """
    import shutil
    import subprocess

    from hesuan.errors import HesuanError

    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(b)), None)
    if browser is None:
        raise HesuanError("a PDF report needs Chromium (apt-get install chromium); the HTML "
                          f"report is {html}")
    tmp = pdf.with_name(pdf.name + ".tmp.pdf")
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-pdf-header-footer", f"--print-to-pdf={tmp}",
                           html.resolve().as_uri()], capture_output=True, timeout=120)
    if done.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise HesuanError(f"Chromium could not print {html} to PDF "
                          f"({done.stderr.decode(errors='replace')[-300:]})")
    tmp.replace(pdf)
    return pdf
