"""What an event's page address and referrer say, read once at ingest into stored columns: the page's path,
the referring site (none for the shop's own pages or no referrer: a direct visit), the campaign's UTM tags,
and whether the referrer is known spam.

Referrer spam is Matomo's community list (collector/data/referrer_spam.txt, public domain; Plausible's
blocklist comes from the same list): a referrer on it, or under a domain on it, marks the event as a bot's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

#: Longest stored path and UTM value (the page address itself is bounded by the schemas).
_TEXT_MAX = 512


@dataclass(frozen=True)
class Traffic:
    """The columns one event's page and referrer fill (None where they say nothing)."""

    page_path: str | None = None
    #: The referring site's host without `www.`, None for a direct visit or the shop's own pages.
    referrer_domain: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    #: `referrer spam: DOMAIN` when the referrer is on the spam list.
    spam: str | None = None


@functools.cache
def _spammers() -> frozenset[str]:
    """The spam list's domains, read once."""
    text = (resources.files("collector") / "data" / "referrer_spam.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _host(url: str | None) -> str | None:
    """An address's host, lower case, without a leading `www.`; None when it has none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def spam_domain(host: str) -> str | None:
    """The listed domain a host is or lies under, else None."""
    listed = _spammers()
    parts = host.split(".")
    for n in range(len(parts) - 1):
        candidate = ".".join(parts[n:])
        if candidate in listed:
            return candidate
    return None


def utm_tags(page_url: str | None) -> dict[str, str]:
    """The page address's `utm_*` parameters without their prefix (`source`, `medium`, `campaign`, ...)."""
    if not page_url or "utm_" not in page_url:
        return {}
    try:
        query = urlsplit(page_url).query
    except ValueError:
        return {}
    return {name[4:]: value[:_TEXT_MAX] for name, value in parse_qsl(query) if name.startswith("utm_") and name[4:]}


@functools.lru_cache(maxsize=8192)  # visitors move between the same pages and come from the same places
def read(page_url: str | None, referrer: str | None) -> Traffic:
    """Read one event's page address and referrer."""
    page_path = None
    if page_url:
        try:
            page_path = (urlsplit(page_url.strip()).path or "/")[:_TEXT_MAX]
        except ValueError:
            page_path = None
    source = _host(referrer)
    # A referrer from the page's own site (or from a developer's machine) is a move within the visit.
    if source is not None and (source == _host(page_url) or source in ("localhost", "127.0.0.1")):
        source = None
    spam = spam_domain(source) if source else None
    utm = utm_tags(page_url)
    return Traffic(page_path=page_path, referrer_domain=source, utm_source=utm.get("source") or None,
                   utm_medium=utm.get("medium") or None, utm_campaign=utm.get("campaign") or None,
                   spam=f"referrer spam: {spam}" if spam else None)
