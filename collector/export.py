"""`collector export`: stream stored events to CSV, NDJSON or Parquet in constant memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from collections.abc import Iterator

from .storage.columns import EVENT_COLUMNS

#: Rows read per query; memory stays bounded by this, whatever the size of the export.
CHUNK = 5000
COLUMNS = ("id", *EVENT_COLUMNS)
FORMATS = ("csv", "ndjson", "parquet")


def _filters(mode: str, since: str, until: str, types: tuple[str, ...]) -> tuple[str, list]:
    """The WHERE clause (after the id bound) and its parameters."""
    sql = " AND mode = ? AND event_time >= ? AND event_time < ?"
    params = [mode, since, until]
    if types:
        sql += f" AND type IN ({', '.join('?' for _ in types)})"
        params.extend(types)
    return sql, params


def count(storage, mode: str, since: str, until: str, types: tuple[str, ...] = ()) -> int:
    """How many events the export will write (for the progress bar)."""
    where, params = _filters(mode, since, until, types)
    return int(storage.query(f"SELECT count(*) FROM events WHERE id > ?{where}", [0, *params])[1][0][0])


def rows(storage, mode: str, since: str, until: str, types: tuple[str, ...] = ()) -> Iterator[tuple]:
    """Yield matching events in id order, CHUNK at a time (keyset paging, not OFFSET)."""
    where, params = _filters(mode, since, until, types)
    names = ", ".join("CAST(payload AS TEXT)" if c == "payload" else c for c in COLUMNS)
    last = 0
    while True:
        page = storage.query(f"SELECT {names} FROM events WHERE id > ?{where} ORDER BY id LIMIT {CHUNK}",
                             [last, *params])[1]
        if not page:
            return
        yield from page
        last = page[-1][0]


def write(records: Iterator[tuple], fmt: str, out, advance: Callable[[int], None]) -> int:
    """Write records to `out` (a text stream, or a binary one for parquet); return how many."""
    written = 0
    if fmt == "parquet":
        return _write_parquet(records, out, advance)
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(COLUMNS)
    for record in records:
        if writer:
            writer.writerow(record)
        else:
            row = dict(zip(COLUMNS, record, strict=True))
            row["payload"] = json.loads(row["payload"])
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
        advance(1)
    return written


def _write_parquet(records: Iterator[tuple], out, advance: Callable[[int], None]) -> int:
    """Parquet in row groups of CHUNK (pyarrow, the `parquet` extra); DuckDB and pandas read it."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("Parquet needs pyarrow: pip install -e '.[parquet]'") from None
    types = {"id": pa.int64(), "revenue": pa.float64()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
    written = 0
    with pq.ParquetWriter(out, schema) as writer:
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) == CHUNK:
                writer.write_table(pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in batch], schema))
                written += len(batch)
                advance(len(batch))
                batch = []
        if batch or not written:
            writer.write_table(pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in batch], schema))
            written += len(batch)
            advance(len(batch))
    return written
