"""Benchmark: what each part of a product page's answer costs, in one process, over the large generated shop.

    python bench/recommendations_floor.py [--path /tmp/recs-bench.sqlite3] [--requests 2000] [--rounds 3]

Uses the store `bench/recommendations_bench.py` generates (run it first). Drives Flask's test client in this
one process (no HTTP, no threads: the cheapest a request can be), warmed with 4,000 requests of each load,
then measures in alternating rounds the mean cost of:

- a product click (a plain event, answered 204);
- a product page view answered with no lists (the engine replaced by an empty answer): the event alone;
- a product page view answered with the visitor's read alone (their identities and their recent product
  views, cart and orders: the one read no answer can skip, as a view stored a moment ago must be in the
  next answer), the lists left empty;
- a product page view answered in full.

Prints each load's cost and its share of a click's rate (the click's cost divided by the load's) per round,
then the medians: the share the visitor's read alone leaves is the most any answer can reach on this stack.
"""

from __future__ import annotations

import argparse
import base64
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bodies  # noqa: E402

import collector.api.datacue as datacue  # noqa: E402
from collector import create_app  # noqa: E402
from collector.recommendations.lists import Lists  # noqa: E402

FULL = datacue.recommend


def _visitor_only(storage, row: dict, settings: dict) -> str:
    """The answer's one unavoidable read (who the visitor is and what they did lately), lists left empty."""
    with storage.shared_reads() as read:
        lists = Lists(storage, row["key"], row["mode"], read)
        lists.history(lists.visitor(row["user_id"], row["anonymous_id"]))
    return '{"similar_product_skus":[],"related_product_skus":[],"recent_product_skus":[]}'


def _nothing(storage, row: dict, settings: dict) -> str:
    """No answer at all: the event's own cost."""
    return "{}"


#: Each load: the event sent and the engine answering it.
LOADS = {"click": ("click", FULL), "event alone": ("product", _nothing),
         "visitor's read alone": ("product", _visitor_only), "full answer": ("product", FULL)}


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="/tmp/recs-bench.sqlite3")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--visitors", type=int, default=1_000_000, help="as the store was generated with")
    args = parser.parse_args()
    if not Path(args.path).exists():
        sys.exit(f"{args.path} does not exist: run bench/recommendations_bench.py first")
    bodies.SHOP.update(visitors=args.visitors)
    app = create_app({"DATABASE_URL": f"sqlite:///{args.path}", "SQLITE_SYNCHRONOUS": "OFF",
                      "RECOMMENDATIONS": True, "LOG_LEVEL": "WARNING", "RATE_LIMIT_PER_IP": "",
                      "RATE_LIMIT_PER_KEY": ""})
    with sqlite3.connect(args.path) as conn:
        key = conn.execute("SELECT key FROM keys ORDER BY created_at LIMIT 1").fetchone()[0]
    client = app.test_client()
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
               "Content-Type": "application/json"}

    def run(name: str, count: int) -> float:
        """Mean microseconds per request of one load."""
        kind, engine = LOADS[name]
        datacue.recommend = engine
        started = time.perf_counter()
        for _ in range(count):
            path, data, _ = bodies.body(kind, 1)
            client.post(path, data=data, headers=headers)
        return (time.perf_counter() - started) / count * 1e6

    for name in LOADS:
        run(name, 4000)
    shares: dict[str, list[float]] = {name: [] for name in LOADS}
    costs: dict[str, list[float]] = {name: [] for name in LOADS}
    for round_no in range(args.rounds):
        measured = {name: run(name, args.requests) for name in LOADS}
        print(f"round {round_no + 1}: " + ", ".join(f"{name} {us:.0f} us" for name, us in measured.items()))
        for name, us in measured.items():
            costs[name].append(us)
            shares[name].append(measured["click"] / us)
    print("\n| load | cost (us), median | share of a click's rate, median (range) |\n|---|---|---|")
    for name in LOADS:
        print(f"| {name} | {statistics.median(costs[name]):.0f} | {statistics.median(shares[name]):.2f} "
              f"({min(shares[name]):.2f}-{max(shares[name]):.2f}) |")


if __name__ == "__main__":
    main()
