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
    from dataplatform.publish.versions import PublishedLayout, current_version, list_versions

    layout = PublishedLayout(settings.data_dir / "published")
    current = current_version(layout)
    if current:
        print(
            f"    published: {len(list_versions(layout))} versions; current = {current} "
            f"({layout.current}/{{analyst,data_scientist,pii_reader}}.duckdb)"
        )
    else:
        print("    published: nothing yet (see the failures above)")
    print(f"    data quality: {settings.data_dir / 'quality' / 'data_docs' / 'index.html'}")
    alerts = read_alerts(settings.alerts_file)
    print(f"    alerts raised: {len(alerts)} (in {settings.alerts_file})")
    print(
        f"    lake: {settings.lake_dir}/raw/events (Parquet), "
        f"quarantine: {settings.lake_dir}/quarantine"
    )
    print("    accounting per landing file: .venv/bin/python -m dataplatform accounting")
