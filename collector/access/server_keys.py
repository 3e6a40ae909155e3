"""Secret server keys: made per site, shown once, and checked for the server-to-server APIs.

Three forms are accepted: `Authorization: Bearer sk_...` (Cobi), `Basic base64(KEY:sk_...)` (DataCue's
docs) and `Basic base64(KEY:hex(HMAC-SHA256(body, secret)))` (DataCue's official client, which signs the
body instead of sending the secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from collections.abc import Callable
from datetime import timedelta

from ..clock import iso
from ..clock import now_iso
from ..clock import utcnow
from ..errors import KeyRevoked
from ..errors import Unauthorized
from ..errors import UnknownKey
from . import keys
from .credentials import Request
from .credentials import site_row

_ALPHABET = string.ascii_letters + string.digits
PREFIX = "sk_"
#: Characters of the secret a listing shows: sk_live_ and four more.
_SHOWN = 4
_HELP = ("Send a secret server key (collector keys secret create KEY) as Authorization: Bearer sk_..., "
         "or Basic base64('KEY:sk_...').")


def hash_secret(secret: str) -> str:
    """SHA-256 of a secret: what finds its row (the secrets are long and random)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_server_key(storage, key: str) -> str:
    """Make a secret for an active key's site, in its mode (sk_live_..., sk_test_...); return it."""
    row = storage.get_key(key)
    if row is None:
        raise UnknownKey(f"no such key: {key}")
    if row["revoked_at"]:
        raise UnknownKey(f"the key {key} is revoked")
    head = f"{PREFIX}{row['mode']}_"
    secret = head + "".join(secrets.choice(_ALPHABET) for _ in range(32))
    storage.add_server_key({"key": keys.site_of(row), "prefix": secret[:len(head) + _SHOWN],
                            "secret_hash": hash_secret(secret), "secret": secret, "created_at": now_iso(),
                            "revoked_at": None, "expires_at": None})
    return secret


def rotate_server_key(storage, server_key_id: int, overlap: timedelta) -> str:
    """Make a new secret for a server key's site and keep the old one valid for `overlap` more; return the
    new secret."""
    current = next((row for row in storage.list_server_keys() if row["id"] == server_key_id), None)
    if current is None or current["revoked_at"]:
        raise UnknownKey(f"no such active secret: {server_key_id}")
    if current["expires_at"]:
        raise UnknownKey(f"the secret {server_key_id} was rotated already (valid until {current['expires_at']})")
    secret = create_server_key(storage, current["key"])
    storage.expire_server_key(server_key_id, iso(utcnow() + overlap))
    return secret


def signature(body: bytes, secret: str) -> str:
    """What DataCue's client sends as the password: hex HMAC-SHA256 of the body, keyed by the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _site(storage, server_key: dict) -> dict:
    """The active key row a server key belongs to."""
    key_row = storage.get_key(server_key["key"])
    if key_row is None or key_row["revoked_at"]:
        raise KeyRevoked("The key this secret belongs to was revoked.")
    return key_row


def _by_secret(storage, secret: str) -> dict:
    """The active server key row for a secret, or Unauthorized saying why not."""
    if not secret.startswith(PREFIX):
        if secret.startswith(("live_", "test_")):
            raise Unauthorized("This API needs a secret server key (sk_live_... or sk_test_...); a publishable "
                               "key cannot write here. " + _HELP)
        raise Unauthorized("Unknown secret key. " + _HELP)
    row = storage.find_server_key(hash_secret(secret))
    if row is None:
        raise Unauthorized("Unknown secret key. " + _HELP)
    if row["revoked_at"]:
        raise Unauthorized("This secret key was revoked.")
    keys.check_expiry(row, "secret")
    return row


def by_secret(storage, secret: str) -> tuple[dict, dict]:
    """(key row, server key row) of a secret sent alone (Capillary's token header), or 401/403."""
    server_key = _by_secret(storage, secret.strip())
    return _site(storage, server_key), server_key


def authenticate(request: Request, storage, body: Callable[[], bytes]) -> tuple[dict, dict]:
    """Return (key row, server key row) for a request carrying a site's secret, or raise 401/403.

    `body()` reads the request body; it is called only to check a signed one.
    """
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        server_key = _by_secret(storage, credentials)
        return _site(storage, server_key), server_key
    if scheme.lower() == "basic" and credentials:
        try:
            key, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("The Basic credentials are not valid base64. " + _HELP) from None
        if not password:
            raise Unauthorized("This API needs the site's secret as well as its key: Basic base64('KEY:sk_...'). "
                               "The publishable key alone cannot write here.")
        site = site_row(storage, key)["key"]  # a rotated key's successor names the same site
        if password.startswith(PREFIX):
            server_key = _by_secret(storage, password)
            if not hmac.compare_digest(server_key["key"].encode(), site.encode()):
                raise Unauthorized("The key and the secret belong to different sites.")
            return _site(storage, server_key), server_key
        for server_key in storage.server_keys_of(site):
            if hmac.compare_digest(signature(body(), server_key["secret"]).encode(), password.lower().encode()):
                keys.check_expiry(server_key, "secret")
                return _site(storage, server_key), server_key
        raise Unauthorized("The password is neither a secret of this key nor the body's HMAC-SHA256 signed "
                           "with one. " + _HELP)
    raise Unauthorized("No secret key was sent. " + _HELP)
