"""SEEA EA ecosystem extent: the change matrix and the extent account.

From two ecosystem-type maps (opening and closing) on one grid:

- the **ecosystem type change matrix** (SEEA EA 2021, Table 4.2): area [ha] of each
  (opening type, closing type) pair; row sums are the opening extents, column sums the
  closing extents, the diagonal the unchanged area;
- the **extent account** (SEEA EA 2021, Table 4.1): opening extent; additions (managed and
  unmanaged expansion); reductions (managed and unmanaged); net change; closing extent, per
  ecosystem type. Which conversions were *managed* (the result of human activity) is not
  visible on the maps: it is an input (``managed``, a set of (from, to) code pairs); every
  other conversion is booked as unmanaged.

Every accounting identity is checked before a result is returned: total area conserved,
rows = opening, columns = closing, opening + additions − reductions = closing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from numpy.typing import NDArray

from hesuan.errors import HesuanError, InputError


class AccountingIdentityError(HesuanError):
    """An accounting identity of SEEA EA does not hold (a defect, never a user error)."""


@dataclass(frozen=True)
class ChangeMatrix:
    """Area [ha] per (opening type, closing type); ``codes``/``names`` index both axes."""

    codes: tuple[int, ...]
    names: tuple[str, ...]
    area_ha: NDArray[np.float64]
    nodata_ha: float = 0.0

    @property
    def opening_ha(self) -> NDArray[np.float64]:
        """Return the opening area of each ecosystem type [ha] (row sums of the change matrix)."""
        rows: NDArray[np.float64] = self.area_ha.sum(axis=1)
        return rows

    @property
    def closing_ha(self) -> NDArray[np.float64]:
        """Return the closing area of each ecosystem type [ha].

        The column sums of the change matrix.
        """
        columns: NDArray[np.float64] = self.area_ha.sum(axis=0)
        return columns


@dataclass(frozen=True)
class ExtentAccount:
    """SEEA EA Table 4.1 per ecosystem type [ha]."""

    names: tuple[str, ...]
    opening: tuple[float, ...]
    managed_expansion: tuple[float, ...]
    unmanaged_expansion: tuple[float, ...]
    managed_reduction: tuple[float, ...]
    unmanaged_reduction: tuple[float, ...]
    net_change: tuple[float, ...]
    closing: tuple[float, ...]

    def rows(self) -> list[tuple[str, tuple[float, ...]]]:
        """Return the account's rows in the SEEA EA order, each with its per-type values."""
        return [("Opening extent", self.opening),
                ("Additions: managed expansion", self.managed_expansion),
                ("Additions: unmanaged expansion", self.unmanaged_expansion),
                ("Reductions: managed reductions", self.managed_reduction),
                ("Reductions: unmanaged reductions", self.unmanaged_reduction),
                ("Net change in extent", self.net_change),
                ("Closing extent", self.closing)]


def change_matrix(opening: NDArray[np.integer], closing: NDArray[np.integer],
                  codes: Sequence[int], names: Sequence[str], pixel_area_ha: float,
                  nodata: int | None = None) -> ChangeMatrix:
    """Return the change matrix of two code arrays (SEEA EA Table 4.2).

    Pixels that are ``nodata`` in either map are left out and their area reported; a code
    not in ``codes`` raises :class:`InputError`.
    """
    k = len(codes)
    lut = {c: i for i, c in enumerate(codes)}
    counts = np.zeros((k, k), dtype=np.int64)
    o = opening.ravel().astype(np.int64)
    c = closing.ravel().astype(np.int64)
    valid = np.ones(o.shape, dtype=bool)
    if nodata is not None:
        valid = (o != nodata) & (c != nodata)
    index = np.full(max(int(o.max(initial=0)), int(c.max(initial=0)), max(codes)) + 2, -1)
    for code, i in lut.items():
        index[code] = i
    oi, ci = index[np.clip(o, 0, index.size - 1)], index[np.clip(c, 0, index.size - 1)]
    bad = valid & ((oi < 0) | (ci < 0) | (o < 0) | (c < 0))
    if bad.any():
        found = sorted(set(o[bad & (oi < 0)].tolist()) | set(c[bad & (ci < 0)].tolist()))
        raise InputError.single(f"codes {found[:20]} are not ecosystem types of the table",
                                field="ecosystem_type",
                                expected="one row per code (code, ecosystem_type)")
    pairs = oi[valid] * k + ci[valid]
    counts += np.bincount(pairs, minlength=k * k).reshape(k, k)
    return ChangeMatrix(tuple(codes), tuple(names),
                        counts.astype(np.float64) * float(pixel_area_ha),
                        float((~valid).sum()) * pixel_area_ha)


def change_matrix_from_rasters(opening: str | Path, closing: str | Path,
                               codes: Sequence[int], names: Sequence[str]) -> ChangeMatrix:
    """Return the change matrix of two ecosystem-type rasters on one grid, read window by window."""
    from hesuan.land.gep.raster import check_grid, plan

    grid = check_grid(str(opening), {"closing": str(closing)})
    k = len(codes)
    total = np.zeros((k, k))
    nodata_ha = 0.0
    with rasterio.open(opening) as a, rasterio.open(closing) as b:
        nod = a.nodata
        for w in plan(grid):
            m = change_matrix(a.read(1, window=w), b.read(1, window=w), codes, names,
                              grid.pixel_area_m2 / 1e4, None if nod is None else int(nod))
            total += m.area_ha
            nodata_ha += m.nodata_ha
    return ChangeMatrix(tuple(codes), tuple(names), total, nodata_ha)


def extent_account(matrix: ChangeMatrix,
                   managed: Iterable[tuple[int, int]] = ()) -> ExtentAccount:
    """Return the extent account (SEEA EA Table 4.1) of ``matrix``.

    ``managed`` lists the (from, to) conversions that were managed (the others are unmanaged).
    Identities are checked.
    """
    a = matrix.area_ha
    k = len(matrix.codes)
    pos = {c: i for i, c in enumerate(matrix.codes)}
    is_managed = np.zeros((k, k), dtype=bool)
    for f, t in managed:
        is_managed[pos[f], pos[t]] = True
    off = a * (1 - np.eye(k))
    m_add = (off * is_managed).sum(axis=0)
    u_add = (off * ~is_managed).sum(axis=0)
    m_red = (off * is_managed).sum(axis=1)
    u_red = (off * ~is_managed).sum(axis=1)
    opening, closing = a.sum(axis=1), a.sum(axis=0)
    net = m_add + u_add - m_red - u_red
    check_extent_identities(a, opening, closing, net)
    def as_t(x: NDArray[np.float64]) -> tuple[float, ...]:
        return tuple(float(v) for v in x)

    return ExtentAccount(matrix.names, as_t(opening), as_t(m_add), as_t(u_add), as_t(m_red),
                         as_t(u_red), as_t(net), as_t(closing))


def check_extent_identities(area: NDArray[np.float64], opening: NDArray[np.float64],
                            closing: NDArray[np.float64], net: NDArray[np.float64]) -> None:
    """SEEA EA §4.2: total area conserved.

    Rows = opening; columns = closing; opening + net change = closing. Raises
    :class:`AccountingIdentityError`.
    """
    tol = 1e-9 * max(1.0, float(area.sum()))
    checks = {
        "total area conserved": abs(opening.sum() - closing.sum()),
        "row sums = opening": float(np.abs(area.sum(axis=1) - opening).max(initial=0)),
        "column sums = closing": float(np.abs(area.sum(axis=0) - closing).max(initial=0)),
        "opening + net change = closing": float(np.abs(opening + net - closing).max(initial=0)),
        "net changes sum to zero": abs(float(net.sum())),
    }
    broken = [f"{name} (off by {gap:g} ha)" for name, gap in checks.items() if gap > tol]
    if broken:
        raise AccountingIdentityError("extent account: " + "; ".join(broken))
