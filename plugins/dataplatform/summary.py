"""The closing summary of ``make demo``: what ran, what landed where, what failed."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dataplatform import lake
from dataplatform.alerts import read_alerts
from dataplatform.config import Settings
from dataplatform.orchestration import DagRunResult


def print_summary(settings: Settings, results: Sequence[DagRunResult], seconds: float) -> None:
    days = sorted({r.logical_date for r in results})
    manifests = lake.batch_manifests(settings.lake_dir)
    ok = sum(r.ok for r in results)
    print()
    print(f"==> summary: {ok} of {len(results)} DAG runs succeeded in {seconds:.0f}s")
    print(f"    {'batch':<11} {'read':>9} {'raw':>9} {'quarant.':>9}  raw zone")
    for day in days:
        found = manifests.get(day.isoformat())
        if found is None:
            print(f"    {day!s:<11} {'-':>9} {'-':>9} {'-':>9}  not ingested")
            continue
        state, path = found
        manifest = json.loads(path.read_text())
        print(
            f"    {day!s:<11} {manifest['records_read']:>9,} {manifest['raw']:>9,} "
            f"{manifest['quarantined']:>9,}  {state}"
        )
    from dataplatform.publish.versions import (
        ROLES,
        PublishedLayout,
        current_version,
        list_versions,
    )

    layout = PublishedLayout(settings.data_dir / "published")
    current = current_version(layout)
    if current:
        # Locally the current link is the path to open; on S3 the pointer object names the
        # version, and a role's database is opened from a downloaded copy.
        where = layout.version_dir(current) if layout.remote else layout.current
        print(
            f"    published: {len(list_versions(layout))} versions; current = {current} "
            f"({where}/{{{','.join(ROLES)}}}.duckdb)"
        )
        if layout.remote:
            print(
                f"    the pointer is {layout.current}; a local copy of a role's database to "
                "open: .venv/bin/python -m dataplatform versions fetch --role analyst"
            )
    else:
        print("    published: nothing yet (see the failures above)")
    data_docs = settings.data_dir / "quality" / "data_docs" / "index.html"
    print(f"    data quality: {data_docs if data_docs.is_file() else 'no report yet'}")
    alerts = read_alerts(settings.alerts_file)
    print(f"    alerts raised: {len(alerts)}" + (f" (in {settings.alerts_file})" if alerts else ""))
    print(
        f"    lake: {lake.raw_events_dir(settings.lake_dir)} (Parquet), "
        f"quarantine: {lake.quarantine_events_dir(settings.lake_dir)}"
    )
    print("    accounting per landing file: .venv/bin/python -m dataplatform accounting")
