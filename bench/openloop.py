"""An open-loop load generator: requests start on a fixed schedule whether or not earlier ones finished.

Latency is measured from when a request was due, not when it went out, so a stalled server shows in
the percentiles instead of slowing the client down (no coordinated omission). HTTP/1.1 over asyncio
streams, keep-alive where the server allows it, a new connection when it closes one.
"""

from __future__ import annotations

import asyncio
import time

from bodies import SIZES
from bodies import body


class _Connection:
    """One HTTP/1.1 connection to the server."""

    def __init__(self, reader, writer):
        """Wrap an open stream pair."""
        self.reader, self.writer = reader, writer

    async def post(self, host: str, path: str, key: str, data: bytes) -> tuple[int, bool]:
        """Send one POST; return the status and whether the server keeps the connection open."""
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        await self.reader.readexactly(int(headers.get("content-length", 0)))
        return status, headers.get("connection", "").lower() != "close"


async def _run(host: str, port: int, key: str, kind: str, rate: float, seconds: float, run: int) -> dict:
    """Send `rate` requests per second for `seconds`; return counts and latency percentiles."""
    idle: list[_Connection] = []
    latencies: list[float] = []
    counts = {"acked_events": 0, "refused_requests": 0, "errors": 0}
    acked_ids: list[str] = []
    total = int(rate * seconds)
    start = time.perf_counter()

    async def one(due: float, path: str, data: bytes, ids: list[str]) -> None:
        """Send one request on an idle connection or a new one, and record when it was answered."""
        try:
            conn = idle.pop() if idle else _Connection(*await asyncio.open_connection(host, port))
            status, keep = await conn.post(f"{host}:{port}", path, key, data)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["errors"] += 1
            return
        latencies.append(time.perf_counter() - due)
        if 200 <= status < 300:
            counts["acked_events"] += SIZES[kind]
            acked_ids.extend(ids)
        else:
            counts["refused_requests"] += 1
        if keep:
            idle.append(conn)
        else:
            conn.writer.close()

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, *body(kind, run))))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.writer.close()
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3) if latencies else (
        lambda q: float("nan"))
    return dict(counts, requests=len(latencies), seconds=time.perf_counter() - start,
                p50_ms=pick(0.50), p99_ms=pick(0.99), acked_ids=acked_ids)


def open_loop(host: str, port: int, key: str, kind: str, rate: float, seconds: float, run: int) -> dict:
    """Run the open-loop schedule to completion and return its figures."""
    return asyncio.run(_run(host, port, key, kind, rate, seconds, run))
