"""Sites: what an analyst reads. A site is a publishable key (named by the key, or by its name: every key
of that name); an analyst token reads every site, or only the sites it was made for. Reports, exports,
the reports API and the dashboard all choose their scope here, so none can read past a token's sites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadParameter
from ..errors import Forbidden
from ..errors import NotFound

MODES = ("live", "test")
#: Where the sites' condition goes in a query: after each period filter, with its table's alias.
_SITES = re.compile(r"\[\[sites ([\w.]*)\]\]")


def period_filter(alias: str = "", time: str = "event_time") -> str:
    """The filter on mode, period and sites (of `events`, or a table or view with the column `time`), for
    `scoped` to complete: its parameters are the mode, since, until and then the sites' keys."""
    return f"{alias}mode = ? AND {alias}{time} >= ? AND {alias}{time} < ?[[sites {alias}]]"


def scoped(sql: str, keys: tuple[str, ...] | None) -> str:
    """A query with its sites' condition in each period filter (none for every key)."""
    if keys is None:
        return _SITES.sub("", sql)
    marks = ", ".join("?" for _ in keys)
    return _SITES.sub(lambda m: f" AND {m[1]}key IN ({marks})" if keys else " AND 1 = 0", sql)


@dataclass(frozen=True)
class Scope:
    """The keys a report or export reads (None: every key), in one mode."""

    keys: tuple[str, ...] | None
    mode: str


def site_keys(storage, site: str) -> tuple[str, ...]:
    """The sites (the keys their data is kept under) a site parameter names: a key, or every key with that
    name, a rotated key's successor standing for the key it replaced; NotFound when none."""
    rows = storage.list_keys()
    found = [row for row in rows if row["key"] == site] or [row for row in rows if row["name"] == site]
    if not found:
        raise NotFound(f"No site {site!r}: name a publishable key, or the name of one (collector keys list).")
    return tuple(sorted({row["site"] or row["key"] for row in found}))


def readable(storage, token: dict | None) -> list[dict]:
    """The sites' key rows a token may read (every site without a token: the CLI), oldest first; a rotated
    key's successor is not a site of its own."""
    rows = [row for row in storage.list_keys() if row["site"] is None]
    allowed = None if token is None else token.get("sites")
    return rows if allowed is None else [row for row in rows if row["key"] in allowed]


def choose(storage, token: dict | None, site: str | None, mode: str | None) -> Scope:
    """The scope of a request: one site (403 when the token may not read it), or every site the token may
    read; in the mode asked for, else the site's own mode when all its keys share one, else live."""
    if mode not in (None, "", *MODES):
        raise BadParameter(f"mode must be live or test, not {mode!r}.", errors={"mode": ["Must be live or test."]})
    allowed = None if token is None else token.get("sites")
    if site:
        keys = site_keys(storage, site)
        if allowed is not None and not set(keys) <= set(allowed):
            raise Forbidden(f"This analyst token may not read the site {site!r}; it reads "
                            f"{', '.join(sorted(allowed)) or 'no site'}.")
        if not mode:
            modes = {row["mode"] for row in storage.list_keys() if row["key"] in keys}
            mode = modes.pop() if len(modes) == 1 else "live"
        return Scope(keys, mode)
    return Scope(None if allowed is None else tuple(sorted(allowed)), mode or "live")
