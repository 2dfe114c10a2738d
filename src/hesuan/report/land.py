"""HTML report and region map of a land-carbon run (:class:`hesuan.land.carbon.CarbonResult`).

Quicklooks are read from the output rasters at reduced resolution (GDAL overview-style
decimated reads), so a report of a 10⁸-pixel run costs a few megabytes of memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio

import hesuan
from hesuan.land.carbon import CarbonResult, region_rows
from hesuan.land.spec import NODATA_F32, POOLS
from hesuan.report._html import figure_to_data_uri, fmt, matplotlib_headless, render

_QUICKLOOK_PX = 500


def _quicklook(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        scale = max(1.0, max(ds.width, ds.height) / _QUICKLOOK_PX)
        shape = (max(1, int(ds.height / scale)), max(1, int(ds.width / scale)))
        data = ds.read(1, out_shape=shape, resampling=rasterio.enums.Resampling.nearest)
    # NaN only for display: matplotlib leaves NaN cells blank.
    return np.where(data == np.float32(NODATA_F32), np.nan, data.astype(np.float64))


def _map_figure(path: Path, title: str, cmap: str, diverging: bool = False) -> str:
    import matplotlib.pyplot as plt

    data = _quicklook(path)
    fig, ax = plt.subplots(figsize=(5.2, 4))
    kwargs: dict[str, Any] = {"cmap": cmap, "interpolation": "nearest"}
    if diverging:
        lim = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
        kwargs.update(vmin=-lim or -1, vmax=lim or 1)
    im = ax.imshow(data, **kwargs)
    fig.colorbar(im, ax=ax, label="t C/ha")
    ax.set_title(title)
    ax.set_axis_off()
    return figure_to_data_uri(fig)


def _pool_chart(result: CarbonResult) -> str:
    import matplotlib.pyplot as plt

    pools = result.accounts.storage_by_pool
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(POOLS))
    width = 0.8 / len(pools)
    for i, (scenario, values) in enumerate(pools.items()):
        ax.bar(x + i * width, values, width, label=scenario)
    ax.set_xticks(x + width * (len(pools) - 1) / 2, POOLS)
    ax.set_ylabel("t C")
    ax.legend()
    ax.set_title("Storage by pool")
    return figure_to_data_uri(fig)


def _share_chart(result: CarbonResult) -> str | None:
    import matplotlib.pyplot as plt

    shares = result.accounts.variance_share
    if not shares:
        return None
    names = [f"{c} {n}" for c, n in zip(result.pools.codes, result.pools.names, strict=True)]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1.2))
    y = np.arange(len(names))
    h = 0.8 / len(shares)
    for i, (q, share) in enumerate(shares.items()):
        ax.barh(y + i * h, 100 * share, h, label=q)
    ax.set_yticks(y + h * (len(shares) - 1) / 2, names)
    ax.set_xlabel("% of variance (IPCC Approach 1)")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_title("Which classes drive the uncertainty")
    return figure_to_data_uri(fig)


def region_map(result: CarbonResult, path: Path) -> Path | None:
    """Choropleth PNG of sequestration (or storage) per region; returns its path."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon as MplPolygon

    reg = result.regions
    if reg is None:
        return None
    q = result.accounts.quantities
    name = "sequestration_t_c" if "sequestration_t_c" in q else "storage_base_t_c"
    values = q[name][1:]
    patches, colours = [], []
    for geom, value in zip(reg.geometries, values, strict=True):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            patches.append(MplPolygon(np.asarray(poly.exterior.coords)[:, :2], closed=True))
            colours.append(value)
    fig, ax = plt.subplots(figsize=(6, 5))
    coll = PatchCollection(patches, cmap="RdYlGn", edgecolor="k", linewidth=0.5)
    coll.set_array(np.asarray(colours))
    if name == "sequestration_t_c":
        lim = float(np.abs(values).max()) or 1.0
        coll.set_clim(-lim, lim)
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(axis="x", labelrotation=35)
    ax.set_xlabel("x [CRS units]")
    ax.set_ylabel("y [CRS units]")
    for rid, geom, value in zip(reg.ids, reg.geometries, values, strict=True):
        p = geom.representative_point()
        ax.annotate(f"{rid}\n{fmt(float(value), 3)}", (p.x, p.y), ha="center", fontsize=8)
    fig.colorbar(coll, ax=ax, label=f"{name.replace('_t_c', '')} [t C]")
    ax.set_title(f"{name.replace('_t_c', '').replace('_', ' ')} by region")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return path


def write_report(result: CarbonResult, out_dir: Path | None = None) -> list[Path]:
    """Write ``report.html`` (and ``regions_map.png`` with regions); return the paths.

    While the run's outputs are not yet published (``run(..., publish=False)``) the report
    joins them (:meth:`CarbonResult.add_output`) and is published with them; otherwise it is
    written into ``out_dir`` (default: the run's folder).
    """
    matplotlib_headless()
    out = Path(out_dir or result.out_dir)
    staged = result.outputs is not None and out_dir is None

    def target(key: str, name: str, fmt: str) -> Path:
        return result.add_output(key, name, fmt) if staged else out / name

    s = result.summary
    paths: list[Path] = []
    maps = []
    for key, title, cmap, div in (("c_storage_bas", "Storage, baseline", "YlGn", False),
                                  ("c_storage_alt", "Storage, alternate", "YlGn", False),
                                  ("c_change_bas_alt", "Sequestration (alt − base)", "RdYlGn",
                                   True)):
        source = result.views.get(key) or result.paths.get(key)
        if source is not None:
            maps.append({"title": title, "uri": _map_figure(source, title, cmap, div)})
    rows = []
    a1s = s.uncertainty.approach1 if s.uncertainty is not None else {}
    a2s = s.uncertainty.approach2 if s.uncertainty is not None else {}
    for key, label in (("storage_base_t_c", "Storage, baseline [t C]"),
                       ("storage_alt_t_c", "Storage, alternate [t C]"),
                       ("sequestration_t_c", "Sequestration [t C]"),
                       ("sequestration_t_co2e", "Sequestration [t CO2e]"),
                       ("gains_t_c", "Gains [t C]"), ("losses_t_c", "Losses [t C]"),
                       ("npv", "Net present value [currency]")):
        value = getattr(s, key)
        if value is None:
            continue
        a1, a2 = a1s.get(key), a2s.get(key)
        rows.append({"label": label, "value": value,
                     "a1": None if a1 is None else (a1.ci95_low, a1.ci95_high),
                     "a2": None if a2 is None else (a2.ci95_low, a2.ci95_high)})
    region_table = None
    if result.regions is not None:
        map_path = region_map(result, target("regions_map", "regions_map.png", "png"))
        if map_path is not None:
            paths.append(map_path)
        header, body = region_rows(result.accounts, result.regions)
        keep = [i for i, h in enumerate(header)
                if h in ("region", "storage_base_t_c", "storage_alt_t_c", "sequestration_t_c",
                         "sequestration_t_c_ci95_low", "sequestration_t_c_ci95_high", "npv")]
        region_table = {"header": [header[i] for i in keep],
                        "rows": [[r[i] for i in keep] for r in body],
                        "map": None if map_path is None else "regions_map.png"}
    report = render(
        "land_report.html", target("report", "report.html", "html"), s=s, rows=rows, maps=maps,
        pool_chart=_pool_chart(result), share_chart=_share_chart(result),
        regions=region_table, hesuan_version=hesuan.__version__,
        classes=[{"code": int(c), "name": n, "density": float(d)} for c, n, d in
                 zip(result.pools.codes, result.pools.names, result.pools.total_t_c_per_ha,
                     strict=True)])
    paths.insert(0, report)
    return [result.paths.get(k, p) for k, p in zip(("report", "regions_map"), paths,
                                                   strict=False)]
