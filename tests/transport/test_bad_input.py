"""Every bad-input case stops the run with a message naming line, column and allowed values,
and writes no output; ``--skip-invalid`` writes rejects instead."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hesuan.cli import main
from hesuan.errors import InputError
from hesuan.transport import calculate

GOOD = {"shipment_id": "S1", "leg_id": "1", "mode": "road", "mass_t": "10",
        "distance_km": "100"}


def write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "legs.csv"
    pl.DataFrame(rows, schema=list(dict.fromkeys(k for r in rows for k in r))).write_csv(path)
    return path


CASES = [
    ({"mode": "hovercraft"}, "mode", "road | rail | inland_waterway | sea | air"),
    ({"vehicle": "spaceship"}, "vehicle", "hesuan transport keys"),
    ({"distance_basis": "crowfly"}, "distance_basis", "sfd | gcd | actual"),
    ({"mass_t": "-3"}, "mass_t", ">= 0"),
    ({"mass_t": ""}, "mass_t", "a value"),
    ({"distance_km": "", "origin_lat": "95", "origin_lon": "8", "dest_lat": "50",
      "dest_lon": "9"}, "origin_lat", "<= 90"),
    ({"distance_km": "12,5"}, "distance_km", "a number such as 12.5"),
    ({"fuel": "diesel", "fuel_amount": "30"}, "fuel_unit", "L | kg | kWh | MJ"),
    ({"fuel": "unobtainium", "fuel_amount": "3", "fuel_unit": "L"}, "fuel", "diesel"),
    ({"intensity_basis": "km"}, "intensity_basis", "sfd | gcd | actual"),
    ({"refrigerant": "R-999", "refrigerant_kg": "1"}, "refrigerant", "R-404A"),
    ({"mode": "air", "distance_km": "80", "distance_basis": "actual"}, "distance_km", "> 95"),
    # the trip's load (ISO 14083 Table G.5; CLECAT Examples 2 and 4, pp. 32–35)
    ({"trip_id": "T", "passengers": "-150"}, "passengers", ">= 0"),
    ({"trip_id": "T", "freight_units": "-1", "unit_passenger_equivalents": "1.3"},
     "freight_units", ">= 0"),
    ({"trip_id": "T", "freight_units": "30", "unit_passenger_equivalents": "0"},
     "unit_passenger_equivalents", "> 0"),
    ({"trip_id": "T", "freight_units": "30"}, "unit_passenger_equivalents", "Table G.5"),
    ({"trip_id": "T", "trip_teu": "6000", "reefer_teu": "950", "reefer_teu_factor": "0"},
     "reefer_teu_factor", "> 0"),
    ({"trip_id": "T", "trip_teu": "-6000"}, "trip_teu", ">= 0"),
    ({"passengers": "150"}, "passengers", "a trip_id"),
    ({"reefer_teu": "950"}, "reefer_teu", "a trip_id"),
]


@pytest.mark.parametrize(("change", "column", "allowed"), CASES)
def test_bad_value_names_line_column_and_allowed(tmp_path: Path, change: dict[str, str],
                                                 column: str, allowed: str) -> None:
    bad = GOOD | {"leg_id": "2"} | change
    path = write(tmp_path, [GOOD, GOOD | {"leg_id": "3"}, bad])
    with pytest.raises(InputError) as info:
        calculate(path, out=tmp_path / "r.parquet")
    text = str(info.value)
    assert "line 4" in text            # header is line 1; the bad row is the 3rd data row
    assert f"field '{column}'" in text
    assert allowed in text
    assert not list(tmp_path.glob("r*.parquet*"))  # no partial output


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, [{k: v for k, v in GOOD.items() if k != "mass_t"}])
    with pytest.raises(InputError) as info:
        calculate(path, out=tmp_path / "r.parquet")
    assert "field 'mass_t': missing column" in str(info.value)
    assert "line 1" in str(info.value)
    assert not list(tmp_path.glob("r*"))


def test_cli_error_no_traceback_and_no_output(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [GOOD, GOOD | {"mode": "teleport"}])
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "calculate", str(path), "--out", str(tmp_path / "r.parquet"),
              "--summary", str(tmp_path / "s.json")])
    assert exit_.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 3" in err and "mode" in err and "Traceback" not in err
    assert not list(tmp_path.glob("r*")) and not (tmp_path / "s.json").exists()


def test_skip_invalid_writes_rejects(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = [GOOD, GOOD | {"leg_id": "2", "mass_t": "-1"},
            GOOD | {"leg_id": "3", "mode": "zeppelin"}]
    path = write(tmp_path, rows)
    main_args = ["transport", "calculate", str(path), "--out", str(tmp_path / "r.parquet"),
                 "--skip-invalid"]
    with pytest.raises(SystemExit) as exit_:
        main(main_args)
    assert exit_.value.code == 0
    rejects = pl.read_csv(tmp_path / "r.rejects.csv", infer_schema=False)
    assert rejects["line"].to_list() == ["3", "4"]
    assert "mass_t" in rejects["reject_reason"][0] and "mode" in rejects["reject_reason"][1]
    assert pl.read_parquet(tmp_path / "r.parquet").height == 1
    assert "skipped 2 invalid row(s)" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_input_without_legs_is_a_clear_error(tmp_path: Path, suffix: str) -> None:
    empty = pl.DataFrame({k: pl.Series([], dtype=pl.String) for k in GOOD})
    path = tmp_path / f"legs.{suffix}"
    empty.write_csv(path) if suffix == "csv" else empty.write_parquet(path)
    with pytest.raises(InputError) as info:
        calculate(path, out=tmp_path / "r.parquet")
    assert "no data rows" in str(info.value) and str(path) in str(info.value)
    assert not list(tmp_path.glob("r*"))


def test_all_rows_invalid_with_skip_invalid_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, [GOOD | {"mode": "zeppelin"}, GOOD | {"leg_id": "2", "mass_t": "x"}])
    with pytest.raises(InputError) as info:
        calculate(path, out=tmp_path / "r.parquet", skip_invalid=True)
    message = str(info.value)
    assert "all 2 legs are invalid" in message and "line 2" in message and "mode" in message
    assert not list(tmp_path.glob("r*"))
    from hesuan.transport.driver import NoValidLegs

    assert isinstance(info.value, NoValidLegs) and info.value.rejects is not None
    rejects = info.value.rejects  # every row, with its reasons, for a caller to list
    assert rejects["line"].to_list() == ["2", "3"]
    assert "mode" in rejects["reject_reason"][0] and "mass_t" in rejects["reject_reason"][1]


def test_hub_without_data_is_rejected() -> None:
    legs = pl.DataFrame([{k: v for k, v in GOOD.items()}]).with_columns(
        pl.col("mass_t").cast(pl.Float64), pl.col("distance_km").cast(pl.Float64))
    hubs = pl.DataFrame({"shipment_id": ["S1"], "hub_id": ["H"], "hub_type": ["storage"],
                         "mass_t": [3.0]})
    with pytest.raises(InputError) as info:
        calculate(legs, hubs)
    assert "field 'intensity_wtw_kg_per_t'" in str(info.value)


def test_bad_scenario_rule() -> None:
    from hesuan.transport import parse_rules

    with pytest.raises(InputError, match="cannot assign 'mass_t'"):
        parse_rules("mode=road -> mass_t=3")
    with pytest.raises(InputError, match="has no '->'"):
        parse_rules("mode=road")


# --- found in review: emissions must never vanish, and a failed run publishes nothing ---


def _trip_leg(leg_id: str, mass_t: float, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {"shipment_id": "S1", "leg_id": leg_id, "mode": "road",
                              "mass_t": mass_t, "distance_km": 100.0, "trip_id": "T"}
    row.update(kw)
    return row


def test_trip_fuel_without_tkm_is_refused_not_dropped() -> None:
    # ISO 14083 allocation by t·km: the allocated parts must sum to the trip's total
    # (CLECAT guide pp. 31-36). With 0 t aboard there is nothing to allocate to.
    legs = pl.DataFrame([_trip_leg("a", 0.0, fuel="diesel", fuel_amount=100.0, fuel_unit="L"),
                         _trip_leg("b", 0.0)])
    with pytest.raises(InputError, match=r"trip.*T.*cannot be allocated"):
        calculate(legs)


def test_trip_of_the_trips_table_that_no_leg_names_is_refused() -> None:
    legs = pl.DataFrame([_trip_leg("a", 10.0, trip_id="T1")])
    trips = pl.DataFrame({"trip_id": ["T1", "T2"], "fuel": ["diesel", "diesel"],
                          "fuel_amount": [10.0, 1000.0], "fuel_unit": ["L", "L"]})
    with pytest.raises(InputError, match="T2"):
        calculate(legs, trips=trips)


def test_hub_energy_without_tonnes_is_refused() -> None:
    legs = pl.DataFrame([_trip_leg("a", 10.0, trip_id=None)])
    hubs = pl.DataFrame({"shipment_id": ["S1"], "hub_id": ["H"], "hub_type": ["storage"],
                         "mass_t": [0.0], "fuel": ["diesel"], "fuel_amount": [100.0],
                         "fuel_unit": ["L"]})
    with pytest.raises(InputError, match=r"hub.*H.*0 tonnes"):
        calculate(legs, hubs)


def test_failed_run_publishes_nothing(tmp_path: Path) -> None:
    legs = pl.DataFrame([_trip_leg("a", 10.0, trip_id=None),
                         _trip_leg("b", -1.0, trip_id=None)])
    (tmp_path / "rejects.csv").mkdir()  # a folder where the rejects file should go
    with pytest.raises(InputError, match="is a folder"):
        calculate(legs, out=tmp_path / "out.parquet", skip_invalid=True,
                  rejects_path=tmp_path / "rejects.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.csv"]


# --- a trip's load must be able to share its fuel (CLECAT Examples 2 and 4, pp. 32–35) ---


def _ship_leg(leg_id: str, tc: str, **kw: object) -> dict[str, object]:
    return _trip_leg(leg_id, 100.0, mode="sea", temperature_control=tc, **kw)


FUEL = {"fuel": "diesel", "fuel_amount": 1000.0, "fuel_unit": "L"}


@pytest.mark.parametrize(("rows", "field", "match"), [
    # a reefer share given without the trip's TEU
    ([_ship_leg("a", "ambient", **FUEL, reefer_teu=950.0), _ship_leg("b", "reefer")],
     "trip_teu", r"trip\(s\) T give reefer_teu without trip_teu"),
    ([_ship_leg("a", "ambient", **FUEL, trip_teu=900.0, reefer_teu=950.0),
      _ship_leg("b", "reefer")], "reefer_teu", "more reefer TEU than trip_teu"),
    # reefer TEU but no reefer leg to carry their energy, and reefer legs without reefer TEU
    ([_ship_leg("a", "ambient", **FUEL, trip_teu=6000.0, reefer_teu=950.0)],
     "temperature_control", "reefer TEU .* without reefer legs"),
    ([_ship_leg("a", "ambient", **FUEL, trip_teu=6000.0), _ship_leg("b", "reefer")],
     "temperature_control", "reefer legs without reefer TEU"),
    ([_ship_leg("a", "reefer", **FUEL, trip_teu=6000.0, reefer_teu=950.0)],
     "temperature_control", "ambient TEU without ambient legs"),
    ([_ship_leg("a", "ambient", **FUEL, trip_teu=6000.0, reefer_teu=950.0,
                reefer_teu_factor=1.17), _ship_leg("b", "reefer", reefer_teu_factor=1.2)],
     "reefer_teu_factor", "different reefer_teu_factor values"),
    # passengers and no freight passenger-equivalents: freight's share would be 0
    ([_trip_leg("a", 10.0, **FUEL, passengers=150.0)], "freight_units",
     "passengers but no freight units"),
])
def test_trip_load_that_cannot_share_the_fuel_is_refused(rows: list[dict[str, object]],
                                                         field: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as info:
        calculate(pl.DataFrame(rows))
    assert f"field '{field}'" in str(info.value)


def test_trip_load_in_the_trips_table_is_checked() -> None:
    legs = pl.DataFrame([_trip_leg("a", 10.0)])
    trips = pl.DataFrame({"trip_id": ["T"], **{k: [v] for k, v in FUEL.items()},
                          "passengers": [-1.0]})
    with pytest.raises(InputError, match="passengers below 0"):
        calculate(legs, trips=trips)
