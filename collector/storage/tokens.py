"""Analyst tokens in the store: kept as hashes only."""

from __future__ import annotations

import json

from .base import SQLBase


def _sites_decoded(row: dict) -> dict:
    """A token row with its sites as a list (None: every site)."""
    row["sites"] = None if row["sites"] is None else json.loads(row["sites"])
    return row


class TokensMixin(SQLBase):
    """Token rows: add, find by hash, list, revoke."""

    def add_token(self, name: str, token_hash: str, created_at: str, sites: list[str] | None = None) -> int:
        """Store a token's hash and the sites (keys) it may read (None: every site); return its id."""
        self.ensure_migrated()
        with self._transaction() as conn:
            return conn.execute("INSERT INTO analyst_tokens (name, token_hash, created_at, sites) VALUES (?, ?, ?, ?) "
                                "RETURNING id", (name, token_hash, created_at,
                                                 None if sites is None else json.dumps(sorted(sites)))).fetchone()[0]

    def find_token(self, token_hash: str) -> dict | None:
        """The token row with this hash (`sites`: the keys it may read, or None for every site), or None."""
        rows = self._read("SELECT id, name, token_hash, created_at, revoked_at, sites FROM analyst_tokens "
                          "WHERE token_hash = ?", (token_hash,))
        return _sites_decoded(rows[0]) if rows else None

    def list_tokens(self) -> list[dict]:
        """Every token (names, dates and sites; the hashes stay in the database)."""
        return [_sites_decoded(row) for row in
                self._read("SELECT id, name, created_at, revoked_at, sites FROM analyst_tokens ORDER BY id")]

    def revoke_token(self, token_id: int, at: str) -> bool:
        """Revoke a token; False when there is no such active token."""
        return self._change("UPDATE analyst_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            (at, token_id)) == 1
