"""UN SEEA Ecosystem Accounting (2021): extent and condition accounts.

- :mod:`hesuan.land.seea.extent` — the ecosystem type change matrix (Table 4.2) and the
  extent account (Table 4.1) from two ecosystem-type maps, identities checked;
- :mod:`hesuan.land.seea.condition` — condition variables rescaled against reference levels
  (§5.61–5.62) and aggregated into an index per ecosystem type;
- :mod:`hesuan.land.seea.asset` — NPV of service flows, the timing convention explicit.

Supply and use tables, the full monetary asset account (changes decomposed) and the
GB/T 21010 / WorldCover / CLCD crosswalks to the IUCN Global Ecosystem Typology are not
implemented yet.
"""

from hesuan.land.seea.asset import annuity_factor, npv
from hesuan.land.seea.condition import (
    ConditionIndex,
    ConditionVariable,
    condition_indices,
    read_condition_variables,
    rescale,
)
from hesuan.land.seea.extent import (
    AccountingIdentityError,
    ChangeMatrix,
    ExtentAccount,
    change_matrix,
    change_matrix_from_rasters,
    extent_account,
)

__all__ = [
    "AccountingIdentityError",
    "ChangeMatrix",
    "ConditionIndex",
    "ConditionVariable",
    "ExtentAccount",
    "annuity_factor",
    "change_matrix",
    "change_matrix_from_rasters",
    "condition_indices",
    "extent_account",
    "npv",
    "read_condition_variables",
    "rescale",
]
