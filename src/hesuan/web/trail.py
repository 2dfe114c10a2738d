"""The trail of a serial, as the public explorer and the retirement certificate show it.

Serial → block → issuance → monitoring report → quantification report (its SHA-256, methodology, net
creditable removals, datasets and input files) → the verifier's signed attestation.

Every figure comes from the registry's ``trace`` query
(:func:`hesuan.registry.service.queries.trace`, also behind ``GET /serials/{serial}/trace``
and ``hesuan registry trace``); this module only labels and formats it. Each fact carries
where it came from (the registry table or the field of the quantification report) and, for
stored files, the public address of the document by its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hesuan.registry.engine import Registry
from hesuan.web import i18n
from hesuan.web.documents import Section, Table
from hesuan.web.i18n import _


@dataclass(frozen=True)
class TrailFact:
    """One figure of the trail.

    Its label, the formatted value, where it came from and, when it names a stored file or a page,
    the address that opens it.
    """

    label: str
    value: str
    source: str
    href: str = ""


@dataclass(frozen=True)
class Trail:
    """The trail of one serial (display-ready), with the tables of datasets and inputs."""

    serial: str
    facts: tuple[TrailFact, ...]
    numbers: Table | None
    datasets: Table | None
    inputs: Table | None
    quantified: bool

    def section(self, heading: str | None = None) -> Section:
        """Return the trail as a document section (for the certificate page and its PDF).

        Under ``heading`` (default: the serial's).
        """
        facts = tuple((f.label, f"{f.value} ({f.source}{' · ' + f.href if f.href else ''})")
                      for f in self.facts)
        tables = tuple(t for t in (self.numbers, self.datasets, self.inputs) if t is not None)
        note = () if self.quantified else (
            _("The monitoring report of these units carries no quantification report."),)
        return Section(heading or _("Trail of serial %(serial)s") % {"serial": self.serial},
                       paragraphs=note, facts=facts, tables=tables)


_NUMBERS = {
    "net creditable removals [t CO2e]": i18n.lazy("net creditable removals [t CO2e]"),
    "uncertainty deduction [t CO2e]": i18n.lazy("uncertainty deduction [t CO2e]"),
    "baseline removals [t CO2e]": i18n.lazy("baseline removals [t CO2e]"),
    "leakage [t CO2e]": i18n.lazy("leakage [t CO2e]"),
    "project emissions [t CO2e]": i18n.lazy("project emissions [t CO2e]"),
    "stock change [t CO2e]": i18n.lazy("stock change [t CO2e]"),
}
"""Labels of the trace's numbers (:func:`hesuan.registry.domain.trace.trail`), translated."""


def _label(number: str) -> str:
    """Return the label of one number of the trace in the page's language (as given if unknown)."""
    if number in _NUMBERS:
        return _(_NUMBERS[number])
    if number.startswith("units of vintage "):
        return _("units of vintage %(year)s") % {"year": number.removeprefix("units of vintage ")}
    if number.startswith("carbon stock on ") and number.endswith(" [t CO2e]"):
        date = number.removeprefix("carbon stock on ").removesuffix(" [t CO2e]")
        return _("carbon stock on %(date)s [t CO2e]") % {"date": i18n.day(date)}
    return number


def _doc(sha: str | None) -> str:
    return f"/documents/{sha}" if sha else ""


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return i18n.integer(value)
    if isinstance(value, float):
        return i18n.number(value, 2)
    return str(value)


def build_trail(tr: dict[str, Any]) -> Trail:
    """Return the display form of one ``trace`` result (``Registry.query("trace", serial=...)``)."""
    unit, iss, proj, rep = tr["unit"], tr["issuance"], tr["project"], tr["monitoring_report"]
    q, att = tr.get("quantification"), tr.get("attestation")
    registry = _("registry")
    qr = _("quantification report")
    facts = [
        TrailFact(_("Serial"), str(unit["serial"]), registry),
        TrailFact(_("Block"), str(unit["block"]), _("registry, blocks")),
        TrailFact(_("Issuance"), f"#{iss['issuance_id']} · {_('Vintage')} {iss['vintage']} · "
                  f"{i18n.integer(iss['quantity'])} {_('units')}", _("registry, issuances")),
        TrailFact(_("Project"), f"{proj['name']} ({proj['methodology']})",
                  _("registry, projects"), f"/web/projects/{proj['project_id']}"),
        TrailFact(_("Monitoring report"),
                  f"#{rep['report_id']} · {i18n.day(rep['period_start'])} – "
                  f"{i18n.day(rep['period_end'])} · {_('verified')} "
                  f"{_number(rep['verified_quantity'])}", _("registry, monitoring reports")),
    ]
    numbers = datasets = inputs = None
    if q is not None:
        facts += [
            TrailFact(_("Quantification report SHA-256"), str(q["report_sha256"]), qr,
                      _doc(rep["quantification_sha256"])),
            TrailFact(_("Methodology"), str(q["methodology"]), f"{qr}, methodology_key"),
            TrailFact(_("Net creditable units of the report"),
                      i18n.integer(q["net_creditable_units"]),
                      f"{qr}, removals.net_creditable_units"),
        ]
        first = next(iter(tr.get("trail", [])), None)
        if first is not None and str(first["number"]).startswith("units of vintage "):
            facts.append(TrailFact(_label(str(first["number"])), i18n.integer(first["value"]),
                                   f"{qr}, vintages"))
        rows = []
        for entry in tr.get("trail", []):
            if "datasets" in entry or "inputs" in entry:
                continue
            where = "; ".join(f"{s['name']}: {s['function']} ({s['clause']})"
                              for s in entry.get("steps", []))
            where = where or str(entry.get("source") or entry.get("clause") or qr)
            rows.append((_label(str(entry["number"])), _number(entry["value"]), where))
        numbers = Table(caption=_("Numbers of the vintage, from units down to plot stocks"),
                        columns=(_("Number"), _("Value"), _("Step, function and clause")),
                        rows=tuple(rows), numeric=(False, True, False))
        found = {k: v for entry in tr.get("trail", []) for k, v in entry.items()
                 if k in ("datasets", "inputs")}
        datasets = Table(caption=_("Datasets and records used"),
                         columns=(_("Dataset"), _("Table"), _("Records"),
                                  _("Checked against its source")),
                         rows=tuple((str(d["key"]), str(d["table"]), ", ".join(d["records"]),
                                     _("yes") if d["verified"] else _("no"))
                                    for d in found.get("datasets", [])))
        inputs = Table(caption=_("Input files"),
                       columns=(_("Role"), _("File"), "SHA-256"),
                       rows=tuple((str(f["role"]), str(f["path"]), str(f.get("sha256", "")))
                                  for f in found.get("inputs", [])))
    if att is not None:
        facts += [
            TrailFact(_("Verifier"), str(att["verifier"]), _("signed attestation")),
            TrailFact(_("Attestation SHA-256"), str(att["attestation_sha256"]),
                      _("signed attestation"), _doc(att["attestation_sha256"])),
            TrailFact(_("Signature"), _("verifies") if att["signature_verifies"]
                      else _("does not verify"), _("Ed25519, checked by the registry now")),
        ]
    return Trail(str(unit["serial"]), tuple(facts), numbers, datasets, inputs, q is not None)


def serial_trail(reg: Registry, serial: str) -> Trail:
    """Return the trail of ``serial`` from the registry's ``trace`` query."""
    return build_trail(reg.query("trace", serial=serial))


MAX_TRAIL_BLOCKS = 50
"""Blocks of one retirement traced on its certificate (the rest are named, not traced)."""


def retirement_trail(reg: Registry, r: dict[str, Any]) -> tuple[Section, ...]:
    """Return the trail of every block a retirement retired, one section per block.

    It is a certificate trail provider: blocks of several issuances or vintages each lead to
    their own monitoring report and quantification. Beyond :data:`MAX_TRAIL_BLOCKS` blocks
    the others are listed with the address of their trail.
    """
    blocks = r.get("blocks", [])
    sections = []
    for b in blocks[:MAX_TRAIL_BLOCKS]:
        trail = serial_trail(reg, str(b["serial_start"]))
        heading = _("Trail of block %(block)s (serials %(first)s–%(last)s)") % {
            "block": b["serial"], "first": b["serial_start"], "last": b["serial_end"]}
        sections.append(trail.section(heading))
    rest = blocks[MAX_TRAIL_BLOCKS:]
    if rest:
        sections.append(Section(
            _("Trails of the other %(n)s blocks") % {"n": i18n.integer(len(rest))},
            paragraphs=tuple(f"{b['serial']}: /serials/{b['serial_start']}/trace"
                             for b in rest)))
    return tuple(sections)
