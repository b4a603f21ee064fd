"""orjson on the request path reads every input exactly as the standard library did,
and writes the same values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask

from cds_b12 import jsonio
from cds_b12.api.json_provider import OrjsonProvider
from cds_b12.clinical import get_profile
from cds_b12.hooks.response import respond

from .scenarios import AS_OF, scenarios

# what orjson refuses and the standard library reads: each read as before
ODD_INPUTS = [
    b'{"value": NaN}',
    b'{"value": Infinity}',
    b'{"value": 1e400}',
    b'{"id": "\\ud800"}',
    b"\xef\xbb\xbf{}",
    '{"a": "b"}'.encode("utf-16"),
]


@pytest.mark.parametrize("raw", ODD_INPUTS)
def test_what_orjson_refuses_is_read_as_json_reads_it(raw):
    expected = json.loads(raw)
    got = jsonio.loads(raw)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": 1,}', b"[1, 2", b"\xff"])
def test_what_neither_reads_raises_a_value_error(raw):
    with pytest.raises(ValueError):
        jsonio.loads(raw)


def test_every_fixture_is_read_and_its_cards_written_as_the_standard_library_does():
    for scenario in scenarios():
        resources, drafts = scenario.data()
        text = json.dumps({"resources": resources, "drafts": drafts})
        assert repr(jsonio.loads(text.encode())) == repr(json.loads(text))
        body = respond(
            resources, profile=get_profile(scenario.profile), as_of=AS_OF, draft_orders=drafts
        ).body
        assert json.loads(jsonio.dumps(body)) == json.loads(json.dumps(body))


def test_a_number_json_cannot_hold_is_written_as_null():
    """json.dumps wrote the invalid token ``Infinity``; no card holds one."""
    assert jsonio.dumps([float("inf"), float("nan")]) == b"[null,null]"


def test_dumps_keeps_order_and_writes_what_json_alone_can():
    assert jsonio.dumps({"b": 1, "a": "é\u2028"}) == '{"b":1,"a":"é\u2028"}'.encode()
    assert jsonio.dumps({1: 2**70}) == b'{"1":1180591620717411303424}'


@dataclass
class _Point:
    x: int


def test_flask_responses_and_request_bodies_go_through_orjson_with_flasks_types():
    app = Flask(__name__)
    app.json = OrjsonProvider(app)

    @app.post("/echo")
    def echo():
        from flask import request

        return {"got": request.get_json(), "on": date(2026, 11, 21), "p": _Point(1)}

    answer = app.test_client().post(
        "/echo", data=b'{"z": 1, "a": [1.5, "\\u00e9"]}', content_type="application/json"
    )
    assert (
        answer.data
        == (
            '{"got":{"z":1,"a":[1.5,"é"]},"on":"Sat, 21 Nov 2026 00:00:00 GMT","p":{"x":1}}\n'
        ).encode()
    )
    assert answer.mimetype == "application/json"
