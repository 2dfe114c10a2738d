"""Generate the habitat-quality parity case and run InVEST's habitat_quality on it.

Two steps: ``python make_case.py inputs <dir>`` (any interpreter with rasterio) writes the
inputs; ``python make_case.py invest <dir>`` (an interpreter with natcap.invest, which
brings GDAL; InVEST is the peer, not a dependency of hesuan) runs the model on them.
It writes the inputs (lulc.tif, threat_roads.tif, threat_urban.tif, threats.csv,
sensitivity.csv, threats_invest.csv) and copies InVEST's deg_sum_c.tif and quality_c.tif.
"""

import shutil
import sys
import tempfile
from pathlib import Path

N, PX = 200, 30.0
HALF_SATURATION = 0.4  # about half the largest D_xj of the case, as the user guide advises


def make_inputs(out: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    PROFILE = {"driver": "GTiff", "width": N, "height": N, "count": 1, "crs": "EPSG:32650",
               "transform": from_origin(500000.0, 3400000.0, PX, PX), "compress": "deflate"}
    rng = np.random.default_rng(20261204)
    # 4 classes in smooth patches: 1 forest, 2 grassland, 3 cropland, 4 urban; 255 nodata.
    noise = rng.random((N // 10, N // 10))
    field = np.kron(noise, np.ones((10, 10)))
    lulc = np.digitize(field, [0.35, 0.6, 0.85]).astype(np.uint8) + 1
    lulc[:3, :3] = 255
    with rasterio.open(out / "lulc.tif", "w", dtype="uint8", nodata=255, **PROFILE) as ds:
        ds.write(lulc, 1)
    roads = np.zeros((N, N), np.float32)
    roads[:, 120] = 1.0
    roads[60, :] = 0.5
    urban = (lulc == 4).astype(np.float32)
    urban[150:160, 20:40] = 0.8
    for name, arr in (("threat_roads", roads), ("threat_urban", urban)):
        with rasterio.open(out / f"{name}.tif", "w", dtype="float32", nodata=-1.0,
                           **PROFILE) as ds:
            ds.write(arr, 1)
    (out / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\n"
        "roads,1.2,0.7,linear,threat_roads.tif\n"
        "urban,2.5,1.0,exponential,threat_urban.tif\n")
    (out / "threats_invest.csv").write_text(
        "threat,max_dist,weight,decay,cur_path\n"
        "roads,1200,0.7,linear,threat_roads.tif\n"
        "urban,2500,1.0,exponential,threat_urban.tif\n")
    (out / "sensitivity.csv").write_text(
        "lucode,name,habitat,roads,urban\n"
        "1,forest,1.0,0.8,0.9\n"
        "2,grassland,0.7,0.5,0.6\n"
        "3,cropland,0.3,0.3,0.4\n"
        "4,urban,0.0,0.0,0.0\n")


def run_invest(out: Path) -> str:
    import natcap.invest
    from natcap.invest.habitat_quality import habitat_quality
    from osgeo import gdal

    with tempfile.TemporaryDirectory() as ws:
        habitat_quality.execute({
            "workspace_dir": ws, "results_suffix": "", "n_workers": -1,
            "lulc_cur_path": str(out / "lulc.tif"),
            "threats_table_path": str(out / "threats_invest.csv"),
            "sensitivity_table_path": str(out / "sensitivity.csv"),
            "half_saturation_constant": HALF_SATURATION,
        })
        for name in ("deg_sum_c.tif", "quality_c.tif"):
            gdal.Translate(str(out / f"invest_{name}"), str(Path(ws) / name),
                           creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=3"])
    return natcap.invest.__version__


if __name__ == "__main__":
    step, target = sys.argv[1], Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    if step == "inputs":
        make_inputs(target)
    else:
        print("natcap.invest", run_invest(target))
    shutil.rmtree(target / "__pycache__", ignore_errors=True)
