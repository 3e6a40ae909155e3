"""Each site's own settings for its answers: the lengths of its lists, over the collector's
RECOMMENDATION_LENGTHS (a shop whose theme shows four products a row asks for eight, not ten).
"""

from __future__ import annotations

import json

from .kept import kept


def site_lengths(read, key: str) -> dict[str, int]:
    """The list lengths a site set (only the lists it named)."""
    rows = read("SELECT lengths FROM rec_sites WHERE key = ?", (key,))
    return json.loads(rows[0]["lengths"]) if rows else {}


def kept_site_lengths(read, store: int, key: str) -> dict[str, int]:
    """site_lengths(), kept a few seconds per process (every answer reads them)."""
    return kept(("lengths", store, key), lambda: site_lengths(read, key))


def set_site_lengths(storage, key: str, lengths: dict[str, int]) -> None:
    """Set a site's list lengths (none: the collector's for every list again)."""
    with storage.shared_transaction() as conn:
        conn.execute("DELETE FROM rec_sites WHERE key = ?", (key,))
        if lengths:
            conn.execute("INSERT INTO rec_sites (key, lengths) VALUES (?, ?)", (key, json.dumps(lengths)))
