"""Thousands of generated requests, from the OpenAPI document, never break the service.

Schemathesis generates valid and invalid bodies, headers and paths for every
operation. The check: no status of 500 or more, no traceback in any answer, and
every 200 hook answer conforms to the document and the CDS Hooks checklist.
Examples per operation: FUZZ_EXAMPLES, else 1.5 times the hypothesis profile's
(tests/conftest.py), at most 300: 90 under the quick profile (the local default), 300
under the thorough one (CI, three times schemathesis's default), over 3,000 requests in
all. Generating the bodies is most of the cost, not the service answering them, and 600
per operation made this the costliest module of the suite. FUZZ_EXAMPLES=600 for a soak.
"""

from __future__ import annotations

import os
from datetime import date

import schemathesis
from hypothesis import HealthCheck, settings

from cds_b12.api import create_app
from cds_b12.config import Settings

from ..conformance import assert_valid_response

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or min(1.5 * settings.default.max_examples, 300))
MIN_REQUESTS = EXAMPLES * 5000 // 600  # 300 per operation sends over 3,000 (600: 5,000)

# Generated fhirServer values are never contacted: only an unused loopback base is allowed.
APP = create_app(
    Settings(
        fhir_server_allowlist=("http://127.0.0.1:9/fhir",),
        fhir_connect_timeout=0.2,
        fhir_read_timeout=0.2,
        fhir_deadline=0.5,
        log_level="ERROR",
    ),
    today=lambda: date(2026, 11, 21),
)
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
sent: list[int] = []


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_generated_requests_never_break_the_service(case):
    response = case.call()
    sent.append(response.status_code)
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text and 'File "' not in response.text
    if (
        response.status_code == 200
        and case.operation.path.count("/") == 2
        and case.method.upper() == "POST"
    ):
        assert_valid_response(response.json())


def test_enough_requests_were_sent():
    """Runs after the generated tests above (pytest keeps file order)."""
    assert len(sent) >= MIN_REQUESTS, f"only {len(sent)} generated requests"
    print(f"{len(sent)} generated requests")
