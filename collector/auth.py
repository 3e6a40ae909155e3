"""Who is sending: the publishable key (Basic `KEY:`, Bearer, or ?key=) and the Origin check."""

from __future__ import annotations

import base64
import binascii
import json

from flask import Request

from . import keys
from .errors import KeyRevoked
from .errors import OriginNotAllowed
from .errors import Unauthorized
from .storage import Storage

_KEY_HELP = "Send the key as Authorization: Basic base64('KEY:'), Authorization: Bearer KEY, or ?key=KEY."


def key_from_request(request: Request) -> str:
    """Return the key the request carries, or raise Unauthorized saying what is wrong."""
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            return credentials
        if scheme.lower() == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise Unauthorized("The Basic credentials are not valid base64. " + _KEY_HELP) from None
            key, _, secret = decoded.partition(":")
            if secret:
                raise Unauthorized("Browser events take the key alone: encode 'KEY:' with an empty password.")
            if key:
                return key
        raise Unauthorized("The Authorization header is not Basic or Bearer with a key. " + _KEY_HELP)
    key = request.args.get("key", "").strip()
    if key:
        return key
    raise Unauthorized("No key was sent. " + _KEY_HELP)


def authenticate(request: Request, storage: Storage) -> dict:
    """Return the key's row if the key exists, is active and allows the request's Origin."""
    row = storage.get_key(key_from_request(request))
    if row is None:
        raise Unauthorized("Unknown key. " + _KEY_HELP)
    if row["revoked_at"]:
        raise KeyRevoked("This key was revoked.")
    origin = request.headers.get("Origin")
    # No Origin means a server-to-server call, which the origin list does not restrict.
    if origin is not None and not keys.origin_allowed(origin, json.loads(row["origins"])):
        raise OriginNotAllowed(f"Origin {origin!r} is not allowed for this key.")
    return row
