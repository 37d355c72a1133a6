"""``python -m bench [--quick] [--only S1,N3|S|N] [--repetitions N] [--label NAME]``."""

from __future__ import annotations

import argparse
import sys

from .runner import Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the gateway against direct access and nginx proxy_pass.")
    parser.add_argument("--quick", action="store_true",
                        help="one repetition of short runs: checks the harness, not the gateway")
    parser.add_argument("--only", metavar="S1,N3",
                        help="run only these scenarios (S or N alone: all of that group)")
    parser.add_argument("--repetitions", type=int, metavar="N",
                        help="repetitions (default 3, quick 1)")
    parser.add_argument("--label", default="latest",
                        help="results go to bench/results/LABEL.md and LABEL.json")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the py-spy runs")
    args = parser.parse_args(argv)
    repetitions = args.repetitions or (1 if args.quick else 3)
    if not 1 <= repetitions <= 20:
        parser.error("--repetitions must be from 1 to 20")
    # Past this no new measurement starts: make bench stays bounded on a slow machine.
    budget = 20 * 60 if args.quick else (15 + 12 * repetitions) * 60
    return run(Options(repetitions, args.quick, args.only, args.label, args.profile, budget))


if __name__ == "__main__":
    sys.exit(main())
