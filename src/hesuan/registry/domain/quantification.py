"""What the registry reads from a quantification: a hesuan quantification report, only that.

A monitoring report must carry a quantification report (``hesuan.quantification-report/1``,
written by ``hesuan quantify``) of the project's registered methodology and version. A project
whose methodology has no quantification module (an empty catalogue ``module``, e.g. VM0047
today) can be listed and registered, but a monitoring report for it is
refused with ``methodology_must_have_quantification_module``; land or transport summaries
are no longer accepted for any project.

The registry does not recompute a quantification; it stores the file as given (by its
SHA-256), checks the report's schema and seal (its ``report_sha256``), records the datasets it
names, and refuses (:func:`check_claim`) a net loss, a quantification period that does not
cover the monitoring period, and a claim above the creditable quantity. Projects name a
methodology of the standards library's catalogue (:func:`catalogued_methodology`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.standards.methodologies import (
    MethodologyNotFoundError,
    MethodologyRecord,
    load_methodologies,
)

REPORT_SCHEMA_ID = "hesuan.quantification-report/1"


@dataclass(frozen=True)
class QuantificationSummary:
    """The facts the registry keeps about one quantification report file."""

    sha256: str
    kind: str
    factor_dataset: str
    quantity_t_max: Decimal          # [t CO2e] creditable units stated by the report
    report_sha256: str | None = None          # content hash of a quantification report
    methodology_key: str | None = None        # ID@VERSION the report was quantified under
    period_start: str | None = None           # the quantification's period, if it states one
    period_end: str | None = None
    vintages: tuple[tuple[int, int], ...] = ()  # (year, whole units) of a report


def read_report(text: str) -> QuantificationSummary:
    """Read a hesuan quantification report: schema-checked, its seal recomputed.

    Rejects text that is not the published schema (``hesuan.quantification-report/1``), and
    a report whose ``report_sha256`` is not the hash of its content (changed after it was
    produced).
    """
    from hesuan.errors import InputError
    from hesuan.quantification.check import ReportCheckError, parse_report

    try:
        report = parse_report(text, "quantification")
    except InputError as exc:
        raise RegistryRejection(Rejection.quantification_must_match_report_schema,
                                str(exc).replace("\n", " ")[:500]) from None
    except ReportCheckError as exc:
        raise RegistryRejection(Rejection.quantification_hash_must_match_content,
                                str(exc)) from None
    return QuantificationSummary(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kind="report",
        factor_dataset=", ".join(d.key for d in report.datasets)[:120],
        quantity_t_max=Decimal(report.removals.net_creditable_units),
        report_sha256=report.report_sha256,
        methodology_key=report.methodology_key,
        period_start=report.period_start, period_end=report.period_end,
        vintages=tuple((v.year, v.units) for v in report.vintages))


def read_quantification(text: str, methodology: MethodologyRecord | None,
                        project_methodology: str = "") -> QuantificationSummary:
    """Hash and read the quantification a monitoring report carries.

    Checked in order: the project's methodology has a hesuan quantification module (the
    catalogue record names one in ``module``); the text is a JSON object; it is a
    quantification report (``schema_id``); its schema and seal hold (:func:`read_report`).

    Parameters
    ----------
    text : str
        The file's content, exactly as produced (hashed as UTF-8 bytes).
    methodology : MethodologyRecord or None
        The project's catalogue record (``None`` for a project listed before the registry
        checked methodologies: refused, the registry fails closed).
    project_methodology : str
        The project's methodology as stored, for the message.

    Returns
    -------
    QuantificationSummary
        The facts the registry keeps about the report.
    """
    if methodology is None or not methodology.has_module:
        named = methodology.key if methodology is not None else (project_methodology
                                                                 or "its methodology")
        raise RegistryRejection(
            Rejection.methodology_must_have_quantification_module,
            f"the project is registered under {named}, which has no hesuan quantification "
            "module: a monitoring report must carry a hesuan quantification report of the "
            "project's methodology (`hesuan quantify`; `hesuan factors methodologies` shows "
            "which methodologies have one)")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                f"quantification is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                "quantification must be a JSON object (a quantification "
                                "report)")
    if doc.get("schema_id") != REPORT_SCHEMA_ID:
        raise RegistryRejection(
            Rejection.quantification_must_match_report_schema,
            f"a project under {methodology.key} needs a hesuan quantification report "
            f"({REPORT_SCHEMA_ID}, `hesuan quantify`); this document's schema_id is "
            f"{doc.get('schema_id')!r} (land and transport summaries are not quantification "
            "reports)")
    return read_report(text)


def catalogued_methodology(methodology_id: str, version: str, *,
                           new_project: bool = True) -> MethodologyRecord:
    """Return the catalogue record a project is listed under.

    The ``hesuan.standards`` methodology catalogue; ids and versions compared loosely, as
    ``normalise_id`` and ``normalise_version`` of ``hesuan.standards.methodologies`` do, so that the
    catalogue's spelling is what gets stored.

    Rejects an id or version the catalogue does not list (naming the nearest entries), and a
    methodology under which no units can be earned (an inventory standard such as ISO 14083,
    or a withdrawn version), and — for a new project — a superseded version: new projects
    must use a methodology's current version; existing projects keep theirs until their
    renewal (``new_project=False``).
    """
    catalogue = load_methodologies()
    try:
        record = catalogue.resolve(methodology_id.strip(), version.strip())
    except MethodologyNotFoundError as exc:
        raise RegistryRejection(Rejection.methodology_must_be_in_library,
                                f"{exc} — `hesuan factors methodologies` lists them") from None
    if record.quantifies == "inventory":
        raise RegistryRejection(
            Rejection.methodology_must_permit_crediting,
            f"{record.key} ({record.programme}) is an inventory standard: it quantifies "
            "emissions for reporting and yields no creditable removals or reductions")
    if record.status == "withdrawn":
        raise RegistryRejection(Rejection.methodology_must_permit_crediting,
                                f"{record.key} is withdrawn by {record.programme}")
    if new_project and record.status == "superseded":
        current = [r.key for r in catalogue.versions(record.id) if r.status == "active"]
        raise RegistryRejection(
            Rejection.methodology_version_must_be_current,
            f"{record.key} is superseded; new projects must use the current version"
            + (f" ({', '.join(current)})" if current else ""))
    return record


def project_methodology(methodology_id: str, version: str) -> MethodologyRecord | None:
    """Return the catalogue record of a stored project, or ``None``.

    ``None`` for a project listed before the registry checked methodologies (its row keeps whatever
    was given then).
    """
    try:
        return load_methodologies().resolve(methodology_id, version)
    except MethodologyNotFoundError:
        return None


def check_fit(summary: QuantificationSummary, methodology: MethodologyRecord) -> None:
    """Refuse a quantification report of another methodology or version than the project's.

    The report's ``methodology_key`` must be the project's registered id and version.
    """
    if summary.methodology_key is None or _key(summary.methodology_key) != _key(
            methodology.key):
        raise RegistryRejection(
            Rejection.quantification_must_fit_methodology,
            f"the report was quantified under {summary.methodology_key}; the project is "
            f"registered under {methodology.key}")


def _key(key: str) -> tuple[str, str]:
    from hesuan.standards.methodologies import normalise_id, normalise_version

    mid, _, ver = key.partition("@")
    return normalise_id(mid), normalise_version(ver)


def check_claim(summary: QuantificationSummary, *, period_start: str, period_end: str,
                reported_quantity: int) -> None:
    """Refuse a monitoring report's claim that its quantification report does not support.

    Checked in order: it is a net removal (> 0 creditable units); the report's period covers
    the monitoring report's period; the claim is at most the report's units.
    """
    q = summary.quantity_t_max
    if q <= 0:
        raise RegistryRejection(
            Rejection.quantification_must_show_net_removal,
            f"the quantification shows no net removal ({q} t CO2e creditable): a net loss "
            "yields no units")
    if summary.period_start and summary.period_end and not (
            summary.period_start <= period_start and period_end <= summary.period_end):
        raise RegistryRejection(
            Rejection.quantification_period_must_cover_report_period,
            f"the quantification covers {summary.period_start}–{summary.period_end}, not the "
            f"report's period {period_start}–{period_end}")
    if reported_quantity > q:
        raise RegistryRejection(
            Rejection.reported_quantity_must_not_exceed_quantification,
            f"reported {reported_quantity} t CO2e exceeds the quantification's "
            f"{q} t CO2e (file {summary.sha256[:12]}…)")
