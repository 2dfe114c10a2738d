"""Transport-chain GHG emissions per ISO 14083:2023 and the GLEC Framework v3.

A transport chain is a sequence of transport chain elements (TCEs): legs (road, rail,
inland waterway, sea, air) grouped into transport operation categories (TOCs), and hub
operations grouped into hub operation categories (HOCs). Emissions are computed per leg from
fuel (primary data) or from t·km × an intensity, with ISO 14083's distance bases, allocated by
t·km within vehicle trips, and summed per shipment, TOC, HOC and mode.

Example
-------
>>> import polars as pl
>>> from hesuan.transport import calculate
>>> legs = pl.DataFrame({"shipment_id": ["S1"], "leg_id": ["L1"], "mode": ["road"],
...                      "mass_t": [10.0], "distance_km": [50.0],
...                      "intensity_wtw_g_per_tkm": [143.0], "intensity_basis": ["actual"]})
>>> round(calculate(legs).summary.wtw_t_co2e * 1000, 1)   # CLECAT Case A
75.1

Modules: :mod:`~hesuan.transport.spec` (columns), :mod:`~hesuan.transport.distance`,
:mod:`~hesuan.transport.intensity`, :mod:`~hesuan.transport.energy`,
:mod:`~hesuan.transport.allocation`, :mod:`~hesuan.transport.refrigerant` (equations, over
Polars expressions), :mod:`~hesuan.transport.factors` (key map → factors),
:mod:`~hesuan.transport.chain` (one batch: the equations in order),
:mod:`~hesuan.transport.sources` (reading), :mod:`~hesuan.transport.driver` (passes and
batches), :mod:`~hesuan.transport.outputs` (writing, publishing), :mod:`~hesuan.transport.summary`
(the typed ``summary.json``), :mod:`~hesuan.transport.dask_engine`,
:mod:`~hesuan.transport.scenario`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hesuan.transport.driver import Progress, TransportResult, calculate
    from hesuan.transport.outputs import write_summary
    from hesuan.transport.scenario import parse_rules
    from hesuan.transport.summary import ScenarioSummary, TransportSummary, compare

_HOME = {"Progress": "driver", "TransportResult": "driver", "calculate": "driver",
         "write_summary": "outputs", "parse_rules": "scenario", "ScenarioSummary": "summary",
         "TransportSummary": "summary", "compare": "summary"}
"""Where each public name lives: imported on first use, so that the column declarations
(``hesuan.transport.spec``, read by ``hesuan transport --help``) load without Polars."""

__all__ = ["Progress", "ScenarioSummary", "TransportResult", "TransportSummary", "calculate",
           "compare", "parse_rules", "write_summary"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"hesuan.transport.{_HOME[name]}"), name)
    raise AttributeError(f"module 'hesuan.transport' has no attribute {name!r}")
