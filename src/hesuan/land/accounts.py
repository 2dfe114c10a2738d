"""Totals, intervals and regional accounts from the pixel-count table of a run.

Input: ``counts[z, i, j]`` = pixels in zone ``z`` (0 = outside every region) whose baseline
slot is ``i`` and alternate slot ``j`` (slots ``0..K−1`` classes, ``K`` nodata, ``K+1``
absent; the last axis has length 1 without an alternate map). Everything here is exact
arithmetic on those counts and the pools table — no raster is read again.

Nodata rule: a pixel that is nodata in a map adds nothing to that map's storage; a pixel
that is nodata in either map adds nothing to sequestration (and is nodata in the change and
NPV rasters). So ``sequestration`` equals ``storage_alt − storage_base`` only when both maps
have the same valid pixels; the summary reports both pixel counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hesuan.land import equations as eq
from hesuan.land.pools import PoolsTable
from hesuan.land.spec import POOLS

#: Largest number of zones processed at once in the regional Monte Carlo (memory bound:
#: n_samples × this × 8 bytes per quantity).
_MC_ZONE_CHUNK = 256


@dataclass(frozen=True)
class ClassAreas:
    """Pixel counts per zone and class derived from the count table (shape ``(Z+1, K)``)."""

    base: NDArray[np.int64]
    alt: NDArray[np.int64] | None
    base_in_both: NDArray[np.int64] | None
    alt_in_both: NDArray[np.int64] | None
    transitions: NDArray[np.int64] | None  # (K, K), all zones

    @classmethod
    def from_counts(cls, counts: NDArray[np.int64], n_classes: int) -> ClassAreas:
        """Return the class areas [pixels] of ``counts[zone, base class, alternate class]``.

        Without an alternate map (a last axis of length 1) only the baseline areas are set.
        """
        k = n_classes
        base = counts[:, :k, :].sum(axis=2)
        if counts.shape[2] == 1:
            return cls(base, None, None, None, None)
        both = counts[:, :k, :k]
        return cls(base, counts[:, :, :k].sum(axis=1), both.sum(axis=2), both.sum(axis=1),
                   both.sum(axis=0))


def _interval(total: NDArray[np.float64] | float, variance: NDArray[np.float64] | float
              ) -> dict[str, Any]:
    sd, lo, hi = eq.ci95(total, variance)
    return {"sd": sd, "ci95_low": lo, "ci95_high": hi}


def _mc(draws: NDArray[np.float64], area_ha: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Mean, sd and 2.5/97.5 percentiles of ``draws @ area`` (area shape (K,) or (K, Z))."""
    tot = draws @ area_ha
    lo, hi = np.percentile(tot, [2.5, 97.5], axis=0)
    return {"mean": tot.mean(axis=0), "sd": tot.std(axis=0, ddof=1), "ci95_low": lo,
            "ci95_high": hi}


def _to_py(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_py(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@dataclass
class Accounts:
    """Global and per-zone totals with their intervals."""

    quantities: dict[str, NDArray[np.float64]]  # name → shape (Z+1,) per zone
    approach1: dict[str, dict[str, Any]]  # name → sd/ci95_low/ci95_high (Z+1,), "global"
    approach2: dict[str, dict[str, NDArray[np.float64]]]  # name → mean/sd/ci, global only, scalars
    approach2_zones: dict[str, dict[str, NDArray[np.float64]]]  # same per zone (1..Z)
    variance_share: dict[str, NDArray[np.float64]]  # name → (K,) share of global variance
    by_class: dict[str, NDArray[np.float64]]  # name → (K,) global
    storage_by_pool: dict[str, NDArray[np.float64]]  # scenario → (4,) t C
    areas: ClassAreas

    def total(self, name: str) -> float:
        """Return the total of quantity ``name`` over every zone and class."""
        return float(self.quantities[name].sum())


def account(counts: NDArray[np.int64], pools: PoolsTable, area_ha: float,
            npv_per_t_c: float | None, mc_samples: int = 10_000, seed: int = 0,
            zones_mc: bool = True) -> Accounts:
    """Compute every total, interval and share from the count table.

    Parameters
    ----------
    counts : [pixels] shape ``(Z+1, K+2, K+2 or 1)``
    pools : the checked pools table (densities [t C/ha], optional sd [t C/ha])
    area_ha : [ha] area of one pixel
    npv_per_t_c : [currency/t C] valuation constant, or None
    mc_samples : [draws] Monte Carlo sample size (0 to skip Approach 2)
    seed : Monte Carlo seed

    References
    ----------
    IPCC 2006 Vol. 1 Ch. 3 Eq. 3.1, 3.2 (Approach 1) and Section 3.2.3.2 (Approach 2).
    """
    k = pools.codes.size
    areas = ClassAreas.from_counts(counts, k)
    dens = pools.density_t_c_per_ha
    total_d = pools.total_t_c_per_ha
    stored = eq.storage_t_c(areas.base, total_d, area_ha)  # (Z+1, K) t C
    q: dict[str, NDArray[np.float64]] = {"storage_base_t_c": stored.sum(axis=1)}
    by_class: dict[str, NDArray[np.float64]] = {
        "area_base_ha": areas.base.sum(axis=0) * area_ha, "storage_base_t_c": stored.sum(axis=0)}
    storage_by_pool = {"base": eq.storage_t_c(areas.base.sum(axis=0), dens, area_ha).sum(axis=0)}
    area_terms: dict[str, NDArray[np.float64]] = {
        "storage_base_t_c": np.multiply(areas.base, area_ha, dtype=np.float64)}
    if areas.alt is not None:
        assert areas.alt_in_both is not None and areas.base_in_both is not None
        assert areas.transitions is not None
        stored_alt = eq.storage_t_c(areas.alt, total_d, area_ha)
        seq = eq.sequestration_t_c(areas.base_in_both, areas.alt_in_both, total_d, area_ha)
        q["storage_alt_t_c"] = stored_alt.sum(axis=1)
        q["sequestration_t_c"] = seq.sum(axis=1)
        by_class["area_alt_ha"] = areas.alt.sum(axis=0) * area_ha
        by_class["storage_alt_t_c"] = stored_alt.sum(axis=0)
        by_class["sequestration_t_c"] = seq.sum(axis=0)
        storage_by_pool["alt"] = eq.storage_t_c(areas.alt.sum(axis=0), dens, area_ha).sum(axis=0)
        area_terms["storage_alt_t_c"] = np.multiply(areas.alt, area_ha, dtype=np.float64)
        area_terms["sequestration_t_c"] = np.multiply(areas.alt_in_both - areas.base_in_both,
                                                      area_ha, dtype=np.float64)
        q["gains_t_c"], q["losses_t_c"] = eq.gains_losses_t_c(counts[:, :k, :k], total_d,
                                                              area_ha)
        q["sequestration_t_co2e"] = eq.to_t_co2e(q["sequestration_t_c"])
        q["storage_alt_t_co2e"] = eq.to_t_co2e(q["storage_alt_t_c"])
        if npv_per_t_c is not None:
            q["npv"] = eq.npv(q["sequestration_t_c"], npv_per_t_c)
    q["storage_base_t_co2e"] = eq.to_t_co2e(q["storage_base_t_c"])

    approach1: dict[str, dict[str, Any]] = {}
    approach2: dict[str, dict[str, NDArray[np.float64]]] = {}
    approach2_z: dict[str, dict[str, NDArray[np.float64]]] = {}
    share: dict[str, NDArray[np.float64]] = {}
    if pools.sd_t_c_per_ha is not None:
        sd = pools.sd_t_c_per_ha
        draws = (eq.monte_carlo_class_density(dens, sd, mc_samples, seed)
                 if mc_samples > 0 else None)
        for name, area in area_terms.items():
            var_zk = eq.approach1_variance_by_class(area, sd)  # per zone, per class
            approach1[name] = _interval(q[name], var_zk.sum(axis=1))
            var_k = eq.approach1_variance_by_class(area.sum(axis=0), sd)
            g_total, g_var = q[name].sum(), var_k.sum()
            approach1[name]["global"] = _interval(g_total, g_var)
            share[name] = var_k / g_var if g_var > 0 else np.zeros_like(var_k)
            if draws is not None:
                approach2[name] = _mc(draws, area.sum(axis=0))
                if zones_mc and area.shape[0] > 1:
                    parts = [_mc(draws, area[1 + s:1 + s + _MC_ZONE_CHUNK].T)
                             for s in range(0, area.shape[0] - 1, _MC_ZONE_CHUNK)]
                    approach2_z[name] = {key: np.concatenate([p[key] for p in parts])
                                         for key in parts[0]}
        for base_name, factor, new in (("sequestration_t_c", eq.CO2_PER_C,
                                        "sequestration_t_co2e"),
                                       ("sequestration_t_c", npv_per_t_c, "npv")):
            if base_name in approach1 and factor is not None:
                approach1[new] = _scale(approach1[base_name], factor)
                if base_name in approach2:
                    approach2[new] = _scale(approach2[base_name], factor)
                if base_name in approach2_z:
                    approach2_z[new] = _scale(approach2_z[base_name], factor)
    return Accounts(q, approach1, approach2, approach2_z, share, by_class, storage_by_pool,
                    areas)


def _scale(block: dict[str, Any], factor: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, dict):
            out[key] = _scale(value, factor)
        elif key == "sd":
            out[key] = np.abs(np.asarray(value)) * abs(factor)
        else:
            out[key] = np.asarray(value) * factor
    if factor < 0 and "ci95_low" in out:  # a negative factor swaps the bounds
        out["ci95_low"], out["ci95_high"] = out["ci95_high"], out["ci95_low"]
    return out


def global_summary(acc: Accounts) -> dict[str, Any]:
    """Return the global figures as plain Python (for summary.json)."""
    out: dict[str, Any] = {name: float(v.sum()) for name, v in acc.quantities.items()}
    if acc.approach1:
        out["uncertainty"] = {
            "approach1": {n: _to_py(v["global"]) for n, v in acc.approach1.items()},
            "approach2": {n: _to_py(v) for n, v in acc.approach2.items()},
        }
    return out


__all__ = ["POOLS", "Accounts", "ClassAreas", "account", "global_summary"]
