"""Import jobs against the HTTP batch endpoints: the same rows, on the embedded default (SQLite,
synchronous=FULL).

    python bench/import_bench.py                    # 1,000,000 DataCue order events, 500,000 Cobi transactions
    python bench/import_bench.py --orders 100000 --transactions 50000 --http-rows 50000

For each data set: a generated CSV imported by one `collector worker` process (rows/s from the job's start
to its end, and the worker's peak RSS, VmHWM), once with the worker alone (`COLLECTOR_IMPORT_PROCESSES=1`)
and once with two processes preparing chunks beside it (`=2`, their peak RSS added); then the same rows
(the first --http-rows of them) posted to gunicorn (the packaged settings) in batches the way a loading
script would: DataCue events 500 per `POST /v1/events`, Cobi transactions 5,000 per
`POST /v1/data/transactions`, from --clients threads, each retrying a 503 after its Retry-After. The
import also runs on a tenth of the file, to show its memory does not grow with the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from collector import create_app  # noqa: E402
from collector.access import keys  # noqa: E402
from collector.access import server_keys  # noqa: E402
from collector.imports import jobs  # noqa: E402

from support.servers import Gunicorn  # noqa: E402

SHOPS = [str(uuid.UUID(int=n + 1)) for n in range(20)]
_HEADERS = {
    "orders": ["user.user_id", "user.anonymous_id", "event.type", "event.subtype", "event.order_id", "event.cart",
               "event.payment_method", "context.page_url", "timestamp"],
    "transactions": ["transaction_id", "shop_id", "region", "savings", "amount", "student_id", "source",
                     "discount_name", "discount_type", "discount_value", "created"],
}


def order_rows(count: int, seed: int = 7):
    """DataCue completed orders of a year: 1 to 3 cart lines each, one currency."""
    rng = random.Random(seed)
    start = 1_735_689_600  # 2025-01-01
    for n in range(count):
        lines = [{"product_id": f"p{rng.randrange(2000)}", "variant_id": f"v{rng.randrange(4)}",
                  "quantity": rng.randrange(1, 4), "unit_price": round(rng.uniform(5, 200), 2), "currency": "USD"}
                 for _ in range(rng.randrange(1, 4))]
        user = rng.randrange(100_000)
        yield [f"u{user}", f"a{user}", "order", "completed", f"o{n}", json.dumps(lines, separators=(",", ":")),
               rng.choice(["card", "paypal", ""]), f"https://shop.example/order/o{n}",
               f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(start + n * 31))}Z"]


def transaction_rows(count: int, seed: int = 11):
    """Cobi transactions of the shops loaded first."""
    rng = random.Random(seed)
    for n in range(count):
        amount = round(rng.uniform(2, 80), 2)
        yield [str(uuid.UUID(int=(1 << 64) + n)), rng.choice(SHOPS), "CA", round(amount * 0.1, 2), amount,
               str(uuid.UUID(int=(2 << 64) + rng.randrange(50_000))), rng.choice(["online", "in-store"]),
               "STUDENT10", "percentage", 10, f"2026-{1 + n % 12:02}-{1 + n % 28:02}T12:00:00Z"]


def write_csv(path: Path, kind: str, rows) -> int:
    """Write a data set as CSV; its size in bytes."""
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(_HEADERS[kind])
        writer.writerows(rows)
    return path.stat().st_size


def as_item(kind: str, row: list) -> dict:
    """A CSV row as the HTTP API's JSON item (what a script would post)."""
    if kind == "orders":
        user_id, anonymous_id, _, subtype, order_id, cart, payment, page, timestamp = row
        return {"user": {"user_id": user_id, "anonymous_id": anonymous_id},
                "event": {"type": "order", "subtype": subtype, "order_id": order_id, "cart": json.loads(cart),
                          "payment_method": payment},
                "context": {"page_url": page}, "timestamp": timestamp}
    return dict(zip(_HEADERS["transactions"], row, strict=True))


def fresh_store(folder: Path) -> tuple[str, str, str]:
    """A migrated SQLite store with a key, a secret and the shops: (url, key, secret)."""
    url = f"sqlite:///{folder}/bench.sqlite3"
    storage = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    storage.migrate()
    key = keys.create_key(storage, "bench", [])
    secret = server_keys.create_server_key(storage, key)
    storage.close()
    with Gunicorn(f"{folder}/bench.sqlite3", workers=1) as server:
        shops = [{"shop_id": shop, "name": f"Shop {n}", "region": "CA"} for n, shop in enumerate(SHOPS)]
        response = requests.post(f"{server.url}/v1/data/shops", json={"records": shops},
                                 headers={"Authorization": f"Bearer {secret}"}, timeout=60)
        assert response.status_code == 200, response.text
    return url, key, secret


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM), in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _moment(text: str) -> datetime:
    """Collector time text as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def import_run(url: str, key: str, kind: str, path: Path, processes: int) -> dict:
    """Create the job, run one worker process until it ends; rows/s, the worker's peak RSS and its pool's."""
    storage = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    with open(path, "rb") as upload:
        job = jobs.create(storage, storage.get_key(key), "events" if kind == "orders" else "transactions",
                          upload, path.name, path.stat().st_size)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env.update(COLLECTOR_DATABASE_URL=url, COLLECTOR_LOG_LEVEL="WARNING", COLLECTOR_IMPORT_PROCESSES=str(processes))
    worker = subprocess.Popen([sys.executable, "-m", "collector.cli", "worker", "--no-forward"], cwd=ROOT, env=env,
                              start_new_session=True)
    rss, pool = 0.0, {}
    try:
        while (found := storage.get_job(job["id"]))["status"] in ("STARTED", "PROCESSING"):
            rss = max(rss, peak_rss_mb(worker.pid))
            for child in children_of(worker.pid):
                pool[child] = max(pool.get(child, 0.0), peak_rss_mb(child))
            time.sleep(0.5)
        rss = max(rss, peak_rss_mb(worker.pid))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        storage.close()
    seconds = (_moment(found["finished_at"]) - _moment(found["started_at"])).total_seconds()
    assert found["status"] == "COMPLETED" and found["stored"] == found["total_rows"], found
    return {"rows": found["total_rows"], "seconds": seconds, "rate": found["total_rows"] / seconds, "rss_mb": rss,
            "pool_mb": sum(pool.values())}


def validation_rate(kind: str, path: Path, rows: int = 50_000) -> float:
    """Rows per second through the kind's marshmallow schema alone, in this process: the ceiling of one
    core for anything that validates every row with it (the import and the HTTP endpoint alike)."""
    from collector.schemas import cobi_data
    from collector.schemas import datacue

    schema = datacue.EVENT if kind == "orders" else next(t.schema for t in cobi_data.TYPES
                                                           if t.name == "transactions")
    with open(path, newline="") as source:
        reader = csv.reader(source)
        next(reader)
        items = [as_item(kind, row) for _, row in zip(range(rows), reader, strict=False)]
    started = time.perf_counter()
    for item in items:
        schema.load(item)
    return len(items) / (time.perf_counter() - started)


def http_run(folder: Path, key: str, secret: str, kind: str, path: Path, rows: int, clients: int) -> dict:
    """The first `rows` rows of the file, posted in batches by `clients` threads; rows/s."""
    batch = 500 if kind == "orders" else 5000
    with open(path, newline="") as source:
        reader = csv.reader(source)
        next(reader)
        items = [as_item(kind, row) for _, row in zip(range(rows), reader, strict=False)]
    bodies = [items[n:n + batch] for n in range(0, len(items), batch)]
    endpoint, auth = (("/v1/events", (key, "")) if kind == "orders" else ("/v1/data/transactions", None))
    lock = threading.Lock()
    failures = []
    with Gunicorn(f"{folder}/bench.sqlite3") as server:
        def send():
            """Post batches until none is left."""
            session = requests.Session()
            while True:
                with lock:
                    if not bodies:
                        return
                    body = bodies.pop()
                payload = {"events": body} if kind == "orders" else {"records": body}
                while True:  # as a loading script does: a 503 (the write lock busy) is retried after Retry-After
                    response = session.post(server.url + endpoint, json=payload, auth=auth, timeout=300,
                                            headers=None if auth else {"Authorization": f"Bearer {secret}"})
                    if response.status_code != 503:
                        break
                    time.sleep(float(response.headers.get("Retry-After", 1)))
                if response.status_code != 200:
                    failures.append(response.status_code)
        started = time.perf_counter()
        threads = [threading.Thread(target=send) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    assert not failures, failures[:5]
    return {"rows": len(items), "seconds": seconds, "rate": len(items) / seconds}


def main() -> None:
    """Generate, import, post; print the table bench/RESULTS.md quotes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=500_000)
    parser.add_argument("--http-rows", type=int, default=0, help="rows posted over HTTP (default: all of them)")
    parser.add_argument("--clients", type=int, default=4, help="threads posting batches")
    parser.add_argument("--keep", help="folder to keep the files and stores in (default: a temporary one)")
    args = parser.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="import-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    results = []
    for kind, count, rows in (("orders", args.orders, order_rows), ("transactions", args.transactions,
                                                                    transaction_rows)):
        if not count:
            continue
        data = base / f"{kind}.csv"
        size = write_csv(data, kind, rows(count))
        small = base / f"{kind}-tenth.csv"
        write_csv(small, kind, rows(count // 10))
        print(f"{kind}: {count:,} rows, {size / 1e6:.0f} MB of CSV", flush=True)
        runs = {"validation": {"rate": validation_rate(kind, data)}}
        print(f"  validation alone (one core): {runs['validation']['rate']:,.0f} rows/s", flush=True)
        for name, path, processes in (("tenth", small, 1), ("alone", data, 1), ("pool", data, 2)):
            folder = base / f"{kind}-{name}"
            folder.mkdir(exist_ok=True)
            url, key, _ = fresh_store(folder)
            runs[name] = import_run(url, key, kind, path, processes)
            print(f"  import of {runs[name]['rows']:,} rows, {processes} process(es) preparing: "
                  f"{runs[name]['rate']:,.0f} rows/s, worker peak RSS {runs[name]['rss_mb']:.0f} MB "
                  f"(+ {runs[name]['pool_mb']:.0f} MB in its pool)", flush=True)
        folder = base / f"{kind}-http"
        folder.mkdir(exist_ok=True)
        url, key, secret = fresh_store(folder)
        runs["http"] = http_run(folder, key, secret, kind, data, args.http_rows or count, args.clients)
        print(f"  HTTP batches, {runs['http']['rows']:,} rows: {runs['http']['rate']:,.0f} rows/s", flush=True)
        results.append((kind, count, runs))
    print("\n| data | rows | validation alone, one core | import rows/s, worker alone | with a pool of 2 | "
          "worker peak RSS (tenth / whole file; pool) | HTTP batch rows/s | import / HTTP (alone; pool) |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, count, runs in results:
        http = runs["http"]["rate"]
        print(f"| {kind} | {count:,} | {runs['validation']['rate']:,.0f} | {runs['alone']['rate']:,.0f} | "
              f"{runs['pool']['rate']:,.0f} | "
              f"{runs['tenth']['rss_mb']:.0f} / {runs['alone']['rss_mb']:.0f} MB; {runs['pool']['rss_mb']:.0f} + "
              f"{runs['pool']['pool_mb']:.0f} MB | {http:,.0f} | {runs['alone']['rate'] / http:.2f}; "
              f"{runs['pool']['rate'] / http:.2f} |")


if __name__ == "__main__":
    main()
