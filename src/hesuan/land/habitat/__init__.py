"""Habitat quality and degradation (InVEST's habitat-quality model) as a raster engine."""

from hesuan.land.habitat.model import HabitatResult, HabitatSummary, run

__all__ = ["HabitatResult", "HabitatSummary", "run"]
