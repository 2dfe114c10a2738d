"""The quantification report: one typed, versioned document per monitoring period.

It is the contract between the quantification and the registry: the registry reads its
creditable quantity, period, methodology and hash, and verifiers attest it by its hash. Its
JSON Schema is published in ``docs/schemas/quantification-report.schema.json``
(:func:`json_schema`).

Hashing: ``report_sha256`` is the SHA-256 of the canonical JSON (UTF-8, keys sorted, no
whitespace) of the whole document *without* ``report_sha256`` and ``generated_at``: the same
inputs give the same hash whenever they are run; one changed number gives another.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID: Literal["hesuan.quantification-report/1"] = "hesuan.quantification-report/1"
Scalar = float | int | str | bool | None
Value = Scalar | list[Scalar] | dict[str, Scalar]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputFile(_Model):
    """An input file: its role, path relative to the project file, size and SHA-256."""

    role: str
    path: str
    sha256: str
    rows: int | None = None


class DatasetUse(_Model):
    """A parameter dataset used.

    ``id@version``, table file hash, the records read, and whether every record used is verified
    against its primary source.
    """

    key: str
    table: str
    sha256: str
    records: list[str]
    verified: bool


class ParameterValue(_Model):
    """One parameter as used, with where it came from and whether it is verified.

    Where: ``dataset@version:id`` or ``project``; verified: against its primary source.
    """

    name: str
    value: float
    unit: str
    source: str
    verified: bool


class StepRecord(_Model):
    """One named step: the function that ran, the clause it implements, its inputs and outputs.

    Inputs and outputs are aggregates; per-plot values stay in the input files.
    """

    name: str
    function: str
    clause: str
    verified: bool
    inputs: dict[str, Value]
    outputs: dict[str, Value]


class ApplicabilityResult(_Model):
    """One applicability condition: the project's declared value, the clause, whether it is met."""

    condition: str
    clause: str
    met: bool
    value: Scalar


class StratumResult(_Model):
    """Per-stratum statistics of one monitoring event."""

    stratum: str
    area_ha: float
    plots: int
    trees: int
    mean_t_co2e_per_ha: float
    variance_t_co2e_per_ha_sq: float
    stock_t_co2e: float


class EventResult(_Model):
    """The stock estimate of one monitoring event."""

    date: str
    strata: list[StratumResult]
    tree_stock_t_co2e: float
    shrub_stock_t_co2e: float
    stock_t_co2e: float
    mean_t_co2e_per_ha: float
    variance_of_mean: float
    t_value: float
    relative_uncertainty: float


class Uncertainty(_Model):
    """The uncertainty deduction: confidence, precision target, half-width, the rule and its clause.

    ``discount_fraction`` of the removals is deducted (``deduction_t_co2e`` [t CO2e]).
    """

    confidence: float
    precision_target: float
    relative_half_width: float
    rule: str
    clause: str
    discount_fraction: float
    deduction_t_co2e: float


class Removals(_Model):
    """The removals of the period [t CO2e] and the creditable whole units."""

    actual_t_co2e: float
    baseline_t_co2e: float
    leakage_t_co2e: float
    project_emissions_t_co2e: float
    uncertainty_deduction_t_co2e: float
    net_t_co2e: float
    net_creditable_t_co2e: float
    net_creditable_units: int
    rounding: str


class Vintage(_Model):
    """The units of one calendar year (vintage) of the monitoring period.

    With the year's days in the period.
    """

    year: int
    days: int
    units: int


class ExAnteYear(_Model):
    """One year of the ex-ante estimate: stock and net removals [t CO2e]."""

    year: int
    stock_t_co2e: float
    net_removals_t_co2e: float


class QuantificationReport(_Model):
    """A quantification under one methodology for one monitoring period."""

    schema_id: Literal["hesuan.quantification-report/1"] = SCHEMA_ID
    hesuan_version: str
    project: dict[str, Scalar]
    methodology_id: str
    methodology_version: str
    methodology_key: str
    sector: str
    tools: list[str]
    period_start: str
    period_end: str
    period_years: float
    project_file: str
    inputs: list[InputFile]
    datasets: list[DatasetUse]
    parameters: list[ParameterValue]
    applicability: list[ApplicabilityResult]
    steps: list[StepRecord]
    events: list[EventResult]
    uncertainty: Uncertainty
    removals: Removals
    vintages: list[Vintage]
    ex_ante: list[ExAnteYear] = Field(default_factory=list)
    verified: bool
    generated_at: str = ""
    report_sha256: str = ""

    @property
    def creditable_t_co2e(self) -> float:
        """Return the net creditable removals [t CO2e]."""
        return self.removals.net_creditable_t_co2e


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    """Canonical JSON: UTF-8, keys sorted, no whitespace.

    Floats as Python's shortest round-trip repr (the same on every platform hesuan supports).
    """
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(doc: dict[str, Any]) -> str:
    """SHA-256 of the document's content (without ``report_sha256`` and ``generated_at``)."""
    body = {k: v for k, v in doc.items() if k not in ("report_sha256", "generated_at")}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def sealed(report: QuantificationReport) -> QuantificationReport:
    """Return the report with its ``report_sha256`` filled in."""
    return report.model_copy(update={"report_sha256": content_hash(report.model_dump())})


def to_json(report: QuantificationReport) -> str:
    """Return the report file's text (indented, keys in declaration order, trailing newline)."""
    return json.dumps(report.model_dump(), indent=1, ensure_ascii=False,
                      allow_nan=False) + "\n"


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the report (published in ``docs/schemas/``)."""
    schema = QuantificationReport.model_json_schema()
    schema["$id"] = SCHEMA_ID
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
