"""A SMART launch leaves no secret behind it: the launch id, the state, the authorization
code, the PKCE verifier and the EHR's access token reach no log line at any level (the
service's, urllib3's, werkzeug's), no error answer, and no Referer: every answer of the
flow says ``Referrer-Policy: no-referrer``."""

from __future__ import annotations

from cds_b12.auth import smart

from .support import assert_operation_outcome, make_app
from .test_timeline import _fake_ehr

LAUNCH = "launch-id-31337"


def test_a_smart_launch_logs_no_code_state_launch_verifier_or_token(
    httpserver, logs, everything_logged
):
    base = _fake_ehr(httpserver)
    app = make_app(smart_client_id="cds-b12-test", log_level="DEBUG")
    client = app.test_client()
    launch = client.get(f"/timeline/launch?iss={base}&launch={LAUNCH}")
    assert launch.status_code == 302
    state = launch.headers["Location"].split("state=", 1)[1].split("&", 1)[0]
    wrong = client.get(f"/timeline/callback?code=not-the-code&state={state}")
    assert_operation_outcome(wrong, 412)  # the EHR refused the code: the state is used up
    second = client.get(f"/timeline/launch?iss={base}&launch={LAUNCH}")
    state2 = second.headers["Location"].split("state=", 1)[1].split("&", 1)[0]
    forged = client.get("/timeline/callback?code=the-code&state=forged-state-4242")
    page = client.get(f"/timeline/callback?code=the-code&state={state2}")
    replayed = client.get(f"/timeline/callback?code=the-code&state={state2}")
    assert page.status_code == 200 and replayed.status_code == 400

    secrets = {
        "launch": LAUNCH,
        "state": state,
        "second state": state2,
        "forged state": "forged-state-4242",
        "code": "the-code",
        "refused code": "not-the-code",
        "access token": "ehr-token-xyz",
        "verifier": smart.pkce(app.extensions["cds_b12"].pseudonym_key, state2)[0],
    }
    text = logs.text + "\n" + everything_logged.text
    assert any(r.name.startswith("urllib3") for r in everything_logged.records)  # DEBUG on
    assert [line["path"] for line in logs.requests()][:2] == [
        "/timeline/launch",
        "/timeline/callback",
    ]
    for what, secret in secrets.items():
        assert secret not in text, what
    for answer in (launch, wrong, second, forged, page, replayed):
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        if answer.status_code >= 400:  # a redirect's Location carries state and launch: by design
            body = answer.get_data(as_text=True)
            for what, secret in secrets.items():
                assert secret not in body, what
