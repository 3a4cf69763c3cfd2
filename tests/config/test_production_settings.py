"""Production settings pass Django's deployment checklist, and the documented opt-outs serve plain HTTP."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
HTTPS_SETTINGS = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                  "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    """``manage.py check --deploy`` with production settings and a real-looking secret; no server is reached."""
    # Not the test process's own leniencies either: the browser tests allow ORM calls under Playwright's loop.
    env = {key: value for key, value in os.environ.items()
           if key not in HTTPS_SETTINGS and key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50),
               ALLOWED_HOSTS="example.org", DATABASE_URL="postgres://u:p@localhost/x",
               CELERY_BROKER_URL="redis://localhost:6379/0", **overrides)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)


def test_production_settings_pass_the_deployment_checklist():
    finished = check_deploy()

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "System check identified no issues (0 silenced)." in finished.stdout


def test_the_plain_http_opt_outs_turn_off_exactly_the_https_settings():
    finished = check_deploy(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="false",
                            CSRF_COOKIE_SECURE="false")

    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output
    assert "4 issues" in output
