"""`collector export` and `GET /v1/export`: stream stored events to CSV, NDJSON or Parquet in constant memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from collections.abc import Iterator

from ..storage.columns import EVENT_COLUMNS

#: Rows read per query; memory stays bounded by this, whatever the size of the export.
CHUNK = 5000
COLUMNS = ("id", *EVENT_COLUMNS)
FORMATS = ("csv", "ndjson", "parquet")


def _filters(mode: str, since: str, until: str, types: tuple[str, ...],
             keys: tuple[str, ...] | None) -> tuple[str, list]:
    """The WHERE clause (after the id bound) and its parameters: mode, period, types, the sites' keys."""
    sql = " AND mode = ? AND event_time >= ? AND event_time < ?"
    params = [mode, since, until]
    if keys is not None:
        sql += f" AND key IN ({', '.join('?' for _ in keys)})" if keys else " AND 1 = 0"
        params.extend(keys)
    if types:
        sql += f" AND type IN ({', '.join('?' for _ in types)})"
        params.extend(types)
    return sql, params


def count(analytics, mode: str, since: str, until: str, types: tuple[str, ...] = (),
          keys: tuple[str, ...] | None = None) -> int:
    """How many events the export will write (for the progress bar)."""
    where, params = _filters(mode, since, until, types, keys)
    return int(analytics.query(f"SELECT count(*) FROM events WHERE id > ?{where}", [0, *params])[1][0][0])


def rows(analytics, mode: str, since: str, until: str, types: tuple[str, ...] = (),
         keys: tuple[str, ...] | None = None) -> Iterator[tuple]:
    """Yield matching events of the sites' keys (None: every key) in id order, CHUNK at a time (keyset
    paging, not OFFSET)."""
    where, params = _filters(mode, since, until, types, keys)
    names = ", ".join("CAST(payload AS TEXT)" if c == "payload" else c for c in COLUMNS)
    last = 0
    while True:
        page = analytics.query(f"SELECT {names} FROM events WHERE id > ?{where} ORDER BY id LIMIT {CHUNK}",
                             [last, *params])[1]
        if not page:
            return
        yield from page
        last = page[-1][0]


def write(records: Iterator[tuple], fmt: str, out, advance: Callable[[int], None]) -> int:
    """Write records to `out` (a text stream, or a binary one for parquet); return how many."""
    written = 0

    def counted(n: int) -> None:
        """Count what was written and tell the progress bar."""
        nonlocal written
        written += n
        advance(n)

    for piece in pieces(records, fmt, counted):
        out.write(piece)
    return written


def pieces(records: Iterator[tuple], fmt: str, advance: Callable[[int], None] = lambda n: None) -> Iterator:
    """The export as it is written, CHUNK events at a time: text for CSV and NDJSON, bytes for Parquet (one
    row group a piece), so that an HTTP answer can stream it in constant memory."""
    if fmt == "parquet":
        yield from _parquet_pieces(records, advance)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(COLUMNS)
    pending = 0
    for record in records:
        if writer:
            writer.writerow(record)
        else:
            row = dict(zip(COLUMNS, record, strict=True))
            row["payload"] = json.loads(row["payload"])
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        pending += 1
        if pending == CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            advance(pending)
            pending = 0
    yield buffer.getvalue()
    advance(pending)


class _Sink(io.RawIOBase):
    """Where pyarrow writes a Parquet file: the bytes since the last piece was taken."""

    def __init__(self):
        """Nothing written yet."""
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        """It is."""
        return True

    def write(self, data) -> int:
        """Keep what pyarrow wrote."""
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        """Bytes written so far (pyarrow asks)."""
        return self.position

    def taken(self) -> bytes:
        """The bytes written since the last call."""
        data, self.parts = b"".join(self.parts), []
        return data


def _parquet_pieces(records: Iterator[tuple], advance: Callable[[int], None]) -> Iterator[bytes]:
    """Parquet in row groups of CHUNK (pyarrow, the `parquet` extra); DuckDB and pandas read it."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("Parquet needs pyarrow, which the extra `parquet` installs: pip install "
                         "'storefront-collector[parquet]' (from a checkout: pip install -e '.[parquet]')") from None
    types = {"id": pa.int64(), "revenue": pa.float64(), "item_known": pa.int64(), "student_known": pa.int64()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
    sink = _Sink()
    with pq.ParquetWriter(sink, schema) as writer:
        batch: list[tuple] = []
        written = 0
        for record in records:
            batch.append(record)
            if len(batch) == CHUNK:
                writer.write_table(pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in batch], schema))
                written += len(batch)
                advance(len(batch))
                batch = []
                yield sink.taken()
        if batch or not written:
            writer.write_table(pa.Table.from_pylist([dict(zip(COLUMNS, r, strict=True)) for r in batch], schema))
            advance(len(batch))
    yield sink.taken()
