"""hub.settings: production configuration from the environment passes `check --deploy`; databases.

Each case runs in a subprocess with an environment built from scratch, because settings are read
once at import. Every variable the case depends on is set explicitly, so a developer's `.env`
(read with overwrite=False) cannot change the outcome.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent


def run(args, **env):
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LOG_LEVEL": "ERROR"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides):
    env = {
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "hub.example.com",
        "HUB_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "sqlite:////tmp/hub-settings-test.sqlite3",
        "HUB_OM_APP_KEY": "hub-app",
        "HUB_OM_APP_SECRET": "hub-app-secret",
    }
    env.update(overrides)
    return env


def settings_of(**env):
    """The DATABASES setting as the settings module computes it for this environment."""
    result = run(["-c", "import json, hub.settings as s; print(json.dumps(s.DATABASES))"], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["default"]


def test_production_environment_passes_the_deploy_check():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_the_order_manager_app_warns_w002():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env(HUB_OM_APP_KEY=""))
    assert result.returncode != 0 and "tenants.W002" in result.stderr + result.stdout


def test_production_without_encryption_keys_fails_with_e001():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env(HUB_ENCRYPTION_KEYS="")
    )
    assert result.returncode != 0
    assert "tenants.E001" in result.stderr
    assert "HUB_ENCRYPTION_KEYS must be set in production" in result.stderr


def test_production_with_the_embedded_secret_key_fails():
    env = production_env(SECRET_KEY="django-insecure-embedded-default-do-not-use-in-production")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0
    assert "tenants.E003" in result.stderr


def test_postgres_database_url_is_parsed_with_persistent_health_checked_connections():
    db = settings_of(
        DJANGO_DEBUG="false",
        DATABASE_URL="postgres://hub:p%40ss@db.internal:6543/hubdb",
        DATABASE_CONN_MAX_AGE="120",
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], int(db["PORT"])) == (
        "hubdb",
        "hub",
        "p@ss",
        "db.internal",
        6543,
    )
    assert db["CONN_MAX_AGE"] == 120 and db["CONN_HEALTH_CHECKS"] is True
    assert "transaction_mode" not in db.get("OPTIONS", {})


def test_sqlite_gets_wal_and_immediate_transactions():
    db = settings_of(DJANGO_DEBUG="true", DATABASE_URL="sqlite:////tmp/some.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3" and db["NAME"] == "/tmp/some.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5


def test_sqlite_options_take_effect_on_a_real_file(tmp_path):
    # WAL is on, and BEGIN takes the write lock at once: a second writer is refused while the
    # first transaction has only read.
    script = (
        "import sqlite3\n"
        "from django.db import connection, transaction\n"
        "print(connection.cursor().execute('PRAGMA journal_mode').fetchone()[0])\n"
        "with transaction.atomic():\n"
        "    connection.cursor().execute('SELECT 1')\n"
        "    other = sqlite3.connect(connection.settings_dict['NAME'], timeout=0)\n"
        "    try:\n"
        "        other.execute('BEGIN IMMEDIATE')\n"
        "        print('unlocked')\n"
        "    except sqlite3.OperationalError:\n"
        "        print('locked')\n"
    )
    result = run(
        ["manage.py", "shell", "--verbosity", "0", "-c", script],
        DJANGO_DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        HUB_ENCRYPTION_KEYS="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "locked"]


@pytest.mark.parametrize(
    "env, expected",
    [({"DJANGO_DEBUG": "true"}, True), ({"DJANGO_DEBUG": "false", "ALLOWED_HOSTS": "a.example,b.example"}, False)],
)
def test_debug_drives_the_embedded_defaults(env, expected):
    code = (
        "import json, hub.settings as s; print(json.dumps([s.DEBUG, s.SANDBOX_ENABLED, s.ALLOWED_HOSTS,"
        " getattr(s, 'SESSION_COOKIE_SECURE', False)]))"
    )
    result = run(["-c", code], DATABASE_URL="sqlite:////tmp/x.sqlite3", **env)
    debug, sandbox, hosts, secure_cookie = json.loads(result.stdout)
    assert debug is expected and sandbox is expected and secure_cookie is (not expected)
    assert hosts == (["localhost", "127.0.0.1", "[::1]"] if expected else ["a.example", "b.example"])


def test_retry_windows_are_declared_settings_read_from_the_environment():
    """The watermark overlap and the tracking give-up time are settings (README lists them) that
    the code reads from hub.settings, so the environment changes them."""
    code = (
        "import django, json; django.setup()\n"
        "from django.conf import settings\n"
        "from hub.engine import runner\n"
        "print(json.dumps([settings.HUB_WATERMARK_OVERLAP_SECONDS, runner.WATERMARK_OVERLAP.total_seconds(),"
        " settings.HUB_TRACKING_GIVE_UP_HOURS]))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "hub.settings", "DJANGO_DEBUG": "true", "HUB_ENCRYPTION_KEYS": ""}
    defaults = run(["-c", code], **env)
    assert defaults.returncode == 0, defaults.stderr
    assert json.loads(defaults.stdout) == [600, 600, 72]
    changed = run(["-c", code], **env, HUB_WATERMARK_OVERLAP_SECONDS="120", HUB_TRACKING_GIVE_UP_HOURS="24")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout) == [120, 120, 24]
