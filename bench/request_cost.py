"""Benchmark: CPU instructions per ingest request, counted by valgrind's callgrind, not timed.

    python bench/request_cost.py [--root DIR] [--loads single,batch100]

Instruction counts repeat exactly for the same code and inputs whatever else the machine is doing, so
two checkouts (this one and, say, a `git worktree` of an older commit given as --root) compare without
noise. For each load it runs the collector in process (Flask's test client, SQLite with synchronous OFF:
the disk is not what is measured) twice under callgrind, with W warm-up requests and then N and N + M
measured ones, and prints (instructions of the longer run - of the shorter) / M. Needs valgrind
(apt-get install valgrind) and takes a few minutes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Requests per load: the difference between the two runs, and the warm-up both have.
MEASURED = {"single": 1000, "batch100": 100, "segment": 1000, "segment100": 100}
WARM_UP = 20


def serve(root: str, kind: str, count: int) -> None:
    """Post `count` requests of this kind to a collector built from `root` (run inside callgrind)."""
    sys.path[:0] = [root, str(HERE)]
    from bodies import body
    from inprocess import fresh_collector

    import collector

    assert collector.__file__.startswith(str(Path(root).resolve())), f"imported {collector.__file__}, not {root}'s"
    with tempfile.TemporaryDirectory() as folder:
        _storage, client, headers = fresh_collector(folder)
        for _ in range(WARM_UP + count):
            path, data, _ids = body(kind, 7)
            assert client.post(path, data=data, headers=headers).status_code in (200, 204)


def instructions(root: str, kind: str, count: int) -> int:
    """Total instructions callgrind counts for one run of serve()."""
    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                        "--serve", kind, str(count), "--root", root], check=True, capture_output=True)
        return int(re.search(r"^summary: (\d+)", Path(out).read_text(), re.M)[1])


def main() -> None:
    """Count and print instructions per request for each load."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout to measure (default: this one)")
    parser.add_argument("--loads", default="single,batch100")
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.root, args.serve[0], int(args.serve[1]))
        return
    print(f"| load ({args.root}) | instructions per request |\n|---|---|")
    for kind in args.loads.split(","):
        extra = MEASURED[kind]
        per_request = (instructions(args.root, kind, extra) - instructions(args.root, kind, 0)) / extra
        print(f"| {kind} | {per_request:,.0f} |")


if __name__ == "__main__":
    main()
