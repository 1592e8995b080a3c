"""scripts/demo_env.py and scripts/demo's `.env`: the demo records the address it serves as
HUB_BASE_URL (issue 17: `sandbox tenant` run beside a demo on port 8123 stored port 8000), keeps
the machine's keys across runs, and the settings' reader (django-environ) reads it back.

`scripts/demo` itself runs in a scratch copy of the project whose `.venv` forwards `python` to this
interpreter and stubs `honcho`, and whose `manage.py` only records its arguments: everything the
script does up to starting the processes, without a server or a database."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_ENV = ROOT / "scripts" / "demo_env.py"


def env_values(path: Path) -> dict[str, str]:
    """What the settings would read from `path`, through django-environ in a clean process."""
    code = (
        "import json, os, sys, environ\n"
        "env = environ.Env()\n"
        "env.read_env(sys.argv[1], overwrite=False)\n"
        "print(json.dumps({k: os.environ[k] for k in ('HUB_BASE_URL', 'SECRET_KEY', 'HUB_ENCRYPTION_KEYS') if k in os.environ}))\n"
    )
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def write_env(path: Path, base_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEMO_ENV), str(path), base_url], capture_output=True, text=True, check=True
    )


def test_a_new_env_file_gets_keys_and_the_base_url(tmp_path):
    env_file = tmp_path / ".env"
    done = write_env(env_file, "http://127.0.0.1:8123")
    values = env_values(env_file)
    assert values["HUB_BASE_URL"] == "http://127.0.0.1:8123"
    assert len(values["SECRET_KEY"]) > 40 and values["HUB_ENCRYPTION_KEYS"]
    assert done.stdout == "" and "HUB_BASE_URL=http://127.0.0.1:8123" in done.stderr


def test_a_later_run_changes_only_the_base_url(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SECRET_KEY=kept\nHUB_BASE_URL=http://127.0.0.1:8000\nEMAIL_HOST=mail.example\nHUB_BASE_URL=x\n"
    )
    write_env(env_file, "http://127.0.0.1:8010")
    assert env_file.read_text() == "SECRET_KEY=kept\nHUB_BASE_URL=http://127.0.0.1:8010\nEMAIL_HOST=mail.example\n"
    env_file.write_text("SECRET_KEY=kept")  # no newline at the end, no HUB_BASE_URL yet
    write_env(env_file, "http://127.0.0.1:8010")
    assert env_file.read_text() == "SECRET_KEY=kept\nHUB_BASE_URL=http://127.0.0.1:8010\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scratch_project(tmp_path):
    """scripts/demo, scripts/bootstrap and scripts/demo_env.py in a scratch project (see the module docstring)."""
    (tmp_path / "scripts").mkdir()
    for name in ("demo", "bootstrap", "demo_env.py"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    for name in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy2(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "honcho").write_text('#!/bin/sh\necho "honcho $*" >> calls.log\n')
    for tool in ("python", "honcho"):
        (bin_dir / tool).chmod(0o755)
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "requirements-dev.txt").read_bytes())
    (tmp_path / ".venv" / ".requirements.sha256").write_text(wanted.hexdigest() + "\n")
    (tmp_path / "manage.py").write_text(
        "import sys\nwith open('calls.log', 'a') as log:\n    log.write('manage.py ' + ' '.join(sys.argv[1:]) + '\\n')\n"
    )
    return tmp_path


def run_demo(project: Path, port: int) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "HUB_DEMO_PORT": str(port)}
    return subprocess.run(
        [str(project / "scripts" / "demo")], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_demo_on_another_port_records_it_in_env_for_later_commands(scratch_project):
    port = free_port()
    done = run_demo(scratch_project, port)
    assert done.returncode == 0, done.stderr
    values = env_values(scratch_project / ".env")
    assert values["HUB_BASE_URL"] == f"http://127.0.0.1:{port}"
    calls = (scratch_project / "calls.log").read_text().splitlines()
    assert f"manage.py demo --base-url http://127.0.0.1:{port}" in calls
    assert calls[-1].startswith("honcho start --procfile Procfile.demo")

    other = free_port()
    assert run_demo(scratch_project, other).returncode == 0
    again = env_values(scratch_project / ".env")
    assert again["HUB_BASE_URL"] == f"http://127.0.0.1:{other}"
    assert (again["SECRET_KEY"], again["HUB_ENCRYPTION_KEYS"]) == (values["SECRET_KEY"], values["HUB_ENCRYPTION_KEYS"])


def test_a_demo_that_cannot_serve_its_port_records_nothing(scratch_project):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = run_demo(scratch_project, busy.getsockname()[1])
    assert done.returncode == 1 and "is in use" in done.stderr
    assert not (scratch_project / ".env").exists()
