"""Secret server keys in the store: found by their hash (Bearer, Basic) or by their site (signed bodies)."""

from __future__ import annotations

from .base import SQLBase
from .columns import SERVER_KEY_COLUMNS
from .columns import insert_sql

_SELECT = f"SELECT s.id, {', '.join('s.' + c for c in SERVER_KEY_COLUMNS)} FROM server_keys s"


class ServerKeysMixin(SQLBase):
    """Server key rows: add, find (cached like key rows, so a revocation holds within the cache time), list, revoke."""

    def add_server_key(self, row: dict) -> int:
        """Store a server key; return its id."""
        self.ensure_migrated()
        with self._transaction() as conn:
            found = conn.execute(insert_sql("server_keys", SERVER_KEY_COLUMNS) + " RETURNING id",
                                 [row[c] for c in SERVER_KEY_COLUMNS]).fetchone()
        self._forget_cached()
        return found[0]

    def find_server_key(self, secret_hash: str) -> dict | None:
        """The server key row with this hash, or None."""
        def load():
            rows = self._read(f"{_SELECT} WHERE s.secret_hash = ?", (secret_hash,))
            return rows[0] if rows else None
        return self._cached("server_key", secret_hash, load)

    def server_keys_of(self, key: str) -> list[dict]:
        """The active server keys of a site, to check a body signed with one of them."""
        return self._cached("server_keys_of", key, lambda: self._read(
            f"{_SELECT} WHERE s.key = ? AND s.revoked_at IS NULL ORDER BY s.id", (key,)))

    def list_server_keys(self, key: str | None = None) -> list[dict]:
        """Every server key (of one site, or all) with its site's name; never the secret itself."""
        return self._read(
            "SELECT s.id, s.key, k.name, k.mode, s.prefix, s.created_at, s.revoked_at, s.expires_at FROM server_keys s "
            "JOIN keys k USING (key) WHERE CAST(? AS TEXT) IS NULL OR s.key = ? ORDER BY s.id", (key, key))

    def expire_server_key(self, server_key_id: int, at: str) -> bool:
        """End an active server key's validity at a time (a rotation's overlap); False when there is no such
        active key."""
        expired = self._change("UPDATE server_keys SET expires_at = ? WHERE id = ? AND revoked_at IS NULL",
                               (at, server_key_id)) == 1
        self._forget_cached()
        return expired

    def revoke_server_key(self, server_key_id: int, at: str) -> bool:
        """Revoke a server key; False when there is no such active one."""
        revoked = self._change("UPDATE server_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                               (at, server_key_id)) == 1
        self._forget_cached()
        return revoked
