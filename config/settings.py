"""Passalong settings: one file, read from the environment.

Defaults run the site locally (SQLite, console e-mail, in-process tasks).
Production is switched on by environment variables, never by another file:
DEBUG=0, SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, CACHE_URL, SITE_URL ...
"""

import hashlib
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean; refuse anything that is not clearly yes or no."""
    raw = env.str(name, default="1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1 or 0)")


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    value = env.int(name, default=default)
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_networks(name: str) -> list:
    """Comma-separated networks in CIDR notation (a bare address is just that address)."""
    networks = []
    for item in env.list(name, default=[]):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item.strip()!r} is not a network (write e.g. 10.0.0.0/8, ::1)"
            ) from None
    return networks


DEBUG = _env_bool("DEBUG", True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

# Absolute links (e-mails, snippets, Open Graph, Open Badges) start here. Unset, it
# follows the dev server's HOST and PORT (make run PORT=8123 links to :8123).
_dev_host = env.str("HOST", default="127.0.0.1")
_dev_host = "127.0.0.1" if _dev_host in {"0.0.0.0", "::", ""} else _dev_host  # noqa: S104
SITE_URL = env.str(
    "SITE_URL", default=f"http://{_dev_host}:{env.int('PORT', default=8000)}"
).rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must be an absolute http(s) URL")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[_site.hostname, "localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "accounts",
    "referrals",
    "badges",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    "dashboard",
    "waitlist",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The request id, the latency by route and the request's log line (static files aside).
    "ops.middleware.RequestMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "referrals.middleware.MemberVisitMiddleware",
    # After a write, this browser reads from the primary for a while (read-replica routing).
    "referrals.replica.PinAfterWriteMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "referrals.context_processors.marketer",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a background fold writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)  # skip re-running the PRAGMAs per request
    # A file, not memory, for the test database: the worker integration test
    # runs a real Celery worker in another process against it.
    _test_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else BASE_DIR / "var"  # noqa: S108
    # Named after the checkout and the database, so two runs side by side
    # (DATABASE_URL=sqlite:///other.sqlite3) never share a test database.
    _test_key = f"{BASE_DIR}:{DATABASES['default']['NAME']}".encode()
    _test_name = f"passalong-test-{hashlib.sha256(_test_key).hexdigest()[:8]}.sqlite3"
    DATABASES["default"].setdefault("TEST", {"NAME": str(_test_dir / _test_name)})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A read replica for the dashboard's, the exports' and the API's list reads
# (referrals/replica.py says which and when). Unset, the alias mirrors the
# primary and no read goes to it; tests switch REPLICA_READS on against it.
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
if _replica_url:
    DATABASES["replica"] = env.db_url_config(_replica_url)
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"].setdefault("CONN_MAX_AGE", 60)
        DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["replica"] = {**DATABASES["default"]}
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["referrals.replica.ReplicaRouter"]
REPLICA_READS = bool(_replica_url)
# After a POST, how long this browser reads from the primary (so it sees its own write).
REPLICA_PIN_SECONDS = _env_int("REPLICA_PIN_SECONDS", 10, minimum=1)

# --- Cache ------------------------------------------------------------------
_cache_url = env.str("CACHE_URL", default="locmemcache://passalong")
if _cache_url.startswith(("redis://", "rediss://")):
    # Django's own Redis backend (atomic INCR for the rate limits, no extra
    # package), made to degrade rather than fail requests while Redis is down.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": env.cache_url_config(_cache_url)}

# --- Users and django-allauth -----------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.InviteSignupForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Mandatory verification is what lets signup keep quiet about existing
# addresses (ACCOUNT_PREVENT_ENUMERATION), and activation needs it anyway.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Passalong] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _site.scheme

# Social signup (GitHub), through the same invite gate: off until both keys
# are set (no app, no button, and /accounts/github/login/ answers 404).
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {"github": {"SCOPE": ["user:email"]}}
if env.str("GITHUB_CLIENT_ID", default="") and env.str("GITHUB_CLIENT_SECRET", default=""):
    SOCIALACCOUNT_PROVIDERS["github"]["APPS"] = [
        {"client_id": env.str("GITHUB_CLIENT_ID"), "secret": env.str("GITHUB_CLIENT_SECRET")}
    ]
SOCIALACCOUNT_QUERY_EMAIL = True
# An address GitHub calls verified counts as verified here (activation needs one).
SOCIALACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Never log into an existing account because a provider reports its address:
# connecting a provider is done while logged in.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a login is a POST (CSRF-checked)

# --- E-mail -------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if "EMAIL_FILE_PATH" in vars() and not EMAIL_FILE_PATH.startswith("/"):  # noqa: F821
    # filemail:///var/mail means the absolute /var/mail; django-environ drops the slash.
    EMAIL_FILE_PATH = "/" + EMAIL_FILE_PATH  # noqa: F821
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Passalong <invites@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker: run tasks in-process so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task queued
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# A task whose worker died unacknowledged goes back to the queue after this
# long (Redis); the outbox's own lease (OUTBOX_LEASE_SECONDS, shorter) lets the
# sweep resend a lost e-mail sooner, and the redelivered task then finds it sent.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
}
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
# A broker that is down must not hold a web request for long: the outbox
# row stays pending and the sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    # Safety net: folds any tree deltas whose on-commit task was lost.
    "fold-tree": {"task": "referrals.tasks.fold_tree", "schedule": 15.0},
    # Re-enqueues outbox e-mails whose task was lost (broker down, worker killed).
    "sweep-outbox": {"task": "referrals.tasks.sweep_outbox", "schedule": 60.0},
    # Join badges the on-commit task missed, and tree builders that got there.
    "sweep-awards": {"task": "badges.tasks.sweep_awards", "schedule": 60.0},
    # Re-enqueues webhook deliveries whose task was lost or whose retry is due.
    "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": 60.0},
    # The dashboard's figures (CampaignStats, DailyStat): pages only read them.
    "refresh-campaign-stats": {"task": "referrals.tasks.refresh_campaign_stats", "schedule": 60.0},
    # Seed imports whose task was lost (broker down at upload) or whose worker died.
    "sweep-seed-imports": {"task": "referrals.tasks.sweep_seed_imports", "schedule": 60.0},
    # Waitlist confirmations the daily limit held back; expired unconfirmed requests.
    "sweep-waitlist": {"task": "waitlist.tasks.sweep_waitlist", "schedule": 300.0},
    # Paced waves take their next day's share; a wave whose task was lost runs.
    "sweep-waves": {"task": "waitlist.tasks.sweep_waves", "schedule": 600.0},
    # Sessions' networks older than 30 days are personal data we no longer need.
    "forget-old-sightings": {"task": "referrals.tasks.forget_old_sightings", "schedule": 86400.0},
}

# --- Invites --------------------------------------------------------------
# Failed code guesses allowed per client (IPv6 grouped by /64) on /i/<code>/
# and the signup form, in django-ratelimit's "N/period" notation.
INVITE_GUESS_RATE = env.str("INVITE_GUESS_RATE", default="20/h")  # one code, retyped
INVITE_GUESS_RATE_CLIENT = env.str("INVITE_GUESS_RATE_CLIENT", default="200/h")  # a network
SIGNUP_PROBE_RATE = env.str("SIGNUP_PROBE_RATE", default="20/h")  # registered addresses tried
# Visitors asking members for invites from badge pages, per client.
INVITE_REQUEST_RATE = env.str("INVITE_REQUEST_RATE", default="5/h")
WAITLIST_RATE = env.str("WAITLIST_RATE", default="10/h")
# Number of reverse proxies in front of the site that append to
# X-Forwarded-For; 0 trusts only REMOTE_ADDR.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
RATELIMIT_IP_META_KEY = "referrals.throttle.client_ip"
RATELIMIT_IPV6_MASK = 64
RATELIMIT_VIEW = "referrals.views.throttled"

# --- REST API (api/) and webhooks (webhooks/) --------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens for marketers' scripts (manage.py drf_create_token USER), the
        # session for the site itself (CSRF enforced on writes).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Keyset paging: no COUNT(*) over a 1,000,000-member campaign.
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/min"),
        "user": env.str("API_USER_RATE", default="1200/min"),
        "invites": env.str("API_INVITE_RATE", default="60/hour"),
        "activations": env.str("API_ACTIVATION_RATE", default="6000/min"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",  # a 1,000-deep body is a 400, not a RecursionError
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Passalong API",
    "DESCRIPTION": "Campaigns, the referral tree, invites, activations and webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Self-hosted Swagger UI and Redoc (drf-spectacular-sidecar): no CDN, and
    # the site's CSP (script-src 'self') holds.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Webhook URLs that resolve to private, loopback or link-local addresses are
# refused (SSRF) unless this is on; on by default only when DEBUG is.
WEBHOOKS_ALLOW_PRIVATE = _env_bool("WEBHOOKS_ALLOW_PRIVATE", DEBUG)
WEBHOOKS_TIMEOUT = _env_int("WEBHOOKS_TIMEOUT", 5, minimum=1)

# `make bench` only: mounts a bare "same bytes" baseline view.
BENCHMARK_VIEWS = _env_bool("BENCHMARK_VIEWS", False)

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https://www.gravatar.com"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Operations (ops/): /metrics and the logs -----------------------------------
# /metrics answers 404 unless a bearer token or an allow-list of networks is set;
# with both, a scraper needs both (docs/operations.md, "Metrics and logs").
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters")
METRICS_ALLOW = _env_networks("METRICS_ALLOW")
# prometheus-client reads it from the environment itself; checked here so a typo
# stops the site at start rather than failing the first request that counts.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r} is not a directory"
    )

# JSON lines in production, readable text for `make run` (ops/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"()": "ops.logging.console_handler", "renderer": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        # One line per request and per task, whatever LOG_LEVEL says of the rest
        # (ACCESS_LOG_LEVEL=WARNING silences them: in-process benchmarks).
        "passalong.request": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO")},
        "passalong.task": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO")},
        # Django's records reach the console through the root's handler only, which
        # names routes instead of paths (Django's own DEBUG console would print paths).
        "django": {"handlers": [], "level": "INFO"},
        # Its 4xx warnings ("Not Found: ...") repeat the request's line, without its id.
        "django.request": {"level": "ERROR"},
    },
}
