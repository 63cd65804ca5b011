"""Run one benchmark step in a fresh subprocess: its wall time and its own peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_step(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` (Python; it prints one JSON object as its last line) in a child process.

    Returns that object plus ``process_seconds`` and ``peak_rss_mb`` (the child's own maximum
    resident set size, from wait4; Linux reports it in KiB)."""
    child_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "plugins"), str(REPO)]))
    child_env.update(env or {})
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = child.communicate()
    # communicate() already reaped the child; its rusage is in RUSAGE_CHILDREN only as a max
    # over all children, so read the peak from /proc-free accounting via the JSON the child
    # reports (resource.getrusage(RUSAGE_SELF)) instead.
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"benchmark step failed: {stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["process_seconds"] = round(seconds, 3)
    return result


CHILD_PRELUDE = """
import json, resource, sys, time
def report(**values):
    values["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(values, default=str))
"""
