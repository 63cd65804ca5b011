"""The Airflow Assets that chain the pipeline's DAGs by data instead of by the clock."""

from airflow.sdk import Asset

RAW_EVENTS = Asset(name="raw_events", uri="file:///lake/raw/events", group="lake")
RAW_OPERATIONAL = Asset(name="raw_operational", uri="file:///lake/raw/operational", group="lake")
PUBLISHED = Asset(
    name="published_trusted_layer", uri="file:///published/current", group="published"
)
