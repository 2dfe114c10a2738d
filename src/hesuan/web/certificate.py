"""The retirement certificate.

The public record of one retirement as a document (HTML page and printable PDF) with a QR code that
opens its public page.

``TRAIL_PROVIDERS`` add sections to the certificate: each provider is called with the
registry and the retirement and returns the :class:`~hesuan.web.documents.Section` objects
(possibly none) appended to the certificate. The first one is the trail of every retired
block back to its quantification report and the plot data
(:func:`hesuan.web.trail.retirement_trail`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import segno

from hesuan.registry.engine import Registry
from hesuan.web import i18n
from hesuan.web.documents import Document, Section, Table, render_pdf
from hesuan.web.i18n import _
from hesuan.web.trail import retirement_trail

TrailProvider = Callable[[Registry, dict[str, Any]], Sequence[Section]]
TRAIL_PROVIDERS: list[TrailProvider] = [retirement_trail]

PURPOSES = {"voluntary": i18n.lazy("voluntary"), "ndc": i18n.lazy("NDC"),
            "corsia": i18n.lazy("CORSIA"), "oimp": i18n.lazy("other international mitigation"),
            "other": i18n.lazy("other")}


def qr_data_uri(url: str) -> str:
    """Return an SVG QR code of ``url`` as a data URI (error correction M, ISO/IEC 18004)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2))


def certificate_document(r: dict[str, Any], public_url: str,
                         reg: Registry | None = None) -> Document:
    """Return the certificate of retirement ``r`` (a :meth:`Registry.query` ``retirement`` row).

    With the sections of ``TRAIL_PROVIDERS`` when the registry ``reg`` is given.
    """
    blocks = r.get("blocks", [])
    table = Table(
        caption=_("Serial blocks retired"),
        columns=(_("Block"), _("First serial"), _("Last serial"), _("Units"), _("Project"),
                 _("Vintage")),
        rows=tuple((str(b["serial"]), i18n.integer(b["serial_start"]),
                    i18n.integer(b["serial_end"]), i18n.integer(b["serial_count"]),
                    str(b["project_id"]), str(b["vintage"])) for b in blocks),
        numeric=(False, True, True, True, True, True))
    facts = (
        (_("Certificate"), f"R{r['id']}"),
        (_("Retired on"), i18n.moment(r["created_at"])),
        (_("Beneficiary"), r["beneficiary"]),
        (_("Purpose"), _(PURPOSES.get(r["purpose"], r["purpose"]))),
        (_("Claim period"), f"{i18n.day(r['claim_start'])} – {i18n.day(r['claim_end'])}"),
        (_("Units retired"), i18n.integer(r["quantity"]) + " t CO2e"),
        (_("Serial range"), ", ".join(f"{b['serial_start']}–{b['serial_end']}"
                                       for b in blocks)),
        (_("Audit event"), str(r["event_seq"])),
    )
    sections = [Section(_("Retirement"), facts=facts, tables=(table,)),
                Section(_("Public statement"), paragraphs=tuple(
                    line for line in str(r.get("statement", "")).splitlines() if line),
                    lang="en")]  # the registry writes its statements in English
    if r.get("note"):
        sections[0] = Section(sections[0].heading, paragraphs=(r["note"],), facts=facts,
                              tables=(table,))
    if reg is not None:
        for provider in TRAIL_PROVIDERS:
            sections.extend(provider(reg, r))
    return Document(
        title=_("Retirement certificate R%(id)s") % {"id": r["id"]},
        subtitle=_("Retired units are extinguished and never move again."),
        sections=tuple(sections), qr_data_uri=qr_data_uri(public_url),
        qr_caption=public_url, lang=i18n.current.get(),
        footer=_("hesuan registry · verify this certificate at %(url)s") % {"url": public_url})


def certificate_pdf(doc: Document) -> bytes:
    """Return the certificate ``doc`` as PDF bytes."""
    return render_pdf(doc)
