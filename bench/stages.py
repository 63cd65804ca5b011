"""The benchmark stages, each as the pipeline runs it, next to the engine's own limit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.harness import CHILD_PRELUDE, run_step

INGEST = (
    CHILD_PRELUDE
    + """
from datetime import date
from pathlib import Path
from dataplatform.ingest.batch import ingest_batch
data_dir, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
started = time.perf_counter()
result = ingest_batch(data_dir, day, progress=False)
seconds = time.perf_counter() - started
report(stage="ingest", seconds=round(seconds, 3), events=result.records_read,
       events_per_s=round(result.records_read / seconds), raw=result.raw,
       quarantined=result.quarantined)
"""
)

BARE_INGEST = (
    CHILD_PRELUDE
    + """
import duckdb
folder, target = sys.argv[1], sys.argv[2]
con = duckdb.connect()
started = time.perf_counter()
con.execute(
    f"copy (select * from read_json(['{folder}/*.jsonl', '{folder}/*.jsonl.gz'], "
    f"format = 'newline_delimited')) to '{target}' (format parquet)"
)
seconds = time.perf_counter() - started
events = con.execute(f"select count(*) from '{target}'").fetchone()[0]
report(stage="bare_ingest", seconds=round(seconds, 3), events=events,
       events_per_s=round(events / seconds))
"""
)

RAW_GATE = (
    CHILD_PRELUDE
    + """
from datetime import date
from pathlib import Path
from dataplatform.gates.raw import run_raw_gate
from dataplatform.ingest.batch import promote_batch
data_dir, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
import great_expectations  # imported before timing: a task imports it once
started = time.perf_counter()
result = run_raw_gate(data_dir, day)
seconds = time.perf_counter() - started
promote_batch(data_dir, day)
report(stage="raw_gate", seconds=round(seconds, 3), success=result.success)
"""
)


def ingest(data_dir: Path, day: date) -> dict:
    return run_step(INGEST, str(data_dir), day.isoformat())


def bare_ingest(data_dir: Path, day: date, scratch: Path) -> dict:
    scratch.mkdir(parents=True, exist_ok=True)
    folder = data_dir / "landing" / "events" / f"dt={day.isoformat()}"
    return run_step(BARE_INGEST, str(folder), str(scratch / f"bare-{day}.parquet"))


def raw_gate(data_dir: Path, day: date) -> dict:
    return run_step(RAW_GATE, str(data_dir), day.isoformat())


EXTRACT = (
    CHILD_PRELUDE
    + """
from datetime import date
from pathlib import Path
from dataplatform.extract.operational import extract_all, promote_extractions
from dataplatform.gates.operational import run_operational_gate
data_dir, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
started = time.perf_counter()
extract_all(f"sqlite:///{data_dir}/source/marketplace.sqlite", data_dir / "lake", day)
run_operational_gate(data_dir, day)
promote_extractions(data_dir / "lake", day)
report(stage="extract", seconds=round(time.perf_counter() - started, 3))
"""
)

DBT_BUILD = (
    CHILD_PRELUDE
    + """
from datetime import date
from pathlib import Path
from dataplatform.transform.dbt import DbtPaths, dbt_args, run_dbt
data_dir, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
layers = sys.argv[3].split(",")
started = time.perf_counter()
result = run_dbt(
    dbt_args("build", select=[f"path:models/{layer}" for layer in layers], run_date=day,
             paths=DbtPaths.under(data_dir)),
    data_dir,
)
report(stage="dbt_build", seconds=round(time.perf_counter() - started, 3),
       nodes=len(result.nodes))
"""
)

BARE_MARTS = (
    CHILD_PRELUDE
    + """
import duckdb
sql_file, raw = sys.argv[1], sys.argv[2]
script = open(sql_file).read().replace("{raw}", raw)
con = duckdb.connect()
started = time.perf_counter()
for statement in [s for s in script.split(";") if s.strip()]:
    con.execute(statement)
report(stage="bare_transform", seconds=round(time.perf_counter() - started, 3))
"""
)

PUBLISH = (
    CHILD_PRELUDE
    + """
from datetime import date
from pathlib import Path
import os
os.environ["DATA_DIR"] = sys.argv[1]
from dataplatform.tasks import publish
started = time.perf_counter()
result = publish(sys.argv[2])
report(stage="publish", seconds=round(time.perf_counter() - started, 3), **result)
"""
)


def extract(data_dir: Path, day: date) -> dict:
    return run_step(EXTRACT, str(data_dir), day.isoformat())


def dbt_build(data_dir: Path, day: date, layers: str = "staging,intermediate,marts,access") -> dict:
    return run_step(
        DBT_BUILD, str(data_dir), day.isoformat(), layers, env={"DATA_DIR": str(data_dir)}
    )


def bare_transform(data_dir: Path) -> dict:
    from bench.harness import REPO
    from dataplatform.lake import raw_events_glob

    return run_step(
        BARE_MARTS, str(REPO / "bench" / "bare_marts.sql"), raw_events_glob(data_dir / "lake")
    )


def publish(data_dir: Path, day: date) -> dict:
    return run_step(PUBLISH, str(data_dir), day.isoformat(), env={"DATA_DIR": str(data_dir)})
