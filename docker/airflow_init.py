"""One-shot setup of the scale-out stack, run by the airflow-init service before anything else.

1. Refuses to go on while a secret still has the placeholder value of .env.example.
2. Migrates the Airflow metadata database (`airflow db migrate`, safe to repeat).
3. Creates the admin login of Airflow's simple auth manager: the manager reads the passwords
   from a JSON file (shared with the api-server through the airflow-auth volume); the password
   comes from AIRFLOW_ADMIN_PASSWORD in .env, so it is never generated into a log.

Every step is idempotent: running the service again changes nothing but a rotated password.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

PLACEHOLDER = "change-me"
FERNET_HINT = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def fail(message: str) -> NoReturn:
    print(f"airflow-init: {message}", file=sys.stderr)
    sys.exit(2)


def check_no_placeholder_secret() -> None:
    """The stack must not run on the published example secrets."""
    still_placeholder = sorted(name for name, value in os.environ.items() if PLACEHOLDER in value)
    if still_placeholder:
        fail(
            "these settings still contain the placeholder 'change-me' from .env.example: "
            + ", ".join(still_placeholder)
            + ". Put real secrets in .env (docs/scale-out.md shows how to generate them), "
            "then run `docker compose up -d` again."
        )


def check_fernet_key() -> None:
    from cryptography.fernet import Fernet

    try:
        Fernet(os.environ.get("AIRFLOW__CORE__FERNET_KEY", ""))
    except ValueError:
        fail(f"AIRFLOW_FERNET_KEY in .env is not a Fernet key; make one with: {FERNET_HINT}")


def migrate_metadata_db() -> None:
    result = subprocess.run(["airflow", "db", "migrate"], check=False)
    if result.returncode != 0:
        fail("`airflow db migrate` failed (see above); is the airflow-db service healthy?")


def write_admin_password() -> None:
    user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
    password = os.environ.get("AIRFLOW_ADMIN_PASSWORD", "")
    if not password:
        fail("AIRFLOW_ADMIN_PASSWORD is empty: set it in .env")
    passwords_file = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    passwords_file.parent.mkdir(parents=True, exist_ok=True)
    passwords = json.loads(passwords_file.read_text() or "{}") if passwords_file.exists() else {}
    if passwords.get(user) == password:
        print(f"airflow-init: admin login '{user}' is up to date")
        return
    passwords[user] = password
    # Written aside and renamed, so the api-server never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=passwords_file.parent, prefix=".passwords.")
    with os.fdopen(fd, "w") as out:
        json.dump(passwords, out)
        out.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, passwords_file)
    print(f"airflow-init: admin login '{user}' created (password from AIRFLOW_ADMIN_PASSWORD)")


def main() -> None:
    check_no_placeholder_secret()
    check_fernet_key()
    migrate_metadata_db()
    write_admin_password()


if __name__ == "__main__":
    main()
