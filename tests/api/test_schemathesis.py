"""Property-based tests generated from the app's own OpenAPI schema (schemathesis).

Every operation, with inputs generated from its documented parameters (valid ones,
and invalid ones in negative mode), under ALL of schemathesis's checks: no response
may be a server error, every response must conform to the schema (status code,
content type, headers, body), documented-valid input must be accepted and
documented-invalid input refused (so the description and the server agree).
Examples are bounded and derandomized, and the database is the small synthetic
build, so this stays quick and stable in CI. Runs against every back end.

(``schemathesis.pytest.from_fixture`` does not work with pytest 9, so each
operation is a pytest case that draws its cases from ``APIOperation.as_strategy``.)
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks

from api.main import create_app
from api.settings import Settings

load_all_checks()
CHECKS = REGISTRY.get_all()

# The operations, read from the schema of an app that is never started (the schema needs no database).
_SPEC = create_app(Settings()).openapi()["paths"]
OPERATIONS = [(path, method.upper()) for path, ops in _SPEC.items() for method in ops]
# Negative mode needs a parameter that can be made invalid: query parameters (a path
# parameter cannot be, once it is a non-empty string in a URL).
WITH_QUERY = {(path, method.upper()) for path, ops in _SPEC.items() for method, op in ops.items()
              if any(p["in"] == "query" for p in op.get("parameters", []))}
CASES = [(p, m, mode) for p, m in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or (p, m) in WITH_QUERY]


@pytest.fixture(scope="session")
def api_schema(app, client):
    # `client` has run the app's start-up (database opened and checked).
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_all_checks_run():
    names = {c.__name__ for c in CHECKS}
    assert {"not_a_server_error", "positive_data_acceptance", "negative_data_rejection",
            "response_schema_conformance", "unsupported_method"} <= names


def test_every_endpoint_is_covered():
    assert {p for p, _ in OPERATIONS} >= {"/v1/agreements", "/v1/agreements/{agreement_id}", "/v1/countries",
                                          "/v1/countries/{iso3}", "/v1/equipment", "/v1/sources", "/v1/stats",
                                          "/v1/meta", "/v1/datapackage.json", "/healthz"}


@pytest.mark.parametrize("path, method, mode", CASES, ids=[f"{m} {p} {mode.value}" for p, m, mode in CASES])
def test_operation_conforms_to_the_schema(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        if mode is GenerationMode.POSITIVE and case.query and case.query.get("cursor"):
            # A cursor is a token the server signs; a generated string is (rightly) refused with
            # 400 whatever its shape. Cursors are tested with real and forged ones in test_faults.
            del case.query["cursor"]
        case.call_and_validate(checks=CHECKS)

    run()
