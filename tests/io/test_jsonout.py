"""Strict JSON out and in, and the provenance record."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from hesuan.errors import InputError, NonFiniteError
from hesuan.io.jsonout import dumps, loads, write_json
from hesuan.io.provenance import DatasetUse, Provenance


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan"),
                                 Decimal("NaN")])
def test_non_finite_is_refused_with_its_key_path(bad: object) -> None:
    with pytest.raises(NonFiniteError, match=r"at totals\.legs\[1\]\.wtw_kg: "):
        dumps({"totals": {"legs": [{"wtw_kg": 1.0}, {"wtw_kg": bad}]}})


def test_write_json_leaves_no_file_on_nan(tmp_path: Path) -> None:
    with pytest.raises(NonFiniteError):
        write_json(tmp_path / "s.json", {"x": float("nan")})
    assert not (tmp_path / "s.json").exists()


def test_usual_types() -> None:
    @dataclasses.dataclass(frozen=True)
    class R:
        a: float
        b: tuple[int, ...]

    text = dumps({"r": R(1.5, (1, 2)), "p": Path("x/y"), "d": dt.date(2024, 1, 2),
                  "n": np.int64(3), "arr": np.array([1.0, 2.0]), "dec": Decimal("2.50"),
                  "whole": Decimal("3")}, indent=None)
    assert text == ('{"r": {"a": 1.5, "b": [1, 2]}, "p": "x/y", "d": "2024-01-02", "n": 3, '
                    '"arr": [1.0, 2.0], "dec": "2.50", "whole": 3}')


def test_loads_refuses_nan_and_names_the_line() -> None:
    with pytest.raises(InputError, match="NaN is not valid JSON"):
        loads('{"a": NaN}', file="s.json")
    with pytest.raises(InputError, match=r"s\.json, line 2: not valid JSON"):
        loads('{"a":\n }', file="s.json")


def test_provenance(tmp_path: Path) -> None:
    f = tmp_path / "legs.csv"
    f.write_bytes(b"abc")
    prov = Provenance.create("transport run", inputs={"legs": f}, parameters={"gwp": "AR5"},
                             datasets=[DatasetUse("glec", "3.1", "CC BY 4.0")],
                             now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    d = prov.as_dict()
    # SHA-256 of b"abc" (FIPS 180-2, appendix B.1)
    assert d["inputs"][0]["sha256"] == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert d["run_utc"] == "2026-01-02T03:04:05Z" and d["datasets"][0]["version"] == "3.1"
    assert loads(dumps(d)) == d
    schema = Provenance.json_schema()
    assert {"hesuan_version", "inputs", "run_utc"} <= set(schema["properties"])
