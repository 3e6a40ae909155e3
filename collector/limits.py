"""Rate limits on the ingest endpoints, per key and per client IP (flask-limiter), answered 429 with Retry-After.

Counters live in each worker's memory: with N workers behind one socket a client can get up to N times
the limit through before every worker has seen it. That bounds a flood from one key or address without
a shared store; a limit across nodes belongs in nginx (`limit_req`, see docs/deploy.md).
"""

from __future__ import annotations

import math
import time

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import request
from flask_limiter import Limiter
from flask_limiter import RequestLimit
from limits import parse_many

from .auth import key_from_request
from .config import ConfigError
from .errors import ApiError
from .errors import error_response
from .storage import current_storage


def _key_value() -> str:
    """The key the request carries ('' when none: auth answers that one)."""
    try:
        return key_from_request(request)
    except ApiError:
        return ""


def _exempt() -> bool:
    """Test keys skip the limits unless RATE_LIMIT_TEST_KEYS is on; preflights never count."""
    if request.method == "OPTIONS":
        return True
    if current_app.config["RATE_LIMIT_TEST_KEYS"]:
        return False
    row = current_storage().get_key(_key_value())
    return row is not None and row["mode"] == "test"


def _setting(name: str):
    """A limit string read from the app's settings at request time ('' turns the limit off)."""
    return lambda: current_app.config[name] or "1000000000/second"


def _breached(limit: RequestLimit):
    """Answer 429 in the collector's error shape, saying which limit and when to come back."""
    retry = max(1, math.ceil(limit.reset_at - time.time()))
    who = "key" if limit.request_args[-1].endswith(":key") else "address"
    return error_response(ApiError(
        f"Too many requests from this {who}: the limit is {limit.limit}. Nothing was stored; "
        f"retry after {retry} s.", code="rate_limited", status=429, headers={"Retry-After": str(retry)}))


def init_app(app: Flask, blueprints: list[Blueprint]) -> None:
    """Apply the per-key and per-IP limits to the ingest blueprints (a bad limit stops the start)."""
    for name in ("RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_IP"):
        try:
            parse_many(app.config[name] or "1/second")
        except ValueError:
            raise ConfigError(f"{name} must look like 100/second or 20/second;600/minute, "
                              f"got {app.config[name]!r}") from None
    limiter = Limiter(key_func=lambda: request.remote_addr or "", app=app, storage_uri="memory://",
                      strategy="moving-window", on_breach=_breached)
    for blueprint in blueprints:
        limiter.limit(_setting("RATE_LIMIT_PER_KEY"), key_func=_key_value, exempt_when=_exempt,
                      scope="key")(blueprint)
        limiter.limit(_setting("RATE_LIMIT_PER_IP"), exempt_when=_exempt, scope="ip")(blueprint)
    app.extensions["collector.limiter"] = limiter
