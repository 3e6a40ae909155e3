"""What the file-upload routes share: the secret that authenticates them, the uploaded file within its
limit, and the rejected row of an upload refused before it became a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from ..access import server_keys
from ..errors import ApiError
from ..errors import BadParameter
from ..errors import PayloadTooLarge
from ..errors import Unauthorized
from ..errors import UnsupportedMediaType
from ..ingest.rejections import Refusals
from ..web import limits
from ..web.bodies import client_of
from ..web.context import current_storage
from ..web.logs import note

#: Room for the form's other fields and the multipart boundaries, beyond the file's own limit.
_FORM_SLACK = 1 << 16


@dataclass
class Uploaded:
    """The file of a multipart upload: its bytes (spooled by the form parser), its name and size."""

    stream: BinaryIO
    name: str
    size: int


def _unsigned() -> bytes:
    """A file upload is never checked against an HMAC of its body: the secret itself must be sent."""
    raise Unauthorized("A file upload takes the secret itself (Authorization: Bearer sk_..., or Basic "
                       "base64('KEY:sk_...')), not a signature of the body.")


def authenticate(token: str | None = None) -> tuple[dict, dict]:
    """(key row, server key row) of an upload request, from its secret (or a token header's, as
    Capillary's clients send), with the key's rate limits applied."""
    storage = current_storage()
    key_row, server_key = (server_keys.by_secret(storage, token) if token else
                           server_keys.authenticate(request, storage, _unsigned))
    note(key_name=key_row["name"])
    limits.check(key_row)
    return key_row, server_key


def uploaded_file() -> Uploaded:
    """The `file` field of a multipart/form-data request within MAX_UPLOAD_BYTES, or the error saying why not
    (the refusal is kept in `rejected`, without the file)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(f"Content-Type {request.mimetype!r} is not accepted; upload the file as "
                                   "multipart/form-data with a field named file.")
    if request.content_length is not None and request.content_length > limit + _FORM_SLACK:
        raise PayloadTooLarge(f"The upload is {request.content_length} bytes; the limit is {limit} "
                              "(COLLECTOR_MAX_UPLOAD_BYTES).")
    request.max_content_length = limit + _FORM_SLACK  # a body without a length stops at the limit too
    try:
        found = request.files.get("file")
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"The upload is over the limit of {limit} bytes (COLLECTOR_MAX_UPLOAD_BYTES).") \
            from None
    if found is None:
        raise BadParameter("No file was uploaded: send it in a multipart/form-data field named file.",
                           errors={"file": ["Missing data for required field."]})
    fields = [found.filename, *(text for pair in request.form.items(multi=True) for text in pair)]
    if any("\x00" in (text or "") for text in fields):
        raise BadParameter("The form holds a NUL character (in the file's name or a field), which nothing stores.")
    stream = found.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size > limit:
        raise PayloadTooLarge(f"The file is {size} bytes; the limit is {limit} (COLLECTOR_MAX_UPLOAD_BYTES).")
    name = (found.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
    return Uploaded(stream, name or "upload", size)


def keep_refusal(key_row: dict, source: str, error: ApiError) -> None:
    """Keep an upload refused before it became a job in `rejected`: the reason and the size, not the file."""
    refusals = Refusals.of(current_app.config, client_of(request))
    current_storage().write([], [refusals.row(key_row, source, error, None, size=request.content_length or 0)])
