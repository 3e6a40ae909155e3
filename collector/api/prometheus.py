"""`GET /metrics`: Prometheus' text format, for a scraper holding the metrics token."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..errors import NotFound
from ..errors import Unauthorized
from ..web.context import current_storage

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    """Every metric, to a request bearing COLLECTOR_METRICS_TOKEN; 404 while no token is set."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        raise NotFound("Metrics are off: set COLLECTOR_METRICS_TOKEN and scrape with Authorization: Bearer TOKEN.")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Unauthorized("Metrics need the metrics token: Authorization: Bearer TOKEN (COLLECTOR_METRICS_TOKEN).")
    return Response(metrics.exposition(current_storage()), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Count every answered request (by endpoint family and status class) and its latency."""

    @app.before_request
    def start_clock():
        """Note when the request started, for its latency."""
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response):
        """Count the answered request by family and status, with its latency."""
        metrics.answered(request.blueprint, response.status_code,
                         time.perf_counter() - g.get("metrics_started", time.perf_counter()))
        return response
