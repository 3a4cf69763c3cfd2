"""A scratch installation for the benchmarks: its own embedded PostgreSQL + pgvector and Redis.

The servers live in ``var/bench/`` (apart from the development and test servers); the database
``bookvec_bench`` is dropped and re-created for every full run. Benchmarks that need Django run as child
processes with ``environment()`` (DATABASE_URL, CELERY_BROKER_URL, local settings with DEBUG off and the
API's throttling lifted, so the load generator measures the app and not the throttle).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.support.common import PROJECT_DIR, PYTHON, WORK_DIR

PGDATA = WORK_DIR / "pgdata"
REDIS_DIR = WORK_DIR / "redis"
DATABASE = "bookvec_bench"


def start_servers(*, database: str = DATABASE) -> tuple[str, str]:
    """Starts (or finds) the scratch PostgreSQL and Redis; returns (database URL, broker URL)."""
    from config.embedded import embedded_postgres_url, embedded_redis_url

    return embedded_postgres_url(PGDATA, database=database), embedded_redis_url(REDIS_DIR)


def stop_servers() -> None:
    from config.embedded import stop_embedded_servers

    stop_embedded_servers(PGDATA, REDIS_DIR)


def stop_servers_postgres_only() -> None:
    """Shuts the scratch PostgreSQL down ("fast": every connection is cut), leaving Redis running."""
    from config.embedded import stop_embedded_servers

    stop_embedded_servers(PGDATA, WORK_DIR / "no-redis-here")


def fresh_database(*, database: str = DATABASE, tree: Path = PROJECT_DIR) -> dict[str, str]:
    """Drops and re-creates ``database``, migrates it with the code in ``tree`` (another commit's checkout for a
    "before" run), and returns the environment for child processes, which run that code."""
    import psycopg

    database_url, broker_url = start_servers(database=database)
    with psycopg.connect(_on_database(database_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    database_url, broker_url = start_servers(database=database)  # re-creates it with the vector extension
    env = environment(database_url, broker_url)
    env["PYTHONPATH"] = str(tree)
    manage(env, "migrate", "--no-input", "--verbosity", "0", tree=tree)
    return env


def drop_database(database: str) -> None:
    import psycopg

    database_url, _ = start_servers(database=DATABASE)
    with psycopg.connect(_on_database(database_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def existing_environment(*, database: str = DATABASE) -> dict[str, str]:
    """The environment for the scratch database as it is (servers started if they were stopped)."""
    return environment(*start_servers(database=database))


def environment(database_url: str, broker_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DEBUG": "0",
        "SECRET_KEY": "bookvec-benchmarks",
        "LOG_LEVEL": "WARNING",
        "API_ANON_RATE": "100000000/second",
        "API_USER_RATE": "100000000/second",
        "PYTHONPATH": str(PROJECT_DIR),
    })
    return env


def manage(env: dict[str, str], *args: str, tree: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    """Runs ``tree``'s ``manage.py`` with the scratch environment; raises with its output when it fails."""
    result = subprocess.run([PYTHON, str(tree / "manage.py"), *args], env=env, cwd=tree,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def django_setup() -> None:
    """Sets Django up in this process (a benchmark child started with ``environment()``)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()


def _on_database(url: str, database: str) -> str:
    """The same server's connection string for another database."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=database)
