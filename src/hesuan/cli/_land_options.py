"""Options and option parsing shared by the ``hesuan land`` commands.

One declaration per option that several land commands take (``carbon``, ``gep run``,
``habitat``, ``ipcc transitions``, ``seea …``), so that each is spelled, defaulted and
explained alike; ``--overwrite`` is :data:`hesuan.cli._console.OverwriteOption`, shared with
the other commands that write a run folder.

- :data:`OutDirOption` — ``--out``, the run's output folder.
- :data:`RegionsOption`, :data:`RegionIdOption` — polygons to total the rasters over.
- :data:`EngineOption`, :data:`SchedulerOption`, :data:`WorkersOption` — where the blocks run.
- :data:`NoReportOption` — skip the HTML report.
- :func:`key_values` — repeated ``KEY=VALUE`` options as a mapping, or an error naming the
  option and the form it expects.

Example
-------
>>> from hesuan.cli._land_options import key_values
>>> key_values(["forest=12.5", "grassland=3"], "--catastrophic", "ECOSYSTEM_TYPE=LOSS")
{'forest': '12.5', 'grassland': '3'}
"""

from __future__ import annotations

from typing import Any

import typer

from hesuan.errors import InputError

OutDirOption: Any = typer.Option(..., "--out", help="Output folder.")
RegionsOption: Any = typer.Option(None, "--regions", help="Polygons (GPKG/GeoJSON/SHP) to "
                                  "total the rasters over.")
RegionIdOption: Any = typer.Option(None, "--region-id", help="Attribute naming each region.")
EngineOption: Any = typer.Option("local", "--engine", help="local or dask.")
SchedulerOption: Any = typer.Option(None, "--scheduler", help="Dask scheduler address "
                                    "(default: LocalCluster).")
WorkersOption: Any = typer.Option(None, "--workers", min=1,
                                  help="Threads / Dask workers (at least 1).")
NoReportOption: Any = typer.Option(False, "--no-report", help="Skip the HTML report.")


def key_values(items: list[str], option: str, expected: str) -> dict[str, str]:
    """Return repeated ``KEY=VALUE`` option values as ``{KEY: VALUE}`` (a later key wins).

    Parameters
    ----------
    items : list of str
        The option's values as given, e.g. ``["forest=12.5"]``.
    option : str
        The option's name, for the error (e.g. ``--catastrophic``).
    expected : str
        The form the error says is expected (e.g. ``ECOSYSTEM_TYPE=LOSS``).

    Returns
    -------
    dict of str to str
        Each key with its value, as text.

    Raises
    ------
    InputError
        ``bad <option> '<item>'`` for an item without ``=``, a key or a value.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not (sep and key and value):
            raise InputError.single(f"bad {option} {item!r}", field=option, expected=expected)
        out[key] = value
    return out
