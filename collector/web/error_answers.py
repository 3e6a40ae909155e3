"""Every error as an HTTP answer: the one JSON shape with its status and headers, for errors raised on
purpose, routing errors and unexpected ones alike."""

from __future__ import annotations

import logging
import re

from flask import Flask
from flask import current_app
from flask import jsonify
from werkzeug.exceptions import HTTPException

from .. import metrics
from ..errors import ApiError
from ..errors import CollectorError
from ..errors import InternalError
from ..errors import StorageError

log = logging.getLogger("collector")


class HttpError(ApiError):
    """A werkzeug HTTP error (404 for an unknown path, 405, ...) in the collector's shape."""

    def __init__(self, error: HTTPException):
        """Take the status, the name as the code and the description as the message."""
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        super().__init__(error.description or error.name, headers=headers)
        self.status = error.code or 500
        self.code = re.sub(r"[^a-z0-9]+", "_", error.name.lower()).strip("_")  # 'Method Not Allowed'


def error_response(error: CollectorError, extra: dict | None = None):
    """Render an error as a JSON response with its status and headers (and `extra` keys in its body, as
    an API whose clients look for them wants: Capillary's `success` and `status`)."""
    if isinstance(error, StorageError):
        log.warning("storage unavailable: %s", error)
        metrics.STORAGE_UNAVAILABLE.inc()
        error.headers.setdefault("Retry-After", str(current_app.config["RETRY_AFTER_SECONDS"]))
    response = jsonify({**error.body(), **(extra or {})})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error, routing and unexpected ones included, answer in the one JSON shape."""

    @app.errorhandler(CollectorError)
    def handle_collector_error(error: CollectorError):
        """An error raised on purpose, in its own status."""
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        """A routing or werkzeug error (404, 405, ...), in the one shape."""
        return error_response(HttpError(error))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # A bug, not a client's fault: log the traceback, show nothing internal.
        """A bug: logged with its traceback, answered 500 without details."""
        log.exception("unexpected error")
        return error_response(InternalError("The collector failed unexpectedly; the event was not stored."))
