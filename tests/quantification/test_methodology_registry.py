"""A third methodology is a new module and a catalogue record, not a rewrite: a module
declared here for a catalogued methodology (VM0047@1.1, used only as a stand-in id) runs the
shared cited steps with its own uncertainty rule, and the report, check and registry
machinery work unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hesuan.errors import InputError
from hesuan.quantification import check_report, get_methodology, quantify, registered, to_json
from hesuan.quantification.methodologies.afforestation import run_afforestation
from hesuan.quantification.methodologies.ar_acm0003 import INPUTS, PARAMETERS
from hesuan.quantification.project import Project
from hesuan.quantification.spec import REGISTRY, Condition, MethodologySpec, register
from hesuan.standards.methodologies import normalise_id, normalise_version


def _no_deduction(change: float, u: float, target: float) -> tuple[float, float, float]:
    return change, 0.0, 0.0


@pytest.fixture
def third() -> Iterator[MethodologySpec]:
    def run(project: Project) -> list:
        return run_afforestation(spec, project, _no_deduction, "none (test module)",
                                 "test clause", "AFOLU")

    spec = MethodologySpec(
        id="VM0047", version="1.1", title="stand-in module", tools=("AR-TOOL14 v04.2",),
        inputs=INPUTS, parameters=PARAMETERS,
        conditions=(Condition("land_must_not_be_wetland", "test", "wetland", "false",
                              lambda v: v is False, False),),
        uncertainty_rule="none", run=run)
    register(spec)
    yield spec
    del REGISTRY[(normalise_id("VM0047"), normalise_version("1.1"))]


def test_a_new_module_registers_and_runs_unchanged_machinery(third: MethodologySpec,
                                                             example: Path) -> None:
    assert get_methodology("vm 0047", "v1.1") is third
    assert third in registered()
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace('methodology = "CCER-14-001"', 'methodology = "VM0047"')
                       .replace('methodology_version = "V01"', 'methodology_version = "1.1"'),
                       encoding="utf-8")
    reports = quantify(example)
    assert reports[1].methodology_key == "VM0047@1.1"
    assert reports[1].removals.uncertainty_deduction_t_co2e == 0.0
    out = example.parent / "quantification.json"
    out.write_text(to_json(reports[1]), encoding="utf-8")
    assert check_report(out).report_sha256 == reports[1].report_sha256


def test_a_catalogued_methodology_without_module_is_refused(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace('methodology = "CCER-14-001"', 'methodology = "AR-AMS0007"')
                       .replace('methodology_version = "V01"', 'methodology_version = "03.1"'),
                       encoding="utf-8")
    with pytest.raises(InputError, match=r"no quantification module for AR-AMS0007@03\.1"):
        quantify(example)
