"""Gross Ecosystem Product (GEP, 生态产品总值).

Physical and monetary accounts of the products and services of ecosystems, under an explicit edition
of the accounting rules.

- editions as data: :mod:`hesuan.standards.gep_editions` (``gep_garze2010@2017`` …);
- the physical equations: :mod:`hesuan.land.gep.equations` (pure functions over arrays);
- rasters block by block (local or Dask): :mod:`hesuan.land.gep.raster`;
- valuation from tables: :func:`compute_account` (quantity × price, price-year adjustment by
  a price index, current and constant prices), money typed as :class:`Money`;
- one call for a whole run with outputs: :func:`hesuan.land.gep.run.run`.
"""

from hesuan.land.gep import equations
from hesuan.land.gep.accounts import (
    GepAccount,
    Price,
    QuantityRow,
    ServiceValue,
    Total,
    compute_account,
    read_gdp,
    read_prices,
    read_quantities,
)
from hesuan.land.gep.money import Money, PriceIndex, read_price_index

__all__ = [
    "GepAccount",
    "Money",
    "Price",
    "PriceIndex",
    "QuantityRow",
    "ServiceValue",
    "Total",
    "compute_account",
    "equations",
    "read_gdp",
    "read_price_index",
    "read_prices",
    "read_quantities",
]
