"""A blood count sent as one panel Observation reaches the cards when fetched from the FHIR
server, as it does when prefetched: the labs search must name the panel's own code, since a
FHIR ``code`` search matches Observation.code and never a component's."""

from __future__ import annotations

from ..api.support import prefetch_for
from ..scenarios import scenarios
from .ehr import MockEhr, normalise

FIXTURE = "R7-severe-anaemia/fbc-panel-fires[us]"  # loaded on the server with every fixture
CBC_PANEL = "58410-2"
HB = "718-7"


def codes(resource: dict) -> set[str]:
    return {c.get("code") for c in resource.get("code", {}).get("coding", [])}


def test_an_hb_sent_only_in_a_panel_is_fetched_and_quoted_as_when_prefetched(
    fhir_server, make_client, as_of
):
    (scenario,) = [s for s in scenarios() if s.id == FIXTURE]
    resources, _ = scenario.data(as_of)
    labs = [r for r in resources if r["resourceType"] == "Observation"]
    (panel,) = [r for r in labs if CBC_PANEL in codes(r)]
    assert HB in set().union(*(codes(part) for part in panel["component"]))
    assert not any(HB in codes(r) for r in labs)  # the Hb is nowhere else
    ehr = MockEhr(make_client(profile=scenario.profile), fhir_server.base)
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")

    fetched = ehr.call(ehr.request(scenario.hook, pid))
    prefetched = ehr.call(ehr.request(scenario.hook, pid, prefetch=prefetch_for(resources)))

    assert fetched.status == prefetched.status == 200, fetched.body
    assert normalise(fetched.body) == normalise(prefetched.body)
    (severe,) = [c for c in fetched.body["cards"] if c["detail"].startswith("Severe anemia")]
    assert "- Hb: 7.2 g/dL on " in severe["detail"]
