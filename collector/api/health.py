"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import time

from flask import Blueprint
from flask import current_app

from ..web.context import current_storage
from ..web.scripts import encoded
from ..web.scripts import representation
from .openapi import document

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Answer 200 when storage answers, else 503 (through the StorageError handler), with how long ago a
    worker was seen: the web node is ready without one, but import jobs and forwarding wait for it."""
    storage = current_storage()
    storage.ping()
    seen = storage.worker_last_seen()
    return {"status": "ready", "worker_last_seen_seconds": None if seen is None else round(time.time() - seen, 1)}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of the public endpoints (its routes' operations, from the marshmallow schemas),
    built and compressed once per process, revalidated by ETag."""
    app = current_app._get_current_object()
    built = app.extensions.get("collector.openapi.encoded")
    if built is None:
        built = app.extensions["collector.openapi.encoded"] = encoded(app.json.dumps(document(app)).encode(),
                                                                      thorough=False)
    return representation(built, "application/json", "no-cache")
