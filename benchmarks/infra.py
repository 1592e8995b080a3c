"""Plumbing of the benchmarks: one database per benchmark, the environment, gunicorn, driver processes.

- `Database.create(backend, name)`: a fresh, migrated database for one benchmark — a copy of a
  SQLite file migrated once per run (`benchmarks/.work/`), or a PostgreSQL database cloned from a
  migrated template (`CREATE DATABASE .. TEMPLATE`); `drop()` removes it. Never the developer's
  db.sqlite3. `Database.kept(...)` reuses a named database between runs (`--keep`).
- `environment(db, base_url)`: production-like settings (DEBUG off, so Django does not keep every
  query in memory), the sandbox on, a throwaway encryption key.
- `Sandbox`: gunicorn serving the hub's URLs (and so the sandbox) with one gthread worker of
  `threads` threads. One process on purpose: the sandbox's quota buckets live in process memory,
  so with several workers a quota of 10/s would really be 10/s per worker. With `access_log`
  every request is logged as "METHOD PATH STATUS MS" (`access_lines`), the sandbox's own count.
- `drive(env, "module.function", **kwargs)`: run one function of a `benchmarks.bench_*` module
  in a fresh Django process and return what it returned (JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"
PG_TEMPLATE = "hub_bench_template"
SQLITE_TEMPLATE = WORK / "template.sqlite3"
PYTHON = sys.executable
# The benchmarks' own Fernet key (connection secrets are encrypted at rest; never a real one). Kept
# in benchmarks/.work/ so a database reused with --keep stays readable by the next run.
KEY_FILE = WORK / "fernet.key"
_KEY = None


def _fernet_key() -> str:
    global _KEY
    if _KEY is None:
        if KEY_FILE.exists():
            _KEY = KEY_FILE.read_text().strip()
        else:
            from cryptography.fernet import Fernet

            _KEY = Fernet.generate_key().decode()
            WORK.mkdir(parents=True, exist_ok=True)
            KEY_FILE.write_text(_KEY + "\n")
    return _KEY


def pg_sql(sql: str, dbname: str = "postgres") -> list:
    """One statement on the PostgreSQL server (autocommit: CREATE/DROP DATABASE need it)."""
    import psycopg

    with psycopg.connect(**{**PG_ADMIN, "dbname": dbname}, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def base_environment() -> dict:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "HUB_SANDBOX_ENABLED": "true",
        "HUB_ALLOW_PRIVATE_ADDRESSES": "true",
        "HUB_ENCRYPTION_KEYS": _fernet_key(),
        # The hub's Order Manager app (production settings have no development default):
        # `sandbox tenant` registers it with the sandbox and installs it for each tenant.
        "HUB_OM_APP_KEY": "hub-bench-app",
        "HUB_OM_APP_SECRET": "hub-bench-app-secret",
        "HUB_LOG_FORMAT": "plain",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


class Database:
    """One benchmark's database; `url` goes into DATABASE_URL."""

    def __init__(self, backend: str, name: str, url: str, path: Path | None = None, keep: bool = False):
        self.backend, self.name, self.url, self.path, self.keep = backend, name, url, path, keep

    def __repr__(self) -> str:
        return f"Database({self.backend}:{self.name})"

    @classmethod
    def prepare_templates(cls, backends: list[str]) -> dict[str, float]:
        """Migrate one template per backend; returns the seconds each took."""
        WORK.mkdir(parents=True, exist_ok=True)
        spent = {}
        for backend in backends:
            started = time.monotonic()
            if backend == "sqlite":
                SQLITE_TEMPLATE.unlink(missing_ok=True)
                manage({**base_environment(), "DATABASE_URL": f"sqlite:///{SQLITE_TEMPLATE}"}, "migrate", "--no-input")
            else:
                pg_sql(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
                pg_sql(f'CREATE DATABASE "{PG_TEMPLATE}"')
                manage({**base_environment(), "DATABASE_URL": PG_URL.format(name=PG_TEMPLATE)}, "migrate", "--no-input")
            spent[backend] = time.monotonic() - started
        return spent

    @classmethod
    def create(cls, backend: str, name: str) -> Database:
        if backend == "sqlite":
            path = WORK / f"{name}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(SQLITE_TEMPLATE, path)
            return cls(backend, name, f"sqlite:///{path}", path)
        pg_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_sql(f'CREATE DATABASE "{name}" TEMPLATE "{PG_TEMPLATE}"')
        return cls(backend, name, PG_URL.format(name=name))

    @classmethod
    def kept(cls, name: str) -> tuple[Database, bool]:
        """A PostgreSQL database reused between runs: (database, whether it existed), migrated either way."""
        existed = bool(pg_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))
        if not existed:
            pg_sql(f'CREATE DATABASE "{name}" TEMPLATE "{PG_TEMPLATE}"')
        db = cls("postgres", name, PG_URL.format(name=name), keep=True)
        manage(environment(db), "migrate", "--no-input")
        return db, existed

    def drop(self) -> None:
        if self.keep:
            return
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            pg_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def environment(db: Database, base_url: str = "") -> dict:
    env = {**base_environment(), "DATABASE_URL": db.url}
    if base_url:
        env["HUB_BASE_URL"] = base_url
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """gunicorn serving the hub (and its sandbox URLs) on a free port; a context manager."""

    def __init__(self, db: Database, *, threads: int = 8, name: str = "sandbox", access_log: bool = False):
        self.db, self.threads, self.name = db, threads, name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = WORK / f"{db.name}-{name}.log"
        self.access_log = WORK / f"{db.name}-{name}-access.log" if access_log else None
        self.process: subprocess.Popen | None = None

    def access_position(self) -> int:
        """Where the access log ends now (read `access_lines` from here later)."""
        return self.access_log.stat().st_size if self.access_log and self.access_log.exists() else 0

    def access_lines(self, start: int = 0) -> list[tuple[str, str, int, float]]:
        """(method, path, status, ms) of every request logged from byte `start` on."""
        if not self.access_log or not self.access_log.exists():
            return []
        with self.access_log.open("rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
        lines = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2].isdigit():
                lines.append((parts[0], parts[1], int(parts[2]), float(parts[3])))
        return lines

    def __enter__(self) -> Sandbox:
        self.process = start(
            environment(self.db, self.url),
            self.log,
            PYTHON,
            "-m",
            "gunicorn",
            "hub.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            str(self.threads),
            "--timeout",
            "120",
            *(
                ["--access-logfile", str(self.access_log), "--access-logformat", "%(m)s %(U)s %(s)s %(M)s"]
                if self.access_log
                else []
            ),
        )
        wait_for_http(f"{self.url}/healthz", self.process, self.log)
        return self

    def __exit__(self, *exc) -> None:
        stop(self.process)


def start(env: dict, log: Path, *cmd: str) -> subprocess.Popen:
    # A session of its own, so stopping it reaches its worker processes too.
    return subprocess.Popen(
        list(cmd), cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"server not answering at {url}:\n{log.read_text(errors='replace')[-3000:]}")


def drive(env: dict, target: str, timeout: float = 3600, **kwargs) -> dict:
    """Run `benchmarks.<target>` (module.function) in a fresh Django process; its JSON result."""
    done = subprocess.run(
        [PYTHON, "-m", "benchmarks.driver", target, json.dumps(kwargs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not results:
        raise RuntimeError(f"{target} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(results[-1][len("RESULT ") :])
