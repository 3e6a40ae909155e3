"""Benchmark: the collector against the bare Flask ceiling and plain-marshmallow validation alone, one
gunicorn worker on one core.

    ./dev bench            (or: python bench/ingest.py [--seconds 10] [--connections 32] [--rss-events 1000000]
                                                       [--loads single,...] [--shop-events 200000])

Starts a bare Flask app (parse JSON, answer 204), a validation-only app (the same plus the collector's
marshmallow schemas, plain, nothing stored: bench/validate_app.py) and the collector over a fresh SQLite
store under the same gunicorn settings (gunicorn.conf.py, WEB_CONCURRENCY=1), each pinned to core 0, and
drives them from core 1 with the same loads: a single DataCue event, batches of 10 and 100, a Cobi
interaction, a Segment batch of 100, Cobi's Data API with 5,000 transactions per request, and a product
page view answered with recommendations (the store first holds a generated shop: `--shop-events` events of
2,000 products and 5,000 visitors, its recommendation tables up to date). Saturation comes from wrk (closed
loop, keep-alive where the worker allows it); latency at 70% of that rate from an open-loop asyncio client,
for the bare app and the collector. After every collector run it checks that each acknowledged event (or
record) is in the store. Then a fresh worker fills the store to a million events, and the RSS of both
workers (now and at their peak) is read.
Prints a Markdown table; compare the ratios of one run.
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

import bodies  # noqa: E402
from openloop import open_loop  # noqa: E402
from recommendations_bench import generate  # noqa: E402

from collector.access import server_keys  # noqa: E402
from collector.recommendations.upkeep import keep_up  # noqa: E402
from collector.storage import open_storage  # noqa: E402

from support.records import EXAMPLES  # noqa: E402
from support.servers import Gunicorn  # noqa: E402
from support.servers import prepare_store  # noqa: E402

SERVER_CPU, CLIENT_CPU = "0", 1


#: The generated shop the product page views name: products p0.., visitors v0...
SHOP = {"products": 2_000, "visitors": 5_000}


def wrk(url: str, key: str, kind: str, seconds: float, connections: int, run: int) -> dict:
    """Saturate `url` with wrk for `seconds`; return the RESULT line bench/wrk/post.lua prints."""
    record = json.dumps({**bodies.TRANSACTION, "transaction_id": "ID"}).replace("%", "%%").replace('"ID"', '"%s"')
    env = dict(os.environ, BODY=kind, KEY=key, RUN=str(run), PRODUCTS=str(SHOP["products"]),
               VISITORS=str(SHOP["visitors"]), RECORD=record)
    out = subprocess.run(
        ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "wrk" / "post.lua"), url], env=env, capture_output=True, text=True, check=True)
    found = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return json.loads(found[1])


#: Where each load's acknowledged items are: the events, or (the Data API's) the current records.
_STORED = {"data5000": ("records", "record_id")}


def stored(path: str, kind: str = "single") -> int:
    """How many of this load's items (events, or records) the store holds."""
    table, _column = _STORED.get(kind, ("events", "event_id"))
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def missing(path: str, kind: str, ids: list[str]) -> int:
    """How many of these event (or record) ids the store does not hold."""
    table, column = _STORED.get(kind, ("events", "event_id"))
    found = 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found += conn.execute(f"SELECT count(*) FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})",
                                  chunk).fetchone()[0]
    return len(ids) - found


def worker_rss(master_pid: int, field: str) -> list[int]:
    """Resident memory (bytes) of each worker of a gunicorn master: VmRSS now, or VmHWM its peak."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(field + r":\s+(\d+) kB", status)[1]) * 1024)
    return sizes


def settle(url: str) -> None:
    """Wait until the server has worked off what wrk left in flight when it stopped.

    The worker's threads take requests in order, so a health check is answered only after them.
    Without this wait the open loop's first requests queued behind up to 32 saturation requests
    (half a second of batches of 100), and that backlog, not the 70% load, set the p99.
    """
    requests.get(url + "/healthz", timeout=60).raise_for_status()


def measure(server: Gunicorn, keys: dict, args, runs: list[int], store: str | None, paced: bool = True) -> dict:
    """Every load against one server: saturation, then (if paced) 70% open loop; verify the store after each.
    `keys` holds the publishable keys of the bench's site ("live") and of the generated shop's ("shop", for
    the product page views), and the shop's secret ("secret", for the Data API)."""
    host, port = "127.0.0.1", server.port
    results = {}
    for kind in args.loads.split(","):
        key = {"data5000": keys["secret"], "product": keys["shop"]}.get(kind, keys["live"])
        # A request of 5,000 records takes most of a second: 32 connections would queue past wrk's timeout.
        connections = 2 if kind == "data5000" else args.connections
        before = stored(store, kind) if store else 0
        runs[0] += 1
        saturated = wrk(server.url, key, kind, args.seconds, connections, runs[0])
        settle(server.url)  # the next run starts once this one's requests in flight are answered
        rate = saturated["requests"] / saturated["seconds"]
        results[kind] = {"rps": rate, "eps": saturated["acked_events"] / saturated["seconds"],
                         "p50": saturated["p50_ms"], "p99": saturated["p99_ms"]}
        if not paced:
            continue
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
            results[kind]["stored"] = stored(store, kind) - before
            lost = missing(store, kind, latency["acked_ids"])
            if results[kind]["stored"] < acked or lost:
                sys.exit(f"{kind}: {acked} events acknowledged, {results[kind]['stored']} stored, "
                         f"{lost} of the open loop's acknowledged ids missing")
    return results


def fill_and_rss(server: Gunicorn, key: str, store: str, target: int, runs: list[int], connections: int) -> tuple:
    """Send batches of 100 until the store holds `target` events; return (events, worker RSS, its peak)."""
    while stored(store) < target:
        runs[0] += 1
        wrk(server.url, key, "batch100", 10, connections, runs[0])
    return stored(store), max(worker_rss(server.process.pid, "VmRSS")), max(worker_rss(server.process.pid, "VmHWM"))


def prepare_shop(store: str, key: str, events: int) -> str:
    """Fill the store with a generated shop (its recommendation tables up to date, as the worker keeps them)
    and make the site's secret for the Data API load; return the secret."""
    generate(store, key, events, SHOP["products"], SHOP["visitors"])
    storage = open_storage({"DATABASE_URL": f"sqlite:///{store}", "SQLITE_SYNCHRONOUS": "OFF",
                            "SQLITE_BUSY_TIMEOUT_MS": 5000, "KEY_CACHE_SECONDS": 5})
    try:
        keep_up(storage)
        return server_keys.create_server_key(storage, key)
    finally:
        storage.close()


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
    parser.add_argument("--loads", default=",".join(bodies.BENCH_LOADS),
                        help="which loads, comma-separated: " + ", ".join(bodies.BENCH_LOADS))
    parser.add_argument("--shop-events", type=int, default=200_000,
                        help="events of the generated shop the product page views are answered from")
    args = parser.parse_args()
    os.sched_setaffinity(0, {CLIENT_CPU})  # the open-loop client shares the load generator's core
    os.environ["WEB_CONCURRENCY"] = "1"
    runs = [int(time.time()) % 100000 * 1000]
    bodies.SHOP.update(SHOP)
    bodies.TRANSACTION.update({k: v for k, v in EXAMPLES["transactions"].items()
                               if k not in ("offer_id", "branch_id")})  # the shop is its one reference
    with tempfile.TemporaryDirectory() as folder:
        store = f"{folder}/bench.sqlite3"
        # The generated shop is a site of its own: the other loads' site keeps an empty catalogue, as in
        # every earlier run of this benchmark (a search there is answered without matching a catalogue).
        keys = {"live": prepare_store(store, "bench"), "shop": prepare_store(store, "shop")}
        keys["secret"] = prepare_shop(store, keys["shop"], args.shop_events)
        with Gunicorn(store, workers=1, app="bench.bare_app:app", cpus=SERVER_CPU) as bare:
            ceiling = measure(bare, keys, args, runs, None)
        # The reference rung: the same parsing plus plain marshmallow validation, nothing stored.
        with Gunicorn(store, workers=1, app="bench.validate_app:app", cpus=SERVER_CPU) as validating:
            validated = measure(validating, keys, args, runs, None, paced=False)
        settings = dict(LOG_LEVEL="WARNING", **dict(item.split("=", 1) for item in args.setting))
        with Gunicorn(store, workers=1, app=args.app, cpus=SERVER_CPU, **settings) as collector:
            shop = requests.post(f"{collector.url}/v1/data/shops", json={"records": [EXAMPLES["shops"]]},
                                 headers={"Authorization": f"Bearer {keys['secret']}"}, timeout=30)
            shop.raise_for_status()
            ours = measure(collector, keys, args, runs, store)
            loaded = [max(worker_rss(collector.process.pid, field)) for field in ("VmRSS", "VmHWM")]
        # A fresh worker fills the store: what a million events leave in memory, apart from the loads above
        # (a Data API request of 5,000 records raises the worker's peak, and its allocator keeps some of it).
        with Gunicorn(store, workers=1, app=args.app, cpus=SERVER_CPU, **settings) as collector:
            events, rss, peak = fill_and_rss(collector, keys["live"], store, args.rss_events, runs, args.connections)
    print(f"Machine: {machine()}")
    print(f"Load: wrk -t1 -c{args.connections} (-c2 for data5000) -d{args.seconds}s; open loop at 70% of each "
          "saturation rate\n")
    print("| load | bare req/s | validation only req/s (share of bare) | collector req/s | collector events/s "
          "| collector / validation only | collector / bare | p50 / p99 ms at saturation | p50 / p99 ms at 70% "
          "| acked / stored | refused, socket errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ours:
        b, v, c = ceiling[kind], validated[kind], ours[kind]
        print(f"| {kind} | {b['rps']:,.0f} | {v['rps']:,.0f} ({v['rps'] / b['rps']:.2f}) | {c['rps']:,.0f} "
              f"| {c['eps']:,.0f} | **{c['rps'] / v['rps']:.2f}** | {c['rps'] / b['rps']:.2f} "
              f"| {c['p50']:.1f} / {c['p99']:.1f} | {c['p50_70']:.1f} / {c['p99_70']:.1f} "
              f"| {c['acked']:,} / {c['stored']:,} | {c['refused']}, {c['errors']} |")
    print(f"\nRSS of a fresh collector worker after filling the store to {events:,} events: {rss / 2**20:.0f} MB "
          f"(its peak: {peak / 2**20:.0f} MB); of the worker that ran the loads: {loaded[0] / 2**20:.0f} MB "
          f"(its peak: {loaded[1] / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
