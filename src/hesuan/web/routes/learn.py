"""Learn: each method's worked example from the user guide as a guided page.

The inputs, a button that runs the example in place through the Python API, and the engine's own
intermediate values explained step by step with the equation and the clause behind them.
"""

from __future__ import annotations

import tempfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from hesuan.examples import path as example_path
from hesuan.web.i18n import _
from hesuan.web.render import fragment, page

router = APIRouter(prefix="/learn")

CASE_A = {"shipment_id": ["S"], "leg_id": ["1"], "mode": ["road"], "mass_t": [10.0],
          "distance_km": [50.0], "intensity_wtw_g_per_tkm": [143.0],
          "intensity_basis": ["actual"]}
"""CLECAT/UBA practical guide to ISO 14083 (2024), Case A: 10 t over 50 km (SFD) by road at
143 g CO2e per actual t·km (docs/transport.md, "Intensity basis")."""


@router.get("", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """Show the Learn index."""
    return page(request, "learn/index.html", title=_("Learn"))


@router.get("/transport", response_class=HTMLResponse)
def transport(request: Request) -> Response:
    """Show the Learn page on transport emissions."""
    return page(request, "learn/transport.html", title=_("Learn: transport emissions"),
                inputs=CASE_A)


def _case_a() -> dict[str, Any]:
    import polars as pl

    from hesuan.transport import calculate

    leg = calculate(pl.DataFrame(CASE_A)).legs_frame().row(0, named=True)
    return dict(leg)


@router.post("/transport/run", response_class=HTMLResponse)
async def transport_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the transport example leg."""
    leg = await run_in_threadpool(_case_a)
    return HTMLResponse(fragment("learn/_transport_steps.html", leg=leg))


@router.get("/land", response_class=HTMLResponse)
def land(request: Request) -> Response:
    """Show the Learn page on land carbon, with the example pools table."""
    import polars as pl

    pools = pl.read_csv(example_path("land", "pools.csv"))
    return page(request, "learn/land.html", title=_("Learn: land carbon"), pools=pools)


def _land() -> dict[str, Any]:
    import polars as pl

    from hesuan.land.carbon import run

    with tempfile.TemporaryDirectory(prefix="hesuan-learn-") as out:
        result = run(example_path("land", "lulc_2020.tif"), example_path("land", "pools.csv"),
                     out, alt=example_path("land", "lulc_2030.tif"), write_rasters=False,
                     mc_samples=0)
        classes = pl.read_csv(result.paths["classes"])
    return {"classes": classes, "pixel_area_ha": result.pixel_area_ha,
            "storage_base_t_c": result.storage_base_t_c,
            "storage_alt_t_c": result.storage_alt_t_c,
            "sequestration_t_c": result.sequestration_t_c,
            "sequestration_t_co2e": result.sequestration_t_co2e}


@router.post("/land/run", response_class=HTMLResponse)
async def land_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the land example."""
    result = await run_in_threadpool(_land)
    return HTMLResponse(fragment("learn/_land_steps.html", **result))


@router.get("/ipcc", response_class=HTMLResponse)
def ipcc(request: Request) -> Response:
    """Show the Learn page on IPCC Tier 1 soil carbon, with the example strata."""
    import polars as pl

    strata = pl.read_csv(example_path("land", "ipcc", "soc_strata.csv"))
    return page(request, "learn/ipcc.html", title=_("Learn: IPCC Tier 1 soil carbon"),
                strata=strata)


def _ipcc() -> list[dict[str, Any]]:
    from hesuan.land.ipcc.tables import soc_change

    frame = soc_change(example_path("land", "ipcc", "soc_strata.csv"), "2006")
    return list(frame.iter_rows(named=True))


@router.post("/ipcc/run", response_class=HTMLResponse)
async def ipcc_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the IPCC soil-carbon example (2006 defaults)."""
    strata = await run_in_threadpool(_ipcc)
    return HTMLResponse(fragment("learn/_ipcc_steps.html", strata=strata))


@router.get("/gep", response_class=HTMLResponse)
def gep(request: Request) -> Response:
    """Show the Learn page on Gross Ecosystem Product, with the example county's tables."""
    import polars as pl

    def table(name: str) -> pl.DataFrame:
        return pl.read_csv(example_path("gep", f"{name}.csv"))

    return page(request, "learn/gep.html", title=_("Learn: Gross Ecosystem Product (GEP)"),
                types=table("types"), price_index=table("price_index"), gdp=table("gdp"))


def _gep() -> dict[str, Any]:
    import polars as pl

    from hesuan.land.gep.raster import ClimateParameters
    from hesuan.land.gep.run import run
    from hesuan.web.land_analyses import GEP_EDITION, gep_example

    files = gep_example()
    with tempfile.TemporaryDirectory(prefix="hesuan-learn-") as out:
        result = run(GEP_EDITION, out, quantities=files["quantities"], layers=files["layers"],
                     types=files["types"], whole_map="county",
                     price_index=files["price_index"], gdp=files["gdp"], constant_year=2020,
                     climate=ClimateParameters(ac_days=90, ac_efficiency=3.0,
                                               source="example (illustrative)"),
                     write_maps=False)
    account = result.account
    index = {int(r["year"]): float(r["index"])
             for r in pl.read_csv(files["price_index"]).iter_rows(named=True)}
    forest = [r for r in account.rows if r.year == 2020 and r.ecosystem_type == "forest"
              and r.category == "regulating" and "layers.csv" in r.source]
    return {"account": account, "forest": forest, "index": index, "year": 2020}


@router.post("/gep/run", response_class=HTMLResponse)
async def gep_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the GEP example county."""
    from hesuan.web.land_analyses import CATEGORIES

    result = await run_in_threadpool(_gep)
    categories = {key: _(label) for key, label in CATEGORIES.items()}
    return HTMLResponse(fragment("learn/_gep_steps.html", categories=categories, **result))


@router.get("/seea", response_class=HTMLResponse)
def seea(request: Request) -> Response:
    """Show the Learn page on the SEEA extent account, with the example's types and pairs."""
    import polars as pl

    from hesuan.web.land_analyses import SEEA_EXAMPLE_MANAGED

    types = pl.read_csv(example_path("gep", "types.csv")).select("code", "ecosystem_type")
    return page(request, "learn/seea.html", title=_("Learn: SEEA extent account"),
                types=types, managed=SEEA_EXAMPLE_MANAGED)


def _seea() -> dict[str, Any]:
    from hesuan.land.gep.raster import read_type_table
    from hesuan.land.seea import change_matrix_from_rasters, extent_account
    from hesuan.web.land_analyses import SEEA_EXAMPLE_MANAGED, seea_example

    files = seea_example()
    table = read_type_table(files["types"], ())
    matrix = change_matrix_from_rasters(files["opening"], files["closing"], list(table.codes),
                                        list(table.names))
    account = extent_account(matrix, SEEA_EXAMPLE_MANAGED)
    return {"matrix": matrix, "account": account, "managed": SEEA_EXAMPLE_MANAGED,
            "total_ha": float(matrix.area_ha.sum())}


@router.post("/seea/run", response_class=HTMLResponse)
async def seea_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the SEEA extent example."""
    from hesuan.web.land_analyses import EXTENT_ROWS

    result = await run_in_threadpool(_seea)
    rows = [(_(EXTENT_ROWS[name]), values) for name, values in result["account"].rows()]
    return HTMLResponse(fragment("learn/_seea_steps.html", rows=rows, **result))


@router.get("/habitat", response_class=HTMLResponse)
def habitat(request: Request) -> Response:
    """Show the Learn page on habitat quality, with the example's threats and sensitivity."""
    import io

    import polars as pl

    from hesuan.web.land_analyses import (
        HABITAT_HALF_SATURATION,
        HABITAT_SENSITIVITY,
        HABITAT_THREATS,
    )

    sensitivity = pl.read_csv(io.StringIO(HABITAT_SENSITIVITY))
    return page(request, "learn/habitat.html", title=_("Learn: habitat quality"),
                threats=HABITAT_THREATS, sensitivity=sensitivity,
                half_saturation=HABITAT_HALF_SATURATION)


def _habitat() -> dict[str, Any]:
    from pathlib import Path

    from hesuan.land.habitat import run
    from hesuan.land.habitat.condition import condition_variables
    from hesuan.land.seea import condition_indices
    from hesuan.web.land_analyses import habitat_example

    with tempfile.TemporaryDirectory(prefix="hesuan-learn-") as tmp:
        folder = Path(tmp)
        files = habitat_example(folder)
        k = float(files["half_saturation"])
        runs = {key: run(files[key], files[f"threats_{key}"], files["sensitivity"],
                         folder / "out" / key, half_saturation=k).summary
                for key in ("lulc", "alt")}
    indices = condition_indices(condition_variables(runs["lulc"], runs["alt"]))
    return {"opening": runs["lulc"], "closing": runs["alt"], "indices": indices}


@router.post("/habitat/run", response_class=HTMLResponse)
async def habitat_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the habitat-quality example, with its condition account."""
    result = await run_in_threadpool(_habitat)
    return HTMLResponse(fragment("learn/_habitat_steps.html", **result))


@router.get("/quantification", response_class=HTMLResponse)
def quantification(request: Request) -> Response:
    """Show the Learn page on sink-to-credit quantification, with the example's project."""
    import polars as pl

    strata = pl.read_csv(example_path("quantification", "strata.csv"))
    project = example_path("quantification", "project.toml").read_text("utf-8")
    return page(request, "learn/quantification.html",
                title=_("Learn: from a planted forest to creditable units"), strata=strata,
                project=project)


def _quantification() -> list[Any]:
    from hesuan.quantification import quantify

    return list(quantify(example_path("quantification", "project.toml")))


@router.post("/quantification/run", response_class=HTMLResponse)
async def quantification_run(request: Request) -> HTMLResponse:
    """Return every step of the example's quantification reports, one per monitoring period."""
    reports = await run_in_threadpool(_quantification)
    return HTMLResponse(fragment("learn/_quantification_steps.html", reports=reports))
