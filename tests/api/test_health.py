"""``GET /healthz``: readiness for load balancers and the start-up check of ``serve``."""

from __future__ import annotations

import pytest

from .support import SERVICE_FOR_HOOK, make_app


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_healthz_is_ok_and_names_the_profile(profile, logs):
    response = make_app(profile=profile).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["profile"].lower() == profile
    assert set(body["services"]) == set(SERVICE_FOR_HOOK.values())
    assert body["cardRules"] > 0
    assert logs.requests() == []  # load balancer polls stay out of the request log
