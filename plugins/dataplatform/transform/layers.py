"""The transform DAG's dbt tasks and the dbt layers (folders under ``models/``) each builds.

Two invocations, not one per layer: each dbt invocation costs a few seconds of start-up (loading
the manifest, writing its artifacts), and the access views, cheap to create, gain nothing from a
task of their own. Staging keeps its own task because its gate reconciles it with the raw zone
before anything is built on it. The DAG and ``make bench`` both read this mapping.
"""

DBT_TASKS: dict[str, tuple[str, ...]] = {
    "dbt_staging": ("staging",),
    "dbt_marts": ("intermediate", "marts", "access"),
}
