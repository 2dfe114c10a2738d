"""Land carbon: storage, sequestration and its value on LULC maps (the InVEST carbon model).

With uncertainty (IPCC Approaches 1 and 2), regional totals and a Dask engine.

Start with :func:`hesuan.land.carbon.run` (Python API) or ``hesuan land carbon`` (CLI).
Layering: this package imports only ``hesuan.standards``, ``hesuan.units`` and
``hesuan.errors``; it never imports ``transport``, ``quantification`` or ``registry``.
"""
