"""``python -m dataplatform``: the user-facing commands behind ``make run`` and ``make demo``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date

from dataplatform.config import ConfigError, Settings, load_settings
from dataplatform.landing import batch_dir
from dataplatform.publish.versions import ROLES


class UsageError(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def landing_dates(settings: Settings) -> list[date]:
    """The dates that have a landing folder, oldest first."""
    if not settings.landing_dir.is_dir():
        raise UsageError(
            f"no landing data under {settings.landing_dir}; generate a world first: make world"
        )
    dates = []
    for folder in settings.landing_dir.glob("dt=*"):
        try:
            dates.append(date.fromisoformat(folder.name.removeprefix("dt=")))
        except ValueError:
            continue
    return sorted(dates)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from dataplatform.orchestration import run_dates

    if not batch_dir(settings.landing_dir, args.date).is_dir():
        print(f"note: no landing folder for {args.date}; the run will report the data as late")
    results = run_dates([args.date])
    return 0 if results and all(r.ok for r in results) else 1


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from dataplatform.orchestration import PIPELINE, run_dates
    from dataplatform.summary import print_summary

    dates = landing_dates(settings)
    if not dates:
        raise UsageError(f"{settings.landing_dir} holds no dt=YYYY-MM-DD folders: run make world")
    print(f"==> running {', '.join(PIPELINE)} through Airflow for {len(dates)} days", flush=True)
    started = time.perf_counter()
    results = run_dates(dates)
    print_summary(settings, results, time.perf_counter() - started)
    print("    the runs, the dbt docs and the quality reports in a browser: make up")
    # The demo shows what happened, failures included; it fails only if it could not run at all.
    return 0


def cmd_accounting(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from dataplatform import lake, storage
    from dataplatform.ingest.accounting import file_balances, format_balances

    where = lake.durable_root(settings.lake_dir)
    try:
        balances = file_balances(settings.data_dir)
    except (*storage.access_errors(), duckdb.Error) as err:
        raise UsageError(f"cannot read the lake at {where}: {_first_line(err)}") from None
    if args.date:
        balances = [b for b in balances if b.batch_date == args.date.isoformat()]
    if not balances:
        raise UsageError(f"no ingested batch under {where}: run make run DATE=... first")
    print(format_balances(balances))
    return 0 if all(b.balanced for b in balances) else 1


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from dataplatform.publish.versions import (
        PublishedLayout,
        VersionError,
        list_versions,
        point_current_at,
        read_manifest,
        role_database,
    )

    layout = PublishedLayout(settings.data_dir / "published")
    try:
        if args.action == "fetch":
            # A local path to open read-only; with an S3 lake, a downloaded copy.
            print(role_database(layout, args.role, args.version_id))
        elif args.action == "show":
            print(json.dumps(read_manifest(layout, _version_arg(args)), indent=2))
        elif args.action == "rollback":
            version_id = _version_arg(args)
            point_current_at(layout, version_id)
            print(f"published/current now points at {version_id}")
        else:
            versions = list_versions(layout)
            if not versions:
                raise UsageError(f"nothing published under {layout.store} yet: run make demo")
            for manifest in versions:
                mark = "*" if manifest["current"] else " "
                print(
                    f"{mark} {manifest['version_id']}  logical date {manifest['logical_date']}  "
                    f"published {manifest['published_at']}"
                )
    except VersionError as err:
        raise UsageError(str(err)) from None
    return 0


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    """Build the published version's dbt docs if it has none, then serve the docs sites."""
    from dataplatform.docs_site import DocsLayout, generate_dbt_docs, serve
    from dataplatform.publish.versions import current_version, read_manifest
    from dataplatform.transform.dbt import DbtError

    layout = DocsLayout(settings.data_dir)
    current = current_version(layout.published)
    if current is None:
        print(f"note: nothing published under {layout.published.root} yet (make demo)")
    elif not (layout.dbt_docs(current) / "index.html").is_file():
        print(f"==> building the dbt docs of published version {current} (about half a minute)")
        logical = read_manifest(layout.published, current)["logical_date"]
        try:
            generate_dbt_docs(settings.data_dir, current, date.fromisoformat(logical))
        except DbtError as err:
            raise UsageError(f"could not build the dbt docs: {err}") from None
    if args.serve:
        print(f"==> docs sites on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
        serve(settings.data_dir, args.host, args.port)
    return 0


def cmd_grants(args: argparse.Namespace, settings: Settings) -> int:
    from dataplatform.grants import (
        GrantsError,
        file_permission_commands,
        grant_statements,
        role_objects_from_manifest,
    )
    from dataplatform.publish.versions import (
        PublishedLayout,
        VersionError,
        current_version,
        read_manifest,
    )

    layout = PublishedLayout(settings.data_dir / "published")
    version_id = args.version_id or current_version(layout)
    if not version_id:
        raise UsageError(f"nothing published under {layout.root} yet: run make demo")
    try:
        if args.dialect == "files":
            if layout.remote:
                raise UsageError("file permissions apply to a local published layer only")
            lines = file_permission_commands(layout.versions / version_id, group_prefix=args.prefix)
        else:
            lines = grant_statements(
                role_objects_from_manifest(read_manifest(layout, version_id)),
                args.dialect,
                database=args.database,
                role_prefix=args.prefix,
            )
    except (VersionError, GrantsError) as err:
        raise UsageError(str(err)) from None
    print(f"-- roles of published version {version_id} ({args.dialect})")
    print("\n".join(lines))
    return 0


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _version_arg(args: argparse.Namespace) -> str:
    if not args.version_id:
        raise UsageError(f"versions {args.action} needs a version id (see: versions list)")
    return args.version_id


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dataplatform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline for one logical date through Airflow")
    run.add_argument("--date", type=_parse_date, required=True)
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="run the pipeline for every landed date, then summarise")
    demo.set_defaults(func=cmd_demo)
    accounting = sub.add_parser(
        "accounting", help="per landing file: records read = raw + quarantined"
    )
    accounting.add_argument("--date", type=_parse_date, help="only this landing batch")
    accounting.set_defaults(func=cmd_accounting)
    versions = sub.add_parser(
        "versions",
        help="list published versions, show a manifest, roll current back, "
        "fetch a role's database (prints its local path)",
    )
    versions.add_argument(
        "action", choices=("list", "show", "rollback", "fetch"), nargs="?", default="list"
    )
    versions.add_argument("version_id", nargs="?", help="default for fetch: the current one")
    versions.add_argument(
        "--role", default="analyst", choices=ROLES, help="the role whose database fetch gets"
    )
    versions.set_defaults(func=cmd_versions)
    docs = sub.add_parser(
        "docs", help="build the published version's dbt docs if missing; --serve the docs sites"
    )
    docs.add_argument("--serve", action="store_true", help="serve them until Ctrl-C")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8081)
    docs.set_defaults(func=cmd_docs)
    grants = sub.add_parser(
        "grants",
        help="the published roles as warehouse grants (postgres, snowflake) or file permissions",
    )
    grants.add_argument("--dialect", choices=("postgres", "snowflake", "files"), default="postgres")
    grants.add_argument("--version", dest="version_id", help="a version id (default: current)")
    grants.add_argument("--database", help="qualify the role schemas with this database")
    grants.add_argument(
        "--prefix", default="", help="prefix of the database roles or OS groups, e.g. dp_"
    )
    grants.set_defaults(func=cmd_grants)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, load_settings())
    except (UsageError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
