"""Learn: each method's worked example from the user guide as a guided page.

The inputs, a button that runs the example in place through the Python API, and the engine's own
intermediate values explained step by step with the equation and the clause behind them. Where
the user guide prints the example's answer, the page compares the engine's numbers with it at
the printed precision and says whether they agree.

The bundled examples never change within a process: each is computed once (``functools.cache``)
into read-only data, and one example computes at a time, so that these public pages cannot be
used to load the machine.
"""

from __future__ import annotations

import functools
import math
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from hesuan.examples import path as example_path
from hesuan.web.i18n import _
from hesuan.web.render import fragment, page

if TYPE_CHECKING:
    from hesuan.land.gep.accounts import GepAccount
    from hesuan.land.seea import ExtentAccount

router = APIRouter(prefix="/learn")

T = TypeVar("T")


@dataclass(frozen=True)
class Printed:
    """A figure as the user guide prints it.

    ``text`` is the figure as printed (its decimals are its precision), in units of ``scale``
    times the engine's (1e8 for 亿元 against CNY).
    """

    text: str
    scale: float = 1.0

    @property
    def figure(self) -> float:
        """Return the printed figure in the guide's units."""
        return float(self.text)

    @property
    def value(self) -> float:
        """Return the printed figure in the engine's units."""
        return self.figure * self.scale

    @property
    def digits(self) -> int:
        """Return how many decimals the guide prints."""
        return len(self.text.partition(".")[2])

    def agrees(self, computed: float) -> bool:
        """Return whether ``computed`` rounds to this figure at its printed precision."""
        half_unit = 0.5 * 10.0 ** -self.digits * self.scale
        return math.isclose(computed, self.value, rel_tol=0.0, abs_tol=half_unit)


@dataclass(frozen=True)
class GuideCheck:
    """The user guide's printed figures against the engine's numbers, one to one."""

    printed: tuple[Printed, ...]
    computed: tuple[float, ...]

    @property
    def matches(self) -> bool:
        """Return whether every computed number agrees with its printed figure."""
        return len(self.printed) == len(self.computed) and all(
            p.agrees(c) for p, c in zip(self.printed, self.computed, strict=True))


IPCC_PRINTED: Mapping[str, Printed] = MappingProxyType({
    "notill_maize": Printed("455.4"), "paddy_from_native": Printed("78.33"),
    "improved_pasture": Printed("2521.3")})
"""docs/land.md, IPCC Tier 1, "Soil carbon, both editions", 2006 column: the annual soil
carbon change of each stratum [t C/yr]."""

GEP_PRINTED = Printed("69.9310", scale=1e8)
"""docs/gep.md, the worked example's table: GEP 2020 at 2020 prices, 69.9310 亿元 (CNY)."""

SEEA_PRINTED: tuple[tuple[str, Printed, Printed], ...] = (
    ("forest", Printed("10000"), Printed("11879")),
    ("grassland", Printed("6276"), Printed("5323")))
"""docs/seea.md, "Extent account and change matrix", on the bundled county: opening and closing
extent [ha] of the named ecosystem types."""

SEEA_PRINTED_TOTAL = Printed("31976")
"""docs/seea.md, same place: the total extent at both ends [ha]."""

_RUNNING = threading.Lock()


def _one_at_a_time(compute: Callable[[], T]) -> T:
    """Return ``compute()`` (a cached example), one example computing at a time."""
    with _RUNNING:
        return compute()


def _frozen_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    """Return ``rows`` as read-only mappings (what a cached example hands out)."""
    return tuple(MappingProxyType(dict(r)) for r in rows)


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


@functools.cache
def _case_a() -> Mapping[str, Any]:
    import polars as pl

    from hesuan.transport import calculate

    leg = calculate(pl.DataFrame(CASE_A)).legs_frame().row(0, named=True)
    return MappingProxyType(dict(leg))


@router.post("/transport/run", response_class=HTMLResponse)
async def transport_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the transport example leg."""
    leg = await run_in_threadpool(_one_at_a_time, _case_a)
    return HTMLResponse(fragment("learn/_transport_steps.html", leg=leg))


@router.get("/land", response_class=HTMLResponse)
def land(request: Request) -> Response:
    """Show the Learn page on land carbon, with the example pools table."""
    import polars as pl

    pools = pl.read_csv(example_path("land", "pools.csv"))
    return page(request, "learn/land.html", title=_("Learn: land carbon"), pools=pools)


@functools.cache
def _land() -> Mapping[str, Any]:
    import polars as pl

    from hesuan.land.carbon import run

    with tempfile.TemporaryDirectory(prefix="hesuan-learn-") as out:
        result = run(example_path("land", "lulc_2020.tif"), example_path("land", "pools.csv"),
                     out, alt=example_path("land", "lulc_2030.tif"), write_rasters=False,
                     mc_samples=0)
        classes = pl.read_csv(result.paths["classes"])
    return MappingProxyType({
        "classes": _frozen_rows(list(classes.iter_rows(named=True))),
        "pixel_area_ha": result.pixel_area_ha, "storage_base_t_c": result.storage_base_t_c,
        "storage_alt_t_c": result.storage_alt_t_c,
        "sequestration_t_c": result.sequestration_t_c,
        "sequestration_t_co2e": result.sequestration_t_co2e})


@router.post("/land/run", response_class=HTMLResponse)
async def land_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the land example."""
    result = await run_in_threadpool(_one_at_a_time, _land)
    return HTMLResponse(fragment("learn/_land_steps.html", **result))


@router.get("/ipcc", response_class=HTMLResponse)
def ipcc(request: Request) -> Response:
    """Show the Learn page on IPCC Tier 1 soil carbon, with the example strata."""
    import polars as pl

    strata = pl.read_csv(example_path("land", "ipcc", "soc_strata.csv"))
    return page(request, "learn/ipcc.html", title=_("Learn: IPCC Tier 1 soil carbon"),
                strata=strata)


@functools.cache
def _ipcc() -> tuple[Mapping[str, Any], ...]:
    from hesuan.land.ipcc.tables import soc_change

    frame = soc_change(example_path("land", "ipcc", "soc_strata.csv"), "2006")
    return _frozen_rows(list(frame.iter_rows(named=True)))


def ipcc_check(strata: Sequence[Mapping[str, Any]]) -> GuideCheck:
    """Compare each stratum's annual change, by its name, with :data:`IPCC_PRINTED`."""
    change = {s["stratum"]: float(s["change_t_c_per_yr"]) for s in strata}
    return GuideCheck(tuple(IPCC_PRINTED.values()),
                      tuple(change.get(name, math.nan) for name in IPCC_PRINTED))


@router.post("/ipcc/run", response_class=HTMLResponse)
async def ipcc_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the IPCC soil-carbon example (2006 defaults)."""
    strata = await run_in_threadpool(_one_at_a_time, _ipcc)
    return HTMLResponse(fragment("learn/_ipcc_steps.html", strata=strata,
                                 check=ipcc_check(strata)))


@router.get("/gep", response_class=HTMLResponse)
def gep(request: Request) -> Response:
    """Show the Learn page on Gross Ecosystem Product, with the example county's tables."""
    import polars as pl

    def table(name: str) -> pl.DataFrame:
        return pl.read_csv(example_path("gep", f"{name}.csv"))

    return page(request, "learn/gep.html", title=_("Learn: Gross Ecosystem Product (GEP)"),
                types=table("types"), price_index=table("price_index"), gdp=table("gdp"))


@functools.cache
def _gep() -> Mapping[str, Any]:
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
    return MappingProxyType({"account": account, "forest": tuple(forest),
                             "index": MappingProxyType(index), "year": 2020})


def gep_check(account: GepAccount, year: int) -> GuideCheck:
    """Compare the account's GEP of ``year`` at current prices with :data:`GEP_PRINTED`."""
    computed = [t.current.amount for t in account.by_category
                if t.key == "gep" and t.year == year]
    return GuideCheck((GEP_PRINTED,), tuple(computed))


@router.post("/gep/run", response_class=HTMLResponse)
async def gep_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the GEP example county."""
    from hesuan.web.land_analyses import CATEGORIES

    result = await run_in_threadpool(_one_at_a_time, _gep)
    categories = {key: _(label) for key, label in CATEGORIES.items()}
    return HTMLResponse(fragment("learn/_gep_steps.html", categories=categories,
                                 check=gep_check(result["account"], result["year"]),
                                 **result))


@router.get("/seea", response_class=HTMLResponse)
def seea(request: Request) -> Response:
    """Show the Learn page on the SEEA extent account, with the example's types and pairs."""
    import polars as pl

    from hesuan.web.land_analyses import SEEA_EXAMPLE_MANAGED

    types = pl.read_csv(example_path("gep", "types.csv")).select("code", "ecosystem_type")
    return page(request, "learn/seea.html", title=_("Learn: SEEA extent account"),
                types=types, managed=SEEA_EXAMPLE_MANAGED)


@functools.cache
def _seea() -> Mapping[str, Any]:
    from hesuan.land.gep.raster import read_type_table
    from hesuan.land.seea import change_matrix_from_rasters, extent_account
    from hesuan.web.land_analyses import SEEA_EXAMPLE_MANAGED, seea_example

    files = seea_example()
    table = read_type_table(files["types"], ())
    matrix = change_matrix_from_rasters(files["opening"], files["closing"], list(table.codes),
                                        list(table.names))
    account = extent_account(matrix, SEEA_EXAMPLE_MANAGED)
    matrix.area_ha.flags.writeable = False  # handed out to every request: read-only
    return MappingProxyType({"matrix": matrix, "account": account,
                             "managed": SEEA_EXAMPLE_MANAGED,
                             "total_ha": float(matrix.area_ha.sum())})


def seea_check(account: ExtentAccount) -> GuideCheck:
    """Compare the extents of the types of :data:`SEEA_PRINTED`, found by name, with the guide's.

    The opening and closing extent of each named type, then the totals at both ends.
    """
    printed: list[Printed] = []
    computed: list[float] = []
    for name, opening, closing in SEEA_PRINTED:
        i = account.names.index(name) if name in account.names else None
        printed += [opening, closing]
        computed += ([account.opening[i], account.closing[i]] if i is not None
                     else [math.nan, math.nan])
    printed += [SEEA_PRINTED_TOTAL, SEEA_PRINTED_TOTAL]
    computed += [math.fsum(account.opening), math.fsum(account.closing)]
    return GuideCheck(tuple(printed), tuple(computed))


@router.post("/seea/run", response_class=HTMLResponse)
async def seea_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the SEEA extent example."""
    from hesuan.web.land_analyses import EXTENT_ROWS

    result = await run_in_threadpool(_one_at_a_time, _seea)
    rows = [(_(EXTENT_ROWS[name]), values) for name, values in result["account"].rows()]
    return HTMLResponse(fragment("learn/_seea_steps.html", rows=rows,
                                 check=seea_check(result["account"]), **result))


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


@functools.cache
def _habitat() -> Mapping[str, Any]:
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
    return MappingProxyType({"opening": runs["lulc"], "closing": runs["alt"],
                             "indices": MappingProxyType(indices)})


@router.post("/habitat/run", response_class=HTMLResponse)
async def habitat_run(request: Request) -> HTMLResponse:
    """Return the worked steps of the habitat-quality example, with its condition account."""
    result = await run_in_threadpool(_one_at_a_time, _habitat)
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


@functools.cache
def _quantification() -> tuple[Any, ...]:
    from hesuan.quantification import quantify

    return tuple(quantify(example_path("quantification", "project.toml")))


@router.post("/quantification/run", response_class=HTMLResponse)
async def quantification_run(request: Request) -> HTMLResponse:
    """Return every step of the example's quantification reports, one per monitoring period."""
    reports = [r.model_copy(deep=True)  # the report's lists are the request's own
               for r in await run_in_threadpool(_one_at_a_time, _quantification)]
    return HTMLResponse(fragment("learn/_quantification_steps.html", reports=reports))
