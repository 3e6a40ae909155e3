"""A request's body and sender as the views read them: the body's type, encoding and size limits, a
server API's body kept in `rejected` when it is refused, and the client its events record."""

from __future__ import annotations

from collections.abc import Callable

from flask import Request
from flask import request

from ..errors import ApiError
from ..errors import PayloadTooLarge
from ..errors import UnsupportedMediaType
from ..ingest.body import gunzip
from ..ingest.body import parse_json
from ..ingest.rejections import Client
from ..ingest.rejections import Refusals
from ..schemas.common import UA_MAX

#: text/plain lets the tracker post without a CORS preflight; no type at all is read as JSON too.
CONTENT_TYPES = ("application/json", "text/plain", "")
ENCODINGS = ("", "identity", "gzip", "x-gzip")


def read_body(request: Request, limit: int, types: tuple[str, ...] | None = CONTENT_TYPES) -> bytes:
    """Return the decompressed body, refusing other types (any, when `types` is None) and encodings and
    anything over limit bytes."""
    if types is not None and request.mimetype not in types:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype!r} is not accepted; send application/json or text/plain.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Charset {charset!r} is not accepted; send UTF-8.")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ENCODINGS:
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not accepted; send gzip or none.")
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body is {request.content_length} bytes; the limit is {limit}.")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
    if encoding in ("gzip", "x-gzip"):
        data = gunzip(data, limit)
    return data


def declared_size() -> int:
    """The request body's size as its request declares it (for a body refused before it was read)."""
    return request.content_length or 0


def client_of(req: Request) -> Client:
    """The client of an HTTP request: its address, user agent and first language."""
    return Client(ip=req.remote_addr, user_agent=req.headers.get("User-Agent", "")[:UA_MAX] or None,
                  # The visitor's first language preference, for events whose context does not name one.
                  language=req.accept_languages.best[:35] if req.accept_languages else None)


def parsed_body(storage, settings, key_row: dict, source: str, body: Callable[[], bytes], parse: Callable):
    """`parse(json)` of a server API's body; a body refused on the way (too large, not JSON, not the
    shape `parse` wants) is kept in `rejected` with its reason, then answered."""
    raw = b""
    try:
        raw = body()
        return parse(parse_json(raw))
    except ApiError as error:
        storage.write([], [Refusals.of(settings, client_of(request)).row(
            key_row, source, error, raw, size=len(raw) if raw else declared_size())])
        raise
