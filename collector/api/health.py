"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app

from ..web.context import current_storage
from .openapi import document

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Answer 200 when storage answers, else 503 (through the StorageError handler)."""
    current_storage().ping()
    return {"status": "ready"}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of the public endpoints (its routes' operations, from the marshmallow schemas)."""
    return document(current_app._get_current_object())
