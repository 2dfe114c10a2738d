"""UN SEEA Ecosystem Accounting (2021): extent and condition accounts.

- :mod:`hesuan.land.seea.extent` — the ecosystem type change matrix (Table 4.2) and the
  extent account (Table 4.1) from two ecosystem-type maps, identities checked;
- :mod:`hesuan.land.seea.condition` — condition variables rescaled against reference levels
  (§5.61–5.62) and aggregated into an index per ecosystem type;
- :mod:`hesuan.land.seea.crosswalk` — GB/T 21010, ESA WorldCover and CLCD classes booked to
  IUCN Global Ecosystem Typology functional groups (crosswalks as datasets);
- :mod:`hesuan.land.seea.supply_use` — ecosystem services supply and use tables (Table
  7.1 physical; Chapter 9 monetary), fed by the carbon, IPCC and GEP engines, supply = use checked;
- :mod:`hesuan.land.seea.engine_files` — the same from the files the engines' commands write
  (typed summaries validated), and the asset account's expected flows from two supply-use runs;
- :mod:`hesuan.land.seea.asset` — NPV of service flows (the timing convention explicit) and
  the monetary ecosystem asset account (Table 10.1), opening + changes = closing checked.
"""

from hesuan.land.seea.asset import (
    AssetTerms,
    Decomposition,
    MonetaryAssetAccount,
    ServiceAsset,
    annuity_factor,
    classify_volume,
    decompose,
    monetary_asset_account,
    npv,
)
from hesuan.land.seea.condition import (
    ConditionIndex,
    ConditionVariable,
    condition_indices,
    read_condition_variables,
    rescale,
)
from hesuan.land.seea.crosswalk import Crosswalk, load_crosswalk, to_efg
from hesuan.land.seea.extent import (
    AccountingIdentityError,
    ChangeMatrix,
    ExtentAccount,
    change_matrix,
    change_matrix_from_rasters,
    extent_account,
)
from hesuan.land.seea.supply_use import (
    ServiceFlow,
    SupplyUseMismatchError,
    SupplyUseTable,
    UseAllocation,
    flows_from_carbon,
    flows_from_gep,
    flows_from_ipcc,
    read_allocation,
    read_flows,
    supply_use_table,
)

__all__ = [
    "AccountingIdentityError",
    "AssetTerms",
    "ChangeMatrix",
    "ConditionIndex",
    "ConditionVariable",
    "Crosswalk",
    "Decomposition",
    "ExtentAccount",
    "MonetaryAssetAccount",
    "ServiceAsset",
    "ServiceFlow",
    "SupplyUseMismatchError",
    "SupplyUseTable",
    "UseAllocation",
    "annuity_factor",
    "change_matrix",
    "change_matrix_from_rasters",
    "classify_volume",
    "condition_indices",
    "decompose",
    "extent_account",
    "flows_from_carbon",
    "flows_from_gep",
    "flows_from_ipcc",
    "load_crosswalk",
    "monetary_asset_account",
    "npv",
    "read_allocation",
    "read_condition_variables",
    "read_flows",
    "rescale",
    "supply_use_table",
    "to_efg",
]
