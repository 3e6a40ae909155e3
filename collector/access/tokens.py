"""Analyst tokens: made, hashed, and checked in constant time. Publishable keys never pass here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from ..clock import now_iso
from ..errors import Unauthorized
from .credentials import Request

_ALPHABET = string.ascii_letters + string.digits
PREFIX = "an_"


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are long and random, so a fast hash is enough to keep them unreadable."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(storage, name: str, sites: list[str] | None = None) -> str:
    """Make a token (an_ and 32 random base62 characters) that reads every site, or only `sites` (keys);
    store its hash; return the token."""
    token = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(32))
    storage.add_token(name, hash_token(token), now_iso(), sites)
    return token


def authenticate(request: Request, storage) -> dict:
    """The token row for `Authorization: Bearer an_...`, or Unauthorized."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        raise Unauthorized("Reports need an analyst token: Authorization: Bearer an_... "
                           "(collector tokens create). Publishable keys do not work here.")
    return authenticate_token(token, storage)


def authenticate_token(token: str, storage) -> dict:
    """The active token row for this token, or Unauthorized."""
    digest = hash_token(token)
    row = storage.find_token(digest)
    # compare_digest: the final check takes the same time whatever the hashes share.
    if row is None or not hmac.compare_digest(row["token_hash"], digest) or row["revoked_at"]:
        raise Unauthorized("Unknown or revoked analyst token.")
    return row
