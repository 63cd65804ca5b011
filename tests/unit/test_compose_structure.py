"""The scale-out stack (docker-compose.yml, docker/, .env.example) checked without Docker.

CI machines have no Docker daemon and their docker client has no compose plugin, so the stack is
never started here. These tests check what can be checked from the files: the services, one
image and the CeleryExecutor for all of Airflow, a worker that scales, the docs server that
`make docs` runs, healthchecks and start order, no secret in the file, every ${VAR} listed in
.env.example, and the Dockerfile. Where `docker compose` is installed, its own parser validates
the file as well; where only the legacy `docker-compose` 1.x is, that one does.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import warnings
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / "docker" / "Dockerfile.dockerignore"
INIT_SCRIPT = REPO / "docker" / "airflow_init.py"
LOCK_FILE = REPO / "requirements.lock"

# role -> (service name, what its image must contain; None: built from docker/Dockerfile)
REQUIRED_SERVICES = {
    "Airflow metadata database": ("airflow-db", "postgres"),
    "Celery broker": ("redis", "redis"),
    "Airflow init (db migrate, admin login)": ("airflow-init", None),
    "Airflow api-server": ("airflow-api-server", None),
    "Airflow scheduler": ("airflow-scheduler", None),
    "Airflow dag-processor": ("airflow-dag-processor", None),
    "Airflow triggerer": ("airflow-triggerer", None),
    "Airflow Celery worker": ("airflow-worker", None),
    "S3 lake": ("minio", "minio/minio"),
    "lake bucket creation": ("lake-init", "minio/mc"),
    "operational source database": ("source-db", "postgres"),
    "SMTP catcher": ("mailpit", "mailpit"),
    "docs server (python -m dataplatform docs --serve)": ("docs", None),
}
AIRFLOW_COMMANDS = {
    "airflow-api-server": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
}
DOCS_PORT = 8081
DOCS_COMMAND = ["python", "-m", "dataplatform", "docs", "--serve", "--host", "0.0.0.0"]
DOCS_COMMAND += ["--port", str(DOCS_PORT)]
# What the docs server reads: the data volume and the lake (published/CURRENT, the versions).
LAKE_VARIABLES = {"LAKE_URL", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
# Every variable the platform code reads; .env.example documents each one.
PLATFORM_VARIABLES = {
    "DATA_DIR",
    "SOURCE_DB_URL",
    "ALERT_WEBHOOK_URL",
    "ALERT_EMAIL_TO",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_STARTTLS",
    "LANDING_DEADLINE_HOURS",
    "RAW_GATE_MAX_QUARANTINE_RATIO",
    "PSEUDONYMISATION_KEY",
}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|(^|_)KEY(_|$)|(^|_)AUTH$")
# A whole value that is one interpolation, e.g. ${X:?set it in .env} or ${X:-}.
ONE_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}"
)
# $$ (a literal dollar), ${...} or $NAME, as docker compose reads them.
INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
URL_CREDENTIALS = re.compile(
    r"[a-z][a-z0-9+.-]*://(?:\$\{[^}]*\}|[^/@\s:])*:(?P<password>\$\{[^}]*\}|[^/@\s]*)@\S*"
)
PLACEHOLDER = "change-me"


class MissingVariable(ValueError):
    """A ${VAR:?message} whose variable is unset or empty."""


# ---------------------------------------------------------------- helpers (also tested below) ---


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env file, as docker compose reads them (no quotes used here)."""
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number} is not KEY=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Docker compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        parts = ONE_INTERPOLATION.fullmatch("${" + match.group("braced") + "}")
        if parts is None:
            raise ValueError(f"unsupported interpolation ${{{match.group('braced')}}}")
        name, op, arg = parts.group("name", "op", "arg")
        value = env.get(name)
        if op is None:
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if unset else value
        if unset:
            raise MissingVariable(f"{name}: {arg}")
        return value

    return INTERPOLATION.sub(replace, text)


def variables_used(text: str) -> set[str]:
    names = set()
    for match in INTERPOLATION.finditer(text):
        if match.group("named"):
            names.add(match.group("named"))
        elif match.group("braced") is not None:
            parts = ONE_INTERPOLATION.fullmatch("${" + match.group("braced") + "}")
            assert parts, f"unsupported interpolation ${{{match.group('braced')}}}"
            names.add(parts.group("name"))
    return names


def environment_of(block: dict[str, Any]) -> dict[str, str]:
    env = block.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def environments(compose: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every environment block in the file: services and x- extension blocks."""
    blocks = {f"services.{name}": environment_of(svc) for name, svc in compose["services"].items()}
    for key, value in compose.items():
        if key.startswith("x-") and isinstance(value, dict):
            blocks[key] = environment_of(value)
    return blocks


def literal_secrets(compose: dict[str, Any]) -> list[str]:
    """Secret-looking settings whose value is not one ${...} from .env (or has a default)."""
    found = []
    for where, env in environments(compose).items():
        for key, value in env.items():
            if not SECRET_NAME.search(key) or key.endswith(("_FILE", "_PATH")):
                continue  # *_FILE/*_PATH name where a secret lives, not the secret
            parts = ONE_INTERPOLATION.fullmatch(value)
            defaulted = parts is not None and (parts.group("op") or "").endswith("-")
            if parts is None or (defaulted and parts.group("arg")):
                found.append(f"{where}: {key}={value!r}")
    return found


def strings_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [str(k), *strings_in(v)]]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return [node] if isinstance(node, str) else []


def url_passwords(compose: dict[str, Any]) -> dict[str, str]:
    """Every URL with a password in it, and its password as written in the file."""
    return {
        match.group(0): match.group("password")
        for text in strings_in(compose)
        for match in URL_CREDENTIALS.finditer(text)
    }


def literal_url_passwords(compose: dict[str, Any]) -> list[str]:
    return [
        url
        for url, password in url_passwords(compose).items()
        if password and not ONE_INTERPOLATION.fullmatch(password)
    ]


def scaling_blockers(service: dict[str, Any]) -> list[str]:
    """What stops `docker compose up --scale <service>=N` from starting N copies."""
    blockers = [key for key in ("container_name", "hostname") if key in service]
    for port in service.get("ports") or []:
        if isinstance(port, dict) and port.get("published"):
            blockers.append(f"host port {port['published']}")
        elif isinstance(port, str | int) and ":" in str(port):
            blockers.append(f"host port {port}")
    return blockers


def airflow_service_names(compose: dict[str, Any]) -> list[str]:
    return [
        name for name in compose["services"] if name.startswith("airflow-") and name != "airflow-db"
    ]


def platform_image_service_names(compose: dict[str, Any]) -> list[str]:
    """The services that run the platform's image: all of Airflow, and the docs server."""
    return [*airflow_service_names(compose), "docs"]


def merged_anchor_names(service_name: str) -> set[str]:
    """Anchors merged (`<<: *name`) into a service, read from the YAML node graph."""
    root = yaml.compose(COMPOSE_FILE.read_text())
    anchors = {id(value): key.value for key, value in root.value if str(key.value).startswith("x-")}
    services = next(value for key, value in root.value if key.value == "services")
    service = next(value for key, value in services.value if key.value == service_name)
    return {
        anchors[id(value)]
        for key, value in service.value
        if key.value == "<<" and id(value) in anchors
    }


# --------------------------------------------------------------------------------- fixtures ---


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def interpolated(env_example: dict[str, str]) -> dict[str, Any]:
    """The file as docker compose sees it with a .env copied from .env.example."""
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), env_example))


# ------------------------------------------------------------------------------------ tests ---


@pytest.mark.parametrize("role", sorted(REQUIRED_SERVICES))
def test_required_service_exists(compose: dict[str, Any], role: str) -> None:
    name, image_part = REQUIRED_SERVICES[role]
    assert name in compose["services"], f"no service {name!r} for the {role}"
    service = compose["services"][name]
    if image_part is None:
        assert "build" in service, f"{name} must be built from docker/Dockerfile"
    else:
        assert image_part in service.get("image", ""), f"{name} should run {image_part}"
        assert ":" in service["image"] and not service["image"].endswith(":latest"), (
            f"{name}: pin the image tag ({service['image']!r})"
        )


def test_airflow_services_share_one_image_via_the_anchor(compose: dict[str, Any]) -> None:
    common = compose["x-airflow-common"]
    assert common["build"]["dockerfile"] == "docker/Dockerfile"
    assert (REPO / common["build"]["context"] / common["build"]["dockerfile"]).is_file()
    names = platform_image_service_names(compose)
    assert set(AIRFLOW_COMMANDS) | {"airflow-init"} <= set(names)
    for name in names:
        service = compose["services"][name]
        assert service["image"] == common["image"], name
        assert service["build"] == common["build"], name
        assert "x-airflow-common" in merged_anchor_names(name), f"{name}: <<: *airflow-common"
    others = [n for n, s in compose["services"].items() if "build" in s and n not in names]
    assert not others, f"only the platform's services are built from its image: {others}"


def test_all_of_airflow_runs_the_celery_executor_with_one_configuration(
    compose: dict[str, Any],
) -> None:
    names = airflow_service_names(compose)
    shared = environment_of(compose["x-airflow-common"])
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert shared["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@redis:" in shared["AIRFLOW__CELERY__BROKER_URL"]
    assert "@airflow-db:" in shared["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    for name in names:
        env = environment_of(compose["services"][name])
        differing = {k for k, v in shared.items() if env.get(k) != v}
        assert not differing, f"{name} overrides the shared Airflow settings {sorted(differing)}"


@pytest.mark.parametrize("name", sorted(AIRFLOW_COMMANDS))
def test_airflow_component_runs_its_command(compose: dict[str, Any], name: str) -> None:
    assert compose["services"][name]["command"] == AIRFLOW_COMMANDS[name]


def test_api_server_listens_on_8080(interpolated: dict[str, Any]) -> None:
    ports = [str(p) for p in interpolated["services"]["airflow-api-server"]["ports"]]
    assert any(p.endswith(":8080:8080") for p in ports), ports


def test_docs_and_mail_have_web_pages(interpolated: dict[str, Any]) -> None:
    services = interpolated["services"]
    assert f"127.0.0.1:{DOCS_PORT}:{DOCS_PORT}" in services["docs"]["ports"]
    assert "127.0.0.1:8025:8025" in services["mailpit"]["ports"]


def test_docs_server_is_the_platforms_own(compose: dict[str, Any]) -> None:
    """`make docs`'s server (dbt docs per published version, Data Docs), not static files: the
    same command line, parsed by the real CLI, on the data volume Airflow writes."""
    from dataplatform.cli import build_parser, cmd_docs

    docs = compose["services"]["docs"]
    assert docs["command"] == DOCS_COMMAND
    args = build_parser().parse_args(docs["command"][3:])
    assert (args.func, args.serve, args.host, args.port) == (cmd_docs, True, "0.0.0.0", DOCS_PORT)
    assert any(str(DOCS_PORT) in part for part in docs["healthcheck"]["test"])
    # The same DATA_DIR at the same path as in Airflow, and the same lake.
    airflow = environment_of(compose["x-airflow-common"])
    env = environment_of(docs)
    assert env["DATA_DIR"] == airflow["DATA_DIR"]
    assert f"platform-data:{env['DATA_DIR']}" in docs["volumes"]
    assert "platform-data:/opt/platform/data" in compose["x-airflow-common"]["volumes"]
    for name in LAKE_VARIABLES:
        assert env[name] == airflow[name], name
    # What it needs only: no Airflow secret or setting, no operational database.
    assert not [k for k in env if k.startswith("AIRFLOW") or k == "SOURCE_DB_URL"], env
    assert set(docs["depends_on"]) == {"airflow-init", "lake-init"}


def test_worker_can_scale(compose: dict[str, Any]) -> None:
    assert scaling_blockers(compose["services"]["airflow-worker"]) == []


def test_init_migrates_and_creates_the_admin_before_airflow_starts(
    compose: dict[str, Any],
) -> None:
    init = compose["services"]["airflow-init"]
    assert init["restart"] == "no"
    assert init["command"] == ["python", "/opt/platform/docker/airflow_init.py"]
    script = INIT_SCRIPT.read_text()
    assert '["airflow", "db", "migrate"]' in script
    assert "AIRFLOW_ADMIN_PASSWORD" in script
    assert environment_of(init)["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    for name in set(airflow_service_names(compose)) - {"airflow-init"}:
        depends = compose["services"][name]["depends_on"]
        assert depends.get("airflow-init") == {"condition": "service_completed_successfully"}, name


def test_simple_auth_manager_is_the_one_installed(compose: dict[str, Any]) -> None:
    manager = environment_of(compose["x-airflow-common"])["AIRFLOW__CORE__AUTH_MANAGER"]
    module, _, cls = manager.rpartition(".")
    # Located through the package metadata: importing airflow here would set up an AIRFLOW_HOME.
    source = Path(distribution("apache-airflow-core").locate_file(module.replace(".", "/") + ".py"))
    assert source.is_file(), f"{manager} is not in the pinned Airflow"
    assert f"class {cls}(" in source.read_text(), f"{manager} is not in the pinned Airflow"


def test_depends_on_waits_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends.items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", f"{name} -> {target}"
                assert services[target].get("restart") == "no", f"{target} is not one-shot"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if service.get("restart") == "no" or service.get("profiles"):
            continue  # one-shot jobs and on-demand tools
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no healthcheck"


def test_workers_wait_for_the_platform_peers(compose: dict[str, Any]) -> None:
    depends = compose["services"]["airflow-worker"]["depends_on"]
    for peer in ("lake-init", "source-db", "mailpit", "airflow-api-server"):
        assert peer in depends, f"the worker runs tasks that need {peer}"


def test_platform_settings_point_at_the_scale_out_peers(interpolated: dict[str, Any]) -> None:
    env = environment_of(interpolated["x-airflow-common"])
    assert env["SOURCE_DB_URL"].startswith("postgresql+psycopg2://")
    assert "@source-db:5432/" in env["SOURCE_DB_URL"]
    assert env["LAKE_URL"] == "s3://lake/"
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("mailpit", "1025")
    assert env["ALERT_EMAIL_TO"]
    assert env["DATA_DIR"] == "/opt/platform/data"


def test_no_literal_secret_in_the_compose_file(compose: dict[str, Any]) -> None:
    assert literal_secrets(compose) == []


def test_no_literal_password_in_a_url(compose: dict[str, Any]) -> None:
    seen = url_passwords(compose)
    # the metadata DB (twice: SQLAlchemy and Celery results), the broker, the operational DB
    assert len(seen) >= 4, f"the URL check found too few URLs to be working: {seen}"
    assert literal_url_passwords(compose) == []


def test_secrets_are_required_not_defaulted(compose: dict[str, Any]) -> None:
    shared = environment_of(compose["x-airflow-common"])
    for key in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AWS_SECRET_ACCESS_KEY",
        "PSEUDONYMISATION_KEY",
    ):
        assert ONE_INTERPOLATION.fullmatch(shared[key]).group("op") == ":?", key


def test_every_variable_used_is_listed_in_env_example(env_example: dict[str, str]) -> None:
    missing = variables_used(COMPOSE_FILE.read_text()) - set(env_example)
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_documents_every_platform_variable(env_example: dict[str, str]) -> None:
    missing = PLATFORM_VARIABLES - set(env_example)
    assert not missing, f"add to .env.example: {sorted(missing)}"
    assert env_example["DATA_DIR"] == "./data"
    assert env_example["LANDING_DEADLINE_HOURS"] == "6"
    assert env_example["RAW_GATE_MAX_QUARANTINE_RATIO"] == "0.01"


def test_env_example_holds_only_placeholder_secrets(env_example: dict[str, str]) -> None:
    for name, value in env_example.items():
        if SECRET_NAME.search(name):
            assert value in {"", PLACEHOLDER}, f".env.example: {name} must be empty or change-me"


def test_dockerfile_installs_the_lock_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    lines = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    assert next(line for line in lines if line.startswith("FROM ")) == "FROM python:3.11-slim"
    assert any(line.startswith("COPY requirements.lock ") for line in lines)
    assert any(
        line.startswith("RUN ")
        and re.search(r"\b(pip|uv pip) (install|sync)\b", line)
        and "requirements.lock" in line
        for line in lines
    ), "the image must install requirements.lock"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}, "the image must run as a non-root user"
    for folder in ("dags", "plugins", "dbt_project", "expectations"):
        assert re.search(rf"^COPY .*\b{folder}/ /opt/platform/{folder}/$", text, re.MULTILINE)
    for setting in (
        "PYTHONPATH=/opt/platform/plugins",
        "AIRFLOW__CORE__DAGS_FOLDER=/opt/platform/dags",
        "AIRFLOW__CORE__PLUGINS_FOLDER=/opt/platform/plugins",
        "AIRFLOW__CORE__LOAD_EXAMPLES=False",
    ):
        assert setting in text, setting


def test_build_context_leaves_out_venv_data_and_env() -> None:
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and line[0] != "#"]
    assert rules[0] == "*", "allow-list: exclude everything, then name what the image copies"
    assert not any(rule.lstrip("!").startswith((".venv", "data", ".env")) for rule in rules)


def test_lock_has_the_celery_executor() -> None:
    """CeleryExecutor lives in apache-airflow-providers-celery, which the image installs only
    through requirements.lock (add it to requirements.txt and run `make lock`)."""
    lock = LOCK_FILE.read_text()
    assert re.search(r"^apache-airflow-providers-celery==", lock, re.MULTILINE), (
        "requirements.lock lacks apache-airflow-providers-celery: add "
        "`apache-airflow-providers-celery==3.26.0` to requirements.txt and run `make lock`"
    )
    assert re.search(r"^psycopg2-binary==", lock, re.MULTILINE), "postgresql+psycopg2 URLs"


def test_compose_config_is_valid_with_env_example(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    shutil.copyfile(ENV_EXAMPLE, dotenv)
    legacy_checked = _legacy_docker_compose_available()
    if legacy_checked:
        # The legacy docker-compose 1.29 (Python) validates the Compose Specification's schema
        # and interpolation as well, except the top-level `name`, which it predates.
        text = COMPOSE_FILE.read_text()
        assert re.search(r"^name: \S+\n", text, re.MULTILINE)
        legacy = tmp_path / "docker-compose.yml"
        legacy.write_text(re.sub(r"^name: \S+\n", "", text, count=1, flags=re.MULTILINE))
        result = subprocess.run(
            [
                *("docker-compose", "--project-directory", str(REPO)),
                *("--env-file", str(dotenv), "-f", str(legacy), "config", "--quiet"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    if _docker_compose_available():
        result = subprocess.run(
            [
                *("docker", "compose", "--project-directory", str(REPO)),
                *("--env-file", str(dotenv), "-f", str(COMPOSE_FILE), "config", "--quiet"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return
    # NO DOCKER COMPOSE PLUGIN ON THIS MACHINE (CI has none): docker compose's own validation
    # cannot run, so this branch checks the same interpolation with the emulation above as
    # well: a .env copied from .env.example fills every required ${VAR:?...} and the result is
    # YAML.
    warnings.warn(
        "`docker compose` is not installed: docker-compose.yml was checked structurally"
        + (" and by the legacy docker-compose 1.x" if legacy_checked else " only"),
        UserWarning,
        stacklevel=1,
    )
    resolved = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), read_env_file(dotenv)))
    assert set(resolved["services"]) == set(load_compose()["services"])
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            assert re.fullmatch(r"[\d.]+:\d+:\d+", port), f"{name}: bad port mapping {port!r}"


def _legacy_docker_compose_available() -> bool:
    if shutil.which("docker-compose") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker-compose", "version", "--short"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and probe.stdout.startswith("1.")


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


# ------------------------------------------- the checks above catch what they are meant to ---


def test_checks_catch_a_literal_secret(compose: dict[str, Any]) -> None:
    assert literal_secrets(compose) == []
    bad = copy.deepcopy(compose)
    worker_env = environment_of(bad["services"]["airflow-worker"])
    bad["services"]["airflow-worker"]["environment"] = {
        **worker_env,
        "AIRFLOW__CORE__FERNET_KEY": "abc123",
    }
    minio_env = bad["services"]["minio"]["environment"]
    minio_env["MINIO_ROOT_PASSWORD"] = "${MINIO_ROOT_PASSWORD:-x}"
    assert literal_secrets(bad) == [
        "services.airflow-worker: AIRFLOW__CORE__FERNET_KEY='abc123'",
        "services.minio: MINIO_ROOT_PASSWORD='${MINIO_ROOT_PASSWORD:-x}'",
    ]


def test_checks_catch_a_password_in_a_url(compose: dict[str, Any]) -> None:
    assert literal_url_passwords(compose) == []
    bad = copy.deepcopy(compose)
    bad["services"]["docs"]["environment"] = {"SOURCE_DB_URL": "postgresql://u:hunter2@db/x"}
    assert literal_url_passwords(bad) == ["postgresql://u:hunter2@db/x"]


def test_checks_catch_a_worker_that_cannot_scale(compose: dict[str, Any]) -> None:
    worker = copy.deepcopy(compose["services"]["airflow-worker"])
    worker["container_name"] = "worker"
    worker["ports"] = ["8793:8793"]
    assert scaling_blockers(worker) == ["container_name", "host port 8793:8793"]


def test_interpolation_refuses_a_missing_required_variable(env_example: dict[str, str]) -> None:
    env = {**env_example, "AIRFLOW_FERNET_KEY": ""}
    with pytest.raises(MissingVariable, match="AIRFLOW_FERNET_KEY"):
        interpolate(COMPOSE_FILE.read_text(), env)
    assert interpolate("$${HOSTNAME} ${A:-d} ${B-e} $C", {"B": "", "C": "c"}) == "${HOSTNAME} d  c"
