"""Monetary value of an ecosystem asset: the net present value of its service flows.

SEEA EA 2021 §10.4 values an asset as the NPV of the expected flows of its services over
the asset life, discounted at rate r, with each year's flow at the **end** of the year:

    NPV = Σ_{t=1..n} F / (1 + r)^t = F · (1 − (1 + r)^(−n)) / r      (ordinary annuity)

Several Chinese ecological-asset studies count the first year's flow undiscounted
(博文静 et al. 2017, 生态学报 37(12), Eq. 3: Σ_{i=1..n} F / (1 + r)^(i−1)), an annuity-due,
(1 + r) times larger. The timing is therefore an explicit input.

The monetary asset account (SEEA EA 2021 Table 10.1) follows from the NPVs at the opening
and the closing: each service's change is split into area, volume and price effects
(:func:`decompose`) and booked as ecosystem conversions, enhancement or degradation (or
reappraisals, by the change in condition) and revaluations (:func:`monetary_asset_account`);
opening + changes = closing is checked for every ecosystem type.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hesuan.errors import InputError
from hesuan.land.seea.extent import AccountingIdentityError

Timing = Literal["end", "beginning"]


def annuity_factor(rate: float, years: int, timing: Timing = "end") -> float:
    """Present value of 1 per year for ``years`` years at ``rate`` (0.02 = 2 %) [-].

    ``timing="end"``: flows at the end of each year (SEEA EA); ``"beginning"``: the first
    flow now (annuity-due, Bo et al. 2017 Eq. 3).
    """
    if years < 0:
        raise ValueError("years must be >= 0")
    factor = float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate
    return factor * (1 + rate) if timing == "beginning" else factor


def npv(flow: float, rate: float, years: int, timing: Timing = "end") -> float:
    """NPV of a constant annual ``flow`` [currency] (see :func:`annuity_factor`)."""
    return flow * annuity_factor(rate, years, timing)


# --------------------------------------------------------------------------- asset account


Entry = Literal["enhancement", "upward_reappraisal", "downward_reappraisal", "degradation"]
ENTRIES: tuple[Entry, ...] = ("enhancement", "upward_reappraisal", "downward_reappraisal",
                              "degradation")


@dataclass(frozen=True)
class AssetTerms:
    """How a flow becomes an asset value: discount ``rate`` (0.02 = 2 %), asset life
    ``years`` and the ``timing`` of each year's flow (SEEA EA: ``"end"``)."""

    rate: float
    years: int
    timing: Timing = "end"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > -1):
            raise InputError.single(f"discount rate {self.rate!r}", field="rate",
                                    expected="a rate > -1, e.g. 0.02 for 2 %")
        if self.years < 1:
            raise InputError.single(f"asset life {self.years!r}", field="years",
                                    expected="an asset life of at least 1 year")
        if self.timing not in ("end", "beginning"):
            raise InputError.single(f"timing {self.timing!r}", field="timing",
                                    expected="end (SEEA EA) | beginning (annuity-due)")


@dataclass(frozen=True)
class ServiceAsset:
    """One ecosystem service of one ecosystem type at the opening and the closing:
    extent [ha], expected annual physical flow and expected annual flow in money (the
    exchange value, SEEALand Tab #9). The NPVs follow from :class:`AssetTerms`."""

    ecosystem_type: str
    service: str
    area_opening: float
    area_closing: float
    flow_opening: float
    flow_closing: float
    value_opening: float
    value_closing: float


@dataclass(frozen=True)
class Decomposition:
    """The change in the NPV of one service of one ecosystem type split into area, volume
    (intensity per ha) and price effects; ``area + volume + price = npv_closing −
    npv_opening`` (checked)."""

    ecosystem_type: str
    service: str
    npv_opening: float
    npv_closing: float
    area: float
    volume: float
    price: float


@dataclass(frozen=True)
class MonetaryAssetAccount:
    """The monetary ecosystem asset account (SEEA EA 2021 Table 10.1; SEEALand Tab #14),
    per ecosystem type in ``names`` (values in ``currency`` at ``price_year`` prices)."""

    names: tuple[str, ...]
    opening: tuple[float, ...]
    enhancement: tuple[float, ...]
    degradation: tuple[float, ...]
    conversion_additions: tuple[float, ...]
    conversion_reductions: tuple[float, ...]
    catastrophic_losses: tuple[float, ...]
    upward_reappraisals: tuple[float, ...]
    downward_reappraisals: tuple[float, ...]
    revaluations: tuple[float, ...]
    net_change: tuple[float, ...]
    closing: tuple[float, ...]
    terms: AssetTerms
    decompositions: tuple[Decomposition, ...]
    condition_change: tuple[float | None, ...]
    currency: str = ""
    price_year: int | None = None

    def rows(self) -> list[tuple[str, tuple[float, ...]]]:
        """The account's rows in the layout of SEEA EA Table 10.1 (changes signed: a
        reduction in value is negative)."""
        return [("Opening value", self.opening),
                ("Ecosystem enhancement", self.enhancement),
                ("Ecosystem degradation", self.degradation),
                ("Ecosystem conversions: additions", self.conversion_additions),
                ("Ecosystem conversions: reductions", self.conversion_reductions),
                ("Other changes in volume: catastrophic losses", self.catastrophic_losses),
                ("Other changes in volume: upward reappraisals", self.upward_reappraisals),
                ("Other changes in volume: downward reappraisals",
                 self.downward_reappraisals),
                ("Revaluations", self.revaluations),
                ("Net change in value", self.net_change),
                ("Closing value", self.closing)]


def decompose(asset: ServiceAsset, terms: AssetTerms) -> Decomposition:
    """Area, volume and price effects of the change in one service's NPV.

    With a = extent, Q = expected flow × asset life, p = NPV / Q (the unit value of the
    flows) and q = Q / a (the volume per ha), NPV = p·q·a. The change is split by the
    symmetric (Shapley) three-factor decomposition of the SEEALand workbook (Tab #13,
    after SEEA EA 2021 Annex 10.1):

        area effect   = Δa · [(p0q0 + p1q1)/3 + (p0q1 + p1q0)/6]
        volume effect = Δq · [(p0a0 + p1a1)/3 + (p0a1 + p1a0)/6]
        price effect  = Δp · [(q0a0 + q1a1)/3 + (q0a1 + q1a0)/6]

    which add up to NPV1 − NPV0 exactly. Where one end has no extent or no flow, its
    intensity (or unit value) is taken as the other end's, so that the whole change is an
    area (or volume) effect.
    """
    npv0 = npv(asset.value_opening, terms.rate, terms.years, terms.timing)
    npv1 = npv(asset.value_closing, terms.rate, terms.years, terms.timing)
    a0, a1 = asset.area_opening, asset.area_closing
    q_0, q_1 = asset.flow_opening * terms.years, asset.flow_closing * terms.years
    p0 = npv0 / q_0 if q_0 else None
    p1 = npv1 / q_1 if q_1 else None
    p0, p1 = (p0 if p0 is not None else p1 or 0.0), (p1 if p1 is not None else p0 or 0.0)
    i0 = q_0 / a0 if a0 else None
    i1 = q_1 / a1 if a1 else None
    i0, i1 = (i0 if i0 is not None else i1 or 0.0), (i1 if i1 is not None else i0 or 0.0)
    area = (a1 - a0) * ((p0 * i0 + p1 * i1) / 3 + (p0 * i1 + p1 * i0) / 6)
    volume = (i1 - i0) * ((p0 * a0 + p1 * a1) / 3 + (p0 * a1 + p1 * a0) / 6)
    price = (p1 - p0) * ((i0 * a0 + i1 * a1) / 3 + (i0 * a1 + i1 * a0) / 6)
    gap = area + volume + price - (npv1 - npv0)
    if abs(gap) > 1e-9 * max(1.0, abs(npv0), abs(npv1)):
        raise AccountingIdentityError(
            f"NPV decomposition of {asset.service} in {asset.ecosystem_type}: area + volume "
            f"+ price effects differ from the change in NPV by {gap:g} (an extent or flow is "
            "zero at one end while its value is not)")
    return Decomposition(asset.ecosystem_type, asset.service, npv0, npv1, area, volume, price)


def classify_volume(volume: float, condition_change: float | None) -> Entry:
    """The entry of a volume effect (SEEALand Tab #13, "Type of effect", after SEEA EA 2021
    Chapter 10 and Annex 10.1): a gain with better condition is enhancement, without it an
    upward reappraisal; a loss with worse condition is degradation, without it a downward
    reappraisal. Without a condition change the effect is a reappraisal."""
    if volume >= 0:
        return "enhancement" if condition_change is not None and condition_change > 0 \
            else "upward_reappraisal"
    return "degradation" if condition_change is not None and condition_change < 0 \
        else "downward_reappraisal"


def monetary_asset_account(assets: Iterable[ServiceAsset], terms: AssetTerms, *,
                           condition_change: Mapping[str, float] | None = None,
                           catastrophic_losses: Mapping[str, float] | None = None,
                           volume_entry: Mapping[str, Entry] | None = None,
                           currency: str = "", price_year: int | None = None
                           ) -> MonetaryAssetAccount:
    """The monetary ecosystem asset account of every ecosystem type of ``assets``.

    Opening and closing values are the NPVs of the expected flows (:func:`npv`, the
    ``terms`` explicit). Each service's change is decomposed (:func:`decompose`) and, per
    ecosystem type: a positive area effect is booked as ecosystem conversions (additions),
    a negative one as conversions (reductions); the price effect as revaluations; the
    volume effect, less any ``catastrophic_losses`` [currency, a loss > 0] of the type, by
    :func:`classify_volume` with the type's ``condition_change`` (closing − opening
    condition index), unless ``volume_entry`` names the entry. Opening + changes = closing
    is checked for every type (:class:`AccountingIdentityError`).
    """
    items = list(assets)
    names = tuple(dict.fromkeys(a.ecosystem_type for a in items))
    cond = dict(condition_change or {})
    losses = dict(catastrophic_losses or {})
    entries = dict(volume_entry or {})
    for label, mapping in (("condition_change", cond), ("catastrophic_losses", losses),
                           ("volume_entry", entries)):
        unknown = sorted(set(mapping) - set(names))
        if unknown:
            raise InputError.single(f"ecosystem types {unknown} have no service flows",
                                    field=label, expected=" | ".join(names))
    for et, e in entries.items():
        if e not in ENTRIES:
            raise InputError.single(f"entry {e!r} for {et}", field="volume_entry",
                                    expected=" | ".join(ENTRIES))
    for et, loss in losses.items():
        if not (math.isfinite(loss) and loss >= 0):
            raise InputError.single(f"catastrophic loss {loss!r} of {et}",
                                    field="catastrophic_losses", expected="a loss >= 0")
    parts = [decompose(a, terms) for a in items]
    cols: dict[str, list[float]] = {k: [] for k in (
        "opening", "enhancement", "degradation", "add", "red", "cat", "up", "down", "reval",
        "net", "closing")}
    for et in names:
        ds = [d for d in parts if d.ecosystem_type == et]
        opening = math.fsum(d.npv_opening for d in ds)
        closing = math.fsum(d.npv_closing for d in ds)
        area = math.fsum(d.area for d in ds)
        volume = math.fsum(d.volume for d in ds)
        price = math.fsum(d.price for d in ds)
        cat = -losses[et] if et in losses else 0.0
        rest = volume - cat
        entry = entries.get(et) or classify_volume(rest, cond.get(et))
        booked = {e: (rest if e == entry else 0.0) for e in ENTRIES}
        changes = [booked["enhancement"], booked["degradation"], max(area, 0.0),
                   min(area, 0.0), cat, booked["upward_reappraisal"],
                   booked["downward_reappraisal"], price]
        net = math.fsum(changes)
        if abs(opening + net - closing) > 1e-9 * max(1.0, abs(opening), abs(closing)):
            raise AccountingIdentityError(f"monetary asset account of {et}: opening "
                                          f"{opening:g} + changes {net:g} ≠ closing "
                                          f"{closing:g}")
        for k, v in zip(cols, [opening, *changes, net, closing], strict=True):
            cols[k].append(v)
    t = {k: tuple(v) for k, v in cols.items()}
    return MonetaryAssetAccount(
        names, t["opening"], t["enhancement"], t["degradation"], t["add"], t["red"], t["cat"],
        t["up"], t["down"], t["reval"], t["net"], t["closing"], terms, tuple(parts),
        tuple(cond.get(et) for et in names), currency, price_year)


ASSET_COLUMNS = ("ecosystem_type", "service", "area_opening", "area_closing", "flow_opening",
                 "flow_closing", "value_opening", "value_closing")
ASSET_OPTIONAL = ("unit", "note")


def read_service_assets(path: str | Path) -> list[ServiceAsset]:
    """The expected flows table (:data:`ASSET_COLUMNS`): per ecosystem type and service, the
    extent [ha], the expected annual physical flow and its value in money at the opening
    and the closing; every problem with file, row and field."""
    from hesuan.errors import Problem
    from hesuan.land.gep.tables import read_table

    file = str(path)
    frame = read_table(path, ASSET_COLUMNS, ASSET_OPTIONAL)
    problems: list[Problem] = []
    out: list[ServiceAsset] = []
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        nums: dict[str, float] = {}
        for c in ASSET_COLUMNS[2:]:
            try:
                x = float(row[c])
            except (TypeError, ValueError):
                problems.append(Problem(f"not a number: {row[c]!r}", file, line, c,
                                        "a number >= 0"))
                continue
            if not (math.isfinite(x) and x >= 0):
                problems.append(Problem(f"{row[c]!r}", file, line, c, "a number >= 0"))
                continue
            nums[c] = x
        key = (row["ecosystem_type"] or "", row["service"] or "")
        if not all(key):
            problems.append(Problem("empty ecosystem type or service", file, line,
                                    "ecosystem_type", "both named"))
        elif key in seen:
            problems.append(Problem(f"{key} also on line {seen[key]}", file, line, "service",
                                    "one row per ecosystem type and service"))
        seen.setdefault(key, line)
        if len(nums) == len(ASSET_COLUMNS) - 2 and all(key):
            out.append(ServiceAsset(key[0], key[1], *(nums[c] for c in ASSET_COLUMNS[2:])))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the expected flows")
    return out
