"""``GET /``: a landing page linking discovery, the API description and (locally) the preview."""

from __future__ import annotations

import re

from ..auth.support import auth_app, bearer, close, make_token
from .support import make_app


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_the_root_links_what_a_developer_opens_and_every_link_answers():
    client = make_app().test_client()
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    local = [link for link in links(page.text) if not link.startswith(("http", "data:"))]
    assert {"preview", "cds-services", "openapi.json", "healthz", "static/base.css"} <= set(local)
    assert all(not link.startswith("/") for link in local)  # relative: works under a proxy path
    for link in local:
        with client.get(f"/{link}") as response:  # closes the static files it sends
            assert response.status_code == 200, link
    assert "https://cds-hooks.hl7.org/2.0/" in links(page.text)


def test_with_authentication_on_the_root_is_open_and_offers_no_preview():
    app = auth_app()
    try:
        client = app.test_client()
        page = client.get("/")
        assert page.status_code == 200
        assert "preview" not in links(page.text)
        assert "(with an EHR" in page.text
        assert client.get("/cds-services").status_code == 401  # discovery still needs a token
        token = make_token("https://cds.example.org/cds-services")
        assert client.get("/cds-services", headers=bearer(token)).status_code == 200
    finally:
        close(app)
