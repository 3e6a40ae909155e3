"""Whole tables out of one store and into another, idempotently: what `collector copy` is made of."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .base import SQLBase
from .columns import EVENT_COLUMNS
from .columns import KEY_COLUMNS
from .columns import LINE_COLUMNS
from .columns import OUTBOX_COLUMNS
from .columns import RECORD_COLUMNS
from .columns import REJECTED_COLUMNS
from .columns import SERVER_KEY_COLUMNS
from .columns import SUPPRESSED_COLUMNS
from .columns import TARGET_COLUMNS
from .columns import TOKEN_COLUMNS
from .columns import VERSION_COLUMNS
from .columns import insert_sql
from .ingest import INSERT_EVENT
from .ingest import INSERT_LINE
from .ingest import line_values

#: Rows read per page; memory stays bounded by this, whatever the size of the store.
PAGE = 1000
#: JSON columns, read as text so that either backend can write them.
_JSON = ("payload", "errors")


@dataclass(frozen=True)
class _Table:
    """How one table is paged out and written in."""

    columns: tuple[str, ...]
    #: The column pages are ordered by (unique); `id` is read too where it is the order.
    order: str = "id"
    #: Appended to the INSERT: how a row already there is skipped.
    conflict: str = ""


#: What a copy moves, in order: targets before the outbox rows that name them.
TABLES: dict[str, _Table] = {
    "keys": _Table((*KEY_COLUMNS, "store_events"), order="key", conflict=" ON CONFLICT (key) DO NOTHING"),
    "forward_targets": _Table(TARGET_COLUMNS),
    "analyst_tokens": _Table(TOKEN_COLUMNS, conflict=" ON CONFLICT (token_hash) DO NOTHING"),
    # record_versions.sent_by keeps the source store's server key id.
    "server_keys": _Table(SERVER_KEY_COLUMNS, conflict=" ON CONFLICT (secret_hash) DO NOTHING"),
    "suppressed": _Table(SUPPRESSED_COLUMNS, order="id_hash", conflict=" ON CONFLICT (id_hash) DO NOTHING"),
    "events": _Table(EVENT_COLUMNS),
    "rejected": _Table(REJECTED_COLUMNS),
    "record_versions": _Table(VERSION_COLUMNS, conflict=" ON CONFLICT (version_id) DO NOTHING"),
    "records": _Table(RECORD_COLUMNS, order="version_id", conflict=" ON CONFLICT (key, type, record_id) DO NOTHING"),
    "outbox": _Table(OUTBOX_COLUMNS, conflict=" ON CONFLICT (target_id, key, event_id) DO NOTHING"),
}


class TransferMixin(SQLBase):
    """Export a table a page at a time; import a page, skipping rows already there."""

    def count_rows(self) -> int:
        """How many rows a copy of this store reads (for a progress bar)."""
        return sum(self._read(f"SELECT count(*) AS n FROM {name}")[0]["n"] for name in TABLES)

    def export_pages(self, table: str) -> Iterator[list[dict]]:
        """Yield a table's rows in pages (keyset paging); events come with their `lines`."""
        spec = TABLES[table]
        names = ", ".join(f"CAST({c} AS TEXT) AS {c}" if c in _JSON else c for c in spec.columns)
        if spec.order == "id":
            names = "id, " + names
        after: object = 0 if spec.order == "id" else ""
        while True:
            rows = self._read(f"SELECT {names} FROM {table} WHERE {spec.order} > ? ORDER BY {spec.order} "
                              f"LIMIT {PAGE}", (after,))
            if not rows:
                return
            if table == "events":
                self._attach_lines(rows)
            yield rows
            after = rows[-1][spec.order]

    def _attach_lines(self, events: list[dict]) -> None:
        """Give each event of a page its cart or order lines, in order (one query per page)."""
        by_pk: dict[int, list[dict]] = {event["id"]: [] for event in events}
        marks = ", ".join("?" for _ in by_pk)
        for line in self._read(f"SELECT event_pk, {', '.join(LINE_COLUMNS)} FROM event_lines "
                               f"WHERE event_pk IN ({marks}) ORDER BY event_pk, line_no", list(by_pk)):
            by_pk[line.pop("event_pk")].append(line)
        for event in events:
            event["lines"] = by_pk[event["id"]]

    def import_rows(self, table: str, rows: list[dict], target_ids: dict[int, int]) -> dict[str, int]:
        """Write a page exported from another store in one transaction; return rows added per table.

        Rows already here are skipped (keys by key, tokens by hash, targets by key, kind, url and creation
        time, events by key and event_id, rejected rows by key, time and body, outbox rows by target and
        event), so a copy can run again after more events arrived, or after an interruption.
        `target_ids` maps the source's target ids to this store's: filled by forward_targets, read by outbox.
        """
        spec = TABLES[table]
        added = {table: 0}
        self.ensure_migrated()
        with self._transaction() as conn:
            for row in rows:
                values = [row[c] for c in spec.columns]
                if table == "forward_targets":
                    target_ids[row["id"]], new = self._import_target(conn, values)
                    added[table] += new
                elif table == "events":
                    inserted = conn.execute(INSERT_EVENT, values).fetchone()
                    if inserted is not None:
                        added[table] += 1
                        lines = line_values(inserted[0], row)
                        conn.cursor().executemany(INSERT_LINE, lines)
                        added["event_lines"] = added.get("event_lines", 0) + len(lines)
                elif table == "rejected" and conn.execute(
                        "SELECT 1 FROM rejected WHERE key = ? AND received_at = ? AND raw_bytes = ? AND raw = ?",
                        (row["key"], row["received_at"], row["raw_bytes"], row["raw"])).fetchone():
                    continue
                else:
                    if table == "outbox":
                        values[0] = target_ids[row["target_id"]]
                    added[table] += conn.execute(insert_sql(table, spec.columns) + spec.conflict, values).rowcount
        return added

    def _import_target(self, conn, values: list) -> tuple[int, int]:
        """The id here of a copied target, inserting it when it is new; and 1 if it was."""
        key, kind, url, _secret, created_at, _removed_at = values
        found = conn.execute("SELECT id FROM forward_targets WHERE key = ? AND kind = ? AND url = ? AND created_at = ?",
                             (key, kind, url, created_at)).fetchone()
        if found is not None:
            return found[0], 0
        return conn.execute(insert_sql("forward_targets", TARGET_COLUMNS) + " RETURNING id", values).fetchone()[0], 1
