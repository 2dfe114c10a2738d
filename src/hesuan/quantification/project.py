"""A quantification project: its project file (TOML), input tables and their checks.

The project file names the methodology, the project's start date, the parameter datasets,
the strata (a table, or a land-cover raster read with ``hesuan.land``), the monitoring events
(each a plot table and a tree table) and the baseline, leakage and project-emission terms.
``docs/quantification.md`` documents every key; the bundled example is
``src/hesuan/examples/quantification/project.toml``.

Every check names the file, the row (spreadsheet numbering: header = row 1) and the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hesuan.errors import InputError, Problem
from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.io.tables import read_table as _io_read_table
from hesuan.quantification.parameters import ParameterSet, load_parameter_set

MAX_PROBLEMS = 20


def sha256_file(path: Path) -> str:
    """Return the SHA-256 (hex) of the file at ``path``, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class MonitoringEvent:
    """One monitoring event: its date, the plots table and, if measured by tree, the trees table."""

    date: dt.date
    plots_path: Path
    trees_path: Path | None


@dataclass
class Project:
    """A parsed project file (tables are read lazily by the methodology run)."""

    path: Path
    raw: dict[str, Any]
    name: str
    start: dt.date
    methodology_id: str
    methodology_version: str
    species: ParameterSet
    defaults: ParameterSet
    strata_path: Path
    strata_raster_classes: dict[int, str] | None
    events: list[MonitoringEvent]
    applicability: dict[str, Any]
    baseline_t_co2e_per_yr: float
    leakage_t_co2e_per_yr: float
    project_emissions_t_co2e_per_yr: float
    forest_agb_t_per_ha: float | None
    growth_path: Path | None
    files: dict[str, Path] = field(default_factory=dict)
    #: ``[baseline] ipcc_forest_gain_loss``: strata table of ``hesuan land ipcc
    #: forest-gain-loss`` giving the baseline removals, and its IPCC edition
    baseline_ipcc_path: Path | None = None
    baseline_ipcc_edition: str = "2006"
    #: ``[baseline] pre_project_crown_cover`` and ``forest_crown_cover_threshold``: the mean
    #: tree crown cover before the project and the host Party's forest threshold [fractions]
    baseline_crown_cover: float | None = None
    forest_crown_cover_threshold: float | None = None

    @property
    def base(self) -> Path:
        """Return the folder of the project file, which relative paths are read from."""
        return self.path.parent

    def rel(self, p: Path) -> str:
        """Return ``p`` relative to the project folder (POSIX form), or absolute if outside it."""
        try:
            return p.resolve().relative_to(self.base.resolve()).as_posix()
        except ValueError:
            return p.resolve().as_posix()


def _need(raw: dict[str, Any], section: str, key: str, file: str, expected: str) -> Any:
    value = raw.get(section, {}).get(key)
    if value is None or value == "":
        raise InputError.single("missing", file=file, field=f"{section}.{key}",
                                expected=expected)
    return value


def _date(value: Any, file: str, fld: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError.single(f"not a date: {value!r}", file=file, field=fld,
                                expected="YYYY-MM-DD") from None


def _number(section: dict[str, Any], key: str, file: str, fld: str) -> float:
    value = section.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise InputError.single(f"not a number: {value!r}", file=file, field=fld,
                                expected="a finite number")
    return float(value)


def _fraction(section: dict[str, Any], key: str, file: str, fld: str) -> float | None:
    if key not in section:
        return None
    value = _number(section, key, file, fld)
    if not 0 <= value <= 1:
        raise InputError.single(f"{value:g} is not a fraction", file=file, field=fld,
                                expected="a fraction 0–1 (e.g. 0.10 for 10 % crown cover)")
    return value


def _file(base: Path, value: Any, file: str, fld: str) -> Path:
    p = (base / str(value))
    if not p.is_file():
        raise InputError.single(f"no such file: {p}", file=file, field=fld,
                                expected="a CSV or Parquet file next to the project file")
    return p


def read_project(path: str | Path) -> Project:
    """Parse and check a project file (not yet its tables).

    Raises
    ------
    InputError
        naming the project file and the key.
    """
    p = Path(path)
    file = str(p)
    if not p.is_file():
        raise InputError.single("no such file", file=file, expected="a project .toml file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError.single(f"not valid TOML: {exc}", file=file) from None
    base = p.parent
    name = str(_need(raw, "project", "name", file, "the project's name"))
    start = _date(_need(raw, "project", "start", file, "YYYY-MM-DD"), file, "project.start")
    mid = str(_need(raw, "project", "methodology", file, "a catalogue id, e.g. CCER-14-001"))
    mver = str(_need(raw, "project", "methodology_version", file, "e.g. V01"))
    sp_ref = str(_need(raw, "project", "species", file,
                       "a species parameter dataset (folder or id@version)"))
    species = load_parameter_set(base / sp_ref if (base / sp_ref).exists() else sp_ref)
    if not species.species:
        raise InputError.single(f"{sp_ref} has no species.csv", file=file,
                                field="project.species", expected="a species dataset")
    df_ref = str(raw["project"].get("defaults", "ar_tool14_defaults@04.2"))
    defaults = load_parameter_set(base / df_ref if (base / df_ref).exists() else df_ref)
    strata = raw.get("strata", {})
    classes = None
    if "raster" in strata:
        strata_path = _file(base, strata["raster"], file, "strata.raster")
        cl = strata.get("classes")
        if not isinstance(cl, dict) or not cl:
            raise InputError.single("missing", file=file, field="strata.classes",
                                    expected='a table of raster codes to strata, e.g. '
                                    '{ 1 = "A", 2 = "B" }')
        classes = {int(k): str(v) for k, v in cl.items()}
    else:
        strata_path = _file(base, _need(raw, "strata", "file", file, "strata.csv"), file,
                            "strata.file")
    events: list[MonitoringEvent] = []
    mon = raw.get("monitoring")
    if not isinstance(mon, list) or not mon:
        raise InputError.single("missing", file=file, field="monitoring",
                                expected="one [[monitoring]] table per monitoring event")
    for i, ev in enumerate(mon):
        fld = f"monitoring[{i}]"
        date = _date(ev.get("date"), file, f"{fld}.date")
        if date < start:
            raise InputError.single(f"monitoring date {date} is before the project start "
                                    f"{start}", file=file, field=f"{fld}.date",
                                    expected=f"a date on or after {start}")
        if events and date <= events[-1].date:
            raise InputError.single(f"monitoring date {date} is not after the previous "
                                    f"event {events[-1].date}", file=file,
                                    field=f"{fld}.date", expected="events in date order")
        plots = _file(base, ev.get("plots", ""), file, f"{fld}.plots")
        trees = _file(base, ev["trees"], file, f"{fld}.trees") if ev.get("trees") else None
        events.append(MonitoringEvent(date, plots, trees))
    baseline = raw.get("baseline", {})
    ipcc = baseline.get("ipcc_forest_gain_loss")
    if ipcc and "removals_t_co2e_per_yr" in baseline:
        raise InputError.single("both removals_t_co2e_per_yr and ipcc_forest_gain_loss are "
                                "given", file=file, field="baseline.ipcc_forest_gain_loss",
                                expected="one source of the baseline removals")
    edition = str(baseline.get("ipcc_edition", "2006"))
    if edition not in ("2006", "2019"):
        raise InputError.single(f"unknown IPCC edition {edition!r}", file=file,
                                field="baseline.ipcc_edition", expected="2006 or 2019")
    growth = raw.get("ex_ante", {}).get("growth")
    agb = raw["project"].get("forest_agb_t_per_ha")
    return Project(
        path=p, raw=raw, name=name, start=start, methodology_id=mid,
        methodology_version=mver, species=species, defaults=defaults,
        strata_path=strata_path, strata_raster_classes=classes, events=events,
        applicability=dict(raw.get("applicability", {})),
        baseline_t_co2e_per_yr=_number(raw.get("baseline", {}), "removals_t_co2e_per_yr",
                                       file, "baseline.removals_t_co2e_per_yr"),
        leakage_t_co2e_per_yr=_number(raw.get("leakage", {}), "t_co2e_per_yr", file,
                                      "leakage.t_co2e_per_yr"),
        project_emissions_t_co2e_per_yr=_number(raw.get("project_emissions", {}),
                                                "t_co2e_per_yr", file,
                                                "project_emissions.t_co2e_per_yr"),
        forest_agb_t_per_ha=None if agb is None else float(agb),
        growth_path=_file(base, growth, file, "ex_ante.growth") if growth else None,
        baseline_ipcc_path=(_file(base, ipcc, file, "baseline.ipcc_forest_gain_loss")
                            if ipcc else None),
        baseline_ipcc_edition=edition,
        baseline_crown_cover=_fraction(baseline, "pre_project_crown_cover", file,
                                       "baseline.pre_project_crown_cover"),
        forest_crown_cover_threshold=_fraction(baseline, "forest_crown_cover_threshold", file,
                                               "baseline.forest_crown_cover_threshold"),
    )


def _col(name: str, dtype: str, description: str, unit: str = "", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, dtype, description, unit, **kw)  # type: ignore[arg-type]


PLOTS_SPEC = TableSpec("plots", (
    _col("plot", "str", "Plot id, unique within the event.", required=True),
    _col("stratum", "str", "Stratum of the plot (a stratum of the strata table).",
         required=True),
    _col("area_m2", "float", "Horizontal area of the plot.", "m2", required=True,
         minimum=0, exclusive_minimum=True),
    _col("shrub_cover", "float", "Shrub crown cover of the plot (fraction).", minimum=0,
         maximum=1),
    _col("volume_m3", "float", "Stand volume of the plot (volume method).", "m3", minimum=0),
    _col("species", "str", "Species id of the stand (volume method)."),
), key=("plot",), unknown_columns="keep", description="One row per sample plot.")
TREES_SPEC = TableSpec("trees", (
    _col("plot", "str", "Plot id (a plot of the event's plot table).", required=True),
    _col("species", "str", "Species id of the species dataset.", required=True),
    _col("dbh_cm", "float", "Diameter at breast height.", "cm", required=True, minimum=0,
         exclusive_minimum=True),
    _col("height_m", "float", "Tree height (for equations using it).", "m", minimum=0),
), unknown_columns="keep", description="One row per tree.")
STRATA_SPEC = TableSpec("strata", (
    _col("stratum", "str", "Stratum name.", required=True),
    _col("area_ha", "float", "Stratum area.", "ha", required=True, minimum=0,
         exclusive_minimum=True),
), key=("stratum",), description="One row per stratum.")
GROWTH_SPEC = TableSpec("growth", (
    _col("stratum", "str", "Stratum.", required=True),
    _col("year", "int", "Year of the projected volume.", required=True),
    _col("species", "str", "Species id (method volume).", required=True),
    _col("volume_m3_per_ha", "float", "Projected stand volume.", "m3/ha", required=True,
         minimum=0),
), key=("stratum", "year"), description="Ex-ante growth table.")


def read_table(path: Path, spec: TableSpec) -> pl.DataFrame:
    """Read and check a table with the one table reader of ``hesuan.io``, adding ``row``.

    CSV in any usual encoding and delimiter, Parquet, Excel; ``row`` is the line a spreadsheet
    shows.
    """
    table = _io_read_table(path, spec, label=str(path))
    return table.frame.with_row_index("row", offset=table.report.row_base)


def first_problem_rows(df: pl.DataFrame, mask: pl.Expr, file: str, fld: str, message: str,
                       expected: str) -> list[Problem]:
    """Problems for the first rows where ``mask`` holds (at most 20)."""
    bad = df.filter(mask).head(MAX_PROBLEMS)
    return [Problem(message.format(**r), file, r["row"], fld, expected)
            for r in bad.iter_rows(named=True)]


def read_strata(project: Project) -> pl.DataFrame:
    """Strata and their areas [ha].

    From the strata table, or by counting the cells of a land-cover raster per class
    (``hesuan.land.raster``, read window by window).
    """
    file = str(project.strata_path)
    if project.strata_raster_classes is not None:
        return _strata_from_raster(project)
    del file
    df = read_table(project.strata_path, STRATA_SPEC)
    return df.select("stratum", "area_ha").sort("stratum")


def _strata_from_raster(project: Project) -> pl.DataFrame:
    import rasterio

    from hesuan.land.raster import open_grid, plan_windows

    assert project.strata_raster_classes is not None
    grid = open_grid(project.strata_path, "strata.raster")
    codes = np.array(sorted(project.strata_raster_classes), dtype=np.int64)
    counts = np.zeros(len(codes), dtype=np.int64)
    with rasterio.open(project.strata_path) as ds:
        for window in plan_windows(grid):
            block = ds.read(1, window=window).astype(np.int64).ravel()
            pos = np.searchsorted(codes, block)
            pos = np.clip(pos, 0, len(codes) - 1)
            hit = codes[pos] == block
            counts += np.bincount(pos[hit], minlength=len(codes))
    names = [project.strata_raster_classes[int(c)] for c in codes]
    df = pl.DataFrame({"stratum": names, "area_ha": counts * grid.pixel_area_ha})
    df = df.group_by("stratum").agg(pl.col("area_ha").sum()).filter(pl.col("area_ha") > 0)
    return df.sort("stratum")
