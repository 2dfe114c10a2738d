"""The input and output columns of the transport engine, declared once.

Validation (:mod:`hesuan.transport.validate`), the CLI help and ``docs/transport.md`` read
these declarations; nothing else lists column names, units or allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES: tuple[str, ...] = ("road", "rail", "inland_waterway", "sea", "air")
"""Transport modes of ISO 14083:2023 handled here."""

BASES: tuple[str, ...] = ("sfd", "gcd", "actual")
FUEL_UNITS: tuple[str, ...] = ("L", "kg", "kWh", "MJ")
TEMPERATURE_CONTROL: tuple[str, ...] = ("ambient", "reefer")
HUB_TEMPERATURE_CONTROL: tuple[str, ...] = ("ambient", "reefer", "chilled", "frozen",
                                            "temperature_controlled")
HUB_TYPES: tuple[str, ...] = ("transhipment", "storage", "storage_and_transhipment",
                              "warehouse", "port_terminal", "airport_terminal",
                              "rail_terminal", "cross_dock")
DATA_TYPES: tuple[str, ...] = ("primary", "modelled", "default")
DEFAULT_REGION = "GB"
"""Electricity grid region when a row gives none: the UK grid (DESNZ), the only shipped grid
factor with WTW CO2e. ``CN`` uses China's CO2-only average grid factor (cn_grid)."""


PLAUSIBLE_WTW_G_PER_TKM: dict[str, tuple[float, float]] = {
    "road": (20.0, 1500.0), "rail": (3.0, 200.0), "inland_waterway": (5.0, 200.0),
    "sea": (1.0, 150.0), "air": (200.0, 5000.0),
}
"""WTW intensities [g CO2e / t·km] outside which a leg computed from the user's own data is
flagged (a warning, not an error). hesuan's own ranges: the averages of the reference notes
(road 50–120, rail 15–30, sea 10–20, air 500–800 g/t·km; DESNZ 2025 HGV all-laden ≈ 100–130)
widened to cover single vehicles (an empty-running van, a feeder ship), so that a flagged leg
is one whose fuel, unit or mass is probably wrong (e.g. a truck at 4 g/t·km)."""

PLAUSIBLE_MAX_DISTANCE_KM = 40_075.0
"""A leg longer than the equator (40,075 km, WGS84) is flagged [km]."""

PLAUSIBLE_MAX_MASS_T = 500_000.0
"""A leg carrying more than the largest ships' deadweight (~500,000 t) is flagged [t]."""


@dataclass(frozen=True)
class Column:
    """One input column: name, type, unit, whether required, allowed values, default."""

    name: str
    dtype: str  # "str" | "float"
    description: str
    unit: str = ""
    required: bool = False
    allowed: tuple[str, ...] | None = None
    default: str | float | None = None
    minimum: float | None = None
    maximum: float | None = None

    def help_line(self) -> str:
        bits = [self.name]
        if self.unit:
            bits.append(f"({self.unit})")
        bits.append("required" if self.required else "optional")
        text = " ".join(bits) + ": " + self.description
        if self.allowed:
            text += " Allowed: " + ", ".join(self.allowed) + "."
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else f"{self.minimum:g}"
            hi = "" if self.maximum is None else f"{self.maximum:g}"
            text += f" Finite, within [{lo}, {hi}]." if lo and hi else \
                f" Finite, {'>= ' + lo if lo else '<= ' + hi}."
        if self.default is not None:
            text += f" Default: {self.default}."
        return text


LEG_COLUMNS: tuple[Column, ...] = (
    Column("shipment_id", "str", "Shipment the leg belongs to.", required=True),
    Column("leg_id", "str", "Leg (transport chain element) id.", required=True),
    Column("mode", "str", "Transport mode.", required=True, allowed=MODES),
    Column("mass_t", "float", "Freight mass carried (goods with the shipper's packaging).",
           unit="t", required=True, minimum=0.0, maximum=1e9),
    Column("distance_km", "float", "Distance; give it or the four coordinates.", unit="km",
           minimum=0.0, maximum=1e9),
    Column("distance_basis", "str", "Basis of distance_km.", allowed=BASES,
           default="gcd for air, sfd otherwise"),
    Column("origin_lat", "float", "Origin latitude (WGS84).", unit="degree",
           minimum=-90, maximum=90),
    Column("origin_lon", "float", "Origin longitude (WGS84).", unit="degree",
           minimum=-180, maximum=180),
    Column("dest_lat", "float", "Destination latitude (WGS84).", unit="degree",
           minimum=-90, maximum=90),
    Column("dest_lon", "float", "Destination longitude (WGS84).", unit="degree",
           minimum=-180, maximum=180),
    Column("vehicle", "str", "Vehicle class / TOC key of the factor library "
           "(`hesuan transport keys`).", default="the mode's default class"),
    Column("toc", "str", "Transport operation category; legs of one TOC share its intensity.",
           default="mode/vehicle/temperature_control"),
    Column("fuel", "str", "Fuel or energy carrier key (`hesuan transport keys`)."),
    Column("region", "str", "Electricity grid region.", default=DEFAULT_REGION),
    Column("fuel_amount", "float", "Fuel/electricity consumed (of the leg, or of its trip).",
           unit="fuel_unit", minimum=0.0, maximum=1e12),
    Column("fuel_unit", "str", "Unit of fuel_amount.", allowed=FUEL_UNITS),
    Column("trip_id", "str", "Vehicle trip: legs sharing it share its fuel, allocated by t·km."),
    Column("intensity_wtw_g_per_tkm", "float", "Total (WTW) intensity to use.",
           unit="g CO2e/t·km", minimum=0.0, maximum=1e6),
    Column("intensity_ttw_g_per_tkm", "float", "Operation (TTW) part of that intensity.",
           unit="g CO2e/t·km", minimum=0.0, maximum=1e6),
    Column("intensity_basis", "str", "Distance basis of the intensities.", allowed=BASES,
           default="gcd for air, sfd otherwise"),
    Column("intensity_source", "str", "Data type of a given intensity.", allowed=DATA_TYPES,
           default="primary"),
    Column("temperature_control", "str", "Temperature control.", allowed=TEMPERATURE_CONTROL,
           default="ambient"),
    Column("refrigerant", "str", "Refrigerant (e.g. R-404A, R-452A, R-134a).",
           default="R-404A"),
    Column("refrigerant_kg", "float", "Refrigerant refilled (leaked), for the leg or its trip.",
           unit="kg", minimum=0.0, maximum=1e9),
    Column("load_factor", "float", "Load factor, recorded for disclosure.", unit="-",
           minimum=0.0, maximum=1.0),
    Column("empty_running", "float", "Empty running share, recorded for disclosure.",
           unit="-", minimum=0.0, maximum=1.0),
)

TRIP_COLUMNS: tuple[Column, ...] = (
    Column("trip_id", "str", "Vehicle trip whose fuel its legs share (by t·km).", required=True),
    *(c for c in LEG_COLUMNS if c.name in ("fuel", "fuel_amount", "fuel_unit", "region",
                                           "refrigerant", "refrigerant_kg")),
)
"""The trips table (``--trips``): a vehicle trip's fuel and refrigerant, named by its legs."""

HUB_COLUMNS: tuple[Column, ...] = (
    Column("shipment_id", "str", "Shipment handled.", required=True),
    Column("hub_id", "str", "Hub (site); its energy is shared by the tonnes leaving it.",
           required=True),
    Column("hub_type", "str", "Hub operation type.", required=True, allowed=HUB_TYPES),
    Column("mass_t", "float", "Tonnes of the shipment leaving the hub.", unit="t",
           required=True, minimum=0.0, maximum=1e12),
    Column("hoc", "str", "Hub operation category.", default="hub_type/temperature_control"),
    Column("intensity_wtw_kg_per_t", "float", "Total hub intensity.", unit="kg CO2e/t",
           minimum=0.0, maximum=1e6),
    Column("intensity_ttw_kg_per_t", "float", "Operation part of it.", unit="kg CO2e/t",
           minimum=0.0, maximum=1e6),
    Column("intensity_source", "str", "Data type of a given intensity.", allowed=DATA_TYPES,
           default="primary"),
    Column("fuel", "str", "Fuel burnt at the hub (key)."),
    Column("fuel_amount", "float", "Fuel burnt (hub total, on any of its rows).",
           unit="fuel_unit", minimum=0.0, maximum=1e12),
    Column("fuel_unit", "str", "Unit of fuel_amount.", allowed=FUEL_UNITS),
    Column("electricity_kwh", "float", "Electricity used (hub total, on any of its rows).",
           unit="kWh", minimum=0.0, maximum=1e13),
    Column("region", "str", "Electricity grid region.", default=DEFAULT_REGION),
    Column("temperature_control", "str", "Temperature control.",
           allowed=HUB_TEMPERATURE_CONTROL, default="ambient"),
    Column("refrigerant", "str", "Refrigerant.", default="R-404A"),
    Column("refrigerant_kg", "float", "Refrigerant refilled (hub total).", unit="kg",
           minimum=0.0, maximum=1e9),
)

LEG_OUTPUT_COLUMNS: dict[str, str] = {
    "distance_km": "distance on the standard's basis [km]",
    "distance_basis": "sfd | gcd",
    "distance_rule": "how it was obtained (as_given, actual/1.05, geodesic, searoute, "
                     "gcd×circuity …)",
    "distance_data_type": "primary | modelled",
    "tkm": "transport activity [t·km]",
    "ttw_kg_co2e": "operation emissions [kg CO2e]",
    "wtt_kg_co2e": "energy provision emissions [kg CO2e]",
    "wtw_kg_co2e": "total emissions [kg CO2e]",
    "refrigerant_kg_co2e": "refrigerant leakage part of ttw [kg CO2e]",
    "co2_combustion_kg": "fossil-fuel combustion CO2 (GB/T 46531-2025) where the fuel is "
                         "known [kg CO2]",
    "intensity_wtw_g_per_tkm": "emissions / activity [g CO2e/t·km]",
    "method": "fuel | toc_intensity | user_intensity | default_intensity",
    "data_type": "primary | modelled | default",
    "toc": "transport operation category",
    "factor_ttw": "factor reference (dataset@version:id) or the source of the number",
    "factor_wtt": "factor reference for the provision part",
}


def column(name: str, table: str = "legs") -> Column:
    """The declaration of one input column."""
    cols = LEG_COLUMNS if table == "legs" else HUB_COLUMNS
    for c in cols:
        if c.name == name:
            return c
    raise KeyError(name)


def required(table: str = "legs") -> tuple[str, ...]:
    cols = LEG_COLUMNS if table == "legs" else HUB_COLUMNS
    return tuple(c.name for c in cols if c.required)


def help_text(table: str = "legs") -> str:
    """All columns as help text (CLI and docs)."""
    cols = LEG_COLUMNS if table == "legs" else HUB_COLUMNS
    return "\n".join("  " + c.help_line() for c in cols)
