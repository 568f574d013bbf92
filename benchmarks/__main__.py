"""``python -m benchmarks [NAME ...] [--repeats N]``: run scenarios, print a table, save JSON."""

from __future__ import annotations

import argparse

from benchmarks import scenarios  # noqa: F401  (registers the scenarios)
from benchmarks._harness import SCENARIOS, emit, run_all, run_in_process, save, table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"scenarios (default: all): {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per scenario")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        emit(run_in_process(args.one, args.repeats))
        return
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    results = run_all(args.names or list(SCENARIOS), args.repeats)
    print(table(results))
    print(f"\nsaved to {save(results)}")


main()
