"""Each site's own settings for its answers: the lengths of its lists, over the collector's
RECOMMENDATION_LENGTHS (a shop whose theme shows four products a row asks for eight, not ten), and its
holdout, the share of its visitors who get plain best sellers instead of personalized lists, so that the
uplift is measured rather than assumed (docs/recommendations.md, "What they earn").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from dataclasses import field

from .kept import kept

#: The largest holdout a site may set: half of its visitors.
HOLDOUT_MAX = 0.5


@dataclass(frozen=True)
class SiteSettings:
    """A site's own list lengths (only the lists it named) and its holdout share (0: none)."""

    lengths: dict[str, int] = field(default_factory=dict)
    holdout: float = 0.0


def site_settings(read, key: str) -> SiteSettings:
    """The settings a site set."""
    rows = read("SELECT lengths, holdout FROM rec_sites WHERE key = ?", (key,))
    return SiteSettings(json.loads(rows[0]["lengths"]), float(rows[0]["holdout"])) if rows else SiteSettings()


def kept_site_settings(read, store: int, key: str) -> SiteSettings:
    """site_settings(), kept a few seconds per process (every answer reads them)."""
    return kept(("site", store, key), lambda: site_settings(read, key))


def set_site_settings(storage, key: str, settings: SiteSettings) -> None:
    """Set a site's settings (the defaults: the collector's lengths, no holdout)."""
    if not 0 <= settings.holdout <= HOLDOUT_MAX:
        raise ValueError(f"a holdout is a share from 0 to {HOLDOUT_MAX}")
    with storage.shared_transaction() as conn:
        conn.execute("DELETE FROM rec_sites WHERE key = ?", (key,))
        if settings != SiteSettings():
            conn.execute("INSERT INTO rec_sites (key, lengths, holdout) VALUES (?, ?, ?)",
                         (key, json.dumps(settings.lengths), settings.holdout))


def holdout_share(key: str, visitor: str) -> float:
    """Where a visitor falls in [0, 1) for a site: a hash of both, so a visitor keeps their group for
    good, and each site's groups are drawn apart."""
    digest = hashlib.sha256(f"{key}\x00{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def held_out(key: str, anonymous_id: str | None, user_id: str | None, share: float) -> bool:
    """Whether a visitor is in a site's holdout group: by the browser's anonymous id where there is one (a
    visitor who signs in keeps their group), else by their user id."""
    visitor = anonymous_id if anonymous_id is not None else user_id
    return share > 0 and visitor is not None and holdout_share(key, visitor) < share
