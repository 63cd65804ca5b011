"""Command line: python -m dataplatform.generator --data-dir DIR --days 7 --users 50000 ..."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from dataplatform.generator.params import DEFAULT_START_DATE, GeneratorError
from dataplatform.generator.world import generate_world

EXIT_USER_ERROR = 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dataplatform.generator",
        description="Generate the demo world: landing event files, the operational database "
        "and the ground truth (world/truth.json).",
    )
    p.add_argument("--data-dir", type=Path, required=True, help="output folder (DATA_DIR)")
    p.add_argument("--days", type=int, default=7, help="number of days (default 7)")
    p.add_argument("--users", type=int, default=50_000, help="registered users (default 50000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--start-date",
        type=_date,
        default=DEFAULT_START_DATE,
        help=f"first world day, UTC (default {DEFAULT_START_DATE.isoformat()})",
    )
    p.add_argument(
        "--events-per-day",
        type=int,
        default=None,
        help="target events per day; the user base grows to match (for benchmarks)",
    )
    p.add_argument(
        "--corrupt",
        action="store_true",
        help="also inject bad input of every kind, recorded in world/corruption.json",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def progress(message: str) -> None:
        print(f"[generator] {message}", file=sys.stderr, flush=True)

    try:
        summary = generate_world(
            data_dir=args.data_dir,
            days=args.days,
            users=args.users,
            seed=args.seed,
            start_date=args.start_date,
            events_per_day=args.events_per_day,
            corrupt=args.corrupt,
            progress=progress,
        )
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(summary.describe())
    return 0
