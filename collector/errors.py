"""One error family and one JSON error shape for every response the collector sends."""

from __future__ import annotations

import logging
import re

from flask import Flask
from flask import current_app
from flask import jsonify
from werkzeug.exceptions import HTTPException

from .storage import StorageError

log = logging.getLogger("collector")


class ApiError(Exception):
    """An error answered as `{"code", "message", "errors"?}` with an HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 errors: dict | None = None, headers: dict | None = None, extra: dict | None = None):
        """Build the error; `extra` adds keys beside code/message/errors (a batch's results)."""
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        """Return the JSON body of this error."""
        body = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(ApiError):
    """The body is not JSON, or not the object the endpoint expects."""


class InvalidEvent(ApiError):
    """The body parsed but failed validation."""

    code = "invalid_event"


class Unauthorized(ApiError):
    """No key, or a key the collector does not know."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """A known key that may not be used here: revoked, or from an origin it does not allow."""

    status = 403
    code = "forbidden"


class Suppressed(ApiError):
    """An event from a person erased with `collector forget --suppress`: refused and kept nowhere."""

    status = 403
    code = "suppressed"


class EventIdConflict(ApiError):
    """An event id this key already used for an event from the other API (DataCue vs Cobi)."""

    status = 409
    code = "event_id_conflict"


class PayloadTooLarge(ApiError):
    """A body, an event or a batch over its configured limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    """A content type or content encoding the collector does not read."""

    status = 415
    code = "unsupported_media_type"


class StorageUnavailable(ApiError):
    """The store could not be written or read; the client should retry later."""

    status = 503
    code = "storage_unavailable"


def _snake(name: str) -> str:
    """Turn werkzeug's 'Method Not Allowed' into 'method_not_allowed'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def error_response(error: ApiError):
    """Render an ApiError as a JSON response with its headers."""
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error, routing and unexpected ones included, answer in the one JSON shape."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error)

    @app.errorhandler(StorageError)
    def handle_storage_error(error: StorageError):
        log.warning("storage unavailable: %s", error)
        retry_after = str(current_app.config["RETRY_AFTER_SECONDS"])
        return error_response(StorageUnavailable(
            "The event store cannot be written just now; nothing was stored. Retry later.",
            headers={"Retry-After": retry_after}))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        message = error.description or error.name
        api_error = ApiError(message, code=_snake(error.name), status=error.code or 500, headers=headers)
        return error_response(api_error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # A bug, not a client's fault: log the traceback, show nothing internal.
        log.exception("unexpected error")
        return error_response(ApiError("The collector failed unexpectedly; the event was not stored.",
                                       code="internal_error", status=500))
