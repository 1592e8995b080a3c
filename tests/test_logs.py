"""hub.engine.logs: every line logged during a run carries tenant, connection, job and run; secrets are masked."""

import io
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hub.engine import logs, runner
from hub.models import Job
from tenants import clients

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def json_lines():
    """A root handler configured like the production one (filter + JSON formatter); yields a reader."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RunContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


class ChattyOrderManager:
    """Logs through a library-style logger of its own, as a connector would, including a secret."""

    def iter_orders(self, **kwargs):
        logging.getLogger("connectors.example").info("token request: password=hunter2&username=ops")
        logging.getLogger("urllib3.connectionpool").warning("retrying with Authorization: Bearer abc.def.ghi")
        return iter(())


@pytest.mark.django_db
def test_every_line_of_a_run_carries_the_run_fields_and_no_secret(connection, monkeypatch, json_lines):
    monkeypatch.setattr(clients, "order_manager", lambda conn, recorder=None: ChattyOrderManager())
    logging.getLogger("hub.test").info("before the run")
    run = runner.run_job(connection, Job.ORDER_DOWNLOAD)
    logging.getLogger("hub.test").info("after the run")

    lines = json_lines()
    inside = [line for line in lines if line["message"] not in ("before the run", "after the run")]
    assert {"connectors.example", "urllib3.connectionpool", "hub.engine.runner"} <= {line["logger"] for line in inside}
    expected = {
        "tenant": connection.warehouse.tenant.slug,
        "connection": connection.pk,
        "job": "orders",
        "run": run.pk,
    }
    for line in inside:
        assert {key: line.get(key) for key in expected} == expected, line
        assert {"time", "level", "logger", "message"} <= set(line)
    text = "\n".join(line["message"] for line in lines)
    assert "hunter2" not in text and "abc.def.ghi" not in text
    assert "password=***" in text and "Authorization: ***" in text
    outside = [line for line in lines if line["message"] in ("before the run", "after the run")]
    assert len(outside) == 2 and not any(key in line for line in outside for key in expected)


def test_tracebacks_are_redacted_too(json_lines):
    try:
        raise RuntimeError('login failed: {"password": "s3cret", "user": "ops"}')
    except RuntimeError:
        logging.getLogger("hub.test").exception("crashed")
    [line] = json_lines()
    assert line["level"] == "ERROR" and "RuntimeError" in line["exc_info"]
    assert "s3cret" not in line["exc_info"]


def test_plain_lines_append_the_run_fields_and_redact():
    record = logging.LogRecord("hub.x", logging.INFO, __file__, 1, "sent token=%s", ("tok123",), None)
    with logs.bound(tenant="acme", job="orders"):
        logs.bind(run=7)
        logs.RunContextFilter().filter(record)
    text = logs.PlainFormatter().format(record)
    assert text.endswith("INFO hub.x sent token=*** [tenant=acme job=orders run=7]")
    assert logs.current() == {}


def test_the_context_is_restored_after_a_block_and_not_shared_with_other_threads():
    seen = {}
    with logs.bound(tenant="acme"):
        worker = threading.Thread(target=lambda: seen.update(logs.current()))
        worker.start()
        worker.join()
        assert logs.current() == {"tenant": "acme"}
    assert seen == {} and logs.current() == {}


def test_production_settings_log_json_lines_to_stderr():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "hub.example.com",
        "DATABASE_URL": "sqlite:////tmp/hub-logs-test.sqlite3",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
    }
    code = "import django, logging; django.setup(); logging.getLogger('hub.x').warning('client_secret=abc in the way')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert result.stdout == ""
    assert line["level"] == "WARNING" and line["logger"] == "hub.x"
    assert line["message"] == "client_secret=*** in the way"
