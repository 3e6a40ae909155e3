"""Where SQLite and PostgreSQL differ in SQL text: the one place the shared queries learn of it.

The shared SQL is written once, for SQLite, with `?` placeholders; a dialect says how its backend
spells the few things that differ. No paramstyle is common to sqlite3 and psycopg, so PostgreSQL's
dialect translates a statement's placeholders once (outside quoted literals, `%` escaped as psycopg
wants), and remembers the translation; docs/architecture.md says why it is not composed per dialect.
Connections and transactions (WAL and BEGIN IMMEDIATE, a connection pool) are the backends' own
business, in sqlite.py and postgres.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: A quoted SQL literal (left as written), a placeholder, or a percent sign.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


@dataclass(frozen=True)
class Dialect:
    """How one backend spells what the shared SQL needs."""

    #: The backend's name, and the folder of its migrations.
    name: str
    #: The driver's parameter placeholder.
    placeholder: str
    #: Appended to the outbox claim's SELECT so that two forwarders never lease one row.
    claim_lock: str
    #: Appended to a claim's SELECT of one table's rows, so that two workers never take the same one.
    skip_locked: str
    #: Taken before a migration runs, so that only one process migrates (None: the write lock does it).
    migration_lock: str | None
    #: `position of needle in haystack`, as a format string over two SQL expressions.
    position: str
    #: A top-level field of a JSON column as text, as a format string over the column and the field.
    json_field: str = "json_extract({column}, '$.{field}')"
    #: A JSON column as its text, as a format string over the column.
    json_text: str = "{column}"
    #: Taken inside a transaction so that one process at a time does a piece of work, as a format string over
    #: the work's number (None: the write lock already does it).
    turn_lock: str | None = None

    def sql(self, text: str) -> str:
        """The shared SQL (`?` placeholders) in this backend's placeholders."""
        return text if self.placeholder == "?" else _format_style(text)

    def event_field(self, column: str, field: str) -> str:
        """A field of a stored event's `event` object (its payload's), as text."""
        if self.name == "postgres":
            return f"({column} -> 'event' ->> '{field}')"
        return f"json_extract({column}, '$.event.{field}')"

    def contains(self, haystack: str, needle: str) -> str:
        """A condition true when the text `needle` occurs in `haystack`."""
        return self.position.format(haystack=haystack, needle=needle) + " > 0"


#: SQLite: BEGIN IMMEDIATE already serialises claims (of outbox rows and import jobs) and migrations.
SQLITE = Dialect(name="sqlite", placeholder="?", claim_lock="", skip_locked="", migration_lock=None,
                 position="instr({haystack}, {needle})")

#: PostgreSQL: row locks skip what another forwarder holds; an advisory lock (any constant; this one
#: spells "coll") serialises migrations across processes and nodes.
POSTGRES = Dialect(name="postgres", placeholder="%s", claim_lock=" FOR UPDATE OF o SKIP LOCKED",
                   skip_locked=" FOR UPDATE SKIP LOCKED",
                   migration_lock=f"SELECT pg_advisory_xact_lock({0x636F6C6C})",
                   position="strpos({haystack}, {needle})", json_field="{column}->>'{field}'",
                   json_text="{column}::text",
                   turn_lock="SELECT pg_advisory_xact_lock({number})")


@lru_cache(maxsize=4096)
def _format_style(text: str) -> str:
    """A statement's `?` placeholders as psycopg's `%s`, and its `%` signs (in literals too) as `%%`."""
    return _TOKENS.sub(lambda found: {"?": "%s", "%": "%%"}.get(found[0]) or found[0].replace("%", "%%"), text)
