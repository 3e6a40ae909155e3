"""Analyst tokens in the store: kept as hashes only."""

from __future__ import annotations

from .base import SQLBase


class TokensMixin(SQLBase):
    """Token rows: add, find by hash, list, revoke."""

    def add_token(self, name: str, token_hash: str, created_at: str) -> int:
        """Store a token's hash; return its id."""
        self.ensure_migrated()
        with self._transaction() as conn:
            return conn.execute("INSERT INTO analyst_tokens (name, token_hash, created_at) VALUES (?, ?, ?) "
                                "RETURNING id", (name, token_hash, created_at)).fetchone()[0]

    def find_token(self, token_hash: str) -> dict | None:
        """The token row with this hash, or None."""
        rows = self._read("SELECT id, name, token_hash, created_at, revoked_at FROM analyst_tokens "
                          "WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None

    def list_tokens(self) -> list[dict]:
        """Every token (names and dates; the hashes stay in the database)."""
        return self._read("SELECT id, name, created_at, revoked_at FROM analyst_tokens ORDER BY id")

    def revoke_token(self, token_id: int, at: str) -> bool:
        """Revoke a token; False when there is no such active token."""
        return self._change("UPDATE analyst_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            (at, token_id)) == 1
