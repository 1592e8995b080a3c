"""Settings of the Order Manager hub, read from the environment (django-environ).

Every setting has an embedded default that runs the demo on one machine: SQLite in the project
folder, the django-q2 ORM broker, the built-in sandbox Order Manager and WMS. Production is
`DJANGO_DEBUG=false` plus `SECRET_KEY`, `ALLOWED_HOSTS` and `HUB_ENCRYPTION_KEYS`; then
`manage.py check --deploy` reports nothing. An optional `.env` file in the project folder is read
first; real environment variables win over it.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The embedded default key only ever serves DEBUG mode; a system check refuses it in production.
DEV_SECRET_KEY = "django-insecure-embedded-default-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Credentials of tenants' connections are encrypted with these Fernet keys, newest first
# (MultiFernet: encrypt with the first, decrypt with any). Separate from SECRET_KEY on purpose:
# rotating one must not make the other unreadable.
HUB_ENCRYPTION_KEYS = env.list("HUB_ENCRYPTION_KEYS", default=[])

# The sandbox serves wire-compatible Order Manager and WMS APIs under /sandbox/ for the demo and
# the tests. On in the embedded default, off in production unless asked for.
SANDBOX_ENABLED = env.bool("HUB_SANDBOX_ENABLED", default=DEBUG)

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",  # django.contrib.admin with the hub's site (two-factor sign-in, hub.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "rangefilter",
    "django_otp",
    "hub.apps.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp, named in words
    "hub.apps.RecoveryCodesConfig",  # django_otp.plugins.otp_static, named in words
    "import_export",
    "connectors.sandbox.apps.SandboxConfig",
    "tenants.apps.TenantsConfig",
    "hub.apps.HubConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): signed in with a second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the "locked out" answer
]

# Admin login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name
# from one address, that pair is locked out for AXES_COOLOFF_TIME hours; a good login resets it.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Two-factor sign-in to the admin (django-otp: an authenticator app, TOTP, plus recovery codes;
# hub.two_factor). "optional": whoever enrolled signs in with a code; "required_for_superusers" /
# "required_for_staff": those users must enrol before anything else in the admin. A deploy check
# warns about "optional" in production.
HUB_ADMIN_2FA = env.str("HUB_ADMIN_2FA", default="optional" if DEBUG else "required_for_superusers")
OTP_TOTP_ISSUER = "Order Manager hub"  # the name authenticator apps show
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # django-otp's device admin never shows a TOTP secret again
# Connection base URLs may reach private and loopback addresses only with the sandbox (which
# runs on the hub's own host); in production they are refused at connect time (connectors.transport.session).
HUB_ALLOW_PRIVATE_ADDRESSES = env.bool("HUB_ALLOW_PRIVATE_ADDRESSES", default=SANDBOX_ENABLED)

ROOT_URLCONF = "hub.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "hub.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on `timeout` instead of failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The test database is a file too, not Django's default in-memory one: in memory, the live
    # server's request threads share the test's single connection, which cannot serve overlapping
    # writes ("database table is locked") once a run's WMS calls overlap. On a file each thread has
    # its own connection and queues on the write lock, as in production. pytest-xdist gives each
    # worker its own file (a _gw<n> suffix).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(BASE_DIR / ".test-db.sqlite3"))
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles plans for big scans: it cost ~50 ms per dashboard query on a
        # million orders and never pays back on the hub's short OLTP queries.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date-time format with its zone on every page (hub/formats/en/formats.py).
FORMAT_MODULE_PATH = ["hub.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# The hub's own base URL, used in alert e-mails and as the default sandbox address.
HUB_BASE_URL = env.str("HUB_BASE_URL", default="http://127.0.0.1:8000")

# Order Manager app (connect by app install, tenants.om_connect). The secret may be plain or a Fernet
# token made with HUB_ENCRYPTION_KEYS (`manage.py encrypt`-style); it is decrypted when used, never logged.
# With DEBUG and no key set, a development app is used that `manage.py sandbox tenant` registers
# with the sandbox.
HUB_OM_APP_KEY = env.str("HUB_OM_APP_KEY", default="hub-development-app" if DEBUG else "")
HUB_OM_APP_SECRET = env.str("HUB_OM_APP_SECRET", default="hub-development-secret" if DEBUG else "")
HUB_OM_AUTHORIZE_URL = env.str("HUB_OM_AUTHORIZE_URL", default="https://app.skubana.com/oauth/authorize")
HUB_OM_REDIRECT_URL = env.str("HUB_OM_REDIRECT_URL", default=HUB_BASE_URL.rstrip("/") + "/om/connect/callback")
HUB_OM_INSTALL_STATE_SECONDS = env.int("HUB_OM_INSTALL_STATE_SECONDS", default=600)

# Outside calls: timeouts (connect, read) in seconds. requests has no default timeout.
HUB_HTTP_TIMEOUT = (
    env.float("HUB_HTTP_CONNECT_TIMEOUT", default=5.0),
    env.float("HUB_HTTP_READ_TIMEOUT", default=30.0),
)

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # alert e-mails are sent from workers: never hang one
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hub@localhost")

# Logs go to stderr: JSON lines in production, plain lines in the embedded default (hub/engine/logs.py).
# stdout stays the commands' own output, so `manage.py sandbox tenant x | jq` reads JSON alone.
# Every line logged during a run carries its tenant, connection, job and run id; secrets are masked.
HUB_LOG_FORMAT = env.str("HUB_LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"run_context": {"()": "hub.engine.logs.RunContextFilter"}},
    "formatters": {"plain": {"()": "hub.engine.logs.PlainFormatter"}, "json": {"()": "hub.engine.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json" if HUB_LOG_FORMAT == "json" else "plain",
            "filters": ["run_context"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Operations (hub/ops/health.py, hub/ops/metrics.py, hub/ops/retention.py). /healthz fails (503) on a stale
# cluster or dispatcher only when HUB_HEALTH_REQUIRE_CLUSTER (default: production); /metrics
# answers a Bearer HUB_METRICS_TOKEN or a client inside HUB_METRICS_ALLOWED_NETWORKS.
HUB_HEALTH_REQUIRE_CLUSTER = env.bool("HUB_HEALTH_REQUIRE_CLUSTER", default=not DEBUG)
HUB_METRICS_TOKEN = env.str("HUB_METRICS_TOKEN", default="")
HUB_METRICS_ALLOWED_NETWORKS = env.list("HUB_METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
HUB_RETENTION_DAYS = env.int("HUB_RETENTION_DAYS", default=90)

if not DEBUG:
    # Production: everything `manage.py check --deploy` asks for. TLS is usually ended by a proxy
    # in front of the hub, which must set X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and Prometheus reach the hub directly over HTTP: no redirect to HTTPS.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# django-q2 is the clock and the worker pool (hub/engine/dispatcher.py, hub/tasks.py). The ORM broker on
# the default database by default; with REDIS_URL the Redis broker (scale-out). hub/checks.py
# refuses unsafe values: a task still running after `retry` is delivered again (timeout < retry),
# `catch_up` replays missed slots, unacknowledged failures are re-delivered forever.
REDIS_URL = env.str("REDIS_URL", default="")
# A run stops starting new work after this many seconds and leaves the rest to the next run, well
# before django-q2's task timeout (600 s) kills it mid-call: a killed run is abandoned, holds its
# lease until expiry, and three in a row flag the job for attention (hub.engine.runner). A backlog of
# thousands of orders is worked off over several runs instead. hub.E006 keeps it below the timeout.
HUB_RUN_TIME_BUDGET = env.int("HUB_RUN_TIME_BUDGET_SECONDS", default=420)
# WMS calls of one run overlap (hub.engine.concurrent_calls): each warehouse says how many at once
# (Warehouse.send_concurrency, default 4); this caps it for the whole hub, e.g. to what one worker's
# connection pool and the WMS tolerate. Every call still passes the WMS login's shared bucket.
HUB_WMS_CONCURRENCY_CAP = env.int("HUB_WMS_CONCURRENCY_CAP", default=8)
# The shared bucket of a WMS login (tenants.wms_limits; rate: Warehouse.wms_requests_per_second, the
# lowest of the warehouses sharing the login): a call waits at most this long for a slot, then fails
# as transient and the run tries again, rather than holding a worker. Its store: Redis at REDIS_URL
# when set, else the PostgreSQL database, else a SQLite file beside the SQLite database (this path
# overrides where, e.g. a disk shared by the processes of the one host).
HUB_WMS_RATE_MAX_WAIT_SECONDS = env.float("HUB_WMS_RATE_MAX_WAIT_SECONDS", default=30.0)
HUB_WMS_LIMITS_SQLITE_PATH = env.str("HUB_WMS_LIMITS_SQLITE_PATH", default="")
# Leases (hub.engine.leases): a running run holds a short lease renewed by a heartbeat, so a killed run
# frees its (connection, job) within HUB_RUN_LEASE_SECONDS; a queued claim covers the broker wait.
HUB_RUN_LEASE_SECONDS = env.int("HUB_RUN_LEASE_SECONDS", default=120)
HUB_LEASE_HEARTBEAT_SECONDS = env.int("HUB_LEASE_HEARTBEAT_SECONDS", default=30)
HUB_QUEUED_LEASE_SECONDS = env.int("HUB_QUEUED_LEASE_SECONDS", default=600)
# WMS webhooks (hub.webhooks): the largest body read, and the oldest event taken (the sender retries ~6 h).
HUB_WEBHOOK_MAX_BYTES = env.int("HUB_WEBHOOK_MAX_BYTES", default=1024 * 1024)
HUB_WEBHOOK_MAX_AGE_SECONDS = env.int("HUB_WEBHOOK_MAX_AGE_SECONDS", default=7 * 3600)
# Polls re-read this many seconds before their watermark (hub.engine.runner): clocks differ and
# records can commit late. An order read twice is recognised by its record, never sent twice.
HUB_WATERMARK_OVERLAP_SECONDS = env.int("HUB_WATERMARK_OVERLAP_SECONDS", default=600)
# Shipment Confirmation (hub.jobs.shipment_confirmation) retries tracking Order Manager rejects with
# backoff (5 min doubling, at most 6 h apart) for this many hours after the first rejection, then
# stops, flags the order and alerts; the operator's "Retry tracking" resumes it.
HUB_TRACKING_GIVE_UP_HOURS = env.int("HUB_TRACKING_GIVE_UP_HOURS", default=72)
# Inventory Sync (hub.jobs.inventory_sync) holds, instead of writing, a WMS quantity above this bound or
# one that jumped more than FACTOR times AND more than UNITS units since that SKU's last sync.
HUB_INVENTORY_MAX_QUANTITY = env.int("HUB_INVENTORY_MAX_QUANTITY", default=1_000_000)
HUB_INVENTORY_MAX_JUMP_FACTOR = env.int("HUB_INVENTORY_MAX_JUMP_FACTOR", default=100)
HUB_INVENTORY_MAX_JUMP_UNITS = env.int("HUB_INVENTORY_MAX_JUMP_UNITS", default=10_000)
# Reconciliation: units by which Order Manager's on-hand may differ from the unlocked rule before it is a finding.
HUB_RECONCILIATION_STOCK_TOLERANCE = env.int("HUB_RECONCILIATION_STOCK_TOLERANCE", default=0)
Q_CLUSTER = {
    "name": "hub",
    "workers": env.int("HUB_WORKERS", default=2),
    "timeout": 600,
    "retry": 720,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Tasks",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}
