"""Supply and use entries from the files that ``hesuan land carbon`` and ``hesuan land ipcc`` write.

The command-line path of :func:`~hesuan.land.seea.supply_use.flows_from_carbon` and
:func:`~hesuan.land.seea.supply_use.flows_from_ipcc`: the run's typed summary
(:class:`hesuan.land.summary.CarbonSummary`, :class:`hesuan.land.summary.IpccTableSummary`)
is read and validated, the table it names is read, its total is checked against the
summary (a truncated or stale table is refused), and the rows go through the same functions
as the Python API (t C → t CO2 only in :func:`hesuan.land.equations.to_t_co2e`).

Classes or strata whose carbon stock fell supply no service (SEEA EA 2021 Chapter 6: the
global climate regulation service is sequestration and retention, not a net emission); they
are left out and returned by name, so that the caller reports them.

:func:`assets_from_supply_use` takes the expected flows of the monetary asset account from
two ``hesuan land seea supply-use`` runs (their ``supply_by_ecosystem.csv``, see
:func:`supply_by_ecosystem_rows`) and the areas of an extent account.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from hesuan.errors import InputError, Problem
from hesuan.land.seea.supply_use import (
    CLIMATE_SERVICE,
    ServiceFlow,
    SupplyUseTable,
    UseAllocation,
    flows_from_carbon,
    flows_from_ipcc,
)
from hesuan.land.summary import SupplyUseSummary

if TYPE_CHECKING:
    from hesuan.land.seea.asset import ServiceAsset

_M = TypeVar("_M", bound=BaseModel)

_TOL = 1e-9


@dataclass(frozen=True)
class EngineFlows:
    """The entries read from one engine run and the files they came from.

    Attributes
    ----------
    flows
        Supply entries and their use (by the allocation).
    files
        ``{role: path}`` of every file read (the summary and its table), for provenance.
    left_out
        ``(name, amount)`` of every class or stratum with a net loss, not booked; the amount
        is in t C (carbon classes) or t CO2/yr (IPCC strata, positive = emission).
    """

    flows: tuple[ServiceFlow, ...]
    files: Mapping[str, Path]
    left_out: tuple[tuple[str, float], ...]


def read_summary(path: str | Path, model: type[_M], option: str) -> _M:
    """Return the summary at ``path`` validated as ``model``.

    Parameters
    ----------
    path
        A ``summary.json`` (or the ``.json`` beside an IPCC table).
    model
        The declared type; its ``schema_id`` default names the kind expected.
    option
        The command-line option that gave ``path`` (named in errors).

    Raises
    ------
    InputError
        The file is missing, not JSON (e.g. truncated), a summary of another kind, or a field
        does not have its declared type (the field is named).
    """
    file = str(path)
    kind = model.model_fields["schema_id"].default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(f"cannot read {option}: {err}", file=file, field=option,
                                expected=f"a {kind} summary (JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError.single(f"not JSON (truncated?): {err.msg} at line {err.lineno}",
                                file=file, field=option,
                                expected=f"a complete {kind} summary") from None
    if not isinstance(data, dict):
        raise InputError.single("not a JSON object", file=file, field=option,
                                expected=f"a {kind} summary")
    found = data.get("schema_id")
    if found != kind:
        raise InputError.single(f"a summary of kind {found!r}", file=file, field="schema_id",
                                expected=f"{kind!r} (the summary of {_COMMAND[kind]})")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = tuple(Problem(e["msg"], file, None,
                                 ".".join(str(x) for x in e["loc"]) or None,
                                 f"the field as {kind} declares it")
                         for e in err.errors()[:20])
        raise InputError(problems=problems,
                         summary=f"{file}: not a valid {kind} summary") from None


_COMMAND = {"hesuan.land.carbon/1": "hesuan land carbon",
            "hesuan.land.ipcc.table/1": "hesuan land ipcc forest-gain-loss | "
                                        "forest-stock-difference | soc",
            "hesuan.land.seea.supply_use/1": "hesuan land seea supply-use"}


def _numbers(frame: object, column: str, file: str) -> list[float]:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    out = []
    problems = []
    for i, text in enumerate(frame[column].to_list()):
        try:
            x = float(text)
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x):
            problems.append(Problem(f"{text!r}", file, i + 2, column, "a finite number"))
        out.append(x)
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s)")
    return out


def _check_total(values: list[float], total: float, table: str, summary: str,
                 column: str, field: str) -> None:
    got = math.fsum(values)
    if abs(got - total) > _TOL * max(1.0, abs(total)):
        raise InputError.single(
            f"the rows add up to {got:,.6g}, the summary says {total:,.6g}", file=table,
            field=column, expected=f"the table of the run whose {summary} it is ({field}); "
            "a truncated or replaced table is refused")


def carbon_flows_from_summary(path: str | Path, allocation: UseAllocation, *,
                              price_per_t_co2: tuple[float, str, int] | None = None,
                              service: str = CLIMATE_SERVICE) -> EngineFlows:
    """Return the global climate regulation supply of a ``hesuan land carbon`` run.

    Parameters
    ----------
    path
        The run's ``summary.json`` (:class:`~hesuan.land.summary.CarbonSummary`), of a run with
        an alternate map (sequestration). Its ``classes`` output (``classes.csv``: ``lulc_name``,
        ``sequestration_t_c`` per class) is read from the same folder.
    allocation
        Who uses the service.
    price_per_t_co2
        (price, currency, price year) to value the flow.
    service
        The service name.

    Returns
    -------
    EngineFlows
        The entries of :func:`~hesuan.land.seea.supply_use.flows_from_carbon` for the classes
        that sequester; the classes with a net loss in ``left_out`` [t C].

    Raises
    ------
    InputError
        A bad summary (see :func:`read_summary`), one without sequestration, a missing or
        truncated ``classes.csv``.
    """
    from hesuan.land.gep.tables import read_table
    from hesuan.land.summary import CarbonSummary

    file = str(path)
    summary = read_summary(path, CarbonSummary, "--carbon-summary")
    if summary.sequestration_t_c is None:
        raise InputError.single("the run has no sequestration", file=file,
                                field="sequestration_t_c",
                                expected="the summary of a run with --alt (a baseline and "
                                "an alternate map)")
    entry = summary.outputs.get("classes")
    if entry is None:
        raise InputError.single("no classes table among the outputs", file=file,
                                field="outputs.classes",
                                expected="the per-class table of the run (classes.csv)")
    table = Path(path).parent / entry.path
    frame = read_table(table, ("lulc_name", "sequestration_t_c"),
                       tuple(c for c in _CLASS_COLUMNS if c not in ("lulc_name",
                                                                   "sequestration_t_c")))
    seq = _numbers(frame, "sequestration_t_c", str(table))
    _check_total(seq, summary.sequestration_t_c, str(table), file, "sequestration_t_c",
                 "sequestration_t_c")
    names = [str(n) for n in frame["lulc_name"].to_list()]
    keep = [(n, s) for n, s in zip(names, seq, strict=True) if s > 0]
    left = tuple((n, s) for n, s in zip(names, seq, strict=True) if s < 0)
    flows = flows_from_carbon([n for n, _ in keep], [s for _, s in keep], allocation,
                              price_per_t_co2=price_per_t_co2, service=service,
                              source=f"hesuan land carbon {file}") if keep else []
    return EngineFlows(tuple(flows), {"carbon_summary": Path(path), "carbon_classes": table},
                       left)


_CLASS_COLUMNS = ("lucode", "lulc_name", "density_t_c_per_ha", "area_base_ha",
                  "storage_base_t_c", "area_alt_ha", "storage_alt_t_c", "sequestration_t_c",
                  "variance_share_storage_base_t_c", "variance_share_storage_alt_t_c",
                  "variance_share_sequestration_t_c")
"""The columns ``hesuan land carbon`` writes to ``classes.csv`` (those of a run with --alt)."""


def ipcc_flows_from_summary(path: str | Path, allocation: UseAllocation, *,
                            ecosystem_of: Mapping[str, str] | None = None,
                            price_per_t_co2: tuple[float, str, int] | None = None,
                            service: str = CLIMATE_SERVICE) -> EngineFlows:
    """Return the global climate regulation supply of a ``hesuan land ipcc`` table command.

    Parameters
    ----------
    path
        The ``.json`` summary (:class:`~hesuan.land.summary.IpccTableSummary`) that
        ``forest-gain-loss``, ``forest-stock-difference`` or ``soc`` writes beside its CSV;
        the CSV (``stratum``, ``co2_t_per_yr``, negative = removal) is read from beside it.
    allocation
        Who uses the service.
    ecosystem_of
        Ecosystem type of each stratum (default: the stratum's name).
    price_per_t_co2
        (price, currency, price year) to value the flow.
    service
        The service name.

    Returns
    -------
    EngineFlows
        The entries of :func:`~hesuan.land.seea.supply_use.flows_from_ipcc` for the strata that
        remove CO2; the emitting strata in ``left_out`` [t CO2/yr].

    Raises
    ------
    InputError
        A bad summary (see :func:`read_summary`), a missing or truncated table, a stratum of
        ``ecosystem_of`` that is not in the table.
    """
    import polars as pl

    from hesuan.land.gep.tables import read_table
    from hesuan.land.summary import IpccTableSummary

    file = str(path)
    summary = read_summary(path, IpccTableSummary, "--ipcc-summary")
    table = Path(path).with_suffix(".csv")
    if not table.is_file():
        raise InputError.single(f"no table {table.name} beside the summary", file=file,
                                field="output", expected=f"the CSV the run wrote "
                                f"({Path(summary.output).name}) in the summary's folder")
    raw = read_table(table, ("stratum", "co2_t_per_yr"), _ipcc_columns(table))
    co2 = _numbers(raw, "co2_t_per_yr", str(table))
    if len(co2) != summary.strata:
        raise InputError.single(f"{len(co2)} strata, the summary says {summary.strata}",
                                file=str(table), field="stratum",
                                expected="the table of the run whose summary it is")
    _check_total(co2, summary.co2_t_per_yr, str(table), file, "co2_t_per_yr", "co2_t_per_yr")
    strata = [str(s) for s in raw["stratum"].to_list()]
    unknown = sorted(set(ecosystem_of or {}) - set(strata))
    if unknown:
        raise InputError.single(f"strata not in the table: {unknown}", file=str(table),
                                field="--ipcc-ecosystem",
                                expected=f"STRATUM=TYPE among {', '.join(strata)}")
    frame = pl.DataFrame({"stratum": strata, "co2_t_per_yr": co2,
                          "edition": [summary.edition] * len(strata)})
    removing = frame.filter(pl.col("co2_t_per_yr") < 0)
    left = tuple((s, c) for s, c in zip(strata, co2, strict=True) if c > 0)
    flows = flows_from_ipcc(removing, allocation, ecosystem_of=ecosystem_of,
                            price_per_t_co2=price_per_t_co2, service=service,
                            source=f"IPCC Tier 1 {summary.command}"
                            ) if removing.height else []
    return EngineFlows(tuple(flows), {"ipcc_summary": Path(path), "ipcc_table": table}, left)


def _ipcc_columns(table: Path) -> tuple[str, ...]:
    """Return the other columns of the table (read and ignored): its own header."""
    import polars as pl

    try:
        header = pl.read_csv(table, n_rows=0, infer_schema_length=0).columns
    except Exception:
        return ()
    return tuple(c for c in header if c not in ("stratum", "co2_t_per_yr"))


# ------------------------------------------------------------- to the monetary asset account

SUPPLY_COLUMNS = ("service", "section", "ecosystem_type", "quantity", "unit", "value",
                  "currency", "price_year")
"""The columns of ``supply_by_ecosystem.csv`` of ``hesuan land seea supply-use``."""


def supply_by_ecosystem_rows(tables: Sequence[SupplyUseTable]) -> list[list[object]]:
    """Return the supply of each service by each resident ecosystem type, one row each.

    Parameters
    ----------
    tables
        The physical table and, when every entry is valued, the monetary table of one run.

    Returns
    -------
    list of list
        A header (:data:`SUPPLY_COLUMNS`) and a row per service and ecosystem type with a
        supply; ``value``, ``currency`` and ``price_year`` empty without a monetary table.
    """
    physical = next(t for t in tables if t.terms == "physical")
    money = next((t for t in tables if t.terms == "monetary"), None)
    rows: list[list[object]] = [list(SUPPLY_COLUMNS)]
    for i, (section, service, unit) in enumerate(physical.services):
        for j, (group, name) in enumerate(physical.suppliers):
            q = float(physical.supply[i, j])
            if group != "ecosystem" or q == 0:
                continue
            if money is None:
                rows.append([service, section, name, q, unit, "", "", ""])
            else:
                v = money.supply_of(service, name)
                rows.append([service, section, name, q, unit, v, money.currency,
                             money.price_year])
    return rows


def _supply_run(folder: Path, option: str) -> tuple[dict[tuple[str, str], tuple[float, float]],
                                                     str, int, dict[str, Path]]:
    """Return the valued supply by (ecosystem type, service) of a supply-use run folder."""
    from hesuan.land.gep.tables import read_table

    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise InputError.single(f"no summary.json in {folder}", file=str(folder), field=option,
                                expected="the --out folder of a `hesuan land seea supply-use` "
                                "run")
    summary = read_summary(summary_path, SupplyUseSummary, option)
    if summary.currency is None or summary.price_year is None:
        raise InputError.single("the run has no monetary table", file=str(summary_path),
                                field="currency", expected="a run whose every entry is valued "
                                "(e.g. --co2-price for the carbon and IPCC flows)")
    table = folder / "supply_by_ecosystem.csv"
    frame = read_table(table, SUPPLY_COLUMNS)
    out: dict[tuple[str, str], tuple[float, float]] = {}
    problems: list[Problem] = []
    for i, r in enumerate(frame.iter_rows(named=True)):
        nums = []
        for c in ("quantity", "value"):
            try:
                x = float(r[c])
            except (TypeError, ValueError):
                x = math.nan
            if not (math.isfinite(x) and x >= 0):
                problems.append(Problem(f"{r[c]!r}", str(table), i + 2, c,
                                        "a finite number >= 0"))
            nums.append(x)
        if (r["currency"], r["price_year"]) != (summary.currency, str(summary.price_year)):
            problems.append(Problem(f"{r['currency']} {r['price_year']}", str(table), i + 2,
                                    "currency", f"{summary.currency} {summary.price_year} "
                                    "(the run's summary)"))
        out[(r["ecosystem_type"], r["service"])] = (nums[0], nums[1])
    if problems:
        raise InputError(problems=tuple(problems[:20]),
                         summary=f"{table}: {len(problems)} problem(s)")
    for name, totals in (("physical", summary.total_supply.get("physical", {})),
                         ("monetary", summary.total_supply.get("monetary", {}))):
        k = 0 if name == "physical" else 1
        for service, total in totals.items():
            got = math.fsum(v[k] for (_, s), v in out.items() if s == service)
            if abs(got - total) > 1e-9 * max(1.0, abs(total)):
                raise InputError.single(
                    f"{service}: the rows add up to {got:,.6g}, the summary says "
                    f"{total:,.6g}", file=str(table), field="quantity" if k == 0 else "value",
                    expected="the table of the run whose summary.json is beside it")
    role = option.strip("-").replace("-", "_")
    return out, summary.currency, summary.price_year, {f"{role}_summary": summary_path,
                                                       f"{role}_table": table}


def read_extent_account(path: str | Path) -> dict[str, tuple[float, float]]:
    """Return ``{ecosystem type: (opening, closing) [ha]}`` of an ``extent_account.csv``.

    Parameters
    ----------
    path
        The extent account that ``hesuan land seea extent`` writes (SEEA EA Table 4.1).

    Raises
    ------
    InputError
        The file is missing, or has no ``Opening extent`` or ``Closing extent`` row, or an
        area is not a number >= 0.
    """
    import csv

    file = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(f"cannot read: {err}", file=file, field="--extent",
                                expected="extent_account.csv of `hesuan land seea extent`"
                                ) from None
    if not rows or not rows[0] or rows[0][0] != "Extent (ha)":
        raise InputError.single("not an extent account", file=file, row=1, field="Extent (ha)",
                                expected="extent_account.csv of `hesuan land seea extent`")
    names = [n for n in rows[0][1:] if n != "Total"]
    found = {r[0]: (i + 1, r[1:1 + len(names)]) for i, r in enumerate(rows) if r}
    out: dict[str, list[float]] = {n: [] for n in names}
    for label in ("Opening extent", "Closing extent"):
        if label not in found:
            raise InputError.single(f"no {label!r} row", file=file, field=label,
                                    expected="the rows of SEEA EA Table 4.1")
        line, values = found[label]
        for n, text in zip(names, values, strict=False):
            try:
                x = float(text)
            except ValueError:
                x = math.nan
            if not (math.isfinite(x) and x >= 0):
                raise InputError.single(f"{text!r}", file=file, row=line, field=n,
                                        expected="an area [ha] >= 0")
            out[n].append(x)
        if len(values) < len(names):
            raise InputError.single("a short row", file=file, row=line, field=label,
                                    expected=f"{len(names)} areas")
    return {n: (v[0], v[1]) for n, v in out.items()}


@dataclass(frozen=True)
class AssetInputs:
    """The expected flows of the asset account, from two supply-use runs and an extent account.

    Attributes
    ----------
    assets
        One :class:`~hesuan.land.seea.asset.ServiceAsset` per ecosystem type and service.
    currency, price_year
        Currency of the values; the closing run's price year (the opening run's values are at
        its own prices, and the price change shows as revaluations).
    files
        ``{role: path}`` of every file read.
    """

    assets: tuple[ServiceAsset, ...]
    currency: str
    price_year: int
    opening_price_year: int
    files: Mapping[str, Path]


def assets_from_supply_use(opening: str | Path, closing: str | Path, extent: str | Path
                           ) -> AssetInputs:
    """Return the expected flows of the monetary asset account from supply-use runs.

    Parameters
    ----------
    opening, closing
        The ``--out`` folders of two ``hesuan land seea supply-use`` runs with monetary
        tables: the service flows expected at the opening and at the closing (SEEA EA 2021
        §10.4 takes the current flows as the expected annual flows).
    extent
        ``extent_account.csv`` of ``hesuan land seea extent`` over the same period: the
        opening and closing extent of each ecosystem type.

    Returns
    -------
    AssetInputs
        Per ecosystem type and service supplied at either end: the extents, the physical flows
        and their values (0 where a service is supplied at one end only).

    Raises
    ------
    InputError
        A bad run folder or extent account, runs in two currencies, an ecosystem type that
        supplies a service but has no extent.
    """
    from hesuan.land.seea.asset import ServiceAsset

    o, cur_o, year_o, files_o = _supply_run(Path(opening), "--opening-supply")
    c, cur_c, year_c, files_c = _supply_run(Path(closing), "--closing-supply")
    if cur_o != cur_c:
        raise InputError.single(f"opening in {cur_o}, closing in {cur_c}",
                                file=str(closing), field="currency",
                                expected="one currency for both runs")
    areas = read_extent_account(extent)
    keys = list(dict.fromkeys([*o, *c]))
    missing = sorted({et for et, _ in keys if et not in areas})
    if missing:
        raise InputError.single(f"ecosystem types that supply services but have no extent: "
                                f"{missing}", file=str(extent), field="Extent (ha)",
                                expected=f"a column per supplying type (the account has "
                                f"{', '.join(areas)})")
    assets = tuple(ServiceAsset(et, s, areas[et][0], areas[et][1], o.get((et, s), (0, 0))[0],
                                c.get((et, s), (0, 0))[0], o.get((et, s), (0, 0))[1],
                                c.get((et, s), (0, 0))[1]) for et, s in keys)
    return AssetInputs(assets, cur_c, year_c, year_o,
                       {**files_o, **files_c, "extent": Path(extent)})
