"""Who is sending: the publishable key (Basic `KEY:`, Bearer, or ?key=) and the Origin check."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Protocol

from ..errors import KeyRevoked
from ..errors import OriginNotAllowed
from ..errors import Unauthorized
from ..storage import Storage
from . import keys


class Request(Protocol):
    """What the access checks read of an HTTP request (Flask's, or any other): its headers and query."""

    headers: Mapping[str, str]
    args: Mapping[str, str]


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


def authenticate(request: Request, storage: Storage, key: str | None = None) -> dict:
    """Return the row of the site of the request's key (or of `key`, found elsewhere by the caller) if the
    key exists, is active (revoked: 403; rotated and past its overlap: 403) and allows the request's Origin."""
    row = site_row(storage, key or key_from_request(request))
    origin = request.headers.get("Origin")
    # No Origin means a server-to-server call, which the origin list does not restrict.
    if origin is not None and not keys.origin_allowed(origin, json.loads(row["origins"])):
        raise OriginNotAllowed(f"Origin {origin!r} is not allowed for this key.")
    return row


def site_row(storage: Storage, key: str) -> dict:
    """The row of the site a key belongs to (the key's own, or for a rotated key's successor the first
    key's, which its data is kept under); 401 for an unknown key, 403 for a revoked or expired one."""
    row = storage.get_key(key)
    if row is None:
        raise Unauthorized("Unknown key. " + _KEY_HELP)
    if row["revoked_at"]:
        raise KeyRevoked("This key was revoked.")
    keys.check_expiry(row, "key")
    if row["site"] is None:
        return row
    site = storage.get_key(row["site"])
    if site is None or site["revoked_at"]:
        raise KeyRevoked("This key's site was revoked.")
    return {**site, "origins": row["origins"]}
