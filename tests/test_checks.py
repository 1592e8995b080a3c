"""hub.checks: the system check refusing unsafe django-q2 settings; the shipped Q_CLUSTER passes it."""

import datetime
import runpy
from pathlib import Path

import pytest
from django.core import checks

from hub.checks import check_q_cluster
from hub.engine import leases

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "hub" / "settings.py"

SAFE = {
    "name": "hub",
    "orm": "default",
    "timeout": 600,
    "retry": 720,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
}


def ids(settings, **overrides):
    conf = {**SAFE, **overrides}
    settings.Q_CLUSTER = {k: v for k, v in conf.items() if v is not ...}
    return [error.id for error in check_q_cluster()]


def test_the_shipped_settings_pass(settings):
    assert check_q_cluster() == []
    assert ids(settings) == []


def test_registered_with_djangos_checks(settings):
    settings.Q_CLUSTER = {**SAFE, "catch_up": True}
    assert "hub.E003" in [e.id for e in checks.run_checks(tags=["hub"])]


def test_timeout_missing(settings):
    assert ids(settings, timeout=...) == ["hub.E001"]


@pytest.mark.parametrize("timeout, retry", [(720, 720), (900, 720), (600, ...)])  # ... : django-q2's retry default 60
def test_timeout_not_below_retry(settings, timeout, retry):
    assert ids(settings, timeout=timeout, retry=retry) == ["hub.E002"]


@pytest.mark.parametrize("catch_up", [True, ...])  # ... : django-q2 defaults to True
def test_catch_up(settings, catch_up):
    assert ids(settings, catch_up=catch_up) == ["hub.E003"]


@pytest.mark.parametrize("ack_failures", [False, ...])  # ... : django-q2 defaults to False
def test_ack_failures(settings, ack_failures):
    assert ids(settings, ack_failures=ack_failures) == ["hub.E004"]


def test_lease_must_survive_missed_heartbeats(settings, monkeypatch):
    monkeypatch.setattr(leases, "RUN_LEASE", datetime.timedelta(seconds=60))
    assert ids(settings) == ["hub.E005"]
    monkeypatch.setattr(leases, "RUN_LEASE", datetime.timedelta(seconds=90))
    assert ids(settings) == []


def test_no_q_cluster_at_all(settings):
    del settings.Q_CLUSTER
    assert [e.id for e in check_q_cluster()] == ["hub.E001", "hub.E003", "hub.E004"]


# --- the Q_CLUSTER block of hub/settings.py, read fresh under a given environment ----------------


def load_settings(monkeypatch, **env):
    for name in ("REDIS_URL", "HUB_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["Q_CLUSTER"]


def test_embedded_default_is_the_orm_broker(monkeypatch):
    conf = load_settings(monkeypatch)
    assert conf["orm"] == "default" and "redis" not in conf
    assert (conf["name"], conf["workers"], conf["label"]) == ("hub", 2, "Tasks")
    assert conf["timeout"] < conf["retry"]
    assert (conf["max_attempts"], conf["ack_failures"], conf["catch_up"]) == (1, True, False)
    assert conf["save_limit"] == 1000


def test_redis_url_switches_to_the_redis_broker(monkeypatch):
    conf = load_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0", HUB_WORKERS="8")
    # django-q2 picks the ORM broker whenever "orm" is present, so it must be absent here.
    assert conf["redis"] == "redis://127.0.0.1:6379/0" and "orm" not in conf
    assert conf["workers"] == 8


@pytest.mark.parametrize("budget", [0, -1, 481, 600, 900, None])
def test_run_time_budget_must_end_well_before_the_task_timeout(settings, budget):
    settings.HUB_RUN_TIME_BUDGET = budget
    assert ids(settings) == ["hub.E006"]


def test_run_time_budget_with_room_before_the_timeout_passes(settings):
    settings.HUB_RUN_TIME_BUDGET = 480
    assert ids(settings) == []


def test_the_checks_are_registered_when_django_starts_not_only_when_a_test_imports_them(tmp_path):
    """`manage.py check` in a fresh process (nothing of the test suite imported) reports hub.E005."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_LEASE_HEARTBEAT_SECONDS": "100"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--tag", "hub"], cwd=root, env=env, capture_output=True, text=True
    )
    assert "hub.E005" in done.stderr + done.stdout


def test_the_whole_project_passes_djangos_system_checks():
    """Every registered check (admin fieldsets, models, urls): an admin listing a field twice once
    slipped through a green suite, because nothing in the suite ran Django's own checks."""
    from django.core.checks import ERROR

    problems = [f"{m.id}: {m.obj}: {m.msg}" for m in checks.run_checks() if m.level >= ERROR]
    assert problems == []
