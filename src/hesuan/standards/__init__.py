"""The standards library: versioned, cited, licensed reference data.

Every number hesuan computes with — emission factors, calorific values, densities, GWPs,
IPCC default tables — comes from a dataset here, one record per factor, each with its
source, unit, vintage and licence. See ``docs/dataset-format.md`` for the file format and
``docs/standards.md`` for the shipped datasets.

Example
-------
>>> from hesuan.standards import load_dataset
>>> gwp = load_dataset("ipcc_gwp100", "AR6")          # doctest: +SKIP
>>> gwp.get("gwp.n2o").value                          # doctest: +SKIP
273.0
"""

from hesuan.standards.loaders import (
    DATA_ROOT,
    list_datasets,
    load_dataset,
    load_dataset_path,
    resolve_factor,
    search_factors,
)
from hesuan.standards.records import (
    DISTANCE_BASES,
    FACTOR_COLUMNS,
    PARAMETERS,
    SCOPES,
    Dataset,
    DatasetInfo,
    FactorRecord,
)

__all__ = [
    "DATA_ROOT",
    "DISTANCE_BASES",
    "FACTOR_COLUMNS",
    "PARAMETERS",
    "SCOPES",
    "Dataset",
    "DatasetInfo",
    "FactorRecord",
    "list_datasets",
    "load_dataset",
    "load_dataset_path",
    "resolve_factor",
    "search_factors",
]
