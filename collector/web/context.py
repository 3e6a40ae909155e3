"""What the running app holds for its views and commands: its store and its analytics store."""

from __future__ import annotations

from flask import current_app

from ..analytics.store import Analytics
from ..storage import Storage


def current_storage() -> Storage:
    """The storage of the app handling the current request or command."""
    return current_app.extensions["collector.storage"]


def current_analytics() -> Analytics:
    """The analytics store of the app handling the current request or command."""
    return current_app.extensions["collector.analytics"]
