"""The whole flow through a real Airflow: a demo world, every DAG for every day, the published
trusted layer; then what analysts read is checked against the generator's ground truth."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from dataplatform.privacy import prepare_session, pseudonymisation_key
from dataplatform.publish.lineage import BOOKKEEPING
from dataplatform.publish.publish import LISTING_SOURCES, SEGMENTED
from dataplatform.publish.versions import PublishedLayout, current_version, list_versions
from dataplatform.transform.dbt import DbtPaths

REPO = Path(__file__).resolve().parents[2]
DAYS, USERS, SEED = 4, 3000, 11

METRIC_KEYS = {
    "active_users_daily": ("activity_date", "platform"),
    "listings_daily": ("created_date", "category_id"),
    "listing_funnel_daily": ("funnel_date",),
    "contacts_daily": ("contact_date",),
    "promotion_revenue_daily": ("purchase_date", "product", "currency"),
    "category_quality_daily": ("created_date",),
    "listing_contacts_daily": ("created_date",),
}
# What incremental runs keep by listing, draft, user or batch rather than by date, and the views
# over it; compared between full refresh and incremental runs too (the training set without its
# version stamp, which only the pipeline's runs set).
LISTING_TABLES = {
    "marts.listing_facts": "*",
    "marts.category_training_set": "* exclude (version_id)",
    "intermediate.int_listing_lifecycle": "*",
    "intermediate.int_listing_drafts": "*",
    "intermediate.int_listing_contacts": "*",
    "intermediate.int_listing_training_texts": "*",
    "intermediate.int_experiment_exposures": "*",
    "intermediate.int_user_activity_daily": "*",
    "intermediate.int_marketplace_events": "*",
}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d ().-]{7,}\d(?![\w-])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def pipeline_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "AIRFLOW_HOME": str(data_dir / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO / "plugins"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataplatform", *args],
        env=pipeline_env(data_dir),
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("pipeline")
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "dataplatform.generator",
            "--data-dir",
            str(data_dir),
            "--days",
            str(DAYS),
            "--users",
            str(USERS),
            "--seed",
            str(SEED),
        ],
        env=pipeline_env(data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    demo = run_cli(data_dir, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"{DAYS * 3} of {DAYS * 3} DAG runs succeeded" in demo.stdout, demo.stdout
    return data_dir


def published(data_dir: Path, role: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        str(data_dir / "published" / "current" / f"{role}.duckdb"), read_only=True
    )


def _normalise(value):
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return round(float(value), 6)
    return value


def _agrees(got, expected) -> bool:
    """Counts, keys and labels exactly; rates within rounding: both sides round to 6 decimals
    (the generator in Python, dbt in DuckDB), and the two may break a tie differently."""
    if isinstance(expected, float) and got is not None:
        return abs(got - expected) <= 1.000001e-6
    return got == expected


@pytest.mark.parametrize("table", sorted(METRIC_KEYS))
def test_published_metrics_match_the_ground_truth(demo_world, table):
    truth = json.loads((demo_world / "world" / "truth.json").read_text())["metrics"][table]
    columns = list(truth[0])
    keys = METRIC_KEYS[table]
    with published(demo_world, "analyst") as con:
        rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
    got = {}
    for row in rows:
        values = dict(zip(columns, (_normalise(v) for v in row), strict=True))
        got[tuple(values[k] for k in keys)] = values
    expected = {tuple(_normalise(row[k]) for k in keys): row for row in truth}
    assert len(got) == len(rows), f"{table}: a key appears twice"
    assert set(got) == set(expected), (
        f"{table}: missing {sorted(set(expected) - set(got))[:3]}, "
        f"extra {sorted(set(got) - set(expected))[:3]}"
    )
    wrong = [
        (key, column, got[key][column], row[column])
        for key, row in expected.items()
        for column in columns
        if not _agrees(got[key][column], _normalise(row[column]))
    ]
    assert not wrong, f"{table}: (key, column, published, true) {wrong[:5]}"


@pytest.mark.parametrize("role", ["data_scientist", "pii_reader"])
def test_published_contacts_per_listing_match_the_ground_truth(demo_world, role):
    truth = json.loads((demo_world / "world" / "truth.json").read_text())
    listing_contacts = truth["listing_contacts"]
    with published(demo_world, role) as con:
        by_contacts = con.execute(
            "select contacts, count(*) from listing_facts group by all order by all"
        ).fetchall()
        per_day = con.execute(
            "select created_date, count(*), count(*) filter (where contacted_within_7_days), "
            "sum(contacts_within_7_days) from listing_facts group by all order by all"
        ).fetchall()
        (all_contacts,) = con.execute("select sum(contacts) from contacts_daily").fetchone()
    assert [{"contacts": k, "listings": n} for k, n in by_contacts] == (
        listing_contacts["listings_by_contacts"]
    )
    on_listings = sum(k * n for k, n in by_contacts)
    assert on_listings == listing_contacts["contacts"]
    assert all_contacts - on_listings == listing_contacts["contacts_about_other_listings"]
    # the listing-level flags add up to the true daily share, row for row
    assert [(d.isoformat(), n, c, int(k)) for d, n, c, k in per_day] == [
        (
            r["created_date"],
            r["new_listings"],
            r["listings_contacted_within_7_days"],
            r["contacts_within_7_days"],
        )
        for r in truth["metrics"]["listing_contacts_daily"]
    ]


def test_experiment_recovers_the_true_effect(demo_world):
    truth = json.loads((demo_world / "world" / "truth.json").read_text())["experiment"]
    with published(demo_world, "analyst") as con:
        rows = con.execute(
            "select variant, metric, exposed_users, value, diff_ci_low, diff_ci_high, p_value, "
            "srm_p_value from experiment_results"
        ).fetchall()
    by_key = {(r[0], r[1]): r for r in rows}
    observed = truth["observed"]
    for variant in truth["variants"]:
        assert by_key[(variant, "completion_rate")][2] == observed[variant]["exposed_users"]
        assert by_key[(variant, "completion_rate")][3] == pytest.approx(
            observed[variant]["completion_rate_within_24h"], abs=1e-6
        )
    treatment = by_key[("treatment", "completion_rate")]
    true_effect = truth["true_effect"]["completion_rate_within_24h"]
    assert treatment[4] <= true_effect <= treatment[5]
    assert 0 <= treatment[6] <= 1 and 0 <= treatment[7] <= 1


def test_experiment_statistics_agree_with_scipy(demo_world):
    """Recompute the completion-rate analysis from the per-user data with numpy and scipy."""
    import numpy as np
    from scipy import stats

    warehouse = DbtPaths.under(demo_world).warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        units = con.execute(
            """
            select e.variant, e.user_id, count(d.draft_id) as x,
                   count(d.draft_id) filter (where d.completed_within_24h) as y
            from intermediate.int_experiment_exposures e
            left join intermediate.int_listing_drafts d
                on d.user_id = e.user_id and d.started_at >= e.first_exposed_at
            group by e.variant, e.user_id
            """
        ).df()
        published_rows = (
            con.execute(
                "select variant, value, ci_low, ci_high, p_value, srm_p_value "
                "from marts.experiment_results where metric = 'completion_rate'"
            )
            .df()
            .set_index("variant")
        )

    def ratio_and_variance(frame):
        x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
        ratio = y.sum() / x.sum()
        cov = np.cov(y, x, ddof=1)
        variance = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (
            len(x) * x.mean() ** 2
        )
        return ratio, variance

    control = ratio_and_variance(units[units.variant == "control"])
    treatment = ratio_and_variance(units[units.variant == "treatment"])
    z = (treatment[0] - control[0]) / np.sqrt(treatment[1] + control[1])
    expected_p = 2 * stats.norm.sf(abs(z))
    half_width = stats.norm.ppf(0.975) * np.sqrt(treatment[1])

    row = published_rows.loc["treatment"]
    assert row["value"] == pytest.approx(treatment[0], abs=1e-6)
    assert row["ci_low"] == pytest.approx(treatment[0] - half_width, abs=1e-5)
    assert row["ci_high"] == pytest.approx(treatment[0] + half_width, abs=1e-5)
    assert row["p_value"] == pytest.approx(expected_p, abs=1e-5)
    srm = stats.chisquare(units.groupby("variant").size().to_numpy())
    assert row["srm_p_value"] == pytest.approx(srm.pvalue, abs=1e-5)


def test_role_databases_hold_only_their_objects(demo_world):
    metrics = {
        "active_users_daily",
        "listings_daily",
        "listing_funnel_daily",
        "contacts_daily",
        "promotion_revenue_daily",
        "category_quality_daily",
        "listing_contacts_daily",
        "experiment_results",
    }
    expected = {
        "analyst": metrics,
        "data_scientist": metrics
        | {"category_training_set", "listing_facts", "experiment_exposures"},
        "pii_reader": metrics
        | {"category_training_set", "listing_facts", "experiment_exposures", "users"},
    }
    for role, names in expected.items():
        path = demo_world / "published" / "current" / f"{role}.duckdb"
        with published(demo_world, role) as con:
            tables = {
                n
                for (n,) in con.execute(
                    "select table_name from information_schema.tables"
                ).fetchall()
            }
        assert tables == names, role
        assert stat.S_IMODE(path.stat().st_mode) == 0o440, f"{role}.duckdb is not read-only"


def _source_people(data_dir: Path) -> tuple[set[str], set[str], set[str]]:
    import sqlite3

    with sqlite3.connect(data_dir / "source" / "marketplace.sqlite") as con:
        rows = con.execute("select email, phone, full_name from users").fetchall()
    return (
        {r[0] for r in rows if r[0]},
        {r[1] for r in rows if r[1]},
        {r[2] for r in rows if r[2]},
    )


@pytest.mark.parametrize("role", ["analyst", "data_scientist"])
def test_no_personal_data_in_analyst_and_data_scientist_files(demo_world, role):
    emails, phones, names = _source_people(demo_world)
    phone_digits = {re.sub(r"\D", "", p) for p in phones}
    with published(demo_world, role) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        scanned = 0
        for table, column in columns:
            values = [
                v
                for (v,) in con.execute(f'select distinct "{column}" from "{table}"').fetchall()
                if v
            ]
            for value in values:
                scanned += 1
                assert not EMAIL.search(value), f"{table}.{column}: email in {value!r}"
                assert value not in emails, f"{table}.{column}: a user's email {value!r}"
                assert not PHONE.search(ISO_DATE.sub(" ", value)), (
                    f"{table}.{column}: phone number in {value!r}"
                )
                assert value not in names, f"{table}.{column}: a person's name {value!r}"
                assert re.sub(r"\D", "", value) not in phone_digits or not re.sub(r"\D", "", value)
    # the scan really looked at text: the analyst file holds only labels, the other free text
    assert scanned > (100 if role == "data_scientist" else 10)


def test_pii_reader_sees_the_operational_users(demo_world):
    emails, _, _ = _source_people(demo_world)
    with published(demo_world, "pii_reader") as con:
        published_emails = {e for (e,) in con.execute("select email from users").fetchall()}
    assert published_emails == emails


def test_user_keys_are_pseudonymised_with_the_key(demo_world):
    with published(demo_world, "data_scientist") as con:
        keys = [k for (k,) in con.execute("select user_key from experiment_exposures").fetchall()]
    with published(demo_world, "pii_reader") as con:
        ids = {u for (u,) in con.execute("select user_id from experiment_exposures").fetchall()}
    assert keys and all(k.startswith("p_") and len(k) == 26 for k in keys)
    assert not ids & set(keys)
    # The sellers' keys are kept by listing in the warehouse: made with the same key, the same way
    with published(demo_world, "pii_reader") as con:
        sellers = dict(con.execute("select listing_id, seller_id from listing_facts").fetchall())
    with published(demo_world, "data_scientist") as con:
        keyed = dict(con.execute("select listing_id, seller_key from listing_facts").fetchall())
    key = pseudonymisation_key()
    expected = {
        listing: "p_" + hashlib.sha256(f"{key}:{seller}".encode()).hexdigest()[:24]
        for listing, seller in sellers.items()
    }
    assert keyed == expected and len(expected) > 100


def test_manifest_names_inputs_code_and_version(demo_world):
    layout = PublishedLayout(demo_world / "published")
    versions = list_versions(layout)
    assert len(versions) == DAYS
    current = versions[-1]
    assert current["current"] and current["version_id"] == current_version(layout)
    assert current["logical_date"] == "2026-11-04"
    landing = [k for k in current["inputs"] if k.startswith("landing/")]
    assert len(landing) == len(list((demo_world / "landing" / "events").glob("dt=*/*.jsonl*")))
    with published(demo_world, "data_scientist") as con:
        stamped = {
            v
            for (v,) in con.execute(
                "select distinct version_id from category_training_set"
            ).fetchall()
        }
    assert stamped == {current["version_id"]}
    manifest = json.loads((layout.version_dir(current["version_id"]) / "manifest.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["dbt_manifest_sha256"])
    assert set(manifest["gates"]) == {
        "raw_events_batch",
        "raw_operational",
        "staging_events",
        "marts",
    }
    assert all(gate["success"] is True for gate in manifest["gates"].values()), manifest["gates"]
    assert all((demo_world / gate["result"]).is_file() for gate in manifest["gates"].values())


def test_full_refresh_gives_the_same_marts_as_incremental_runs(demo_world, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(demo_world / "lake", copy / "lake")
    # A separate process: dbt keeps its DuckDB connection open for the life of the process.
    code = (
        "import sys; from pathlib import Path; "
        "from dataplatform.transform.dbt import DbtPaths, dbt_args, run_dbt; "
        "d = Path(sys.argv[1]); "
        "run_dbt(dbt_args('run', paths=DbtPaths.under(d), full_refresh=True), d)"
    )
    full_run = subprocess.run(
        [sys.executable, "-c", code, str(copy)],
        env=pipeline_env(copy),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert full_run.returncode == 0, full_run.stdout[-3000:] + full_run.stderr[-3000:]
    tables = {f"marts.{table}": "*" for table in METRIC_KEYS} | LISTING_TABLES
    for table, columns in tables.items():
        incremental = _read(DbtPaths.under(demo_world).warehouse, f"select {columns} from {table}")
        full_refresh = _read(DbtPaths.under(copy).warehouse, f"select {columns} from {table}")
        assert incremental.num_rows > 0, f"{table} is empty"
        with duckdb.connect() as con:
            con.register("incremental", incremental)
            con.register("full_refresh", full_refresh)
            diff = con.execute(
                "select count(*) from ("
                "(select * from incremental except all select * from full_refresh) union all "
                "(select * from full_refresh except all select * from incremental))"
            ).fetchone()[0]
        assert diff == 0, f"{table}: incremental and full refresh differ in {diff} rows"


def _read(warehouse: Path, query: str):
    """The rows of ``query`` as an Arrow table. The warehouse is opened as the main database:
    its views name their tables with the file's own catalog (``warehouse``), which a copy
    attached under another name could not resolve."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query).to_arrow_table()


def test_published_listing_tables_are_the_warehouse_access_views(demo_world):
    """Each day's publish read only the buckets whose sources' row hashes changed (the lineage
    from dbt's manifest): after the last day the published segments hold exactly the rows the
    access views give, and the row hashes leave out only the bookkeeping columns."""
    warehouse = DbtPaths.under(demo_world).warehouse
    current = demo_world / "published" / "current"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        prepare_session(con)
        for source in LISTING_SOURCES:
            mismatched = con.execute(
                f"select count(*) from intermediate.{source} where row_hash != "
                f"hash(*columns(* exclude (row_hash, {', '.join(BOOKKEEPING)})))"
            ).fetchone()
            assert mismatched == (0,), source
        for role in ("data_scientist", "pii_reader"):
            con.execute(f"attach '{current / f'{role}.duckdb'}' as published (read_only)")
            for table in SEGMENTED:
                differences = con.execute(
                    f"select count(*) from ((select * from published.{table} except all "
                    f"select * from {role}.{table}) union all (select * from {role}.{table} "
                    f"except all select * from published.{table}))"
                ).fetchone()
                assert differences == (0,), (role, table)
            con.execute("detach published")
    manifest = json.loads((current / "manifest.json").read_text())
    stable = manifest["segments"]["data_scientist"]["listing_facts"]["groups"][0]["segments"]
    assert stable and all("signature" in segment for segment in stable)


def test_rerunning_a_published_date_publishes_identical_content(demo_world):
    layout = PublishedLayout(demo_world / "published")
    before = current_version(layout)
    files = {p.name: p.read_bytes() for p in (layout.current).iterdir()}
    rerun = run_cli(demo_world, "run", "--date", "2026-11-04")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert current_version(layout) == before
    assert {p.name: p.read_bytes() for p in layout.current.iterdir()} == files


def test_accounting_holds_for_every_landing_file(demo_world):
    out = run_cli(demo_world, "accounting")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 unbalanced" in out.stdout
    files = list((demo_world / "landing" / "events").glob("dt=*/*.jsonl*"))
    assert out.stdout.count("yes published") == len(files)


def _dbt_test(demo_world: Path, selection: str) -> subprocess.CompletedProcess:
    from dataplatform.transform.dbt import DBT_PROJECT_DIR

    paths = DbtPaths.under(demo_world)
    return subprocess.run(
        [
            Path(sys.executable).parent / "dbt",
            "test",
            "--select",
            selection,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(demo_world / "dbt" / "test-target"),
            "--log-path",
            str(demo_world / "dbt" / "logs"),
        ],
        env={**pipeline_env(demo_world), "DBT_DUCKDB_PATH": str(paths.warehouse)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dbt_unit_tests_pass(demo_world):
    """The dbt unit tests (funnel attribution, the 7-day window, redaction, statistics) run here
    rather than in every pipeline run; they need the built warehouse for column types."""
    defined = sum(
        len((yaml.safe_load(path.read_text()) or {}).get("unit_tests") or [])
        for path in (REPO / "dbt_project" / "models").rglob("*.yml")
    )
    result = _dbt_test(demo_world, "test_type:unit")
    assert result.returncode == 0, result.stdout[-4000:]
    assert defined >= 14
    assert f"PASS={defined} " in result.stdout, result.stdout[-2000:]  # every one ran


def test_dbt_data_tests_pass_on_the_demo_warehouse(demo_world):
    """dbt's data tests (keys, relationships, accepted values, the singular invariants) run here
    on the warehouse the pipeline built; in a pipeline run the gates check the data instead."""
    result = _dbt_test(demo_world, "test_type:data")
    assert result.returncode == 0, result.stdout[-4000:]
    passed = re.search(r"PASS=(\d+)", result.stdout)
    assert passed and int(passed.group(1)) > 200, result.stdout[-2000:]
    assert "ERROR=0" in result.stdout and "WARN=0" in result.stdout, result.stdout[-2000:]
