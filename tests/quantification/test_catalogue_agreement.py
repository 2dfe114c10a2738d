"""The methodology modules of ``hesuan.quantification`` and the current methodology catalogue
of ``hesuan.standards`` agree: every module's methodology is catalogued with a record naming
that module, its tools and its report schema; every record naming a module has it.

The catalogue is what the registry reads to decide whether a monitoring report can be accepted
(``methodology_must_have_quantification_module``), so a disagreement would refuse reports hesuan
can produce, or promise reports it cannot.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from hesuan.quantification import methodologies, registered
from hesuan.quantification.report import SCHEMA_ID, QuantificationReport
from hesuan.quantification.spec import REGISTRY, MethodologySpec
from hesuan.registry.domain.quantification import REPORT_SCHEMA_ID
from hesuan.standards import load_methodologies
from hesuan.standards.methodologies import REPORT_SCHEMAS, normalise_id, normalise_version


def _modules() -> dict[str, MethodologySpec]:
    """Each module of ``hesuan.quantification.methodologies`` by name, with its spec."""
    found: dict[str, MethodologySpec] = {}
    for info in pkgutil.iter_modules(methodologies.__path__):
        module = importlib.import_module(f"{methodologies.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, MethodologySpec) and value in REGISTRY.values():
                found[info.name] = value
    return found


def test_modules_are_found_for_every_registered_spec() -> None:
    assert sorted(s.key for s in _modules().values()) == sorted(s.key for s in registered())
    assert {"ar_acm0003", "ccer_14_001"} <= set(_modules())


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_has_a_matching_current_record(name: str) -> None:
    spec = _modules()[name]
    record = load_methodologies().resolve(spec.id, spec.version)
    assert (normalise_id(record.id), normalise_version(record.version)) == (
        normalise_id(spec.id), normalise_version(spec.version))
    assert record.version == spec.version          # the catalogue's spelling, as reports state it
    assert record.module == name
    assert record.tools == spec.tools
    assert record.report_schema == REPORT_SCHEMA_ID
    assert record.crediting


def test_every_record_naming_a_module_has_it() -> None:
    modules = _modules()
    named = [r for r in load_methodologies() if r.has_module]
    assert named, "the current catalogue names no module"
    for record in named:
        assert record.module in modules, record.key
        assert modules[record.module].key == record.key, record.key
    without = {r.key for r in load_methodologies() if not r.has_module}
    assert not without & {s.key for s in registered()}


def test_the_report_schema_named_is_the_one_reports_carry() -> None:
    field = QuantificationReport.model_fields["schema_id"]
    assert field.default == SCHEMA_ID == REPORT_SCHEMA_ID
    assert SCHEMA_ID in REPORT_SCHEMAS      # the catalogue's validation accepts it
    assert {r.report_schema for r in load_methodologies() if r.has_module} == {REPORT_SCHEMA_ID}
