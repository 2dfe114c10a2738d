"""Immutable records of the standards library, and the vocabulary they are checked against.

A :class:`FactorRecord` is one line of a dataset's ``factors.csv``; a :class:`DatasetInfo`
is its ``dataset.toml``. Records know nothing of the loader that made them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from hesuan.errors import FactorNotFoundError

FACTOR_COLUMNS: tuple[str, ...] = (
    "id", "activity", "region", "scope", "gas", "parameter", "value", "unit",
    "gwp_set", "distance_basis", "valid_year", "source", "locator", "notes",
)
"""The columns of ``factors.csv``, all required in the header, in this order."""

REQUIRED_VALUES: tuple[str, ...] = (
    "id", "activity", "region", "parameter", "value", "unit", "valid_year", "source", "locator",
)
"""Columns whose value may not be empty."""

SCOPES: tuple[str, ...] = ("TTW", "WTT", "WTW")
"""ISO 14083 scopes: operation (TTW), energy provision (WTT), total (WTW)."""

DISTANCE_BASES: tuple[str, ...] = ("sfd", "gcd", "actual")
"""Distance bases of ISO 14083:2023: shortest feasible, great-circle, actual distance."""

GWP_SETS: tuple[str, ...] = ("AR4", "AR5", "AR6")
"""IPCC assessment reports whose GWP-100 values a CO2e figure can rest on."""

GAS_MARKERS: dict[str, str] = {
    "co2e_mass_marker": "CO2e",
    "co2_mass_marker": "CO2",
    "ch4_mass_marker": "CH4",
    "n2o_mass_marker": "N2O",
    "carbon_mass_marker": "C",
}
"""pint dimensions of hesuan's gas units (``standards/data/units.txt``)."""


@dataclass(frozen=True)
class Parameter:
    """A kind of reference number and the unit dimensions it may have.

    ``dimensions`` are example units; a record's unit must have the dimensionality of one of
    them. ``gas_per_activity`` instead asks for a gas mass (CO2e, CO2, CH4, N2O, C) in the
    numerator, whatever the activity unit.
    """

    name: str
    description: str
    dimensions: tuple[str, ...] = ()
    gas_per_activity: bool = False


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter("emission_factor", "gas emitted per unit of activity",
                  gas_per_activity=True),
        Parameter("net_calorific_value", "lower heating value of a fuel",
                  ("MJ / kg", "MJ / L")),
        Parameter("gross_calorific_value", "higher heating value of a fuel",
                  ("MJ / kg", "MJ / L")),
        Parameter("density", "mass per volume", ("kg / L",)),
        Parameter("gwp", "global warming potential: CO2e mass per mass of gas",
                  ("kg CO2e / kg",)),
        Parameter("fraction", "a dimensionless share or ratio", ("dimensionless",)),
        Parameter("carbon_fraction", "carbon per dry matter (IPCC CF)",
                  ("t C / t dm", "dimensionless")),
        Parameter("carbon_density", "carbon stock per area", ("t C / ha",)),
        Parameter("biomass_stock", "dry-matter stock per area", ("t dm / ha",)),
        Parameter("growth_rate", "biomass growth per area and year", ("t dm / ha / yr",)),
        Parameter("root_shoot_ratio", "below- to above-ground biomass (IPCC R)",
                  ("dimensionless", "t dm / t dm")),
        Parameter("bcef", "biomass conversion and expansion factor", ("t dm / m**3",)),
        Parameter("bef", "biomass expansion factor: above-ground biomass per stem biomass "
                  "(dimensionless; BCEF = D × BEF)", ("dimensionless",)),
        Parameter("wood_density", "basic wood density", ("t dm / m**3",)),
        Parameter("soc_reference", "reference soil organic carbon stock", ("t C / ha",)),
        Parameter("stock_change_factor", "relative stock change factor (F_LU, F_MG, F_I)",
                  ("dimensionless",)),
        Parameter("carbon_content", "carbon per unit of fuel energy", ("kg C / GJ",)),
        Parameter("refrigerant_charge", "refrigerant mass per unit", ("kg",)),
        Parameter("mass_equivalent", "mass assumed per counted item", ("kg", "t / TEU")),
    )
}
"""The vocabulary of the ``parameter`` column. Extend here when a new kind of number ships."""


@dataclass(frozen=True)
class DatasetInfo:
    """The manifest of a dataset (``dataset.toml``): provenance and licence."""

    id: str
    version: str
    title: str
    publisher: str
    url: str
    licence: str
    licence_url: str
    attribution: str
    redistributable: bool
    citation: str
    published: str = ""
    description: str = ""
    gwp_set: str = ""
    notes: str = ""
    path: str = ""
    shipped: bool = True

    @property
    def key(self) -> str:
        """``id@version``, the way a dataset is named on the command line."""
        return f"{self.id}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        """Return the dataset's description as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FactorRecord:
    """One factor: a value, its unit, what it applies to, and where it was read.

    ``value`` is in ``unit`` exactly as the source prints it; convert with
    :func:`hesuan.units.convert` at the boundary.
    """

    dataset: str
    version: str
    id: str
    activity: str
    region: str
    scope: str
    gas: str
    parameter: str
    value: float
    unit: str
    gwp_set: str
    distance_basis: str
    valid_year: int
    source: str
    locator: str
    notes: str

    @property
    def key(self) -> str:
        """``dataset@version:id``, unique across the library."""
        return f"{self.dataset}@{self.version}:{self.id}"

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready data."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def value_in(self, unit: str, *, context: str | None = None) -> float:
        """Return the value converted to ``unit`` (e.g. ``"g CO2e / MJ"``)."""
        from hesuan.units import convert

        return convert(self.value, self.unit, unit, context=context)


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: its manifest and its records, looked up by id."""

    info: DatasetInfo
    records: tuple[FactorRecord, ...]
    _index: dict[str, FactorRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {r.id: r for r in self.records})

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[FactorRecord]:
        return iter(self.records)

    def __contains__(self, factor_id: object) -> bool:
        return factor_id in self._index

    def get(self, factor_id: str) -> FactorRecord:
        """Return the record with ``factor_id``; a helpful error naming close ids if absent."""
        try:
            return self._index[factor_id]
        except KeyError:
            close = difflib.get_close_matches(factor_id, list(self._index), n=5, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise FactorNotFoundError(
                f"no factor {factor_id!r} in dataset {self.info.key}{hint} "
                f"(`hesuan factors list --dataset {self.info.key}` lists its ids)"
            ) from None

    def find(self, **criteria: str) -> list[FactorRecord]:
        """Return the records whose fields equal every given criterion, e.g. ``find(scope="TTW")``.

        ``activity`` also matches any record whose activity path starts with the given prefix
        followed by ``/``.
        """
        unknown = set(criteria) - {f.name for f in fields(FactorRecord)}
        if unknown:
            raise TypeError(f"unknown record fields: {sorted(unknown)}")
        out = []
        for record in self.records:
            ok = True
            for name, wanted in criteria.items():
                have = getattr(record, name)
                if name == "activity":
                    ok = have == wanted or have.startswith(wanted.rstrip("/") + "/")
                else:
                    ok = have == wanted
                if not ok:
                    break
            if ok:
                out.append(record)
        return out

    def to_frame(self):  # -> polars.DataFrame (imported lazily: a cheap import path for CLI)
        """All records as a Polars DataFrame, one row per factor."""
        import polars as pl

        return pl.DataFrame(
            [r.as_dict() for r in self.records],
            schema={
                "dataset": pl.String, "version": pl.String, "id": pl.String,
                "activity": pl.String, "region": pl.String, "scope": pl.String,
                "gas": pl.String, "parameter": pl.String, "value": pl.Float64,
                "unit": pl.String, "gwp_set": pl.String, "distance_basis": pl.String,
                "valid_year": pl.Int32, "source": pl.String, "locator": pl.String,
                "notes": pl.String,
            },
        )
