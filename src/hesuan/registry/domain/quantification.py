"""What the registry reads from a quantification.

A hesuan quantification report (for the methodologies ``hesuan.quantification`` has a module for,
catalogue ``quantification = report``) or a land or transport summary.json.

The registry does not recompute a quantification; it stores the file as given (by its
SHA-256), checks a report's schema and seal (its ``report_sha256``), records the datasets it
names, and refuses (:func:`check_claim`) a report whose creditable quantity cannot be read,
a net loss, a quantification period that does not cover the monitoring period, and a claim
above the creditable quantity. Projects name a methodology of the standards library's
catalogue (:func:`catalogued_methodology`); its record says what feeds it and which key
holds the quantity (:func:`check_fit`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.standards.methodologies import (
    MethodologyNotFoundError,
    MethodologyRecord,
    load_methodologies,
)

#: Keys (searched in this order, at the top level then under ``totals``/``result``) that
#: carry the creditable quantity [t CO2e] of a summary.
QUANTITY_KEYS = ("creditable_t_co2e", "net_removals_t_co2e", "net_reductions_t_co2e",
                 "co2e_t_net", "co2e_t_total", "co2e_t")
#: Keys naming the factor dataset and version (``"<dataset>/<version>"`` or a list of them).
DATASET_KEYS = ("factor_dataset", "factor_datasets", "dataset")


@dataclass(frozen=True)
class QuantificationSummary:
    """The facts the registry keeps about one quantification file."""

    sha256: str
    kind: str
    factor_dataset: str
    quantity_t_max: Decimal | None   # [t CO2e] creditable quantity stated by the file
    report_sha256: str | None = None          # content hash of a quantification report
    methodology_key: str | None = None        # ID@VERSION the report was quantified under
    period_start: str | None = None           # the quantification's period, if it states one
    period_end: str | None = None
    vintages: tuple[tuple[int, int], ...] = ()  # (year, whole units) of a report


def _lookup(doc: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for scope in (doc, doc.get("provenance"), doc.get("totals"), doc.get("result")):
        if isinstance(scope, dict):
            for k in keys:
                if k in scope and scope[k] not in (None, ""):
                    return scope[k]
    return None


def _kind(doc: dict[str, Any]) -> str:
    """Return the summary's kind.

    Its ``kind`` (or ``area``) key, else recognised from the keys that ``hesuan land carbon`` and
    ``hesuan transport`` write, else ``unknown``.
    """
    named = doc.get("kind") or doc.get("area")
    if named:
        return str(named)
    if "sequestration_t_co2e" in doc or "storage_by_pool_t_c" in doc:
        return "land"
    if str(doc.get("standard", "")).startswith("ISO 14083"):
        return "transport"
    return "unknown"


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


def read_quantification(text: str, factor_dataset: str | None = None,
                        quantity_key: str | None = None,
                        methodology: MethodologyRecord | None = None) -> QuantificationSummary:
    """Hash and read a summary.json given as text.

    Parameters
    ----------
    text : the file's content, exactly as produced (hashed as UTF-8 bytes)
    factor_dataset : dataset/version to record when the file does not name one
    quantity_key : the key the project's methodology reads the quantity from (its catalogue
        record's ``quantity_key``), looked up before the generic :data:`QUANTITY_KEYS`
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                f"quantification is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                "quantification must be a JSON object (a summary.json)")
    if doc.get("schema_id") == "hesuan.quantification-report/1" or (
            methodology is not None and methodology.quantification == "report"
            and "schema_id" in doc):
        return read_report(text)
    named = _lookup(doc, DATASET_KEYS)
    if isinstance(named, list):
        named = ", ".join(str(x) for x in named)
    dataset = str(named) if named else (factor_dataset or "")
    if not dataset.strip():
        raise RegistryRejection(
            Rejection.quantification_must_name_factor_dataset,
            "the summary names no factor dataset (keys " + ", ".join(DATASET_KEYS)
            + ") and none was given",
        )
    keys = ((quantity_key,) if quantity_key else ()) + QUANTITY_KEYS
    raw_q = _lookup(doc, keys)
    q: Decimal | None = None
    if isinstance(raw_q, int | float) and not isinstance(raw_q, bool):
        if isinstance(raw_q, float) and not math.isfinite(raw_q):
            raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                    f"creditable quantity {raw_q} is not a finite number")
        q = Decimal(str(raw_q))
    period: dict[str, Any] = doc["period"] if isinstance(doc.get("period"), dict) else {}
    return QuantificationSummary(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kind=_kind(doc),
        factor_dataset=dataset.strip()[:120],
        quantity_t_max=q,
        period_start=str(doc.get("period_start") or period.get("start") or "") or None,
        period_end=str(doc.get("period_end") or period.get("end") or "") or None,
    )


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


def check_fit(summary: QuantificationSummary, methodology: MethodologyRecord | None) -> None:
    """Refuse a quantification of the wrong kind for the project's methodology.

    A transport summary for a land-sink methodology or the reverse. Summaries of unknown kind, and
    methodologies hesuan has no calculator for (``quantification = none``), pass.
    """
    if methodology is None or methodology.quantification == "none":
        return
    if methodology.quantification == "report" or summary.kind == "report":
        if summary.kind != "report":
            raise RegistryRejection(
                Rejection.quantification_must_fit_methodology,
                f"a project under {methodology.key} needs a hesuan quantification report of "
                f"that methodology (`hesuan quantify`), not a {summary.kind} summary")
        if summary.methodology_key is None or _key(summary.methodology_key) != _key(
                methodology.key):
            raise RegistryRejection(
                Rejection.quantification_must_fit_methodology,
                f"the report was quantified under {summary.methodology_key}; the project is "
                f"registered under {methodology.key}")
        return
    if summary.kind in ("land", "transport") and summary.kind != methodology.quantification:
        raise RegistryRejection(
            Rejection.quantification_must_fit_methodology,
            f"a {summary.kind} quantification cannot support a project under "
            f"{methodology.key}, which is quantified from a hesuan {methodology.quantification}"
            f" summary ({methodology.quantity_key})")


def _key(key: str) -> tuple[str, str]:
    from hesuan.standards.methodologies import normalise_id, normalise_version

    mid, _, ver = key.partition("@")
    return normalise_id(mid), normalise_version(ver)


def check_claim(summary: QuantificationSummary, *, period_start: str, period_end: str,
                reported_quantity: int) -> None:
    """Check a monitoring report's claim against its quantification, rule by rule in order.

    Its creditable quantity can be read; it is a net removal (> 0); the quantification's period
    (when it states one) covers the report's period; the claim is at most the quantity.
    """
    q = summary.quantity_t_max
    if q is None:
        raise RegistryRejection(
            Rejection.quantification_quantity_must_be_readable,
            "the quantification states no creditable quantity (a hesuan quantification "
            "report's removals.net_creditable_units, or one of the keys "
            + ", ".join(QUANTITY_KEYS) + ")")
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
