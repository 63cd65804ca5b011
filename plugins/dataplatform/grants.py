"""Grants for warehouses with roles, from the role definitions the publish step uses.

The trusted layer's roles are dbt's access folders: ``models/access/<role>/`` builds schema
``<role>`` of the warehouse, holding exactly the views that role may read. Publishing copies each
role's schema into ``<role>.duckdb`` (mode 0440, so the file's group decides who may open it),
and the version's manifest records what each role got (``tables``).

On a warehouse that enforces grants itself (PostgreSQL, Snowflake), the same definitions become
database roles: each may use its own schema and select its views, nothing else. This module
turns ``{role: [view, ...]}`` (from a published manifest or from a warehouse's schemas) into
those statements, and into the ``chgrp``/``chmod`` lines of the file-based layer.
docs/roles-and-grants.md explains how a team maps roles to OS groups and database roles.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from dataplatform.publish.versions import ROLES, SEGMENTS

DIALECTS = ("postgres", "snowflake", "files")
# The names of roles and views are a contract (SPEC.md): plain lower-case SQL identifiers, which
# both PostgreSQL and Snowflake accept unquoted (Snowflake folds them to upper case, as dbt does
# when it creates them there).
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
ROLE_FILE_MODE = "0440"


class GrantsError(ValueError):
    """The role definitions cannot be turned into grants; the message says why."""


def _identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise GrantsError(f"{what} {name!r} is not a plain lower-case SQL identifier")
    return name


def role_objects_from_manifest(manifest: Mapping) -> dict[str, list[str]]:
    """``{role: [object, ...]}`` as a published version recorded it."""
    tables = manifest.get("tables")
    if not isinstance(tables, Mapping) or not tables:
        raise GrantsError(
            f"version {manifest.get('version_id', '?')} records no tables per role in its manifest"
        )
    return {role: sorted(tables[role]) for role in ROLES if role in tables}


def role_objects_from_warehouse(warehouse: Path) -> dict[str, list[str]]:
    """``{role: [object, ...]}`` from a warehouse's role schemas, as the publish step reads them."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema in ? "
            "order by table_schema, table_name",
            [list(ROLES)],
        ).fetchall()
    found: dict[str, list[str]] = {role: [] for role in ROLES}
    for schema, name in rows:
        found[schema].append(name)
    return {role: names for role, names in found.items() if names}


def grant_statements(
    role_objects: Mapping[str, Sequence[str]],
    dialect: str = "postgres",
    *,
    database: str | None = None,
    role_prefix: str = "",
) -> list[str]:
    """The statements that give each role ``SELECT`` on exactly its own schema's views.

    Re-runnable: a role is created only if missing, and its grants on the schema are revoked
    before the current views are granted, so a view dropped from the contract loses its grant.
    ``database`` qualifies the schemas (needed on Snowflake unless a database is in use);
    ``role_prefix`` names the database roles (``dp_`` makes ``dp_analyst``)."""
    if dialect not in ("postgres", "snowflake"):
        raise GrantsError(f"unknown dialect {dialect!r}: choose postgres or snowflake")
    statements: list[str] = []
    db = _identifier(database, "database") if database else None
    for role, objects in role_objects.items():
        if role not in ROLES:
            raise GrantsError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        grantee = _identifier(f"{role_prefix}{role}", "role name")
        schema = f"{db}.{role}" if db else role
        names = [_identifier(name, "view") for name in objects]
        statements.append(f"-- {role}: {len(names)} views of schema {schema}")
        if dialect == "postgres":
            statements += [
                "DO $$ BEGIN CREATE ROLE "
                f"{grantee} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
                *([f"GRANT CONNECT ON DATABASE {db} TO {grantee};"] if db else []),
                f"GRANT USAGE ON SCHEMA {schema} TO {grantee};",
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {grantee};",
                *(f"GRANT SELECT ON {schema}.{name} TO {grantee};" for name in names),
            ]
        else:
            statements += [
                f"CREATE ROLE IF NOT EXISTS {grantee};",
                *([f"GRANT USAGE ON DATABASE {db} TO ROLE {grantee};"] if db else []),
                f"GRANT USAGE ON SCHEMA {schema} TO ROLE {grantee};",
                f"REVOKE SELECT ON ALL VIEWS IN SCHEMA {schema} FROM ROLE {grantee};",
                *(f"GRANT SELECT ON VIEW {schema}.{name} TO ROLE {grantee};" for name in names),
            ]
    return statements


def file_permission_commands(
    version_dir: Path, roles: Sequence[str] = ROLES, group_prefix: str = ""
) -> list[str]:
    """``chgrp``/``chmod`` lines giving each role's OS group (``<group_prefix><role>``) read
    access to its database file in a published version, and nobody else; and to the role's
    segments (``published/segments/<role>/``, the Parquet files its views read), where there
    are any."""
    lines = []
    for role in roles:
        group = _identifier(f"{group_prefix}{role}", "group name")
        path = shlex.quote(str(version_dir / f"{role}.duckdb"))
        lines += [f"chgrp {group} {path}", f"chmod {ROLE_FILE_MODE} {path}"]
        segments = version_dir.parent.parent / SEGMENTS / role
        if segments.is_dir():
            folder = shlex.quote(str(segments))
            lines += [f"chgrp -R {group} {folder}", f"chmod -R u=rX,g=rX,o= {folder}"]
    return lines
