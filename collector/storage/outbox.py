"""Forward targets and the outbox (claim with a lease, finish, release, status, retry), for every backend."""

from __future__ import annotations

from ..errors import UnknownKey
from .base import SQLBase

_TARGET_COLUMNS = "t.id AS target_id, t.kind, t.url, t.secret, t.failures, t.paused_until"
_CLAIMED = ("id", "event_id", "source", "payload", "attempts", "target_id", "kind", "url", "secret", "failures",
            "paused_until")


class OutboxMixin(SQLBase):
    """Forward targets (add, list, remove) and the outbox drain (claim, finish, release, status, retry)."""

    def add_target(self, key: str, kind: str, url: str, secret: str, created_at: str,
                   sources: list[str] | None = None, types: list[str] | None = None) -> int:
        """Add a forward target to a key, subscribed to some event sources and types (None: all its kind
        takes); return its id. The kind is checked by the caller (the registry)."""
        self.ensure_migrated()
        with self._transaction() as conn:
            if not conn.execute("SELECT 1 FROM keys WHERE key = ?", (key,)).fetchone():
                raise UnknownKey(f"no such key: {key}")
            row = conn.execute("INSERT INTO forward_targets (key, kind, url, secret, created_at, sources, types) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                               (key, kind, url, secret, created_at, *(None if names is None else ",".join(names)
                                                                       for names in (sources, types)))).fetchone()
        self._forget_cached()
        return row[0]

    def list_targets(self) -> list[dict]:
        """Every active target with its key's name and whether the key stores events."""
        return self._read(
            "SELECT t.id, t.key, k.name, k.store_events, t.kind, t.url, t.secret, t.created_at, t.sources, t.types "
            "FROM forward_targets t JOIN keys k USING (key) WHERE t.removed_at IS NULL ORDER BY t.id")

    def remove_target(self, target_id: int, at: str) -> bool:
        """Stop forwarding to a target; its pending rows stay for `outbox retry` or inspection."""
        removed = self._change("UPDATE forward_targets SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                               (at, target_id)) == 1
        self._forget_cached()
        return removed

    def claim(self, owner: str, limit: int, lease: float, now: float, max_age: float) -> list[dict]:
        """Lease up to `limit` due rows to `owner`; rows older than max_age die instead.

        Claims are exclusive (SQLite's BEGIN IMMEDIATE, PostgreSQL's FOR UPDATE SKIP LOCKED), so two
        forwarders never hold the same row; a lease that ran out (its forwarder died) makes the row
        claimable again. A paused target's rows wait; once its pause ends one forwarder takes one row of
        it, the probe, and holds the target paused for the lease meanwhile.
        """
        self.ensure_migrated()
        with self._transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'dead', last_error = 'expired: older than the maximum age', "
                         "lease_owner = NULL, lease_until = NULL WHERE state = 'pending' AND created_at < ?",
                         (now - max_age,))
            rows = conn.execute(
                f"SELECT o.id, o.event_id, o.source, o.payload, o.attempts, {_TARGET_COLUMNS} FROM outbox o "
                "JOIN forward_targets t ON t.id = o.target_id WHERE o.state = 'pending' AND o.next_attempt_at <= ? "
                "AND (o.lease_until IS NULL OR o.lease_until < ?) AND (t.paused_until IS NULL OR t.paused_until <= ?) "
                "ORDER BY o.id LIMIT ?" + self.dialect.claim_lock, (now, now, now, limit)).fetchall()
            claimed, probes = [], {}
            for row in rows:
                target, paused_until = row[5], row[10]
                if paused_until is None:
                    claimed.append(row)
                elif target not in probes:
                    # Whoever moves the pause takes the probe; another forwarder's claim then sees it paused.
                    probes[target] = conn.execute(
                        "UPDATE forward_targets SET paused_until = ? WHERE id = ? AND paused_until = ?",
                        (now + lease, target, paused_until)).rowcount == 1
                    if probes[target]:
                        claimed.append(row)
            conn.cursor().executemany("UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?",
                                      [(owner, now + lease, r[0]) for r in claimed])
        return [dict(zip(_CLAIMED, r, strict=True)) for r in claimed]

    def finish(self, owner: str, results: list[tuple[int, object]], now: float, health: dict | None = None) -> None:
        """Record attempts' outcomes on rows this owner still holds (a row held back unsent is only
        released), and the targets' health after the round (policy.Health by target id)."""
        self.ensure_migrated()
        with self._transaction() as conn:
            for row_id, outcome in results:
                if not outcome.sent:
                    conn.execute("UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ? "
                                 "AND lease_owner = ?", (row_id, owner))
                    continue
                conn.execute(
                    "UPDATE outbox SET state = ?, attempts = attempts + CASE WHEN ? = 'delivered' THEN 0 ELSE 1 END, "
                    "next_attempt_at = ?, "
                    "delivered_at = CASE WHEN ? = 'delivered' THEN CAST(? AS DOUBLE PRECISION) END, "
                    "last_status = ?, last_error = ?, "
                    "lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                    (outcome.state, outcome.state, now + outcome.delay, outcome.state, now, outcome.status,
                     outcome.error, row_id, owner))
            for target_id, state in (health or {}).items():
                conn.execute("UPDATE forward_targets SET failures = ?, paused_until = ?, paused_reason = ? "
                             "WHERE id = ?", (state.failures, None if state.pause is None else now + state.pause,
                                              state.reason, target_id))

    def paused_targets(self, now: float) -> list[dict]:
        """The targets paused now, until when (seconds since the epoch) and why."""
        return self._read("SELECT id AS target_id, kind, url, failures, paused_until, paused_reason "
                          "FROM forward_targets WHERE removed_at IS NULL AND paused_until > ? ORDER BY id", (now,))

    def release(self, owner: str) -> int:
        """Give back every row this owner leased and did not finish."""
        return self._change("UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                            (owner,))

    def outbox_status(self, now: float) -> list[dict]:
        """Counts by target and state, with the age in seconds of the oldest pending row."""
        return self._read(
            "SELECT t.id AS target_id, t.kind, t.url, o.state, count(*) AS count, "
            "CASE WHEN o.state = 'pending' THEN ? - min(o.created_at) END AS oldest_seconds "
            "FROM outbox o JOIN forward_targets t ON t.id = o.target_id GROUP BY t.id, o.state ORDER BY t.id, o.state",
            (now,))

    def outbox_counts(self, now: float) -> list[dict]:
        """Pending and dead rows by target, with the age in seconds of the oldest pending row (the metrics'
        read: delivered rows, the many, are left out, so the state index answers it)."""
        return self._read(
            "SELECT t.id AS target_id, t.kind, o.state, count(*) AS count, "
            "CASE WHEN o.state = 'pending' THEN ? - min(o.created_at) END AS oldest_seconds "
            "FROM outbox o JOIN forward_targets t ON t.id = o.target_id WHERE o.state IN ('pending', 'dead') "
            "GROUP BY t.id, t.kind, o.state ORDER BY t.id, o.state", (now,))

    def retry_dead(self, now: float, target_id: int | None = None) -> int:
        """Put dead rows back in the queue, due now, with a fresh age."""
        return self._change("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, created_at = ? "
                            "WHERE state = 'dead' AND (CAST(? AS BIGINT) IS NULL OR target_id = ?)",
                            (now, now, target_id, target_id))
