"""Run one benchmark step in a fresh subprocess: its wall time and its own peak RSS.

A step is ``python -m bench.child <stage> <args>`` (or any command). The child prints one JSON
object as its last line of standard output; lines starting with :data:`PROGRESS` are echoed to
the terminal as they come (long steps say how far they are). The parent reaps the child with
``os.wait4``, whose resource usage is the child's own and that of the processes it waited for:
``ru_maxrss`` is the largest resident set among them (Linux reports it in KiB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROGRESS = "bench-progress: "

# A benchmark measures the embedded default on its own worlds, whatever the caller's shell has:
# never the caller's lake, operational database or Airflow, and it alerts no one.
_SCRUBBED = ("ALERT_WEBHOOK_URL", "ALERT_EMAIL_TO", "LAKE_URL", "SOURCE_DB_URL", "AIRFLOW_HOME")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith("SMTP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "plugins"), str(REPO)])
    env.update(extra or {})
    return env


def run_command(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> dict:
    """Run ``command``; return its last stdout line as JSON, plus ``process_seconds``,
    ``peak_rss_mb`` and ``cpu_seconds`` of the child (and the children it reaped).

    What earlier steps wrote is flushed to disk first, outside the step's time: a step must not
    pay for the write-back of another's files (the first ingest after generating 10 M events
    took 74 s while the generator's 3.5 GB were still being written back, 55 s after)."""
    os.sync()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            list(command), env=child_env(env), stdout=subprocess.PIPE, stderr=errors
        )
        last = ""
        tail: list[str] = []
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(PROGRESS):
                (echo or print)(line.removeprefix(PROGRESS))
            elif line.strip():
                last = line
                tail = [*tail[-20:], line]
        child.stdout.close()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-3000:]
            raise RuntimeError(
                f"benchmark step {' '.join(command[1:4])} failed ({child.returncode}):\n"
                f"{message}\n{chr(10).join(tail)}"
            )
    try:
        result = json.loads(last)
    except json.JSONDecodeError:
        raise RuntimeError(f"benchmark step printed no JSON result: {last[-500:]!r}") from None
    result["process_seconds"] = round(seconds, 3)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    return result


def run_step(stage: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """One stage of ``bench/child.py`` in a fresh interpreter."""
    return run_command([sys.executable, "-m", "bench.child", stage, *args], env=env)
