"""Publishable keys: creation, rotation, revocation, the site a key belongs to, and the allowed-origins check."""

from __future__ import annotations

import json
import secrets
import string
from datetime import timedelta
from urllib.parse import urlsplit

from ..clock import iso
from ..clock import now_iso
from ..clock import utcnow
from ..errors import KeyRotated
from ..errors import UnknownKey
from ..storage import Storage

_ALPHABET = string.ascii_letters + string.digits
_DEFAULT_PORTS = {"http": 80, "https": 443}


def new_key(mode: str) -> str:
    """Return a fresh key such as live_4fQ... (24 random base62 characters, about 143 bits)."""
    return f"{mode}_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def normalize_origin(value: str) -> str:
    """Return `scheme://host[:port]` in lower case, or raise ValueError.

    A leading `*.` in the host allows every subdomain: `https://*.shop.example`.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or (parts.path not in ("", "/")) \
            or parts.query or parts.fragment or parts.username:
        raise ValueError(f"not an origin (expected scheme://host[:port]): {value!r}")
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in origin: {value!r}") from None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """Tell whether a request's Origin header matches one of a key's allowed origins."""
    if not allowed:
        return True
    try:
        origin = normalize_origin(origin)
    except ValueError:
        return False  # "null" (sandboxed frames, file://) and garbage match no listed origin
    for pattern in allowed:
        if origin == pattern:
            return True
        scheme, _, host = pattern.partition("://*.")
        if host and origin.startswith(scheme + "://") and origin.endswith("." + host):
            return True
    return False


def create_key(storage: Storage, name: str, origins: list[str], test: bool = False) -> str:
    """Create, store and return a new key."""
    mode = "test" if test else "live"
    key = new_key(mode)
    storage.add_key({"key": key, "name": name, "mode": mode,
                     "origins": json.dumps([normalize_origin(o) for o in origins]),
                     "created_at": now_iso(), "revoked_at": None, "site": None, "expires_at": None})
    return key


def site_of(row: dict) -> str:
    """The key a key row's site keeps its data under: its own, or (for a rotated key's successor) the first."""
    return row["site"] or row["key"]


def rotate_key(storage: Storage, key: str, overlap: timedelta) -> str:
    """Issue a key's successor (same site, name, mode and origins; the site's targets, secrets and data stay
    as they are) and keep the key valid for `overlap` more; return the new key."""
    row = storage.get_key(key)
    if row is None or row["revoked_at"]:
        raise UnknownKey(f"no such active key: {key}")
    if row["expires_at"]:
        raise UnknownKey(f"the key {key} was rotated already (valid until {row['expires_at']})")
    successor = new_key(row["mode"])
    storage.add_key({**{c: row[c] for c in ("name", "mode", "origins")}, "key": successor, "created_at": now_iso(),
                     "revoked_at": None, "site": site_of(row), "expires_at": None})
    storage.expire_key(key, iso(utcnow() + overlap))
    return successor


def check_expiry(row: dict, what: str) -> None:
    """Refuse a key or secret whose rotation's overlap has ended (403 key_rotated)."""
    if row["expires_at"] and row["expires_at"] <= now_iso():
        raise KeyRotated(f"This {what} was rotated: it was replaced by a new one and stopped working at "
                         f"{row['expires_at']}. Use the site's current {what}.")


def find_active(storage: Storage, name: str) -> str | None:
    """Return the newest unrevoked key with this name, if any."""
    matches = [k for k in storage.list_keys() if k["name"] == name and not k["revoked_at"]]
    return matches[-1]["key"] if matches else None
