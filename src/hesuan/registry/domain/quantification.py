"""What the registry reads from a hesuan quantification (a land or transport summary.json).

The registry does not recompute a quantification; it stores the file as given (by its
SHA-256), records the factor dataset and version it names, and refuses a monitoring report
that claims more than the file's creditable quantity. Projects name a methodology of the
standards library's catalogue (:func:`catalogued_methodology`); its record says which kind of
summary feeds it and which key holds the quantity (:func:`check_fit`).
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


def _lookup(doc: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for scope in (doc, doc.get("provenance"), doc.get("totals"), doc.get("result")):
        if isinstance(scope, dict):
            for k in keys:
                if k in scope and scope[k] not in (None, ""):
                    return scope[k]
    return None


def _kind(doc: dict[str, Any]) -> str:
    """The summary's kind: its ``kind`` (or ``area``) key, else recognised from the keys that
    ``hesuan land carbon`` and ``hesuan transport`` write, else ``unknown``."""
    named = doc.get("kind") or doc.get("area")
    if named:
        return str(named)
    if "sequestration_t_co2e" in doc or "storage_by_pool_t_c" in doc:
        return "land"
    if str(doc.get("standard", "")).startswith("ISO 14083"):
        return "transport"
    return "unknown"


def read_quantification(text: str, factor_dataset: str | None = None,
                        quantity_key: str | None = None) -> QuantificationSummary:
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
    return QuantificationSummary(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kind=_kind(doc),
        factor_dataset=dataset.strip()[:120],
        quantity_t_max=q,
    )


def catalogued_methodology(methodology_id: str, version: str) -> MethodologyRecord:
    """The catalogue record a project is listed under (``hesuan.standards`` methodology
    catalogue; ids and versions compared loosely, as ``normalise_id`` and
    ``normalise_version`` of ``hesuan.standards.methodologies`` do, so that the catalogue's
    spelling is what gets stored).

    Rejects an id or version the catalogue does not list (naming the nearest entries), and a
    methodology under which no units can be earned (an inventory standard such as ISO 14083,
    or a withdrawn version). A superseded version is accepted: programmes keep grace periods
    for them (the record's ``valid_to`` and notes say which).
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
    return record


def project_methodology(methodology_id: str, version: str) -> MethodologyRecord | None:
    """The catalogue record of a stored project, or ``None`` for a project listed before the
    registry checked methodologies (its row keeps whatever was given then)."""
    try:
        return load_methodologies().resolve(methodology_id, version)
    except MethodologyNotFoundError:
        return None


def check_fit(summary: QuantificationSummary, methodology: MethodologyRecord | None) -> None:
    """Refuse a quantification of the wrong kind for the project's methodology: a transport
    summary for a land-sink methodology or the reverse. Summaries of unknown kind, and
    methodologies hesuan has no calculator for (``quantification = none``), pass."""
    if methodology is None or methodology.quantification == "none":
        return
    if summary.kind in ("land", "transport") and summary.kind != methodology.quantification:
        raise RegistryRejection(
            Rejection.quantification_must_fit_methodology,
            f"a {summary.kind} quantification cannot support a project under "
            f"{methodology.key}, which is quantified from a hesuan {methodology.quantification}"
            f" summary ({methodology.quantity_key})")
