"""Run every benchmark, one after the other, and say which met its goal.

    .venv/bin/python scripts/bench.py            # national scale (tens of minutes)
    .venv/bin/python scripts/bench.py --quick    # every benchmark at a small scale (CI)

Each benchmark prints its figures beside a baseline measured in the same run, as ratios
with PASS/FAIL against its goal (docs/performance.md). A benchmark exits 0 when every goal
is met, 3 when one is missed, anything else when it broke. --quick catches breakage, not
slowness: at a small scale the timings mean little, so only a crash fails it.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MISSED = 3

FULL = [
    ("labels", ["bench_labels.py", "--devices", "1000"]),
    ("spreadsheets", ["bench_spreadsheets.py"]),
    ("allocations", ["bench_allocations.py"]),
    ("dashboard", ["bench_dashboard.py"]),
    ("scale", ["bench_scale.py"]),
    ("load", ["bench_load.py"]),
    ("network", ["bench_network.py"]),
    ("queue", ["bench_queue.py"]),
    ("counts", ["bench_counts.py"]),
    ("offices", ["bench_offices.py"]),
    ("donors", ["bench_donors.py"]),
    # Against the commit before Hardening III (a git worktree): needs the history.
    ("sync", ["bench_sync.py"]),
]
QUICK = [
    ("labels", ["bench_labels.py", "--devices", "30", "--repeat", "1"]),
    ("spreadsheets", ["bench_spreadsheets.py", "--rows", "2000", "--small", "500"]),
    ("allocations", ["bench_allocations.py", "--schools", "300", "--devices", "3000"]),
    ("dashboard", ["bench_dashboard.py", "--schools", "300", "--devices", "3000"]),
    ("scale", ["bench_scale.py", "--devices", "3000", "--schools", "100", "--small", "500"]),
    (
        "load",
        ["bench_load.py", "--devices", "2000", "--schools", "50", "--seconds", "1"]
        + ["--workers", "2", "--clients", "4"],
    ),
    ("network", ["bench_network.py", "--profiles", "3g", "--languages", "fr"]),
    ("queue", ["bench_queue.py", "--jobs", "20", "--rounds", "1"]),
    ("counts", ["bench_counts.py", "--devices", "3000", "--schools", "100", "--lent", "200"]),
    ("offices", ["bench_offices.py", "--devices", "3000", "--schools", "120", "--rounds", "1"]),
    ("donors", ["bench_donors.py", "--devices", "3000", "--schools", "120", "--rounds", "1"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale: catch breakage")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    args = parser.parse_args()
    plan = [(name, argv) for name, argv in (QUICK if args.quick else FULL)]
    if args.only:
        plan = [(name, argv) for name, argv in plan if name in args.only]
    verdicts = []
    for name, argv in plan:
        print(f"== {name}: {' '.join(argv)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], check=False)  # noqa: S603
        took = time.perf_counter() - started
        verdict = {0: "met", MISSED: "missed"}.get(done.returncode, "BROKEN")
        verdicts.append((name, verdict, took))
        print(f"== {name}: goals {verdict} ({took:.0f} s)\n", flush=True)
    print("Summary: " + ", ".join(f"{name} {verdict}" for name, verdict, _took in verdicts))
    if any(verdict == "BROKEN" for _name, verdict, _took in verdicts):
        return 1
    if not args.quick and any(verdict == "missed" for _name, verdict, _took in verdicts):
        return MISSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
