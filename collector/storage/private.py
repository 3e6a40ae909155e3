"""What the analysts' read-only paths (collector query, exports, reports, the dashboard) may never read.

Secrets are kept because they are used (a server key checks DataCue's signed bodies; a forward target
sends its upstream credential), so they are kept from the read paths instead: SQLite's authorizer refuses
them on the read-only connection, and on PostgreSQL that connection reads as a role without the grant.
"""

from __future__ import annotations

import sqlite3

#: Tables no read-only statement may touch.
PRIVATE_TABLES = frozenset({"server_keys"})
#: Columns no read-only statement may read, by table (the rest of the table stays readable).
PRIVATE_COLUMNS = {"forward_targets": frozenset({"secret"}), "analyst_tokens": frozenset({"token_hash"})}
#: The PostgreSQL role collector query reads as (created by migrate when the database user may).
READER_ROLE = "collector_reader"

#: Said when a read-only statement touched one of them.
REFUSED = ("secrets (server_keys, forward_targets.secret, analyst_tokens.token_hash) are not readable by "
           "collector query, exports or reports; name other columns")


def sqlite_authorizer(action: int, arg1, arg2, database, trigger) -> int:
    """Deny reads of private tables and columns, and attaching other files (which would escape this check)."""
    if action == sqlite3.SQLITE_READ:
        if arg1 in PRIVATE_TABLES or arg2 in PRIVATE_COLUMNS.get(arg1, ()):
            return sqlite3.SQLITE_DENY
    elif action == sqlite3.SQLITE_ATTACH:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def postgres_grants(schema: str, tables: list[tuple[str, list[str]]]) -> list[str]:
    """The statements that let READER_ROLE read every table and view of a schema but the private ones.

    `tables` is (name, columns) of each table and view in the schema.
    """
    statements = [f'GRANT USAGE ON SCHEMA "{schema}" TO {READER_ROLE}']
    for name, columns in tables:
        if name in PRIVATE_TABLES:
            statements.append(f'REVOKE ALL ON "{name}" FROM {READER_ROLE}')
        elif name in PRIVATE_COLUMNS:
            readable = ", ".join(f'"{c}"' for c in columns if c not in PRIVATE_COLUMNS[name])
            statements.append(f'REVOKE SELECT ON "{name}" FROM {READER_ROLE}')
            statements.append(f'GRANT SELECT ({readable}) ON "{name}" TO {READER_ROLE}')
        else:
            statements.append(f'GRANT SELECT ON "{name}" TO {READER_ROLE}')
    return statements
