"""One error family, and the one JSON shape every error answer has.

Every error the collector raises on purpose is a CollectorError; each class carries its HTTP status
and its machine code, so a call site names a class and a message, never a code string. API errors
are what a client did wrong (their message is the answer); storage, configuration and query errors
come from the machine and are also raised outside requests (the CLI, the forwarder), where the CLI
turns them into a message and exit status 1.
"""

from __future__ import annotations


def _rebuilt(cls: type, state: dict) -> CollectorError:
    """An error unpickled: its class and its attributes, without calling its constructor again."""
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class CollectorError(Exception):
    """The root: a message for a person, an HTTP status and a machine code."""

    #: The HTTP status an answer with this error has.
    status = 500
    #: The machine-readable `code` of the error body.
    code = "internal_error"

    def __init__(self, message: str, *, errors: dict | None = None, headers: dict | None = None,
                 extra: dict | None = None):
        """Build the error; `extra` adds keys beside code/message/errors (a batch's results)."""
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def __reduce__(self):
        """Pickle with every part, not the message alone (import chunks are prepared in other processes)."""
        return _rebuilt, (type(self), dict(self.__dict__))

    def body(self) -> dict:
        """Return the JSON body of this error."""
        body = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class InternalError(CollectorError):
    """A bug, not a client's fault: nothing internal is shown."""


# Errors of the machine: configuration, storage, analysts' queries.

class ConfigError(CollectorError):
    """A setting has a value the collector cannot run with (raised at start, before any request)."""

    code = "config_error"


class StorageError(CollectorError):
    """The store cannot be read or written just now (locked, read-only, full, unreachable)."""

    status = 503
    code = "storage_unavailable"
    #: What a client is told; the cause (the database's own words) goes to the log only.
    public_message = "The event store cannot be written just now; nothing was stored. Retry later."

    def body(self) -> dict:
        """The answer a client gets: the public message, not the database's."""
        return {"code": self.code, "message": self.public_message}


class QueryError(CollectorError):
    """An analyst's statement failed: a syntax error, an unknown table, or an attempt to write."""

    status = 400
    code = "bad_query"


class JobLeaseLost(CollectorError):
    """An import worker's write found the job held by another worker (its lease ran out): rolled back."""

    status = 409
    code = "job_lease_lost"


class UnknownKey(CollectorError):
    """A command named a publishable key the store does not have."""

    status = 404
    code = "unknown_key"


# Errors of the client: the message is the answer.

class ApiError(CollectorError):
    """Something the client sent or asked for is wrong; answered with its status."""

    status = 400
    code = "bad_request"


class BadRequest(ApiError):
    """The request is not what the endpoint expects."""


class MalformedJson(BadRequest):
    """The body is not UTF-8 JSON, or is JSON no store can keep (too deep, a NUL character)."""

    code = "malformed_json"


class BadGzip(BadRequest):
    """The body says it is gzip and is not, or is cut short."""

    code = "bad_gzip"


class InvalidEvent(BadRequest):
    """The body parsed but an event in it failed validation."""

    code = "invalid_event"


class InvalidBatch(BadRequest):
    """A batch failed validation as a whole, or every event in it was refused."""

    code = "invalid_batch"


class InvalidRecord(BadRequest):
    """A reference record (a shop, an offer, ...) failed validation."""

    code = "invalid_record"


class MissingReference(BadRequest):
    """A reference record names another record (its shop, its tag) that does not exist or was deleted."""

    code = "missing_reference"


class BadParameter(BadRequest):
    """A query-string parameter has a value the endpoint does not take."""

    code = "bad_parameter"


class Unauthorized(ApiError):
    """No key, or a key the collector does not know."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """A known key or token that may not be used here."""

    status = 403
    code = "forbidden"


class KeyRevoked(Forbidden):
    """A key that was revoked."""

    code = "key_revoked"


class KeyRotated(Forbidden):
    """A key or secret whose rotation's overlap has ended."""

    code = "key_rotated"


class OriginNotAllowed(Forbidden):
    """A browser request from an origin the key does not list."""

    code = "origin_not_allowed"


class Suppressed(Forbidden):
    """An event from a person erased with `collector forget --suppress`: refused and kept nowhere."""

    code = "suppressed"


class NotFound(ApiError):
    """No such resource (a report, a record)."""

    status = 404
    code = "not_found"


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


class RateLimited(ApiError):
    """Too many requests from one key or address in the current window."""

    status = 429
    code = "rate_limited"
