"""`python -m bench [SUITE ...] [--sizes 10000,100000,1000000] [--runs N] [--out FILE]`."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.report import cpu_ticks, stolen_share, write_section
from bench.suites import SUITES, load

DEFAULT_SIZES = "10000,100000"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from error
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("sizes must be whole numbers of at least 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "suites", nargs="*", metavar="SUITE", help=f"default: all ({', '.join(SUITES)})"
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes(DEFAULT_SIZES),
        help=f"students (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per figure; the best is kept (default 5)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    args = parser.parse_args(argv)
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    for name in args.suites or list(SUITES):
        print(f"bench: running {name} at {', '.join(map(str, args.sizes))} students", flush=True)
        before = cpu_ticks()
        section = load(name)(args.sizes, args.runs)
        section += (
            "\n\nCPU time the host gave to other virtual machines while this suite ran "
            f"(steal, /proc/stat): {stolen_share(before, cpu_ticks())} of this machine's."
        )
        section += f'\n\nReproduce: `{command.strip()}` (or `make bench BENCH_ARGS="..."`).'
        write_section(args.out, name, section)
        print(f"bench: wrote section {name!r} of {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
