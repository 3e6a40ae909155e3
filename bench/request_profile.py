"""Profile: where one kind of ingest request spends its time, by the part of the collector that spends it.

    python bench/request_profile.py [--loads single,batch100,segment100,cobi,click] [--requests 2000] [--top 15]

Runs the collector in this process (Flask's test client, a fresh SQLite store with synchronous OFF: the
disk is not what is measured, as in bench/request_cost.py), posts 200 requests of each load unmeasured,
then N more under cProfile, and prints for each load the share of its time spent in each part (its own
code, not what it calls: the parts add up to 100%), then the functions that spent the most. cProfile
weighs each Python call more than it costs outside it, and the test client builds each request's WSGI
environ (gunicorn's work in production; its own functions are a part of their own, what they call is
counted where it is defined), so read the shares as where to look, and measure a change with
bench/request_cost.py (instructions, no such weighting).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bodies import body  # noqa: E402
from inprocess import fresh_collector  # noqa: E402

#: The parts a function belongs to, by where it is defined: the first (path fragment, part) that matches.
PARTS = (
    ("collector/schemas/", "validation (the collector's schemas)"), ("marshmallow/", "validation (marshmallow)"),
    ("collector/ingest/", "intake (collector/ingest)"), ("collector/access/", "authentication (collector/access)"),
    ("collector/storage/", "storage (collector/storage)"), ("sqlite3", "SQLite"),
    ("collector/recommendations/", "recommendations"), ("collector/metrics", "metrics"),
    ("prometheus_client/", "metrics"), ("collector/web/logs", "log line"), ("logging/", "log line"),
    ("ua_parser", "user agent"), ("crawlerdetect", "user agent"), ("collector/web/", "collector/web"),
    ("collector/api/", "collector/api"),
    ("werkzeug/test.py", "Flask's test client (not in production)"),
    ("flask/testing.py", "Flask's test client (not in production)"),
    ("flask/", "Flask and Werkzeug"), ("werkzeug/", "Flask and Werkzeug"), ("flask_cors/", "Flask and Werkzeug"),
    ("json/", "JSON"), ("<built-in method _json", "JSON"),
    ("uuid", "ids and time"), ("datetime", "ids and time"), ("threading", "threads and locks"),
    ("<method 'acquire'", "threads and locks"), ("_io.TextIOWrapper", "log line"),
    ("<built-in", "Python's built-ins"), ("<method", "Python's built-ins"), ("<frozen", "Python's built-ins"),
    ("/lib/python3", "Python's standard library"),
)


def part(location: str) -> str:
    """The part a profiled function (`file:line(name)` or `{built-in ...}`) belongs to."""
    for fragment, name in PARTS:
        if fragment in location:
            return name
    return "other"


def profile(kind: str, requests: int) -> pstats.Stats:
    """Post requests of this kind to a fresh collector, the measured ones under cProfile."""
    with tempfile.TemporaryDirectory() as folder:
        storage, client, headers = fresh_collector(folder, log_level="INFO")

        def post(count: int) -> None:
            """Post `count` requests."""
            for _ in range(count):
                path, data, _ids = body(kind, 7)
                assert client.post(path, data=data, headers=headers).status_code < 300

        post(200)
        profiler = cProfile.Profile()
        profiler.runcall(post, requests)
        storage.close()
        return pstats.Stats(profiler)


def main() -> None:
    """Profile and print each load."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", default="single,batch100,segment100,cobi,click")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    import logging
    logging.getLogger("collector").disabled = False
    for kind in args.loads.split(","):
        stats = profile(kind, args.requests if not kind.endswith("100") else max(1, args.requests // 50))
        total = stats.total_tt
        parts: dict[str, float] = defaultdict(float)
        functions = []
        for (file, line, name), (_, calls, own, _cumulative, _) in stats.stats.items():
            location = f"{file}:{line}({name})" if file != "~" else name
            parts[part(location)] += own
            functions.append((own, calls, location.replace(str(HERE.parent) + "/", "")))
        count = args.requests if not kind.endswith("100") else max(1, args.requests // 50)
        print(f"\n### {kind}: {total / count * 1e6:,.0f} us per request under cProfile ({count} requests)\n")
        print("| part | share of the time |\n|---|---|")
        for name, own in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"| {name} | {100 * own / total:.1f}% |")
        print("\n| function (own time) | share | calls per request |\n|---|---|---|")
        for own, calls, location in sorted(functions, reverse=True)[:args.top]:
            print(f"| `{location}` | {100 * own / total:.1f}% | {calls / count:,.1f} |")


if __name__ == "__main__":
    main()
