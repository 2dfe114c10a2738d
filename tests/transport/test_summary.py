"""summary.json: a frozen, declared type; its published schema is current; strict JSON;
provenance, plausibility warnings and duplicate legs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pydantic
import pytest

from hesuan.cli import main
from hesuan.errors import InputError
from hesuan.examples import path as example
from hesuan.transport import TransportSummary, calculate, write_summary
from hesuan.transport.schema import SCHEMA_PATH, schema_text

LEG = {"shipment_id": "S1", "leg_id": "1", "mode": "road", "mass_t": 10.0,
       "distance_km": 100.0}


def test_published_schema_is_current() -> None:
    # docs/schemas/transport-summary.schema.json is what `python -m hesuan.transport.schema`
    # writes from the code; regenerate it when the summary type changes.
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_summary_is_frozen_and_refuses_unknown_keys() -> None:
    s = calculate(pl.DataFrame([LEG])).summary
    with pytest.raises(pydantic.ValidationError):
        s.wtw_t_co2e = 0.0  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        TransportSummary.model_validate({**s.model_dump(), "surprise": 1})


def test_written_summary_is_strict_json_and_reads_back(tmp_path: Path) -> None:
    # a leg of 0 t has no intensity (0/0): null in the JSON, never a bare NaN
    legs = pl.DataFrame([LEG, LEG | {"leg_id": "2", "mass_t": 0.0}])
    s = calculate(legs).summary
    path = write_summary(s, tmp_path / "s.json")
    text = path.read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert TransportSummary.model_validate_json(text) == s


def test_provenance_names_inputs_with_their_sha256(tmp_path: Path) -> None:
    legs, hubs = example("transport", "legs.csv"), example("transport", "hubs.csv")
    s = calculate(legs, hubs, out=tmp_path / "r.parquet").summary
    assert s.provenance is not None
    files = {f.role: f for f in s.provenance.inputs}
    assert files["legs"].sha256 == hashlib.sha256(Path(legs).read_bytes()).hexdigest()
    assert files["hubs"].sha256 == hashlib.sha256(Path(hubs).read_bytes()).hexdigest()
    assert s.provenance.parameters["gwp"] == "AR6"
    assert "desnz_ghg" in {d.id for d in s.provenance.datasets}
    assert s.provenance.hesuan_version and s.provenance.run_utc.endswith("Z")
    assert s.run_seconds is not None and s.run_seconds > 0


def test_report_shows_provenance_and_warnings(tmp_path: Path) -> None:
    # 1.5 L of diesel for 1,000 t × 1,000 km is ~4 g CO2e/t·km: far below DESNZ's HGV
    # average (≈ 100–130 g/t·km, the case the issue reports) — a warning, not an error.
    legs = tmp_path / "legs.csv"
    pl.DataFrame([LEG | {"mass_t": 1000.0, "distance_km": 1000.0, "fuel": "diesel",
                         "fuel_amount": 1.5, "fuel_unit": "L"}]).write_csv(legs)
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "calculate", str(legs), "--out", str(tmp_path / "r.parquet"),
              "--summary", str(tmp_path / "s.json"), "--report", str(tmp_path / "r.html")])
    assert exit_.value.code == 0
    s = json.loads((tmp_path / "s.json").read_text())
    (warning,) = s["warnings"]
    assert warning["code"] == "intensity_road" and warning["lines"] == [2]
    html = (tmp_path / "r.html").read_text()
    assert "Warnings" in html and "Provenance" in html
    assert hashlib.sha256(legs.read_bytes()).hexdigest() in html


def test_duplicate_leg_keys_are_refused_across_batches() -> None:
    legs = pl.DataFrame([LEG, LEG | {"leg_id": "2"}, LEG | {"leg_id": "3"}, LEG])
    with pytest.raises(InputError, match=r"S1/1 on lines 2, 5"):
        calculate(legs, batch_size=2)


def test_json_option_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "calculate", str(example("transport", "legs.csv")), "--out",
              str(tmp_path / "r.parquet"), "--json"])
    assert exit_.value.code == 0
    s = TransportSummary.model_validate_json(capsys.readouterr().out)
    assert s.n_legs > 0 and s.provenance is not None
