"""Regions (counties, estates, project areas): read polygons, burn them onto the grid.

Pixel-in-polygon rule: a pixel belongs to a region when its **centre** lies inside the
polygon (``rasterio.features.rasterize`` with ``all_touched=False``, GDAL's default
rule). Each pixel belongs to at most one region: where polygons overlap, the one listed
later in the file wins (the overlapping area is reported in summary.json as
``regions_overlap_area``, so a wrong region file does not pass unnoticed). Pixels whose
centre is in no polygon are counted in zone 0, which is not reported as a region.
Polygons in another CRS are reprojected to the raster's CRS (pyproj) before burning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from rasterio import features
from rasterio.transform import Affine
from rasterio.windows import Window

from hesuan.errors import InputError, Problem


@dataclass(frozen=True)
class Regions:
    """Polygons on the raster's CRS; zone ``i + 1`` is ``ids[i]``."""

    path: str
    id_field: str
    ids: tuple[str, ...]
    geometries: tuple[Any, ...]
    reprojected_from: str | None
    overlap_area: float = 0.0  # [CRS unit²] area covered by more than one polygon

    def shapes(self) -> tuple[tuple[Any, int], ...]:
        """``(geometry, zone)`` pairs for rasterization."""
        return tuple((g, i + 1) for i, g in enumerate(self.geometries))


def read_regions(path: str | Path, crs_wkt: str, id_field: str | None = None) -> Regions:
    """Read polygons from a GeoPackage, GeoJSON or Shapefile and bring them to ``crs_wkt``.

    Parameters
    ----------
    path : vector file (first layer)
    crs_wkt : CRS of the LULC raster
    id_field : attribute naming each region; default: the first text field, else the FID

    Raises
    ------
    InputError
        File missing or unreadable, no features, no CRS, unknown ``id_field``, a
        non-polygon or empty geometry (naming its feature number), duplicated ids.
    """
    file = str(path)
    if not Path(path).exists():
        raise InputError.single("file not found", file=file, field="regions_path",
                                expected="a GeoPackage, GeoJSON or Shapefile of polygons")
    import pyogrio.raw  # imports pandas: only when regions are used

    try:
        meta, fids, wkb, data = pyogrio.raw.read(path, return_fids=True)
    except Exception as exc:  # pyogrio raises several DataSource/Field error types
        raise InputError.single(f"cannot read as a vector file ({exc})", file=file,
                                field="regions_path",
                                expected="a GeoPackage, GeoJSON or Shapefile") from None
    if wkb is None or len(wkb) == 0:
        raise InputError.single("has no features", file=file, field="regions_path",
                                expected="one polygon per region")
    if not meta.get("crs"):
        raise InputError.single("has no CRS", file=file, field="regions_path",
                                expected="polygons with a defined CRS")
    fields = list(meta["fields"])
    if id_field is not None and id_field not in fields:
        raise InputError.single(f"no attribute {id_field!r}", file=file, field=id_field,
                                expected="one of " + (", ".join(fields) or "(no attributes)"))
    if id_field is None:
        text = [f for f, dt in zip(fields, meta.get("dtypes", []), strict=False)
                if str(dt) in ("object", "str") or str(dt).startswith("<U")]
        id_field = text[0] if text else "fid"
    ids = ([str(v) for v in data[fields.index(id_field)]] if id_field in fields
           else [str(int(f)) for f in fids])
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    problems = []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            problems.append(Problem("empty geometry", file, i + 1, "geometry",
                                    "a polygon (feature number counts from 1)"))
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(f"is a {g.geom_type}", file, i + 1, "geometry",
                                    "Polygon or MultiPolygon (feature number counts from 1)"))
    seen: dict[str, int] = {}
    for i, name in enumerate(ids):
        if name in seen:
            problems.append(Problem(f"region id {name!r} repeats feature {seen[name]}", file,
                                    i + 1, id_field, "unique region ids"))
        seen.setdefault(name, i + 1)
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the regions")
    src = pyproj.CRS.from_user_input(meta["crs"])
    dst = pyproj.CRS.from_wkt(crs_wkt)
    reprojected = None
    if not src.equals(dst, ignore_axis_order=True):
        tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                                 xy[:, 1])))
        reprojected = src.to_string()
    geoms = shapely.make_valid(geoms)
    overlap = float(shapely.area(geoms).sum() - shapely.union_all(geoms).area)
    return Regions(file, id_field, tuple(ids), tuple(geoms), reprojected,
                   overlap if overlap > 1e-9 * float(shapely.area(geoms).sum()) else 0.0)


def rasterize_window(shapes: tuple[tuple[Any, int], ...], window: Window,
                     transform: tuple[float, ...]) -> NDArray[np.int32]:
    """Zone number of each pixel of ``window`` by the pixel-centre rule (0 = no region)."""
    a, _b, c, _d, e, f = transform[:6]  # north-up (checked by open_grid)
    t = Affine(a, 0.0, c + int(window.col_off) * a, 0.0, e, f + int(window.row_off) * e)
    h, w = int(window.height), int(window.width)
    x0, y0, x1, y1 = t.c, t.f, t.c + w * a, t.f + h * e
    box = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    hits = [(g, z) for g, z in shapes if g.intersects(box)]
    if not hits:
        return np.zeros((h, w), dtype=np.int32)
    zones: NDArray[np.int32] = features.rasterize(hits, out_shape=(h, w), transform=t, fill=0,
                                                 all_touched=False, dtype="int32")
    return zones
