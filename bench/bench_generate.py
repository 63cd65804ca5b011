"""Benchmark of the demo world generator alone: events written per second and peak memory.

    .venv/bin/python bench/bench_generate.py [EVENTS_PER_DAY]      (default 1000000)

The generation runs in a fresh subprocess (``bench/child.py generate``) so that its peak RSS is
its own: os.wait4 returns the resource usage of exactly that child and the processes it reaped
(the short-lived one that writes the operational database). ``seconds`` times generate_world()
inside the child, after the interpreter and the libraries are imported; ``process_seconds`` is
the whole subprocess. ``make bench`` runs the same stage as its first step.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stages import generate

START = date(2026, 11, 1)


def bench_generate(workdir: Path, events_per_day: int, days: int = 1) -> dict:
    """Generate a world of ``days`` days of ``events_per_day`` events under ``workdir``."""
    result = generate(Path(workdir), events_per_day, days, START)
    result["events_per_s"] = round(result["events"] / result["seconds"])
    return result


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        print(json.dumps(bench_generate(Path(tmp) / "world", size), indent=2))
