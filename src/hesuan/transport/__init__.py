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
>>> round(calculate(legs).summary["wtw_t_co2e"] * 1000, 1)   # CLECAT Case A
75.1

Modules: :mod:`~hesuan.transport.spec` (columns), :mod:`~hesuan.transport.distance`,
:mod:`~hesuan.transport.intensity`, :mod:`~hesuan.transport.energy`,
:mod:`~hesuan.transport.allocation`, :mod:`~hesuan.transport.refrigerant` (equations),
:mod:`~hesuan.transport.factors` (key map → factors), :mod:`~hesuan.transport.chain`
(orchestration), :mod:`~hesuan.transport.api` (batching, outputs),
:mod:`~hesuan.transport.dask_engine`, :mod:`~hesuan.transport.scenario`.
"""

from hesuan.transport.api import TransportResult, calculate, write_summary
from hesuan.transport.scenario import parse_rules

__all__ = ["TransportResult", "calculate", "parse_rules", "write_summary"]
