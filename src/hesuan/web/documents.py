"""One document model for every report the web application shows and prints.

A :class:`Document` holds display-ready text (numbers already formatted for the locale by
the builder, once) plus the raw values of its charts. :func:`render_html` puts it into a
page (charts drawn by Chart.js); :func:`render_pdf` prints the same document with WeasyPrint
(charts drawn as SVG from the same values). Both therefore show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from hesuan.web.render import fragment


@dataclass(frozen=True)
class Chart:
    """A bar chart: one bar per label; ``values`` in ``unit``."""

    id: str
    title: str
    unit: str
    labels: tuple[str, ...]
    values: tuple[float, ...]

    @property
    def spec(self) -> dict[str, object]:
        """Return the chart as the page's chart script reads it."""
        return {"title": self.title, "unit": self.unit, "kind": "bar",
                "labels": list(self.labels), "values": list(self.values)}


@dataclass(frozen=True)
class Table:
    """A table of display strings; ``numeric[i]`` right-aligns column ``i``."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Section:
    """A section of a document.

    Heading, paragraphs, facts, tables and charts; in ``lang`` if set.
    """

    heading: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    lang: str = ""  # set when the section quotes text in another language than the page's


@dataclass(frozen=True)
class Document:
    """A report or certificate.

    Title, sections, an optional QR code (SVG data URI) and the text printed at the foot of each
    page.
    """

    title: str
    subtitle: str = ""
    sections: tuple[Section, ...] = ()
    qr_data_uri: str | None = None
    qr_caption: str = ""
    footer: str = ""
    lang: str = "en"
    extra: dict[str, str] = field(default_factory=dict)


def render_html(doc: Document) -> Markup:
    """Return the document as an HTML fragment for a page of the web application."""
    return Markup(fragment("document.html", doc=doc, for_print=False))


def render_print_html(doc: Document) -> str:
    """Return the document as a standalone HTML file laid out for print (the PDF's source)."""
    return fragment("document_print.html", doc=doc, for_print=True)


def render_pdf(doc: Document) -> bytes:
    """Return the document as PDF (WeasyPrint; CJK text in Noto Sans CJK where installed)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_print_html(doc)).write_pdf()
    return pdf
