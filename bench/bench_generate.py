"""Benchmark of the demo world generator: events written per second and peak memory.

    python bench/bench_generate.py [EVENTS_PER_DAY]      (default 1000000)

The generation runs in a fresh subprocess so that its peak RSS is its own: os.wait4 returns the
resource usage of exactly that child (including the short-lived process that writes the
operational database). `seconds` times generate_world() inside the child, after the
interpreter and the libraries are imported; `process_seconds` is the whole subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAYS = 1
SEED = 42

_CHILD = """
import json, sys, time
from pathlib import Path
import pyarrow as pa
pa.array([0])  # load Arrow's compute kernels (and pandas, which it imports) before timing
from dataplatform.generator import generate_world
started = time.perf_counter()
summary = generate_world(Path(sys.argv[1]), days=int(sys.argv[2]), users=1000,
                         seed=int(sys.argv[3]), events_per_day=int(sys.argv[4]))
print(json.dumps({"seconds": time.perf_counter() - started, "lines": summary.lines,
                  "events": summary.events, "files": summary.files, "users": summary.users}))
"""


def bench_generate(workdir: Path, events_per_day: int) -> dict:
    """Generate a one-day world of events_per_day events under workdir and measure it."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "plugins"), str(REPO)]))
    command = [
        sys.executable,
        "-c",
        _CHILD,
        str(workdir),
        str(DAYS),
        str(SEED),
        str(events_per_day),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the pipes while the child runs, then reap it with wait4 to get its own rusage.
    stdout, stderr = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    process_seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"generator failed ({child.returncode}): {stderr.decode()[-2000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    return {
        "stage": "generate",
        "events": result["lines"],
        "seconds": round(result["seconds"], 3),
        "events_per_s": round(result["lines"] / result["seconds"]),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "events_per_day": events_per_day,
        "days": DAYS,
        "distinct_events": result["events"],
        "files": result["files"],
        "users": result["users"],
        "process_seconds": round(process_seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
    }


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        print(json.dumps(bench_generate(Path(tmp), size), indent=2))
