"""Operational database → lake raw zone, gated.

Extracts `users`, `listings` and `categories` from `SOURCE_DB_URL` (any SQLAlchemy URL: the demo
SQLite file, or Postgres) incrementally on `updated_at`: each run takes the rows changed since
the previous extraction (the stored watermark) up to the end of its logical date, so every
version of a row is kept. The operational gate checks keys, email format and the category tree;
only a passing extraction becomes visible and updates the `raw_operational` asset.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from dataplatform.assets import RAW_OPERATIONAL
from dataplatform.dag_defaults import default_args
from dataplatform.schedules import daily


@dag(
    schedule=daily(),  # manual runs of a date cover that date too (dataplatform.schedules)
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,
    tags=["lake", "operational", "gate"],
    doc_md=__doc__,
    default_args=default_args(retries=2),
)
def extract_operational():
    @task
    def extract(ds=None, dag=None, ti=None) -> dict:
        from dataplatform.tasks import extract_operational

        return extract_operational(ds, dag.dag_id, ti.task_id)

    @task(outlets=[RAW_OPERATIONAL])
    def operational_gate(ds=None, dag=None, ti=None, outlet_events=None) -> dict:
        from dataplatform.tasks import operational_gate

        result = operational_gate(ds, dag.dag_id, ti.task_id)
        outlet_events[RAW_OPERATIONAL].extra = {"batch_date": ds}
        return result

    extract() >> operational_gate()


extract_operational()
