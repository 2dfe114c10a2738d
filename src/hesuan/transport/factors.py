"""Resolve hesuan's keys (vehicle classes, fuels, regions) to factors of the standards library.

Which factor a key uses is *data*: ``factor_map.csv`` beside this module, one line per
(kind, mode, key, region, scope) giving a ``dataset@version:id`` reference (several lines with
the same key and scope are summed; ``0`` states a zero on purpose, with the reason in
``notes``). Kinds:

``vehicle_intensity``
    mode, vehicle key, ISO scope (TTW/WTT) → a per-t·km factor (its record states its
    ``distance_basis``; per-*actual* t·km values are converted per leg to the standard's basis).
``default_vehicle``
    mode, temperature control → the vehicle key used when a leg names none.
``fuel_factor``
    fuel key, region, scope (TTW, WTT, CO2_COMBUSTION) → a per-litre/-kg/-kWh/-MJ factor.
``fuel_property``
    fuel key, ``density`` or ``ncv`` → used to convert the user's unit to the factor's unit.

A user's own dataset (e.g. GLEC default intensities, which cannot be shipped) adds or
overrides keys when its ids follow ``intensity.<mode>.<vehicle>.<ttw|wtt|wtw>`` (per t·km,
with ``distance_basis``) or ``fuel.<fuel>.<ttw|wtt|co2_combustion>`` (per L, kg, kWh or MJ);
see ``docs/transport.md``.

The result is a :class:`ResolvedFactors`: small Polars lookup tables joined to the legs, so
no factor is looked up row by row.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from hesuan.errors import FactorNotFoundError, InputError, UnitError
from hesuan.standards import Dataset, DatasetInfo, FactorRecord, load_dataset, load_dataset_path
from hesuan.transport.energy import MJ_PER_KWH
from hesuan.transport.spec import FUEL_UNITS

FACTOR_MAP = Path(__file__).with_name("factor_map.csv")

_UNIT_TARGETS = {"kg": "kg", "L": "L", "MJ": "MJ"}


@dataclass
class ResolvedFactors:
    """The factor tables of one run, and the provenance of every number in them."""

    vehicles: pl.DataFrame
    default_vehicle: dict[tuple[str, str], str]
    fuels: pl.DataFrame
    gwp_set: str
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    factor_gwp_sets: set[str] = field(default_factory=set)
    user_dataset: str | None = None

    def vehicle_keys(self) -> dict[str, list[str]]:
        """Return the vehicle keys of each mode."""
        out: dict[str, list[str]] = defaultdict(list)
        for mode, vehicle in self.vehicles.select("mode", "vehicle").iter_rows():
            out[mode].append(vehicle)
        return dict(out)

    def fuel_keys(self) -> list[str]:
        """Return the fuel keys, sorted."""
        return sorted(set(self.fuels["fuel"].to_list()))

    def provenance(self) -> list[dict[str, object]]:
        """Datasets used, with licence and attribution (for summary.json and the report)."""
        return [
            {"dataset": k, "title": i.title, "licence": i.licence, "licence_url": i.licence_url,
             "attribution": i.attribution, "citation": i.citation, "shipped": i.shipped,
             "gwp_set": i.gwp_set}
            for k, i in sorted(self.datasets.items())
        ]


def read_map(path: Path = FACTOR_MAP) -> list[dict[str, str]]:
    """Return the rows of the key map (comment lines starting with ``#`` skipped)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


class _Library:
    """Loads the datasets the map references, honouring version overrides; records use."""

    def __init__(self, overrides: dict[str, str], gwp_set: str = "AR6") -> None:
        self.overrides = overrides
        self.gwp_set = gwp_set
        self.used: dict[str, DatasetInfo] = {}
        self.gwp_sets: set[str] = set()

    def record(self, reference: str) -> FactorRecord:
        dataset_ref, factor_id = reference.split(":", 1)
        name, _, version = dataset_ref.partition("@")
        version = self.overrides.get(name, version)
        ds = load_dataset(name, version or None)
        rec = reweighted(ds, ds.get(factor_id), self.gwp_set)
        self.used[ds.info.key] = ds.info
        if rec.gwp_set:
            self.gwp_sets.add(rec.gwp_set)
        return rec


#: Gases whose CO2e share depends on the GWP set, and their ``ipcc_gwp100`` record ids (the
#: AR6 value "without distinction of origin", Table 7.SM.7, as AR4 and AR5 give one value).
_REWEIGHTED_GASES = {"ch4": "gwp.ch4", "n2o": "gwp.n2o"}


def reweighted(ds: Dataset, record: FactorRecord, gwp_set: str) -> FactorRecord:
    """``record`` (a CO2e factor) in ``gwp_set`` when its dataset splits it by gas.

    A CO2e factor is Σ mass_g × GWP_g; a publisher that also gives each gas's share in CO2e
    (DESNZ: "kg CO2e of CO2 / CH4 / N2O per unit", ids ``<id>.co2``, ``<id>.ch4``,
    ``<id>.n2o``) lets it be re-expressed in another set exactly:
    ``CO2e_new = CO2e + Σ_{g ∈ CH4, N2O} share_g × (GWP_g,new / GWP_g,old − 1)``
    (IPCC AR5 WG1 Ch. 8 Eq. 8.1 definition of CO2e; GWP values from ``ipcc_gwp100``).
    Records without such a split, of another gas, or already in ``gwp_set`` are returned as
    they are (their set is then recorded as used: ``factor_gwp_sets`` in the summary).
    """
    if record.gas != "CO2e" or not record.gwp_set or record.gwp_set == gwp_set:
        return record
    shares = {gas: f"{record.id}.{gas}" for gas in ("co2", *_REWEIGHTED_GASES)}
    if not all(fid in ds for fid in shares.values()) or \
            any(ds.get(fid).unit != record.unit for fid in shares.values()):
        return record
    old = load_dataset("ipcc_gwp100", record.gwp_set)
    new = load_dataset("ipcc_gwp100", gwp_set)
    value = record.value
    for gas, gwp_id in _REWEIGHTED_GASES.items():
        ratio = new.get(gwp_id).value_in("kg CO2e / kg") / old.get(gwp_id).value_in(
            "kg CO2e / kg")
        value += ds.get(shares[gas]).value * (ratio - 1.0)
    return dataclasses.replace(
        record, value=value, gwp_set=gwp_set,
        notes=f"{record.notes} Re-weighted from {record.gwp_set} to {gwp_set} with its CH4 and "
              f"N2O shares (hesuan.transport.factors.reweighted).".strip())


def _as_gas(unit: str, record: FactorRecord, gas: str) -> str:
    """Rewrite a record's unit so its gas reads as ``gas`` where that is exact.

    CO2 mass is CO2e mass with GWP 1, so a CO2 record (``gas = CO2``, e.g. DESNZ's "kg CO2e of
    CO2" columns or China's CO2-only grid factors) can be read in either.
    """
    if record.gas == "CO2":
        if gas == "CO2":
            return unit.replace("CO2e", "CO2")
        return unit.replace("CO2e", "CO2").replace("CO2", "CO2e")
    return unit


def per_user_unit(
    record: FactorRecord, gas: str, user_unit: str,
    density_kg_per_l: float | None, ncv_mj_per_kg: float | None,
) -> float | None:
    """Return a fuel factor as kg of ``gas`` per one ``user_unit`` (L, kg, kWh, MJ), or None.

    The user's unit is expressed as kg, L and MJ of fuel with the fuel's density and NCV
    (where known); the record is converted to kg gas per whichever of those its denominator
    is. ``None`` when no path exists (e.g. electricity in litres).
    """
    amounts: dict[str, float] = {}
    if user_unit == "kWh":
        amounts["MJ"] = MJ_PER_KWH
    elif user_unit == "MJ":
        amounts["MJ"] = 1.0
    elif user_unit == "kg":
        amounts["kg"] = 1.0
    elif user_unit == "L":
        amounts["L"] = 1.0
    if "L" in amounts and density_kg_per_l:
        amounts["kg"] = amounts["L"] * density_kg_per_l
    if "kg" in amounts and ncv_mj_per_kg:
        amounts["MJ"] = amounts["kg"] * ncv_mj_per_kg
    if "MJ" in amounts and "kg" not in amounts and ncv_mj_per_kg:
        amounts["kg"] = amounts["MJ"] / ncv_mj_per_kg
    if "kg" in amounts and "L" not in amounts and density_kg_per_l:
        amounts["L"] = amounts["kg"] / density_kg_per_l
    unit = _as_gas(record.unit, record, gas)
    from hesuan.units import convert

    for target, amount in amounts.items():
        try:
            value = convert(record.value, unit, f"kg {gas} / {_UNIT_TARGETS[target]}")
        except UnitError:
            continue
        return value * amount
    return None


def _intensity_g_per_tkm(record: FactorRecord) -> float:
    return record.value_in("g CO2e / tkm") if record.gas != "CO2" else \
        __import__("hesuan.units", fromlist=["convert"]).convert(
            record.value, _as_gas(record.unit, record, "CO2e"), "g CO2e / tkm")


def _load_user(spec: str) -> Dataset:
    path = Path(spec)
    if path.exists():
        return load_dataset_path(path)
    return load_dataset(spec)


@lru_cache(maxsize=16)
def resolve(factors: tuple[str, ...] = (), gwp_set: str = "AR6") -> ResolvedFactors:
    """Resolve the key map (and any user dataset) into lookup tables.

    Parameters
    ----------
    factors : each either ``dataset@version`` (use that version for the map's references to
        that dataset) or the path/name of a user dataset whose ids follow the conventions in
        the module docstring (its keys add to or override the map's).
    gwp_set : ``AR4`` | ``AR5`` | ``AR6``: refrigerant GWPs, and CO2e factors whose
        publisher splits them by gas are re-weighted to it (:func:`reweighted`); others keep
        their publisher's set (all sets used are recorded).
    """
    overrides: dict[str, str] = {}
    user: Dataset | None = None
    for item in factors:
        name, _, version = item.partition("@")
        if not Path(item).exists() and version and name in {
                r["reference"].split("@")[0] for r in read_map() if "@" in r["reference"]}:
            overrides[name] = version
        else:
            user = _load_user(item)
    lib = _Library(overrides, gwp_set)
    rows = read_map()

    vehicle_parts: dict[tuple[str, str], dict[str, list[FactorRecord]]] = defaultdict(
        lambda: defaultdict(list))
    default_vehicle: dict[tuple[str, str], str] = {}
    fuel_parts: dict[tuple[str, str], dict[str, list[FactorRecord | None]]] = defaultdict(
        lambda: defaultdict(list))
    props: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        kind, ref = row["kind"], row["reference"]
        if kind == "default_vehicle":
            default_vehicle[(row["mode"], row["key"])] = ref
        elif kind == "vehicle_intensity":
            vehicle_parts[(row["mode"], row["key"])][row["scope"]].append(lib.record(ref))
        elif kind == "fuel_factor":
            rec = None if ref == "0" else lib.record(ref)
            fuel_parts[(row["key"], row["region"])][row["scope"]].append(rec)
        elif kind == "fuel_property":
            rec = lib.record(ref)
            if row["scope"] == "density":
                props[row["key"]]["density"] = rec.value_in("kg / L")
            else:
                props[row["key"]]["ncv"] = rec.value_in("MJ / kg")

    vrows = []
    for (mode, vehicle), scopes in vehicle_parts.items():
        vrows.append(_vehicle_row(mode, vehicle, scopes))
    if user is not None:
        vrows = _merge_user_vehicles(vrows, user)
        fuel_parts.update(_user_fuels(user))
        lib.used[user.info.key] = user.info
    frows = []
    for (fuel, region), fscopes in fuel_parts.items():
        for unit in FUEL_UNITS:
            frow = _fuel_row(fuel, region, unit, fscopes, props.get(fuel, {}))
            if frow is not None:
                frows.append(frow)
    lib.gwp_sets |= {r.gwp_set for r in (user.records if user else ()) if r.gwp_set}
    vehicles = pl.DataFrame(vrows, schema={
        "mode": pl.String, "vehicle": pl.String, "v_ttw_g_per_tkm": pl.Float64,
        "v_wtt_g_per_tkm": pl.Float64, "v_basis": pl.String, "v_factor_ttw": pl.String,
        "v_factor_wtt": pl.String})
    fuels = pl.DataFrame(frows, schema={
        "fuel": pl.String, "region": pl.String, "fuel_unit": pl.String,
        "f_ttw_kg_per_unit": pl.Float64, "f_wtt_kg_per_unit": pl.Float64,
        "f_co2_kg_per_unit": pl.Float64, "f_factor_ttw": pl.String, "f_factor_wtt": pl.String,
        "f_factor_co2": pl.String})
    return ResolvedFactors(vehicles=vehicles, default_vehicle=default_vehicle, fuels=fuels,
                           gwp_set=gwp_set, datasets=dict(lib.used),
                           factor_gwp_sets=lib.gwp_sets,
                           user_dataset=user.info.key if user else None)


def _refs(records: list[FactorRecord | None]) -> str:
    return " + ".join("0" if r is None else r.key for r in records)


def _vehicle_row(mode: str, vehicle: str,
                 scopes: dict[str, list[FactorRecord]]) -> dict[str, object]:
    bases = {r.distance_basis for recs in scopes.values() for r in recs}
    if len(bases) != 1:
        raise FactorNotFoundError(f"factor map: {mode}/{vehicle} mixes distance bases {bases}")
    return {
        "mode": mode, "vehicle": vehicle,
        "v_ttw_g_per_tkm": sum(_intensity_g_per_tkm(r) for r in scopes.get("TTW", [])),
        "v_wtt_g_per_tkm": sum(_intensity_g_per_tkm(r) for r in scopes.get("WTT", [])),
        "v_basis": bases.pop(), "v_factor_ttw": _refs(list(scopes.get("TTW", []))),
        "v_factor_wtt": _refs(list(scopes.get("WTT", []))),
    }


def _merge_user_vehicles(vrows: list[dict[str, object]],
                         user: Dataset) -> list[dict[str, object]]:
    found: dict[tuple[str, str], dict[str, FactorRecord]] = defaultdict(dict)
    for rec in user.records:
        parts = rec.id.split(".")
        if len(parts) == 4 and parts[0] == "intensity" and parts[3] in ("ttw", "wtt", "wtw"):
            found[(parts[1], parts[2])][parts[3].upper()] = rec
    by_key = {(r["mode"], r["vehicle"]): r for r in vrows}
    for (mode, vehicle), scopes in found.items():
        ttw = scopes.get("TTW")
        wtt = scopes.get("WTT")
        wtw = scopes.get("WTW")
        if ttw is None or (wtt is None and wtw is None):
            raise InputError.single(
                f"user dataset {user.info.key}: intensity.{mode}.{vehicle} needs a ttw record "
                "and a wtt or wtw record", field="id",
                expected="intensity.<mode>.<vehicle>.ttw plus .wtt or .wtw")
        ttw_g = _intensity_g_per_tkm(ttw)
        wtt_g = _intensity_g_per_tkm(wtt) if wtt else _intensity_g_per_tkm(wtw) - ttw_g  # type: ignore[arg-type]
        used = [r for r in (ttw, wtt, wtw) if r is not None]
        bases = {r.distance_basis for r in used}
        if len(bases) != 1:
            raise InputError.single(
                f"user dataset {user.info.key}: intensity.{mode}.{vehicle} mixes distance "
                f"bases {sorted(bases)}", field="distance_basis", expected="one basis")
        by_key[(mode, vehicle)] = {
            "mode": mode, "vehicle": vehicle, "v_ttw_g_per_tkm": ttw_g,
            "v_wtt_g_per_tkm": wtt_g, "v_basis": bases.pop(), "v_factor_ttw": ttw.key,
            "v_factor_wtt": wtt.key if wtt else f"{wtw.key} − {ttw.key}",  # type: ignore[union-attr]
        }
    return list(by_key.values())


def _user_fuels(user: Dataset) -> dict[tuple[str, str], dict[str, list[FactorRecord | None]]]:
    out: dict[tuple[str, str], dict[str, list[FactorRecord | None]]] = defaultdict(
        lambda: defaultdict(list))
    for rec in user.records:
        parts = rec.id.split(".")
        if len(parts) == 3 and parts[0] == "fuel" and parts[2] in ("ttw", "wtt",
                                                                   "co2_combustion"):
            region = "" if rec.region in ("GLOBAL", "") else rec.region
            out[(parts[1], region)][parts[2].upper()].append(rec)
    return out


def _fuel_row(fuel: str, region: str, unit: str,
              scopes: dict[str, list[FactorRecord | None]],
              props: dict[str, float]) -> dict[str, object] | None:
    values: dict[str, float] = {}
    for scope, gas in (("TTW", "CO2e"), ("WTT", "CO2e"), ("CO2_COMBUSTION", "CO2")):
        total = 0.0
        for rec in scopes.get(scope, []):
            if rec is None:
                continue
            v = per_user_unit(rec, gas, unit, props.get("density"), props.get("ncv"))
            if v is None:
                return None
            total += v
        values[scope] = total
    if not scopes.get("TTW") and not scopes.get("WTT"):
        return None
    return {
        "fuel": fuel, "region": region, "fuel_unit": unit,
        "f_ttw_kg_per_unit": values["TTW"], "f_wtt_kg_per_unit": values["WTT"],
        "f_co2_kg_per_unit": values["CO2_COMBUSTION"] if scopes.get("CO2_COMBUSTION")
        else None,
        "f_factor_ttw": _refs(scopes.get("TTW", [])), "f_factor_wtt": _refs(scopes.get("WTT", [])),
        "f_factor_co2": _refs(scopes.get("CO2_COMBUSTION", [])) or None,
    }
