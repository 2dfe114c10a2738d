"""Property-based API testing with Schemathesis against the OpenAPI schema (bounded
examples): no 5xx, responses conform to the schema (status codes, content type, body).

Schemathesis generates valid and invalid requests for every operation, with the
administrator's bearer token so that writes are exercised too.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hesuan.registry.api import create_app  # noqa: E402
from hesuan.registry.engine import Registry  # noqa: E402

from .conftest import build_world  # noqa: E402


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    reg = Registry.open(f"sqlite:///{tmp_path_factory.mktemp('st') / 'r.db'}", pool_size=4)
    world = build_world(reg)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    app = create_app(reg, signing_key=Ed25519PrivateKey.generate())  # (transparency too)
    app.state.admin_token = world.tokens["admin"]
    yield app
    reg.close()


@pytest.fixture(scope="module")
def api_schema(api):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", api)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


def test_api_conforms_to_its_schema(api, api_schema) -> None:  # type: ignore[no-untyped-def]
    # (driven with Hypothesis directly: schemathesis' pytest plugin does not load on pytest 9)
    headers = {"Authorization": f"Bearer {api.state.admin_token}"}
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()


def test_registry_still_sound_after_fuzzing(api) -> None:  # type: ignore[no-untyped-def]
    report = api.state.registry.verify()
    assert report["ok"], report["problems"]
