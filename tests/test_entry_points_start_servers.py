"""Importing settings starts no server; the entry points (manage.py here) start the embedded ones."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
SERVER_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "BOOKVEC_TEST_SERVERS_DIR")


def bare_environment(var_dir: Path, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    return {**environment, "BOOKVEC_VAR_DIR": str(var_dir), "PYTHONPATH": str(PROJECT_DIR), **extra}


IMPORT_AND_REPORT = """
import importlib, os, sys
try:
    importlib.import_module(sys.argv[1])
except Exception as error:
    print(type(error).__name__, error)
print("exported:", sorted(name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if os.environ.get(name)))
"""


@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.test"])
def test_importing_the_settings_starts_no_server(tmp_path, module):
    result = subprocess.run([sys.executable, "-c", IMPORT_AND_REPORT, module], cwd=tmp_path,
                            env=bare_environment(tmp_path), capture_output=True, text=True, timeout=120)
    assert "exported: []" in result.stdout, result.stdout + result.stderr[-2000:]
    assert not any(tmp_path.iterdir())  # no data folder, no pid file: nothing was started
    assert "Error" not in result.stdout


@pytest.mark.slow
def test_manage_py_starts_the_embedded_servers_and_the_stop_command_stops_them(tmp_path):
    environment = bare_environment(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.local")
    check = subprocess.run([sys.executable, "manage.py", "check", "--database", "default"], cwd=PROJECT_DIR,
                           env=environment, capture_output=True, text=True, timeout=300)
    try:
        assert check.returncode == 0, check.stderr[-3000:]
        assert (tmp_path / "pgdata" / "postmaster.pid").exists() and (tmp_path / "redis" / "redis.pid").exists()
    finally:
        stop = subprocess.run([sys.executable, "manage.py", "stop_embedded_servers"], cwd=PROJECT_DIR,
                              env=environment, capture_output=True, text=True, timeout=120)
    assert stop.returncode == 0, stop.stderr[-3000:]
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists() and not (tmp_path / "redis" / "redis.pid").exists()
