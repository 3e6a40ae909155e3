"""Benchmark: the collector against the bare Flask ceiling, one gunicorn worker on one core.

    ./dev bench            (or: python bench/ingest.py [--seconds 10] [--connections 32] [--rss-events 1000000])

Starts a bare Flask app (parse JSON, answer 204), a validation-only app (the same plus the collector's
marshmallow schemas, nothing stored: saturation only) and the collector over a fresh SQLite store under the
same gunicorn settings (gunicorn.conf.py, WEB_CONCURRENCY=1), each pinned to core 0, and drives them
from core 1 with the same loads: single DataCue events, batches of 10 and 100, Cobi interactions.
Saturation comes from wrk (closed loop, keep-alive where the worker allows it); latency at 70% of
that rate from an open-loop asyncio client. After every collector run it checks that each
acknowledged event is in the store. Then it fills the store to a million events and reads the
worker's peak RSS. Prints a Markdown table; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bodies import SIZES  # noqa: E402
from openloop import open_loop  # noqa: E402

from support.servers import Gunicorn  # noqa: E402
from support.servers import prepare_store  # noqa: E402

SERVER_CPU, CLIENT_CPU = "0", 1


def wrk(url: str, key: str, kind: str, seconds: float, connections: int, run: int) -> dict:
    """Saturate `url` with wrk for `seconds`; return the RESULT line bench/wrk/post.lua prints."""
    env = dict(os.environ, BODY=kind, KEY=key, RUN=str(run))
    out = subprocess.run(
        ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "wrk" / "post.lua"), url], env=env, capture_output=True, text=True, check=True)
    found = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return json.loads(found[1])


def stored(path: str) -> int:
    """How many events the store holds."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def missing(path: str, ids: list[str]) -> int:
    """How many of these event ids the store does not hold."""
    found = 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found += conn.execute(f"SELECT count(*) FROM events WHERE event_id IN ({','.join('?' * len(chunk))})",
                                  chunk).fetchone()[0]
    return len(ids) - found


def worker_rss_peak(master_pid: int) -> list[int]:
    """Peak resident memory (VmHWM, bytes) of each worker of a gunicorn master."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) * 1024)
    return peaks


def settle(url: str) -> None:
    """Wait until the server has worked off what wrk left in flight when it stopped.

    The worker's threads take requests in order, so a health check is answered only after them.
    Without this wait the open loop's first requests queued behind up to 32 saturation requests
    (half a second of batches of 100), and that backlog, not the 70% load, set the p99.
    """
    requests.get(url + "/healthz", timeout=60).raise_for_status()


def measure(server: Gunicorn, key: str, args, runs: list[int], store: str | None, paced: bool = True) -> dict:
    """Every load against one server: saturation, then (if paced) 70% open loop; verify the store after each."""
    host, port = "127.0.0.1", server.port
    results = {}
    for kind in args.loads.split(","):
        before = stored(store) if store else 0
        runs[0] += 1
        saturated = wrk(server.url, key, kind, args.seconds, args.connections, runs[0])
        rate = saturated["requests"] / saturated["seconds"]
        results[kind] = {"rps": rate, "eps": saturated["acked_events"] / saturated["seconds"],
                         "p50": saturated["p50_ms"], "p99": saturated["p99_ms"]}
        if not paced:
            continue
        settle(server.url)
        runs[0] += 1
        latency = open_loop(host, port, key, kind, 0.7 * rate, args.seconds, runs[0])
        acked = saturated["acked_events"] + latency["acked_events"]
        results[kind].update(p50_70=latency["p50_ms"], p99_70=latency["p99_ms"], acked=acked,
                             refused=saturated["refused_requests"] + latency["refused_requests"],
                             errors=saturated["socket_errors"] + latency["errors"])
        if store:
            # Unique ids: every acknowledged event must be there; a request cut off after its commit
            # may add events nobody was told about, never remove one. wrk cannot say which requests
            # it saw answered, so its run is checked by count; the open-loop client's id by id.
            results[kind]["stored"] = stored(store) - before
            lost = missing(store, latency["acked_ids"])
            if results[kind]["stored"] < acked or lost:
                sys.exit(f"{kind}: {acked} events acknowledged, {results[kind]['stored']} stored, "
                         f"{lost} of the open loop's acknowledged ids missing")
    return results


def fill_and_rss(server: Gunicorn, key: str, store: str, target: int, runs: list[int], connections: int) -> tuple:
    """Send batches of 100 until the store holds `target` events; return (events, worker peak RSS)."""
    while stored(store) < target:
        runs[0] += 1
        wrk(server.url, key, "batch100", 10, connections, runs[0])
    return stored(store), max(worker_rss_peak(server.process.pid))


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return (f"{cpu[1] if cpu else platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def main() -> None:
    """Measure the bare app and the collector, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rss-events", type=int, default=1_000_000)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a collector setting for this run, e.g. SQLITE_SYNCHRONOUS=NORMAL (repeatable)")
    parser.add_argument("--app", default=None, metavar="MODULE:APP",
                        help="run this WSGI app in the collector's place, e.g. bench.unvalidated_app:app")
    parser.add_argument("--loads", default=",".join(SIZES), help="which loads, comma-separated: " + ", ".join(SIZES))
    args = parser.parse_args()
    os.sched_setaffinity(0, {CLIENT_CPU})  # the open-loop client shares the load generator's core
    os.environ["WEB_CONCURRENCY"] = "1"
    runs = [int(time.time()) % 100000 * 1000]
    with tempfile.TemporaryDirectory() as folder:
        store = f"{folder}/bench.sqlite3"
        key = prepare_store(store, "bench")
        with Gunicorn(store, workers=1, app="bench.bare_app:app", cpus=SERVER_CPU) as bare:
            ceiling = measure(bare, key, args, runs, None)
        # The middle rung: the same parsing plus the collector's marshmallow validation, nothing stored.
        with Gunicorn(store, workers=1, app="bench.validate_app:app", cpus=SERVER_CPU) as validating:
            validated = measure(validating, key, args, runs, None, paced=False)
        settings = dict(LOG_LEVEL="WARNING", **dict(item.split("=", 1) for item in args.setting))
        with Gunicorn(store, workers=1, app=args.app, cpus=SERVER_CPU, **settings) as collector:
            ours = measure(collector, key, args, runs, store)
            events, rss = fill_and_rss(collector, key, store, args.rss_events, runs, args.connections)
    print(f"Machine: {machine()}")
    print(f"Load: wrk -t1 -c{args.connections} -d{args.seconds}s; open loop at 70% of each saturation rate\n")
    print("| load | bare req/s | validation only req/s (ratio) | collector req/s | ratio | collector events/s "
          "| p50 / p99 ms at saturation | p50 / p99 ms at 70% | acked / stored | refused, socket errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in ours:
        b, v, c = ceiling[kind], validated[kind], ours[kind]
        print(f"| {kind} | {b['rps']:,.0f} | {v['rps']:,.0f} ({v['rps'] / b['rps']:.2f}) | {c['rps']:,.0f} "
              f"| {c['rps'] / b['rps']:.2f} | {c['eps']:,.0f} "
              f"| {c['p50']:.1f} / {c['p99']:.1f} | {c['p50_70']:.1f} / {c['p99_70']:.1f} "
              f"| {c['acked']:,} / {c['stored']:,} | {c['refused']}, {c['errors']} |")
    print(f"\nPeak RSS of the collector worker after {events:,} events: {rss / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
