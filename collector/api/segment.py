"""Segment's HTTP Tracking API (and RudderStack's), under a prefix (`/segment` by default): the paths every
Segment and RudderStack SDK posts to, answered as they expect (`200 {"success": true}`, never 204).

The write key is the site's publishable key, in the Basic username (the password is ignored: RudderStack's
docs send `""`), as a Bearer token, in `?writeKey=` (RudderStack's beacons cannot set headers) or in the
body's `writeKey`. A batch with some messages refused still answers 200 and lists them (an SDK resends a
refused batch whole, or drops it whole); one with none stored answers 400.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import jsonify
from flask import request

from ..access.credentials import authenticate
from ..errors import ApiError
from ..errors import Forbidden
from ..errors import InvalidBatch
from ..errors import InvalidEvent
from ..errors import PayloadTooLarge
from ..errors import Unauthorized
from ..ingest.body import parse_json
from ..ingest.families import segment_family
from ..ingest.intake import Intake
from ..ingest.intake import Item
from ..ingest.intake import counts
from ..schemas import segment
from ..schemas.common import json_size
from ..web.bodies import declared_size
from ..web.bodies import read_body
from ..web.context import current_storage
from ..web.cors import preflight_or
from ..web.error_answers import error_response
from .receive import counted
from .receive import intake_for

bp = Blueprint("segment", __name__)

#: A single-message path (the spec's names, and analytics.js' first letters) -> the message type.
SINGLE = {**{t: t for t in segment.TYPES}, **{t[0]: t for t in segment.TYPES}}
#: Message fields a batch may give once for all its messages (each message's own win, key by key).
_SHARED = ("context", "integrations")
_KEY_HELP = ("Send the site's publishable key as the write key: Authorization: Basic base64('KEY:'), a body "
             "writeKey, or ?writeKey=KEY.")


def init_app(app: Flask) -> None:
    """Mount the routes under the configured prefix."""
    app.register_blueprint(bp, url_prefix=app.config["SEGMENT_PREFIX"].rstrip("/"))


@bp.route("/v1/<any(" + ", ".join(SINGLE) + "):kind>", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def single(kind: str):
    """Record one message; its type is the path's."""
    return preflight_or(lambda: receive(SINGLE[kind]))


@bp.route("/v1/<any(batch, b):kind>", methods=["POST", "OPTIONS"], provide_automatic_options=False)
@bp.route("/beacon/v1/batch", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def batch(kind: str = "batch"):
    """Record a batch of messages (RudderStack's beacons take the key in ?writeKey=)."""
    return preflight_or(lambda: receive(None))


@bp.route("/v1/m", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def client_metrics():
    """analytics.js' own usage counters: nothing of the shop's, so taken and not kept."""
    return preflight_or(_success)


def _success(**extra):
    """The answer every SDK takes as delivered: 200 with Segment's body."""
    return jsonify({"success": True, **extra})


def write_key(document) -> str | None:
    """The write key: the Basic username, a Bearer token, ?writeKey=, or the body's writeKey."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            key = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("The Basic credentials are not valid base64. " + _KEY_HELP) from None
        if key:
            return key
    if scheme.lower() == "bearer" and credentials:
        return credentials
    found = request.args.get("writeKey", "").strip()
    if found:
        return found
    found = document.get("writeKey") if isinstance(document, dict) else None
    return found.strip() if isinstance(found, str) and found.strip() else None


def _site(storage, document, problem: ApiError | None) -> dict:
    """The key's site row; a revoked or expired key is 401 here, as RudderStack answers an invalid key."""
    key = write_key(document)
    if key is None:
        raise problem or Unauthorized("No write key was sent. " + _KEY_HELP)
    try:
        return authenticate(request, storage, key)
    except Unauthorized:
        raise Unauthorized("Unknown write key. " + _KEY_HELP) from None
    except Forbidden as error:
        if error.code in ("key_revoked", "key_rotated"):
            raise Unauthorized(error.message) from None
        raise


def receive(kind: str | None):
    """One message (`kind` its type) or a batch (`kind` None): read, authenticate, validate, store, answer."""
    config = current_app.config
    storage = current_storage()
    raw, document, problem = b"", None, None
    try:
        raw = read_body(request, config["SEGMENT_MAX_BATCH_BYTES"], types=None)
        document = parse_json(raw)
    except ApiError as error:  # kept with the key's site when the key is outside the body
        problem = error
    intake = intake_for(segment_family(config["SEGMENT_HOME_NAMES"], config["SEGMENT_HOME_PATHS"]),
                        _site(storage, document, problem), storage)
    try:
        try:  # a body refused whole is kept in `rejected` with the key's site
            if problem:
                raise problem
            if not isinstance(document, dict):
                raise InvalidEvent("The body must be a JSON object: one message, or {\"batch\": [...]}.")
            if kind is None:
                if not isinstance(document.get("batch"), list) or not document["batch"]:
                    raise InvalidBatch("A batch is {\"batch\": [messages]} with at least one message.")
            else:
                given = document.get("type")
                if given not in (None, kind):
                    raise InvalidEvent(f"This path takes {kind} messages; the body's type is {given!r}.")
                row = intake.load({**document, "type": kind}, None, size=json_size(document))
        except ApiError as error:
            intake.refuse(error, raw, declared_size)
            raise
        if kind is None:
            return _batch(intake, document)
        intake.store_one(row)
        return _success()
    finally:
        counted(intake)


def _shared(document: dict, item):
    """A batch item with the batch's context, integrations and sentAt under its own (its own keys win)."""
    if not isinstance(item, dict):
        return item
    merged = dict(item)
    for name in _SHARED:
        outer = document.get(name)
        if isinstance(outer, dict) and (isinstance(item.get(name), dict) or item.get(name) is None):
            merged[name] = {**outer, **(item.get(name) or {})}
    if merged.get("sentAt") is None and document.get("sentAt") is not None:
        merged["sentAt"] = document["sentAt"]
    return merged


def _batch(intake: Intake, document: dict):
    """Each message of a batch validated on its own; the stored ones answered 200 and the refused listed."""
    items = document["batch"]
    limit = segment.BATCH_MAX_MESSAGES

    def prepare(index: int, item):
        """The message with the batch's shared fields; past the batch's limit, refused."""
        if index >= limit:
            raise PayloadTooLarge(f"A batch holds at most {limit} messages; this one is message {index + 1}.")
        return _shared(document, item)

    results = intake.batch(items, prepare=prepare, id_field="messageId")
    refused = [_refusal(r) for r in results if r.status == "rejected"]
    if not refused:
        return _success()
    tally = counts(results)
    if tally["stored"] + tally["duplicates"] == 0:
        return error_response(InvalidBatch(f"All {len(items)} messages were refused; none was stored.",
                                           extra={**tally, "refused": refused}))
    return _success(**tally, refused=refused)


def _refusal(item: Item) -> dict:
    """How one refused message of a batch is listed in the answer."""
    message_id = item.event_id
    return {"index": item.index, "messageId": message_id if isinstance(message_id, (str, int)) else None,
            "code": item.error.code, "message": item.error.message, "errors": item.error.errors or {}}
