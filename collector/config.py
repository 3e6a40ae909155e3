"""Every setting once, with its default; read from COLLECTOR_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache

from .errors import ConfigError

#: Each setting: (default, one-line description). The table in docs/configuration.md is checked against this.
SETTINGS: dict[str, tuple[object, str]] = {
    "DATABASE_URL": ("sqlite:///collector.sqlite3",
                     "Where events are stored: `sqlite:///relative/path` or `sqlite:////absolute/path`."),
    "SQLITE_SYNCHRONOUS": ("FULL", "SQLite `synchronous` pragma: FULL syncs every commit to disk; "
                                   "NORMAL may lose the last commits on power loss."),
    "SQLITE_BUSY_TIMEOUT_MS": (5000, "How long a write waits for another writer's lock before the request "
                                     "is answered 503."),
    "KEY_CACHE_SECONDS": (5, "How long a worker trusts its copy of a key's row; a key revoked or created with the "
                             "CLI takes effect within this time (0 reads the key on every request)."),
    "RATE_LIMIT_PER_KEY": ("1000/second", "Requests one key may make to the ingest endpoints, per worker process "
                                          "(`N/second`, `N/minute` or `N/hour`; empty turns it off); over it: 429."),
    "RATE_LIMIT_PER_IP": ("50/second", "Requests one client IP may make to the ingest endpoints, per worker "
                                       "process; empty turns it off."),
    "RATE_LIMIT_TEST_KEYS": (0, "1 applies the rate limits to test keys too (off by default, so load tests and "
                                "CI are not throttled)."),
    "RETRY_AFTER_SECONDS": (5, "`Retry-After` sent with 503 when storage cannot be written."),
    "MAX_BODY_BYTES": (65536, "Largest single-event request body, measured after gzip decompression."),
    "MAX_BATCH_BYTES": (524288, "Largest batch request body, measured after gzip decompression."),
    "MAX_BATCH_EVENTS": (500, "Most events in one batch request."),
    "SEGMENT_PREFIX": ("/segment", "Path under which Segment's and RudderStack's SDKs post (`<prefix>/v1/batch`, "
                                   "...); never empty: `/v1/batch` at the root is DataCue's backend API."),
    "SEGMENT_MAX_BATCH_BYTES": (4194304, "Largest Segment or RudderStack request body, measured after gzip "
                                         "decompression (RudderStack's SDKs send batches up to 4 MiB)."),
    "SEGMENT_HOME_NAMES": ("home,homepage", "Segment page calls with one of these names (any case, "
                                            "comma-separated) count as the home page."),
    "SEGMENT_HOME_PATHS": ("/", "Segment page calls on one of these paths (comma-separated) count as the home page."),
    "MAX_EVENT_BYTES": (32768, "Largest single event (one envelope or record, as compact JSON)."),
    "MAX_DATA_BYTES": (10485760, "Largest Data API request body (`POST /v1/data/<type>`, up to 5,000 records), "
                                 "measured after gzip decompression."),
    "DATA_CHUNK": (1000, "Records of one Data API request stored per transaction (one entry in the answer's "
                         "`batches`)."),
    "MAX_UPLOAD_BYTES": (1073741824, "Largest file an import job takes (`POST /v1/imports`, Capillary's coupon "
                                     "upload), as uploaded (gzip counts compressed); over it: 413."),
    "IMPORT_CHUNK": (1000, "Rows of an import job stored per transaction; a worker that dies resumes after the "
                           "last committed chunk."),
    "IMPORT_LEASE_SECONDS": (30, "How long a worker holds an import job without committing a chunk before "
                                 "another worker may take it over."),
    "IMPORT_PROCESSES": (0, "Processes that validate an import job's rows while the worker writes them: 1 is the "
                            "worker alone; 0, half the machine's cores (at least 1)."),
    "IMPORT_MAX_ROWS": (10000000, "Most rows in one imported file; a larger one fails before anything is stored."),
    "TRUSTED_PROXIES": (0, "Number of reverse proxies in front of the collector whose "
                           "`X-Forwarded-For` entry is trusted."),
    "IP_STORAGE": ("truncate", "What is stored of the client IP: `truncate` (IPv4 /24, IPv6 /48), `full` or `none`."),
    "IPV4_PREFIX": (24, "Prefix length kept when truncating IPv4 addresses."),
    "IPV6_PREFIX": (48, "Prefix length kept when truncating IPv6 addresses."),
    "REJECTED_RAW_MAX_BYTES": (65536, "How much of a rejected body is kept in the `rejected` table for repair."),
    "LOG_LEVEL": ("INFO", "Level of the collector's stderr log (one line per request at INFO)."),
    "LOG_FORMAT": ("text", "`text` (gunicorn's format) or `json` (one JSON object per line, for log shippers)."),
    "FORWARD_BATCH": (100, "Outbox rows one forwarder claims and sends per round."),
    "FORWARD_CONCURRENCY": (8, "Requests one forwarder has in flight at once to a target, reached by doubling from "
                               "one after a start or a failure."),
    "FORWARD_LEASE_SECONDS": (60, "How long a claimed row is held; a forwarder that dies releases it after this."),
    "FORWARD_TIMEOUT_SECONDS": (10, "How long the forwarder waits for an upstream's answer before retrying later."),
    "FORWARD_MAX_AGE_HOURS": (72, "Pending outbox rows older than this move to dead."),
    "RETENTION_DAYS": (0, "The worker deletes events (their lines, finished outbox rows and import jobs) received "
                          "more than this many days ago, once an hour; 0 keeps them forever."),
    "REJECTED_RETENTION_DAYS": (0, "The same for rejected rows (kept for repair); 0 follows RETENTION_DAYS."),
    "METRICS_TOKEN": ("", "Bearer token Prometheus scrapes `/metrics` with; empty turns `/metrics` off (404). "
                          "Keep it out of logs like a key."),
    "RECOMMENDATIONS": (1, "1 answers DataCue's home and product page views, searches and cart views with "
                           "recommendations (200); 0 answers every event 204, an event sink only."),
    "RECOMMENDATION_BUDGET_MS": (50, "Time one answer's lists may take; the lists not made by then are empty "
                                     "(the event is stored before, whatever happens)."),
    "RECOMMENDATION_LENGTHS": ("related=8,bought_together=4,similar=8,recent=10",
                               "Products per list: `related` (home, search, cart), `bought_together` and `similar` "
                               "(product page), `recent`; each 0 to 20."),
    "DEMO_KEY": ("", "Key the demo shop at /demo/ sends with; empty turns the demo off (`./dev run` sets it)."),
}

DEFAULTS = {name: default for name, (default, _) in SETTINGS.items()}

_CHOICES = {
    "SQLITE_SYNCHRONOUS": {"OFF", "NORMAL", "FULL", "EXTRA"},
    "IP_STORAGE": {"truncate", "full", "none"},
    "LOG_LEVEL": {"DEBUG", "INFO", "WARNING", "ERROR"},
    "LOG_FORMAT": {"text", "json"},
}


def from_environ(environ: os._Environ | dict | None = None) -> dict:
    """Read COLLECTOR_<NAME> variables for the known settings, typed like their defaults."""
    environ = os.environ if environ is None else environ
    found = {}
    for name, default in DEFAULTS.items():
        raw = environ.get("COLLECTOR_" + name)
        if raw is None:
            continue
        if isinstance(default, int):
            try:
                found[name] = int(raw)
            except ValueError:
                raise ConfigError(f"COLLECTOR_{name} must be an integer, got {raw!r}") from None
        else:
            found[name] = raw
    return found


#: Each recommendation list's length unless the settings say otherwise (DataCue's samples show 6; Shopify
#: caps at 10), and the longest any may be set to.
LIST_LENGTHS = {"related": 8, "bought_together": 4, "similar": 8, "recent": 10}
LONGEST_LIST = 20


@lru_cache(maxsize=8)
def list_lengths(setting: str) -> dict[str, int]:
    """The recommendation lists' lengths from a setting such as `related=8,recent=10` (lists not named
    keep their default)."""
    return {**LIST_LENGTHS, **named_lengths(setting)}


def named_lengths(setting: str) -> dict[str, int]:
    """The lengths of the lists a setting such as `related=8,recent=10` names; ValueError on any other."""
    found = {}
    for part in filter(None, (p.strip() for p in setting.split(","))):
        name, _, value = part.partition("=")
        if name.strip() not in LIST_LENGTHS or not value.strip().isdigit() or not 0 <= int(value) <= LONGEST_LIST:
            raise ValueError(f"{part!r}: expected one of {', '.join(LIST_LENGTHS)} = 0 to {LONGEST_LIST}")
        found[name.strip()] = int(value)
    return found


def validate(config: dict) -> None:
    """Fail fast, at startup, on a setting that would only break later."""
    for name, allowed in _CHOICES.items():
        if config[name] not in allowed:
            raise ConfigError(f"{name} must be one of {sorted(allowed)}, got {config[name]!r}")
    for name, default in DEFAULTS.items():
        if isinstance(default, int) and (not isinstance(config[name], int) or config[name] < 0):
            raise ConfigError(f"{name} must be a non-negative integer, got {config[name]!r}")
    try:
        list_lengths(config["RECOMMENDATION_LENGTHS"])
    except ValueError as exc:
        raise ConfigError(f"RECOMMENDATION_LENGTHS: {exc}") from None
    for name in ("DATA_CHUNK", "IMPORT_CHUNK", "IMPORT_LEASE_SECONDS"):
        if config[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    prefix = config["SEGMENT_PREFIX"].rstrip("/")
    if not prefix.startswith("/") or any(c in prefix for c in "<>?#"):
        raise ConfigError(f"SEGMENT_PREFIX must be a path such as /segment, got {config['SEGMENT_PREFIX']!r}")
    if not 0 <= config["IPV4_PREFIX"] <= 32 or not 0 <= config["IPV6_PREFIX"] <= 128:
        raise ConfigError("IPV4_PREFIX must be 0-32 and IPV6_PREFIX 0-128")
