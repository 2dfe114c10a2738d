"""The standards library: versioned, cited, licensed reference data.

Every number hesuan computes with — emission factors, calorific values, densities, GWPs,
IPCC default tables — comes from a dataset here, one record per factor, each with its
source, unit, vintage and licence. The methodology catalogue (``load_methodologies``,
``resolve_methodology``) lists the crediting methodologies and inventory standards, each
version with its source, status and the hesuan quantification that feeds it. See
``docs/dataset-format.md`` for the file formats and ``docs/standards.md`` for what ships.

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
from hesuan.standards.methodologies import (
    METHODOLOGY_COLUMNS,
    MethodologyCatalogue,
    MethodologyNotFoundError,
    MethodologyRecord,
    load_methodologies,
    load_methodologies_path,
    resolve_methodology,
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
    "METHODOLOGY_COLUMNS",
    "PARAMETERS",
    "SCOPES",
    "Dataset",
    "DatasetInfo",
    "FactorRecord",
    "MethodologyCatalogue",
    "MethodologyNotFoundError",
    "MethodologyRecord",
    "list_datasets",
    "load_dataset",
    "load_dataset_path",
    "load_methodologies",
    "load_methodologies_path",
    "resolve_factor",
    "resolve_methodology",
    "search_factors",
]
