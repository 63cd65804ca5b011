"""Lake → dbt → published trusted layer (write-audit-publish).

Runs when both lake assets (`raw_events`, `raw_operational`) have new data, for the newest landing
batch (or `conf={"date": "YYYY-MM-DD"}` for a manual run or backfill). dbt builds into the
working warehouse, never into the served files, in two tasks: `dbt_staging` (typed, deduplicated
events), then `dbt_marts` (intermediate, every SPEC metric, and the role access views). Great
Expectations gates check staging (reconciled with the raw zone) and the marts (keys, ranges,
business invariants); a failure stops the run and raises an alert. (dbt's own data and unit
tests run in `make test`, on the demo world.) Only then does `publish` write each role's file,
`published/versions/<version_id>/<role>.duckdb` (small tables copied, the listing tables views
over shared Parquet segments, only the changed ones written), and switch `published/current`;
`dbt_docs` then writes that version's dbt docs site (`docs/dbt/<version_id>/`, in the UI under
*Metric docs*).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from dataplatform.assets import PUBLISHED, RAW_EVENTS, RAW_OPERATIONAL
from dataplatform.dag_defaults import default_args
from dataplatform.transform.layers import DBT_TASKS


@dag(
    schedule=RAW_EVENTS & RAW_OPERATIONAL,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dbt", "publish", "gate"],
    doc_md=__doc__,
    default_args=default_args(retries=1),
)
def transform():
    @task
    def plan(ds=None, dag_run=None, triggering_asset_events=None) -> str:
        from dataplatform.tasks import transform_date

        return transform_date(ds, dag_run.conf, triggering_asset_events)

    @task
    def dbt_staging(run_date: str, dag=None, ti=None) -> dict:
        from dataplatform.tasks import dbt_layer

        return dbt_layer(run_date, DBT_TASKS["dbt_staging"], dag.dag_id, ti.task_id)

    @task
    def dbt_marts(run_date: str, dag=None, ti=None) -> dict:
        from dataplatform.tasks import dbt_layer

        return dbt_layer(run_date, DBT_TASKS["dbt_marts"], dag.dag_id, ti.task_id)

    @task
    def staging_gate(run_date: str, dag=None, ti=None) -> dict:
        from dataplatform.tasks import warehouse_gate

        return warehouse_gate(run_date, "staging", dag.dag_id, ti.task_id)

    @task
    def marts_gate(run_date: str, dag=None, ti=None) -> dict:
        from dataplatform.tasks import warehouse_gate

        return warehouse_gate(run_date, "marts", dag.dag_id, ti.task_id)

    @task(outlets=[PUBLISHED])
    def publish(run_date: str) -> dict:
        from dataplatform.tasks import publish

        return publish(run_date)

    @task
    def dbt_docs(run_date: str, published: dict, dag=None, ti=None) -> dict:
        from dataplatform.tasks import dbt_docs

        return dbt_docs(run_date, published["version_id"], dag.dag_id, ti.task_id)

    run_date = plan()
    published = publish(run_date)
    (
        dbt_staging(run_date)
        >> staging_gate(run_date)
        >> dbt_marts(run_date)
        >> marts_gate(run_date)
        >> published
    )
    dbt_docs(run_date, published)


transform()
