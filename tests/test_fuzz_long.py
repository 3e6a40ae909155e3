"""The long fuzz run (--long, which CI runs): at least 100,000 generated requests across every endpoint
family, on both backends, each answered below 500 and, when refused, in the one JSON error shape.

Each request starts from a valid one of its family (so validation is reached, not only the parser) and is
then changed: fields replaced by arbitrary JSON, dropped, batches mixed with junk, the body replaced by
arbitrary bytes, the wrong content type, a wrong or missing credential, unknown query parameters. Hypothesis
hands each example a random generator (`st.randoms`), which builds a session of requests: drawing every
choice through hypothesis cost six times what the requests did. A failing request is shown whole.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import random

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from collector.access import keys
from collector.access import server_keys
from collector.access import tokens
from collector.reports import registry
from collector.schemas import cobi_data

from support.contract import FAMILIES
from support.contract import check_answer
from support.datacue_backend import BANNER
from support.datacue_backend import ORDER as BACKEND_ORDER
from support.datacue_backend import PRODUCT
from support.datacue_backend import USER
from support.factories import make_event
from support.factories import make_interaction
from support.records import EXAMPLES

#: Requests per backend: both backends together make the 100,000.
PER_BACKEND = int(os.environ.get("FUZZ_REQUESTS_PER_BACKEND", 50_000))
#: Requests per hypothesis example (one example is a session of requests built from its random generator).
PER_EXAMPLE = 50
TOKEN = "mt_fuzz_" + "m" * 24

#: Characters generated text is made of: plain, quoting, control, NUL, accented, wide, emoji, bidi.
ALPHABET = list("abcXYZ019 _-./:@") + ['"', "\\", "\n", "\t", "\x00", "\x7f", "é", "ß", "漢", "😀", "\u202e", "\ufeff"]


def _text(rng, size: int = 30) -> str:
    """Arbitrary text, up to `size` characters."""
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, size)))


def _header_text(rng) -> str:
    """Arbitrary text an HTTP header can carry (printable, Latin-1): what a client could send at all."""
    return "".join(c for c in _text(rng) if c.isprintable() and ord(c) < 256)


def _json(rng, depth: int = 0):
    """An arbitrary JSON value: scalars of every kind, lists and objects a few levels deep."""
    kind = rng.randint(0, 9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 10**20, rng.randint(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, 1e-300, rng.uniform(-1e6, 1e6)])
    if kind in (4, 5, 6):
        return _text(rng)
    if kind in (7, 8):
        return [_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng, 10): _json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


EVENTS = [make_event(), make_event("search", None, term="boots"), make_event("order", "completed", order_id="o1",
          payment_method="card", cart=[{"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 24,
                                        "currency": "USD"}]),
          make_event("pageview", "product", product_id="p1", variant_id="v1")]
#: Segment messages as the SDKs send them (analytics.js, the Python SDKs, RudderStack's browser SDK).
SEGMENT = [
    {"type": "track", "event": "Order Completed", "anonymousId": "a1", "messageId": "m1",
     "properties": {"order_id": "o1", "currency": "USD", "products": [{"product_id": "p1", "price": 5, "quantity": 1}]},
     "timestamp": "2026-12-01T10:00:00.000Z", "sentAt": "2026-12-01T10:00:01.000Z",
     "context": {"library": {"name": "analytics.js"}, "page": {"url": "https://shop.example/"}}},
    {"type": "page", "name": "Home", "userId": "u1", "anonymousId": None, "properties": {"path": "/"},
     "originalTimestamp": "2026-12-01T10:00:00.000Z"},
    {"type": "identify", "userId": "u1", "traits": {"email": "a@b.c"}, "context": {"traits": {"name": "A"}}},
    {"type": "track", "event": "Products Searched", "userId": "", "anonymousId": "a2",
     "properties": {"query": {"query": "boots"}}},
    {"type": "group", "groupId": "g1", "userId": "u1"},
]
SEGMENT_PATHS = ["/segment/v1/" + p for p in ("track", "page", "screen", "identify", "group", "alias", "t", "p", "s",
                                              "i", "g", "a")]
BACKEND = {"products": PRODUCT, "banners": BANNER, "users": USER, "orders": BACKEND_ORDER}
REPORT_PARAMS = ["since", "until", "site", "mode", "format", "steps", "window", "breakdown", "page", "limit", "x"]
EXPORT_PARAMS = ["since", "until", "format", "site", "type", "mode"]
REPORTS = [*sorted(registry.REPORTS), "nope"]
DATA_TYPES = [record_type.name for record_type in cobi_data.TYPES]


def _mutated(document, rng):
    """A valid document with a few fields replaced by arbitrary JSON, or dropped, or left alone."""
    body = copy.deepcopy(document)
    targets = [body] + [v for v in body.values() if isinstance(v, dict)] if isinstance(body, dict) else []
    for _ in range(rng.randint(0, 3) if targets else 0):
        target = rng.choice(targets)
        name = rng.choice(list(target) + ["extra", "event_id", "type", "user_id", "cart"])
        if rng.random() < 0.5 and name in target:
            del target[name]
        else:
            target[name] = _json(rng)
    return body


def _body(document, rng) -> tuple[bytes, str]:
    """The request body and content type: the (changed) document as JSON mostly, else bytes or junk types."""
    shape = rng.choice(["json"] * 6 + ["bytes", "type", "array"])
    if shape == "bytes":
        return rng.randbytes(rng.randint(0, 200)), "application/json"
    if shape == "array":
        return json.dumps([document, _json(rng)]).encode(), "application/json"
    encoded = json.dumps(document).encode()
    return encoded, ("application/json" if shape == "json" else rng.choice(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]))


class Fuzzer:
    """One app, its credentials, and a request drawn per family."""

    def __init__(self, app):
        """Make a key, a secret and an analyst token on the app's store."""
        self.client = app.test_client()
        storage = app.extensions["collector.storage"]
        self.key = keys.create_key(storage, "fuzz", [])
        self.secret = server_keys.create_server_key(storage, self.key)
        self.token = tokens.create_token(storage, "fuzz")
        self.sent = 0

    def credentials(self, rng, family: str) -> dict:
        """The right credential for the family mostly; sometimes another kind, a wrong one or none."""
        right = {"browser": f"Basic {base64.b64encode(f'{self.key}:'.encode()).decode()}",
                 "secret": f"Bearer {self.secret}",
                 "backend": f"Basic {base64.b64encode(f'{self.key}:{self.secret}'.encode()).decode()}",
                 "analyst": f"Bearer {self.token}", "metrics": f"Bearer {TOKEN}"}[family]
        choice = rng.choice(["right"] * 8 + ["wrong", "none", "other"])
        if choice == "wrong":
            return {"Authorization": rng.choice(["Bearer nope", "Basic !!", "Digest x", "Basic " + base64.b64encode(
                b"live_unknown:").decode(), "Bearer " + _header_text(rng)])}
        if choice == "none":
            return {}
        return {"Authorization": f"Bearer {self.key}" if choice == "other" else right}

    def request(self, rng) -> tuple[str, str, dict, bytes | dict, dict | None]:
        """One request of some family: method, path, headers, body (bytes, or a form), query."""
        family = rng.choice(["events", "events", "interactions", "data", "backend", "backend_one", "imports",
                             "capillary", "reports", "metrics", "export", "segment", "segment"])
        if family == "segment":
            if rng.random() < 0.5:
                document = {"batch": [_mutated(rng.choice(SEGMENT), rng) for _ in range(rng.randint(0, 4))],
                            "sentAt": _json(rng) if rng.random() < 0.2 else "2026-12-01T10:00:02Z"}
                if rng.random() < 0.3:
                    document[rng.choice(["context", "integrations", "writeKey"])] = _json(rng)
                path = rng.choice(["/segment/v1/batch", "/segment/v1/b", "/segment/beacon/v1/batch",
                                   f"/segment/beacon/v1/batch?writeKey={self.key}", "/segment/v1/m"])
            else:
                document, path = rng.choice(SEGMENT), rng.choice(SEGMENT_PATHS)
            return self._json("POST", path, "browser", _mutated(document, rng), rng)
        if family == "events":
            document = rng.choice(EVENTS)
            if rng.random() < 0.5:
                document = {"events": [_mutated(rng.choice(EVENTS), rng) for _ in range(rng.randint(0, 4))]}
            return self._json("POST", rng.choice(["/v1/events", "/"]), "browser", _mutated(document, rng), rng)
        if family == "interactions":
            document = make_interaction()
            if rng.random() < 0.5:
                document = {"records": [_mutated(make_interaction(), rng) for _ in range(rng.randint(0, 3))]}
            path = rng.choice(["/user-interactions", "/v1/user-interactions"])
            return self._json("POST", path, "browser", _mutated(document, rng), rng)
        if family == "data":
            name = rng.choice(DATA_TYPES)
            document = {"records": [_mutated(EXAMPLES[name], rng) for _ in range(rng.randint(0, 3))]}
            return self._json("POST", f"/v1/data/{name}", "secret", _mutated(document, rng), rng)
        if family == "backend":
            name = rng.choice(sorted(BACKEND))
            if rng.random() < 0.5:
                return self._json("POST", f"/v1/{name}", "backend", _mutated(BACKEND[name], rng), rng)
            document = {"type": name, "batch": [_mutated(BACKEND[name], rng) for _ in range(rng.randint(0, 3))]}
            return self._json(rng.choice(["POST", "PUT", "DELETE"]), rng.choice(["/v1/batch", f"/v1/batch/{name}"]),
                              "backend", _mutated(document, rng), rng)
        if family == "backend_one":
            name = rng.choice(sorted(BACKEND))
            record = "".join(c for c in _text(rng, 12) if c not in "/?#") or "x"
            return self._json(rng.choice(["PUT", "DELETE", "GET"]), f"/v1/{name}/{record}", "backend",
                              _mutated(BACKEND[name], rng), rng)
        if family == "imports":
            method, path = rng.choice([("GET", "/v1/imports"), ("POST", "/v1/imports"), ("GET", "/v1/imports/1"),
                                       ("GET", "/v1/imports/1/errors")])
            content = rng.randbytes(rng.randint(0, 300)) if rng.random() < 0.5 else (
                "event_id,type,anonymous_id\n" + _text(rng, 80)).encode()
            form = {"kind": rng.choice(["events", "interactions", "shops", "orders", "nope", "", _text(rng, 10)]),
                    "file": (io.BytesIO(content), rng.choice(["a.csv", "a.ndjson", "a.csv.gz", "a", _text(rng, 20)]))}
            if rng.random() < 0.3:
                form[rng.choice(["format", "mode", "series_id", "options", _text(rng, 8)])] = _text(rng, 20)
            return method, path, self.credentials(rng, "secret"), form if method == "POST" else b"", None
        if family == "capillary":
            series = rng.choice(["12", "0", _text(rng, 12).replace("/", "") or "1"])
            method, path = rng.choice([("POST", f"/coupon/api/v1/upload/file/{series}"),
                                       ("GET", f"/coupon/api/v1/upload/getUploadStatus/{series}"),
                                       ("GET", f"/coupon/api/v1/upload/errorFile/{rng.randint(0, 5)}")])
            form = {"file": (io.BytesIO(_text(rng, 200).encode()), rng.choice(["c.csv", _text(rng, 12)]))}
            headers = {"X-CAP-API-OAUTH-TOKEN": self.secret} if rng.random() < 0.8 else self.credentials(rng, "secret")
            return method, path, headers, form if method == "POST" else b"", None
        if family == "reports":
            query = {rng.choice(REPORT_PARAMS): _text(rng, 20) for _ in range(rng.randint(0, 3))}
            name = rng.choice(REPORTS)
            return "GET", f"/v1/reports/{name}", self.credentials(rng, "analyst"), b"", query
        if family == "export":
            query = {rng.choice(EXPORT_PARAMS): _text(rng, 20) for _ in range(rng.randint(0, 3))}
            return "GET", "/v1/export", self.credentials(rng, "analyst"), b"", query
        return "GET", "/metrics", self.credentials(rng, "metrics"), b"", None

    def _json(self, method: str, path: str, family: str, document, rng):
        """A request carrying a (changed) JSON document, or what stands in for one."""
        body, kind = _body(document, rng)
        return method, path, {**self.credentials(rng, family), **({"Content-Type": kind} if kind else {})}, body, None

    def send(self, rng) -> None:
        """Send one request, read its whole answer, hold it to the contract and count it."""
        method, path, headers, body, query = self.request(rng)
        response = self.client.open(path, method=method, headers=headers, data=body, query_string=query)
        response.get_data()  # a streamed answer (the export) is read to its end
        try:
            check_answer(response)
        except AssertionError:
            raise AssertionError((method, path, headers, body, query, response.get_data(as_text=True))) from None
        self.sent += 1


@pytest.mark.slow
@pytest.mark.long
def test_a_long_fuzz_run_never_answers_5xx(make_app, backend, record_property):
    app = make_app(METRICS_TOKEN=TOKEN, SQLITE_SYNCHRONOUS="OFF")
    fuzzer = Fuzzer(app)

    @settings(max_examples=PER_BACKEND // PER_EXAMPLE, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(rng=st.randoms(use_true_random=True))
    def run(rng):
        for _ in range(PER_EXAMPLE):
            fuzzer.send(rng)

    run()
    record_property("fuzz_requests", fuzzer.sent)  # summed and printed at the end of the run (conftest.py)
    assert fuzzer.sent >= PER_BACKEND


def test_the_fuzz_run_reaches_every_api_family(app):
    """The long fuzz run draws requests of every family the contract lists (the pages are test_hostile_more's)."""
    fuzzer, rng, reached = Fuzzer(app), random.Random(7), set()
    adapter = app.url_map.bind("localhost")
    for _ in range(2000):
        method, path, *_ = fuzzer.request(rng)
        try:
            reached.add(adapter.match(path.partition("?")[0], method)[0].partition(".")[0])
        except HTTPException:  # a path or method no route takes: answered 404 or 405
            continue
    assert set(FAMILIES) - {"health", "dashboard", "static_files"} <= reached
