"""Storefront event collector: DataCue browser events and Cobi interactions, stored durably."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config
from .analytics.store import open_analytics
from .api import analysts
from .api import capillary
from .api import cobi
from .api import cobi_data
from .api import dashboard
from .api import datacue
from .api import datacue_backend
from .api import health
from .api import imports
from .api import prometheus
from .api import segment
from .api import static
from .forward import targets
from .storage import open_storage
from .web import address
from .web import cors
from .web import headers
from .web import limits
from .web import logs
from .web.error_answers import register_error_handlers


class Collector(Flask):
    """The Flask application of the collector, whose views and hooks are all plain functions."""

    def ensure_sync(self, func):
        """The function itself: no view or hook is a coroutine, so Flask's check of each one on every request
        (about a dozen per request) is work for nothing."""
        return func


def create_app(test_config: dict | None = None) -> Flask:
    """Build the collector: defaults, then COLLECTOR_* variables, then test_config."""
    # No automatic /static route: what is served is chosen route by route (the tracker, the demo, the style).
    app = Collector(__name__, static_folder=None)
    app.config.from_mapping(config.DEFAULTS)
    app.config.update(config.from_environ())
    if test_config:
        app.config.update(test_config)
    config.validate(app.config)
    app.json.sort_keys = False
    app.extensions["collector.storage"] = open_storage(app.config, wants=targets.wants)
    app.extensions["collector.analytics"] = open_analytics(app.extensions["collector.storage"])
    if app.config["TRUSTED_PROXIES"]:
        # Only the last N X-Forwarded-For entries were written by our proxies; earlier ones are the client's word.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=0, x_host=0,
                                x_port=0, x_prefix=0)
    register_error_handlers(app)
    logs.init_app(app)
    address.init_app(app)
    headers.init_app(app)
    cors.init_app(app)
    limits.init_app(app)
    prometheus.init_app(app)
    for blueprint in (datacue.bp, cobi.bp, cobi_data.bp, datacue_backend.bp, imports.bp, capillary.bp, health.bp,
                      static.bp, analysts.bp, dashboard.bp, prometheus.bp):
        app.register_blueprint(blueprint)
    segment.init_app(app)  # under its configured prefix
    return app
