"""Land-use change from two LULC rasters: the transition matrix and its stock-difference emissions.

The rasters are read block by block (rasterio windows); each block's class pairs are coded
``from × K + to`` and counted with one ``np.bincount``, so memory is bounded by the block
size plus the K × K matrix, whatever the raster size.

References
----------
IPCC 2006 Vol. 4 Ch. 2, Section 2.3.1.2 and Eq. 2.8 (stock difference) and Ch. 3 (land-use
change matrices, Approach 2/3). For conversions the IPCC Tier 1 books the stock change per
area (B_AFTER − B_BEFORE, Eq. 2.16, within Eq. 2.15) in the year of conversion (as Vol. 4
Ch. 5, Section 5.3.1.4, Steps 5-7 apply it); here the same per-area change is annualised over
the period between the two maps instead, because the maps do not say in which year each pixel
changed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.errors import InputError
from hesuan.io.provenance import Provenance
from hesuan.land.ipcc.equations import (
    DEFAULT_SOC_TRANSITION_YEARS,
    co2_emission_t,
    soc_change_t_c_per_yr,
)
from hesuan.land.ipcc.tables import read_stocks
from hesuan.land.raster import read_window
from hesuan.land.summary import (
    SoilPoolSummary,
    StocksSource,
    TransitionsSummary,
    datasets_used,
    finite,
)

#: Largest class code accepted: the K × K matrix of 1024² int64 counts is 8 MiB.
MAX_CLASS_CODE = 1023
#: Pixels read per window: the window is as many full rows as fit (at least one), so memory
#: stays near BLOCK_PIXELS × 8 bytes per working array whatever the raster's width.
BLOCK_PIXELS = 1 << 21


@dataclass(frozen=True)
class TransitionMatrix:
    """Pixel counts and areas per (from, to) class pair of two co-registered maps."""

    classes: tuple[int, ...]
    counts: NDArray[np.int64]
    pixel_area_ha: float
    nodata_pixels: int
    crs: str
    sha256_from: str
    sha256_to: str

    @property
    def area_ha(self) -> NDArray[np.float64]:
        """[ha] area per (from, to) pair, rows = from classes, columns = to classes."""
        return self.counts.astype(np.float64) * self.pixel_area_ha


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_checked(path: Path, field: str) -> rasterio.io.DatasetReader:
    if not path.is_file():
        raise InputError.single("file not found", file=str(path), field=field,
                                expected="a single-band integer GeoTIFF land-use map")
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError.single(f"cannot read raster ({exc})", file=str(path), field=field,
                                expected="a GeoTIFF") from None
    if src.count != 1 or not np.issubdtype(np.dtype(src.dtypes[0]), np.integer):
        src.close()
        raise InputError.single(f"has {src.count} band(s) of type {src.dtypes[0]}",
                                file=str(path), field=field,
                                expected="one band of integer class codes")
    if src.crs is None or not src.crs.is_projected:
        src.close()
        raise InputError.single("CRS is missing or geographic (degrees)", file=str(path),
                                field=field, expected="a projected CRS in metres, so pixel "
                                "areas are known")
    return src


def transition_matrix(
    from_path: str | Path,
    to_path: str | Path,
    classes: tuple[int, ...],
    *,
    block_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TransitionMatrix:
    """Count pixels per (from, to) class pair of two co-registered LULC rasters.

    Parameters
    ----------
    from_path, to_path : GeoTIFFs, one band of integer class codes, same CRS (projected),
        same grid. Pixels that are nodata in either map are not counted (their number is
        reported).
    classes : the legend (class codes, each in 0 … 1023); a pixel with another code is an
        error naming the codes found.
    block_rows : pixel rows read per window (default: as many as hold ``BLOCK_PIXELS``).
    progress : called with (rows done, rows total) after each window.

    Returns
    -------
    TransitionMatrix, with areas in [ha] from the pixel size in the CRS's linear unit.
    """
    from_path, to_path = Path(from_path), Path(to_path)
    if not classes or min(classes) < 0 or max(classes) > MAX_CLASS_CODE:
        raise InputError.single("class codes must be integers in 0 … 1023", field="class",
                                expected=f"codes in 0 … {MAX_CLASS_CODE}")
    k = max(classes) + 1
    known = np.zeros(k, dtype=bool)
    known[list(classes)] = True
    counts = np.zeros(k * k, dtype=np.int64)
    nodata_pixels = 0
    with _open_checked(from_path, "--from") as a, _open_checked(to_path, "--to") as b:
        if (a.width, a.height) != (b.width, b.height) or a.transform != b.transform:
            raise InputError.single(
                f"grid {b.width}×{b.height} {tuple(b.transform)[:6]} differs from --from "
                f"{a.width}×{a.height} {tuple(a.transform)[:6]}", file=str(to_path),
                field="--to", expected="the same size, origin and pixel size as --from")
        if a.crs != b.crs:
            raise InputError.single(f"CRS {b.crs} differs from --from CRS {a.crs}",
                                    file=str(to_path), field="--to",
                                    expected="the same CRS as --from")
        unit = a.crs.linear_units_factor[1]
        pixel_area_ha = abs(a.transform.a * a.transform.e - a.transform.b * a.transform.d) * (
            unit * unit) / 10_000.0
        step = block_rows or max(1, BLOCK_PIXELS // a.width)
        for row in range(0, a.height, step):
            window = Window(0, row, a.width, min(step, a.height - row))
            fa = read_window(a, str(from_path), window, "--from").ravel()
            fb = read_window(b, str(to_path), window, "--to").ravel()
            valid = np.ones(fa.shape, dtype=bool)
            if a.nodata is not None:
                valid &= fa != a.nodata
            if b.nodata is not None:
                valid &= fb != b.nodata
            nodata_pixels += int(valid.size - np.count_nonzero(valid))
            if not valid.all():
                fa, fb = fa[valid], fb[valid]
            fa, fb = fa.astype(np.int32), fb.astype(np.int32)  # k*k <= 2**20 fits int32
            for codes, src, field in ((fa, from_path, "--from"), (fb, to_path, "--to")):
                if codes.size and (codes.min() < 0 or codes.max() >= k
                                   or not known[codes].all()):
                    found = np.unique(codes)
                    found = found[(found < 0) | (found >= k)
                                  | ~known[np.clip(found, 0, k - 1)]][:10].tolist()
                    raise InputError.single(
                        f"class code(s) {found} are not in the stocks table", file=str(src),
                        field=field, expected=f"codes of the stocks table: {list(classes)}")
            counts += np.bincount(fa * k + fb, minlength=k * k)
            if progress is not None:
                progress(min(row + step, a.height), a.height)
        crs = a.crs.to_string()
    index = np.array(classes)
    square = counts.reshape(k, k)[np.ix_(index, index)]
    return TransitionMatrix(tuple(classes), square, pixel_area_ha, nodata_pixels, crs,
                            _sha256(from_path), _sha256(to_path))


@dataclass(frozen=True)
class TransitionEmissions:
    """Stock-difference carbon change and CO2 per (from, to) pair, annualised.

    ``carbon_*`` is the class stock the user gave (biomass, dead organic matter and, unless a
    separate soil pool is given, soil), annualised over the period between the maps.
    ``soc_*`` is the optional IPCC Tier 1 mineral-soil pool, annualised over max(D, T).
    """

    from_class: NDArray[np.int64]
    to_class: NDArray[np.int64]
    area_ha: NDArray[np.float64]
    stock_from_t_c_per_ha: NDArray[np.float64]
    stock_to_t_c_per_ha: NDArray[np.float64]
    carbon_change_t_c: NDArray[np.float64]
    carbon_change_t_c_per_yr: NDArray[np.float64]
    soc_from_t_c_per_ha: NDArray[np.float64]
    soc_to_t_c_per_ha: NDArray[np.float64]
    soc_change_t_c: NDArray[np.float64]
    soc_change_t_c_per_yr: NDArray[np.float64]
    co2_t_per_yr: NDArray[np.float64]


def transition_emissions(
    matrix: TransitionMatrix,
    stocks_t_c_per_ha: Mapping[int, float],
    years: float,
    *,
    soc_t_c_per_ha: Mapping[int, float] | None = None,
    transition_years: float = DEFAULT_SOC_TRANSITION_YEARS,
) -> TransitionEmissions:
    """Carbon change per transition: ``ΔC = A × (C_to − C_from)``, annualised.

    Parameters
    ----------
    matrix : from :func:`transition_matrix`
    stocks_t_c_per_ha : [t C / ha] carbon stock of each class; its change is annualised over
        ``years`` (Tier 1: the stock changes in the conversion, reported over the period)
    years : [yr] time between the two maps (> 0)
    soc_t_c_per_ha : [t C / ha] optional mineral-soil stock of each class (e.g. SOC_REF × F_LU
        × F_MG × F_I); its change is spread over ``max(transition_years, years)`` as Eq. 2.25
        does, so part of it falls after the period (not reported here)
    transition_years : [yr] D, default 20

    Returns
    -------
    One entry per pair with a non-zero area, including unchanged classes (ΔC = 0).
    CO2 [t CO2 / yr] = −(ΔC + ΔSOC) × 44/12: positive for an emission, negative for a removal.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8 (stock difference), Eq. 2.25 (soil, D = 20 yr) and
    Section 2.2.3 (× 44/12).
    """
    if years <= 0:
        raise InputError.single(f"period of {years} years", field="--years",
                                expected="a second year later than the first")
    rows, cols = np.nonzero(matrix.counts)
    classes = np.array(matrix.classes, dtype=np.int64)
    stock = np.array([stocks_t_c_per_ha[c] for c in matrix.classes], dtype=np.float64)
    soc = np.array([(soc_t_c_per_ha or {}).get(c, 0.0) for c in matrix.classes],
                   dtype=np.float64)
    area = matrix.area_ha[rows, cols]
    change = area * (stock[cols] - stock[rows])
    per_year = change / years
    soc_change = area * (soc[cols] - soc[rows])
    soc_per_year = soc_change_t_c_per_yr(soc_change, np.zeros_like(soc_change),
                                         np.full_like(soc_change, years), transition_years)
    return TransitionEmissions(classes[rows], classes[cols], area, stock[rows], stock[cols],
                               change, per_year, soc[rows], soc[cols], soc_change,
                               soc_per_year, co2_emission_t(per_year + soc_per_year))


@dataclass(frozen=True)
class TransitionAnalysis:
    """Everything ``hesuan land ipcc transitions`` reports.

    As :func:`analyse_transitions` computes it; writing it out is the caller's job.
    """

    matrix: TransitionMatrix
    emissions: TransitionEmissions
    names: dict[int, str]
    matrix_frame: pl.DataFrame
    """[ha] one row per first-map class, one ``to_<class>`` column per second-map class."""
    emissions_frame: pl.DataFrame
    """One row per (from, to) pair with a non-zero area: areas, stocks, changes, CO2."""
    summary: TransitionsSummary
    """Totals and provenance (method, inputs' SHA-256, soil-pool edition and sources)."""


def analyse_transitions(
    from_path: str | Path,
    to_path: str | Path,
    stocks_path: str | Path,
    years: tuple[int, int],
    *,
    edition: str | None = None,
    climate_zone: str | None = None,
    soil_type: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TransitionAnalysis:
    """Transition matrix, stock-difference emissions per transition, and their summary.

    Parameters
    ----------
    from_path, to_path : the two LULC GeoTIFFs (see :func:`transition_matrix`)
    stocks_path : class → carbon stock table (see :func:`hesuan.land.ipcc.tables.read_stocks`),
        optionally with an IPCC Tier 1 mineral-soil pool, which then needs ``edition``,
        ``climate_zone`` and ``soil_type``
    years : the years of the two maps; the period ``years[1] − years[0]`` [yr] must be > 0
    progress : called with (rows done, rows total) while the maps are read

    Returns
    -------
    :class:`TransitionAnalysis`. Totals in the summary: areas [ha], carbon change [t C] and
    [t C / yr], soil change [t C / yr], CO2 [t CO2 / yr] (positive = emission).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8 (stock difference), Eq. 2.25 (soil, D = 20 yr) and
    Section 2.2.3 (× 44/12); Ch. 3 (land-use change matrices).
    """
    t0 = time.perf_counter()
    if years[1] <= years[0]:
        raise InputError.single(f"years {years[0]} {years[1]}", field="years",
                                expected="the second year later than the first")
    table = read_stocks(stocks_path, edition=edition, climate_zone=climate_zone,
                        soil_type=soil_type)
    stocks, names = table.carbon_t_c_per_ha, table.names
    classes = tuple(sorted(stocks))
    matrix = transition_matrix(from_path, to_path, classes, progress=progress)
    em = transition_emissions(matrix, stocks, float(years[1] - years[0]),
                              soc_t_c_per_ha=table.soc_t_c_per_ha)
    area = matrix.area_ha
    matrix_frame = pl.DataFrame({"from_class": list(classes),
                                 "from_name": [names[c] for c in classes]})
    matrix_frame = matrix_frame.with_columns(
        [pl.Series(f"to_{c}", area[:, j]) for j, c in enumerate(classes)])
    emissions = pl.DataFrame({
        "from_class": em.from_class, "from_name": [names[int(c)] for c in em.from_class],
        "to_class": em.to_class, "to_name": [names[int(c)] for c in em.to_class],
        "area_ha": em.area_ha, "stock_from_t_c_per_ha": em.stock_from_t_c_per_ha,
        "stock_to_t_c_per_ha": em.stock_to_t_c_per_ha, "carbon_change_t_c": em.carbon_change_t_c,
        "carbon_change_t_c_per_yr": em.carbon_change_t_c_per_yr,
        "soc_from_t_c_per_ha": em.soc_from_t_c_per_ha, "soc_to_t_c_per_ha": em.soc_to_t_c_per_ha,
        "soc_change_t_c": em.soc_change_t_c, "soc_change_t_c_per_yr": em.soc_change_t_c_per_yr,
        "co2_t_per_yr": em.co2_t_per_yr,
    })
    changed = em.from_class != em.to_class
    method = ("IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8 stock difference per transition, annualised; "
              "CO2 = -dC x 44/12")
    soil = None
    keys: list[str] = []
    if table.soc_t_c_per_ha is not None:
        sources = {str(k): v for k, v in (table.soc_sources or {}).items()}
        soil = SoilPoolSummary(
            method="IPCC Tier 1 mineral soil, Eq. 2.25: SOC_REF x F_LU x F_MG x F_I, change "
                   "spread over max(20 yr, period)",
            edition=edition, climate_zone=climate_zone, soil_type=soil_type,
            t_c_per_ha={str(k): v for k, v in table.soc_t_c_per_ha.items()}, sources=sources)
        keys = [part.split(":", 1)[0] for v in sources.values() for part in v.split("; ")
                if "@" in part and ":" in part]
    totals: dict[str, Any] = {
        "total_area_ha": float(area.sum()), "changed_area_ha": float(em.area_ha[changed].sum()),
        "carbon_change_t_c": float(em.carbon_change_t_c.sum()),
        "carbon_change_t_c_per_yr": float(em.carbon_change_t_c_per_yr.sum()),
        "soc_change_t_c_per_yr": float(em.soc_change_t_c_per_yr.sum()),
        "co2_t_per_yr": float(em.co2_t_per_yr.sum()),
    }
    for key, value in totals.items():
        finite(value, key)
    summary = TransitionsSummary(
        method=method, stocks=StocksSource(source="user table", file=str(stocks_path)),
        soil_pool=soil, years=list(years), pixel_area_ha=matrix.pixel_area_ha,
        crs=matrix.crs, nodata_pixels=matrix.nodata_pixels,
        inputs_sha256={"from": matrix.sha256_from, "to": matrix.sha256_to}, **totals,
        seconds=time.perf_counter() - t0,
        provenance=Provenance.create(
            "land ipcc transitions",
            inputs={"from": from_path, "to": to_path, "stocks": stocks_path},
            parameters={"year_from": years[0], "year_to": years[1], "edition": edition,
                        "climate_zone": climate_zone, "soil_type": soil_type},
            datasets=datasets_used(keys)))
    return TransitionAnalysis(matrix, em, dict(names), matrix_frame, emissions, summary)
