"""Settings, read from the environment only.

With nothing set, the app runs in DEBUG on a local SQLite file (the zero-setup way to try it).
Production sets DATABASE_URL (PostgreSQL), SECRET_KEY and ALLOWED_HOSTS, with DEBUG off;
bad values fail loudly at start-up rather than silently falling back.
"""

import datetime
import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default="DATABASE_URL" not in os.environ)

# The development key is public; refuse to run with it (or none) outside DEBUG.
_DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _DEV_SECRET_KEY
elif SECRET_KEY == _DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is the public development key; set a real one")
elif not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "core",
    "planning",
    "targets",
    "stations",
    "reports",
    "accounts",
    # Plan documents → reviewed drafts → plans (issue 18); above reports, below fireplan.
    "plan_import",
    # Tooling (no runtime app imports these): seed plans, benchmarks.
    "seeds",
    "bench",
    # Background jobs (core.jobs): the database task backend and its table. After core, so
    # core's db_worker (recovery of interrupted jobs first) is the one manage.py runs.
    "django_tasks_db",
]
if django.VERSION < (6, 0):  # django.tasks is built into Django 6; 5.2 needs the backport
    INSTALLED_APPS.append("django_tasks")

MIDDLEWARE = [
    # First: the request id and the access log line cover everything below (fireplan.logs).
    "fireplan.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Django 6.0+ sends SECURE_CSP itself; on 5.2 our stand-in does (core.security).
    "django.middleware.csp.ContentSecurityPolicyMiddleware"
    if django.VERSION >= (6, 0)
    else "core.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page but the login page needs a login (views opt out with @login_not_required).
    "fireplan.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sessions, auth and messages: idle and absolute session time-outs.
    "core.security.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes: turns a locked-out login into the lock-out page (core.security).
    "axes.middleware.AxesMiddleware",
    # API POSTs with an Idempotency-Key header: a replay gets the first response.
    "fireplan.idempotency.IdempotencyKeyMiddleware",
    # Lock/statement timeouts, deadlocks, a lost database → a clean 409/503, never a 500.
    "core.db_errors.DatabaseErrorMiddleware",
]
try:  # whitenoise serves static files under gunicorn; optional in development.
    import whitenoise  # noqa: F401
except ImportError:
    pass
else:
    _after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
    MIDDLEWARE.insert(_after_security, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "fireplan.urls"
WSGI_APPLICATION = "fireplan.wsgi.application"
ASGI_APPLICATION = "fireplan.asgi.application"

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
                "accounts.context_processors.header",
            ],
        },
    },
]


# Status engine tolerances (targets/status.py): lagging below 100 % of pace, critical below 80 %.
def env_fraction(name: str, default: str) -> str:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number such as 0.8, not {raw!r}") from None
    if not 0 <= value <= 2:
        raise ImproperlyConfigured(f"{name} must be between 0 and 2, not {raw!r}")
    return raw


STATUS_RULES = {
    "lagging_below": env_fraction("STATUS_LAGGING_BELOW", "1.0"),
    "critical_below": env_fraction("STATUS_CRITICAL_BELOW", "0.8"),
}
if float(STATUS_RULES["critical_below"]) > float(STATUS_RULES["lagging_below"]):
    raise ImproperlyConfigured("STATUS_CRITICAL_BELOW must not exceed STATUS_LAGGING_BELOW")

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}


def env_milliseconds(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number of milliseconds, not {raw!r}")
    return int(raw)


# A write waits at most DB_LOCK_TIMEOUT_MS for a row another request holds, and no statement
# runs longer than DB_STATEMENT_TIMEOUT_MS (0 = no limit); core.db_errors answers 409/503.
DB_LOCK_TIMEOUT_MS = env_milliseconds("DB_LOCK_TIMEOUT_MS", 5000)
# Maintenance commands (migrate, rebuild_rollups, seed_scale, load_seed_plans …) may run for
# minutes on a national database: they get no statement limit unless one is set explicitly;
# requests (gunicorn, runserver, tests) get 30 s.
_MAINTENANCE = Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] not in (
    ["runserver"],
    ["test"],
)
DB_STATEMENT_TIMEOUT_MS = env_milliseconds("DB_STATEMENT_TIMEOUT_MS", 0 if _MAINTENANCE else 30000)
if "postgresql" in DATABASES["default"]["ENGINE"]:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c lock_timeout={DB_LOCK_TIMEOUT_MS}"
        f" -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    ).strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is for trying the product out: wait on locks instead of failing at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # core.TableClock's covering index (INCLUDE n) is PostgreSQL's; SQLite has no table
    # clocks at all (core.table_clock.supported), so the index it cannot build is not missed.
    SILENCED_SYSTEM_CHECKS = ["models.W039"]

# Read replicas (issue 19): PostgreSQL streaming replicas of the primary, one URL or several
# comma-separated, become the aliases "replica", "replica_2" … Safe-method requests read from
# one; writes, transactions and a client's requests for REPLICA_PIN_SECONDS after it wrote use
# the primary (core.db_router, fireplan.replica_middleware). A replica more than
# REPLICA_MAX_LAG_SECONDS behind, or not answering, is skipped (asked at most every
# REPLICA_CHECK_SECONDS per process: core.replica_health). Unset: nothing changes.
_replica_urls = env_list("DATABASE_REPLICA_URL", [])
REPLICA_DATABASES: list[str] = []
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 2)
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
if _replica_urls:
    if "postgresql" not in DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL")
    # A replica judged fresh may fall behind until the next check: the pin must cover both,
    # or a client could read from a replica that has not yet replayed its own write.
    if REPLICA_PIN_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS:
        raise ImproperlyConfigured(
            "REPLICA_PIN_SECONDS must be at least REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS"
            f" ({REPLICA_MAX_LAG_SECONDS} + {REPLICA_CHECK_SECONDS}), not {REPLICA_PIN_SECONDS}"
        )
    for _index, _url in enumerate(_replica_urls, start=1):
        _replica = dj_database_url.parse(
            _url,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        )
        if "postgresql" not in _replica["ENGINE"]:
            raise ImproperlyConfigured(f"DATABASE_REPLICA_URL: {_url!r} is not a PostgreSQL URL")
        _replica["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            **_replica.get("OPTIONS", {}),
            # A replica that does not answer is skipped after this, not waited for.
            "connect_timeout": 3,
        }
        # Tests run against one database: a replica alias mirrors it there.
        _replica["TEST"] = {"MIRROR": "default"}
        _alias = "replica" if _index == 1 else f"replica_{_index}"
        DATABASES[_alias] = _replica
        REPLICA_DATABASES.append(_alias)
    DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
    # Right after the request log: sessions, the user and every view below read through it.
    MIDDLEWARE.insert(1, "fireplan.replica_middleware.ReadReplicaMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed logins (login page, admin, POST /api/v1/auth/token/) per user name
# and address together; at the limit that pair is locked out for AXES_COOLOFF_MINUTES, each
# further failure restarting the wait. Unknown user names are counted and answered the same.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that loads the profile with the user (one query fewer on every request).
    "accounts.backends.ProfileModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
# Axes' database handler, plus the slow-down before the lock-out (core.security).
AXES_HANDLER = "core.security.SlowDownAxesHandler"
# After this many failures of a user name from an address, each further try must wait a
# growing few seconds (2, 4, 8 … at most 60) after the last failure, else 429 请稍后再试;
# the refused tries are not counted. 0: no slow-down, only the lock-out.
LOGIN_SLOWDOWN_AFTER = env_int("LOGIN_SLOWDOWN_AFTER", 3)
# Behind N reverse proxies that append to X-Forwarded-For: the client address for lock-out.
# 0 (no proxy): REMOTE_ADDR, the header is ignored. Never more than the proxies really there,
# or a client chooses its own address by sending the header.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Optional: the proxies' own addresses (comma-separated addresses or networks). When set,
# X-Forwarded-For is believed only on requests that come from one of them — a client that
# reaches the app port directly cannot choose its address then.
TRUSTED_PROXY_NETWORKS = env_list("TRUSTED_PROXY_NETWORKS", [])
for _network in TRUSTED_PROXY_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_NETWORKS: {_network!r} is not an IP address or network"
        ) from None

# API tokens (accounts.ApiToken): each lasts this many days from its creation.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)
if not 1 <= API_TOKEN_TTL_DAYS <= 3650:
    raise ImproperlyConfigured("API_TOKEN_TTL_DAYS must be between 1 and 3650 days")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reports:home"
LOGOUT_REDIRECT_URL = "login"

# Background jobs (core.jobs, issue 21): long exports and imports run by a worker. One switch,
# JOBS_BACKEND: "database" (the default: django-tasks-db, the database is the queue, no extra
# service; worker `manage.py db_worker`) or "redis" (django-tasks-rq on REDIS_URL, pip install
# '.[redis]'; worker `manage.py jobs_rqworker`). Both workers first recover the jobs a dead
# worker left running; the re-queue goes through the configured backend (core.jobs).
REDIS_URL = os.environ.get("REDIS_URL", "")
if "TASKS_BACKEND" in os.environ:
    raise ImproperlyConfigured("TASKS_BACKEND was replaced by JOBS_BACKEND (database or redis)")
JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "").strip().lower() or "database"
if JOBS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif JOBS_BACKEND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("JOBS_BACKEND=redis needs REDIS_URL (redis://host:6379/0)")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # No time limit (-1), as with the database worker: RQ's default would kill a job after
    # 180 s, and a 100 000-row ledger takes ~40 s, a larger one longer.
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": -1}}
else:
    raise ImproperlyConfigured("JOBS_BACKEND must be database or redis")
# Above this many rows a ledger export (and an import above this many rows) runs as a job.
JOB_EXPORT_THRESHOLD = env_int("JOB_EXPORT_THRESHOLD", 5000)
JOB_IMPORT_THRESHOLD = env_int("JOB_IMPORT_THRESHOLD", 500)
# A job's file is kept this many days in 我的下载, then `manage.py cleanup_jobs` deletes it.
JOB_RESULT_DAYS = env_int("JOB_RESULT_DAYS", 7)
# A running job writes its progress and a heartbeat every JOB_HEARTBEAT_SECONDS; one silent
# for JOB_STALE_SECONDS has lost its worker (re-queued or failed, never left running).
try:
    JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "1"))
except ValueError:
    raise ImproperlyConfigured("JOB_HEARTBEAT_SECONDS must be a number of seconds") from None
if not 0 < JOB_HEARTBEAT_SECONDS <= 60:
    raise ImproperlyConfigured("JOB_HEARTBEAT_SECONDS must be over 0 and at most 60")
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 60)
if JOB_STALE_SECONDS <= JOB_HEARTBEAT_SECONDS * 3:
    raise ImproperlyConfigured("JOB_STALE_SECONDS must be over 3 × JOB_HEARTBEAT_SECONDS")

# Evidence files (佐证材料): size and type limits, checked by core.evidence.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
EVIDENCE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "ofd", "zip"]
# Excel uploads (reports.excel.upload_guard): the largest workbook accepted, before it is read.
EXCEL_IMPORT_MAX_BYTES = env_int("EXCEL_IMPORT_MAX_BYTES", 5 * 1024 * 1024)

# Station map (消防站分布图): points on a plain background unless a tile server of the
# deployment's own is named, e.g. "/tiles/{z}/{x}/{y}.png" (Web Mercator XYZ tiles).
STATION_MAP_TILE_URL = os.environ.get("STATION_MAP_TILE_URL", "").strip()
if STATION_MAP_TILE_URL and not (
    STATION_MAP_TILE_URL.startswith(("/", "https://", "http://"))
    and all(part in STATION_MAP_TILE_URL for part in ("{z}", "{x}", "{y}"))
):
    raise ImproperlyConfigured(
        "STATION_MAP_TILE_URL must be a path or http(s) URL containing {z}, {x} and {y}"
    )

# E-mail (reminders): the console by default; set EMAIL_BACKEND (and the SMTP settings of
# your Django version) to really send. Django 6.1 moved this into MAILERS.
_email_backend = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _email_backend}}
else:
    EMAIL_BACKEND = _email_backend
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fireplan@localhost")

# Password reset by e-mail (accounts.password_reset): off by default — admins reset passwords
# on the user page, and the reset URLs answer 404. When on, requests are throttled per client
# address and per account, known and unknown addresses get the same page in the same time,
# and the mail must really leave: a backend that prints, stores or drops mail would put
# working reset links in the logs (console) or nowhere, so it is refused outside DEBUG.
PASSWORD_RESET_BY_EMAIL = env_bool("PASSWORD_RESET_BY_EMAIL", False)

# Four eyes (targets.services): whoever submitted a figure cannot approve or return it
# (own_submission). FOUR_EYES=0 allows it for one-person offices; the history row then says
# 「本人提交，本人审核」.
FOUR_EYES = env_bool("FOUR_EYES", True)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60
# (requests, seconds): per client address (over it: 429), per account (over it: no mail,
# the same answer).
PASSWORD_RESET_LIMITS = {"address": (5, 3600), "account": (3, 3600)}
_NON_DELIVERING_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("console", "filebased", "locmem", "dummy")
}
if PASSWORD_RESET_BY_EMAIL and not DEBUG and _email_backend in _NON_DELIVERING_BACKENDS:
    raise ImproperlyConfigured(
        f"PASSWORD_RESET_BY_EMAIL=1 needs a mail backend that sends (e.g. "
        f"django.core.mail.backends.smtp.EmailBackend), not {_email_backend}: reset links "
        f"would be written to the log or lost"
    )

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploads (evidence, imported workbooks) are kept outside the web root under random names;
# no URL serves MEDIA_URL — evidence is downloaded through the scope-checked
# /evidence/<id>/download/ view only. Back it up together with the database (README).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "uploads"))

# The plan texts the seed fixtures quote (a copy of the shared seeds, kept with the fixtures).
SEED_TEXT_DIR = BASE_DIR / "fixtures" / "sources"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request is answered 401 with WWW-Authenticate.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api_policies.RoleAndScope"],
    "DEFAULT_RENDERER_CLASSES": [
        # orjson (core.api_render): the same JSON, encoded several times faster (issue 19).
        "core.api_render.JSONRenderer",
        # DRF's HTML pages, with the inline styles they need allowed (core.api_auth).
        "core.api_auth.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, skipping the FilterSet when no parameter names a filter (issue 19)
        "core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    # core.api's parsers: every string of a body without control / bidi-override characters
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "core.api.FormParser",
        "core.api.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "core.api_policies.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "60/min"),
        "token": os.environ.get("API_TOKEN_RATE", "1200/min"),
        # Wrong tokens per client address (core.api_auth): DRF authenticates before it
        # throttles, so the anonymous rate never sees them.
        "bad_token": os.environ.get("API_BAD_TOKEN_RATE", "10/min"),
    },
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "消防救援规划任务跟踪 API",
    "DESCRIPTION": "规划、任务、指标、填报、消防站等资源的 REST API（v1）。字段说明为中文。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc are served from drf-spectacular-sidecar: no other host is asked.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlanKindEnum": "planning.choices.PlanKind",
        "PlanStatusEnum": "planning.choices.PlanStatus",
        "UnitKindEnum": "core.choices.UnitKind",
        "SectionKindEnum": "planning.choices.SectionKind",
        "TaskStatusEnum": "planning.choices.TaskStatus",
        "StationStatusEnum": "stations.choices.StationStatus",
        "ReportStatusEnum": "targets.choices.ReportStatus",
        "ProgressStatusEnum": "targets.choices.ProgressStatus",
    },
    # Every operation documents the error bodies it can answer with (core.api_schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.add_error_responses",
    ],
}

# Throttle counters: Redis when REDIS_URL is set (several workers), otherwise this process's
# memory. /healthz pings Redis too.
# The "shared" cache holds what every worker must see — API Idempotency-Keys
# (fireplan.idempotency) and one-time form tokens (core.once): Redis when REDIS_URL is set,
# otherwise a table in the database (created by core's migration 0002). A per-process cache
# there (LocMem) is refused by a system check outside DEBUG or with WEB_CONCURRENCY > 1
# (fireplan.checks): each worker would replay and dedupe only its own requests.
SHARED_CACHE_TABLE = "fireplan_shared_cache"
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1)  # gunicorn reads it too (its --workers)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": SHARED_CACHE_TABLE,
        # Culling counts the table: rarely, and the 24 h expiry bounds it anyway.
        "OPTIONS": {"MAX_ENTRIES": 100_000, "CULL_FREQUENCY": 10},
    },
}
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    CACHES["shared"] = {**CACHES["default"], "KEY_PREFIX": "shared"}
# API list responses kept whole in the shared cache while the tables they read are unchanged
# (core.api_cache, issue 19); API_LIST_CACHE=0 renders every list (load runs compare both).
# Each process keeps a copy of the most recent ones, checked the same way (core.api_cache).
CACHES["api_lists"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "api-lists",
    "OPTIONS": {"MAX_ENTRIES": 200},
}
API_LIST_CACHE = env_bool("API_LIST_CACHE", True)

# ---- HTTPS, cookies, headers. Production defaults (DEBUG off) pass `check --deploy`; a
# plain-HTTP intranet sets SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 SECURE_HSTS_SECONDS=0.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
if not DEBUG:  # the TLS proxy in front says which scheme the client used
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# preload only consents to the browsers' preload list; nothing happens until someone
# submits the domain (check --deploy asks for the consent).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31536000)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Lax, not Strict: with Strict a link to a page from an e-mail reminder or another system
# would arrive without the session and land on the login page; Lax still withholds the
# cookie from cross-site POSTs, and every POST is CSRF-checked anyway.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Idle time-out: the session lives SESSION_COOKIE_AGE seconds from the last request
# (core.security.SessionTimeoutMiddleware renews it once a minute rather than saving the
# session on every request). Absolute: a login ends SESSION_ABSOLUTE_SECONDS after it began.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: only this host's scripts and styles, no inline script, style
# element or style attribute anywhere (scripts set styles through the CSSOM, which the policy
# allows). data: images are Bootstrap's inline SVG icons. Views that cannot comply get their
# own policy with core.security.csp_override (see fireplan/api_urls.py).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# ---- Logs: one JSON object a line (LOG_FORMAT=json, the default with DEBUG off) or text;
# every record carries the request id, and fireplan.access writes one line per request.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "fireplan.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "fireplan.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The access line replaces Django's own request lines (runserver prints its own).
        "django.server": {"level": "WARNING"},
    },
}
