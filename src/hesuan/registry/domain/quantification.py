"""What the registry reads from a hesuan quantification (a land or transport summary.json).

The registry does not recompute a quantification; it stores the file as given (by its
SHA-256), records the factor dataset and version it names, and refuses a monitoring report
that claims more than the file's creditable quantity.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection, Rejection

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


def read_quantification(text: str, factor_dataset: str | None = None) -> QuantificationSummary:
    """Hash and read a summary.json given as text.

    Parameters
    ----------
    text : the file's content, exactly as produced (hashed as UTF-8 bytes)
    factor_dataset : dataset/version to record when the file does not name one
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
    raw_q = _lookup(doc, QUANTITY_KEYS)
    q: Decimal | None = None
    if isinstance(raw_q, int | float) and not isinstance(raw_q, bool):
        if isinstance(raw_q, float) and not math.isfinite(raw_q):
            raise RegistryRejection(Rejection.quantification_must_be_json_object,
                                    f"creditable quantity {raw_q} is not a finite number")
        q = Decimal(str(raw_q))
    return QuantificationSummary(
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kind=str(doc.get("kind") or doc.get("area") or "unknown"),
        factor_dataset=dataset.strip()[:120],
        quantity_t_max=q,
    )
