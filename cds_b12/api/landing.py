"""``GET /``: a small page saying what this server is and linking what a visitor can open.

Someone who opens the service's address in a browser gets discovery, the API
description and, in local development, the card preview, instead of a 404. The
links are relative, so they also work behind a proxy that serves us under a path.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response

from .runtime import runtime

bp = Blueprint("landing", __name__)

SPEC_URL = "https://cds-hooks.hl7.org/2.0/"


@bp.get("/")
def index() -> Response:
    links = [
        ("cds-services", "Discovery", "the CDS Hooks services and their prefetch templates"),
        ("openapi.json", "API description", "OpenAPI 3.1, generated from the request models"),
        ("healthz", "Health", "readiness, the guideline profile and the card rules loaded"),
        (SPEC_URL, "CDS Hooks 2.0", "the specification this service implements"),
    ]
    if runtime().verifier is None:  # the preview is served in local development only
        links.insert(0, ("preview", "Card preview", "the cards for any bundled patient"))
    else:
        links[0] = (*links[0][:2], f"{links[0][2]} (with an EHR's JWT)")
    items = "\n".join(
        f'    <li><a href="{escape(href)}">{escape(label)}</a>: {escape(text)}</li>'
        for href, label, text in links
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>cds-b12</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="static/base.css">
</head>
<body>
  <main>
  <h1>cds-b12</h1>
  <p>Clinical decision support for vitamin B12 therapy, as a CDS Hooks 2.0 service
    ({escape(runtime().profile.name)} profile).</p>
  <ul>
{items}
  </ul>
  </main>
</body>
</html>
"""
    return Response(page, mimetype="text/html")
