"""Publishable keys in the store, read through the per-worker cache."""

from __future__ import annotations

from .base import SQLBase
from .columns import KEY_COLUMNS
from .columns import insert_sql


class KeysMixin(SQLBase):
    """Key rows: add, read (cached), list, revoke, and whether a key's events are stored."""

    def get_key(self, key: str) -> dict | None:
        """Return a key's row, or None."""
        def load():
            rows = self._read(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys WHERE key = ?", (key,))
            return rows[0] if rows else None
        return self._cached("key", key, load)

    def add_key(self, row: dict) -> None:
        """Insert a key row."""
        self._change(insert_sql("keys", KEY_COLUMNS), [row[c] for c in KEY_COLUMNS])
        self._forget_cached()

    def list_keys(self) -> list[dict]:
        """Return every key row, oldest first."""
        return self._read(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys ORDER BY created_at, key")

    def revoke_key(self, key: str, at: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""
        revoked = self._change("UPDATE keys SET revoked_at = ? WHERE key = ? AND revoked_at IS NULL", (at, key)) == 1
        self._forget_cached()
        return revoked

    def expire_key(self, key: str, at: str) -> bool:
        """End an active key's validity at a time (a rotation's overlap); False when there is no such key."""
        expired = self._change("UPDATE keys SET expires_at = ? WHERE key = ? AND revoked_at IS NULL", (at, key)) == 1
        self._forget_cached()
        return expired

    def set_store(self, key: str, store: bool) -> bool:
        """Choose whether a key's events are kept in `events` as well as forwarded; False: no such key."""
        changed = self._change("UPDATE keys SET store_events = ? WHERE key = ?", (int(store), key)) == 1
        self._forget_cached()
        return changed
