"""The generated grants on a real PostgreSQL server: each role reads its own schema's views and
nothing else, and a re-run after a view left the contract takes that view's grant away."""

from __future__ import annotations

import sqlalchemy as sa

from dataplatform.grants import grant_statements

ROLE_VIEWS = {
    "analyst": ["active_users_daily", "listings_daily"],
    "pii_reader": ["active_users_daily", "listings_daily", "users"],
}


def _apply(engine: sa.Engine, statements: list[str]) -> None:
    with engine.begin() as con:
        for statement in statements:
            if not statement.startswith("--"):
                con.execute(sa.text(statement))


def _can_select(engine: sa.Engine, role: str, relation: str) -> bool:
    with engine.connect() as con:
        return con.execute(
            sa.text("select has_table_privilege(:role, :relation, 'SELECT')"),
            {"role": role, "relation": relation},
        ).scalar()


def test_grants_apply_on_postgres_and_follow_the_roles(postgres_url):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        con.execute(sa.text("create schema if not exists marts"))
        con.execute(sa.text("create table if not exists marts.facts (n int)"))
        for role, views in ROLE_VIEWS.items():
            con.execute(sa.text(f"create schema if not exists {role}"))
            for view in views:
                con.execute(
                    sa.text(f"create or replace view {role}.{view} as select n from marts.facts")
                )
    statements = grant_statements(ROLE_VIEWS, "postgres", role_prefix="grants_test_")
    _apply(engine, statements)
    _apply(engine, statements)  # re-runnable: the roles exist now

    assert _can_select(engine, "grants_test_pii_reader", "pii_reader.users")
    assert _can_select(engine, "grants_test_analyst", "analyst.listings_daily")
    assert not _can_select(engine, "grants_test_analyst", "pii_reader.users")
    assert not _can_select(engine, "grants_test_analyst", "marts.facts")

    # listings_daily leaves the analyst's contract: the regenerated grants take it away
    _apply(
        engine, grant_statements({"analyst": ["active_users_daily"]}, role_prefix="grants_test_")
    )
    assert not _can_select(engine, "grants_test_analyst", "analyst.listings_daily")
    assert _can_select(engine, "grants_test_analyst", "analyst.active_users_daily")
    engine.dispose()
