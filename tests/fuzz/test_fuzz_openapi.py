"""Schemathesis against the server's own ``/openapi.json``: every operation, never a 5xx.

The operations declare a generic JSON object as their body, so Schemathesis sends arbitrary
objects; half of them carry valid credentials, so they get past authentication into the work.
Each operation's cases come from its Hypothesis strategy (Schemathesis' pytest plugin does not
run under pytest 9), so the run is bounded by the same profile as the other fuzz tests.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import ENDPOINTS, assert_envelope


@pytest.fixture(scope="module")
def operations(server) -> dict:
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.path.removeprefix("/app/api/v2/")] = operation
    return found


def test_the_schema_lists_every_endpoint(operations):
    assert set(ENDPOINTS) <= set(operations)


def test_no_operation_answers_a_5xx_to_any_object(operations, server, rows):
    # Every operation the server declares, those added after this test was written included.
    for endpoint, operation in sorted(operations.items()):

        @given(case=operation.as_strategy(), with_keys=st.booleans())
        def check(case, with_keys):
            if with_keys and isinstance(case.body, dict):
                case.body = {**case.body, **server.keys}
            before = rows.count()
            response = case.call(base_url=server.base, timeout=30)
            assert response.status_code < 500, f"{case.as_curl_command()} -> {response.status_code} {response.text[:300]}"
            answer = assert_envelope(response)
            if answer["error"] == "S" and not isinstance(answer.get("response"), list):
                assert rows.count() == before, endpoint

        check()
