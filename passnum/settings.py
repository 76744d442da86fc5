"""Passnum settings: everything comes from the environment.

Without any variable, Passnum runs on the embedded default: SQLite in ``var/`` and Celery
tasks executed in-process, so that ``make run`` needs no server. ``DATABASE_URL`` and
``REDIS_URL`` (or ``CELERY_BROKER_URL``) switch to PostgreSQL and Redis.
``PASSNUM_ENV=production`` turns on the production hardening (HTTPS only, HSTS, no
generated secret).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PASSNUM_ENV = os.environ.get("PASSNUM_ENV", "dev")
PRODUCTION = PASSNUM_ENV == "production"
TESTING = PASSNUM_ENV == "test"

# Local data folder of the embedded default: SQLite file, generated dev secret, uploads.
DATA_DIR = Path(os.environ.get("PASSNUM_DATA_DIR", BASE_DIR / "var"))

# The referential of communes and departments: the npm package @etalab/decoupage-administratif
# (package.json), kept by the image in a folder of its own (Dockerfile).
PASSNUM_TERRITORIES_DIR = Path(
    os.environ.get("PASSNUM_TERRITORIES_DIR", BASE_DIR / "node_modules" / "@etalab" / "decoupage-administratif")
)


def _secret_key():
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY est obligatoire en production.")
    # A development secret, generated once on this machine and never committed.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("PASSNUM_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "import_export",
    "pgtrigger",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Passnum
    "passnum",
    "passnum.accounts",
    "passnum.organisations",
    "passnum.audit",
    "passnum.idempotency",
    "passnum.passes",
    "passnum.numbering",
    "passnum.territories",
    "aptic_catalog",
    "sponsors",
    "sponsors.reporting",
    "sponsors.grants",
    "prescribers",
    "beneficiaries",
    "mediators",
    "clearing",
    "clearing.payees",
    "clearing.payments",
    "sponsors.calls",
]

MIDDLEWARE = [
    # Outermost: one log line per request with its request id (passnum/observability.py).
    "passnum.observability.RequestLogMiddleware",
    # Then: JSON errors under /api/, 503 when the database is lost (passnum/failures.py).
    "passnum.failures.ServiceFailureMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "passnum.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "passnum.organisations.middleware.CurrentOrganisationMiddleware",
    "passnum.accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "passnum.urls"
WSGI_APPLICATION = "passnum.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "passnum.organisations.context_processors.current_organisation",
                "passnum.accounts.context_processors.mfa_grace",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------

if os.environ.get("DATABASE_URL"):
    # Persistent connections, checked before reuse: a connection PostgreSQL dropped (restart,
    # failover, terminated backend) is replaced at the next request, never reused.
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60"))
        )
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Statements run through passnum.db.prepared_cursor (the hot paths) are prepared on their
    # first use in a connection; Django's own cursors never prepare. Empty: no prepared
    # statements (a pooler in transaction mode).
    _prepare = os.environ.get("PASSNUM_DB_PREPARE_THRESHOLD", "0")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(_prepare) if _prepare else None
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "passnum.sqlite3",
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock
                # at BEGIN, so two writers queue instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests of the embedded default (tests/embedded/) run on a real file, like `make run`,
            # not on SQLite's in-memory database.
            "TEST": {"NAME": DATA_DIR / "test_passnum.sqlite3"},
        }
    }
EMBEDDED_DEFAULT = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker -----------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)

if REDIS_URL:
    # Redis only holds counters: unreachable, it is skipped (passnum/cache.py), never waited for.
    CACHES = {
        "default": {
            "BACKEND": "passnum.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a broker, tasks run in-process (the embedded default). Tests may force it too.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL or env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = CELERY_BROKER_URL or None
# A task is acknowledged once done, and given back to the queue if its worker process dies
# (SIGKILL, out of memory): every task is idempotent, so running one twice is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that is down is found out within a second or two; the task then waits in the outbox
# (passnum/outbox.py), never in the request. Redis gives back the messages of a worker that
# vanished whole after the visibility timeout: longer than the longest task (a chunk of a print
# run, a batch of statement PDFs).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    # The lock a worker takes while giving back vanished tasks: a worker killed while holding it
    # keeps every other from giving them back until it expires.
    "unacked_mutex_expire": int(os.environ.get("CELERY_UNACKED_MUTEX_EXPIRE", "300")),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    # Tasks kept while the broker was down (beat itself needs the broker: runs once it is back).
    "drain-outbox": {"task": "passnum.tasks.drain_outbox", "schedule": 60.0},
    "purge-rate-limit-counters": {"task": "passnum.tasks.purge_rate_limit_counters", "schedule": crontab(minute=17)},
    "subscriptions": {
        "task": "mediators.qualification.tasks.bill_and_remind_subscriptions",
        "schedule": crontab(hour=6, minute=0),
    },
    "purge-personal-data": {"task": "beneficiaries.tasks.purge_personal_data", "schedule": crontab(hour=3, minute=30)},
    "purge-print-files": {"task": "passnum.passes.tasks.purge_print_files", "schedule": crontab(hour=3, minute=45)},
    "purge-exports": {"task": "sponsors.reporting.tasks.purge_expired_exports", "schedule": crontab(hour=3, minute=50)},
    "expire-passes": {"task": "clearing.tasks.expire_passes", "schedule": crontab(hour=2, minute=15)},
    # The reports' totals of the days no undo can reach any more (after midnight plus 24 hours).
    "roll-up-redemption-totals": {
        "task": "mediators.redemption.tasks.roll_up_totals",
        "schedule": crontab(hour=0, minute=40),
    },
    "roll-up-hand-over-totals": {"task": "beneficiaries.tasks.roll_up_totals", "schedule": crontab(hour=0, minute=50)},
    "expiry-alerts": {"task": "clearing.tasks.send_expiry_alerts", "schedule": crontab(hour=7, minute=0)},
    # The monthly close (statements of the month that just ended), Paris time.
    "close-month": {
        "task": "clearing.tasks.close_previous_month",
        "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    # The funders' quarterly statements, once the month of the quarter's last close is closed.
    "funder-statements": {
        "task": "sponsors.calls.tasks.issue_quarterly_statements",
        "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=5, minute=0),
    },
    # Subscription invoices, after the subscriptions of the year are opened (06:00).
    "subscription-invoices": {
        "task": "clearing.tasks.issue_subscription_invoices",
        "schedule": crontab(hour=6, minute=30),
    },
}

# --- Accounts ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing cost is for real passwords; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_SESSION_REMEMBER = False
# Brute force: at most 5 failed logins per account per 5 minutes, 10 per minute per IP.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Passnum] "
# Our adapter: the client IP of passnum.client_ip, failed logins written to the audit log.
ACCOUNT_ADAPTER = "passnum.accounts.adapter.PassnumAccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Passnum"
MFA_RECOVERY_CODE_COUNT = 10

# --- Security ---------------------------------------------------------------------------

# Sessions live in PostgreSQL, never in Redis only: a Redis outage logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Reverse proxies of ours in front of the application, each appending to X-Forwarded-For. The
# client IP (audit log, rate limits, login limits) is read from that header only through them;
# 0 (the default) ignores the header, which a client can write. passnum.client_ip reads it.
PASSNUM_TRUSTED_PROXIES = int(os.environ.get("PASSNUM_TRUSTED_PROXIES", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = PASSNUM_TRUSTED_PROXIES
# API tokens expire this many days after their creation.
PASSNUM_TOKEN_LIFETIME_DAYS = int(os.environ.get("PASSNUM_TOKEN_LIFETIME_DAYS", "365"))
# Admins and finance roles have this many days after their first login to set up a second factor.
PASSNUM_MFA_GRACE_DAYS = int(os.environ.get("PASSNUM_MFA_GRACE_DAYS", "7"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 10  # a working day at the counter
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "passnum.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION

# Map of the public finder (Leaflet): the tile server's URL template and its attribution (HTML).
# An empty PASSNUM_MAP_TILE_URL turns the map off (the finder's list works without it).
PASSNUM_MAP_TILE_URL = os.environ.get("PASSNUM_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
PASSNUM_MAP_ATTRIBUTION = os.environ.get(
    "PASSNUM_MAP_ATTRIBUTION",
    '© les contributeurs d\'<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
)


def map_tile_source(url):
    """The CSP source that lets the browser load the tiles of ``url``, a Leaflet URL template:
    "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png" → "https://*.tile.openstreetmap.org".
    None for tiles served by Passnum itself (a relative URL) or without a map."""
    scheme, _, rest = (url or "").partition("://")
    host = rest.split("/", 1)[0]
    if not scheme or not host:
        return None
    if "}" in host:  # a templated sub-domain ({s}, tile-{s}…): every sub-domain of what follows it
        parent = host.rsplit("}", 1)[1].partition(".")[2]
        host = f"*.{parent}" if parent else host
    return f"{scheme}://{host}"


MAP_TILE_SOURCE = map_tile_source(PASSNUM_MAP_TILE_URL)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Django's admin and import-export set a few style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        # The finder's map tiles come from the tile server of PASSNUM_MAP_TILE_URL.
        "img-src": ["'self'", "data:", *([MAP_TILE_SOURCE] if MAP_TILE_SOURCE else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation: French only ---------------------------------------------------

# One language per page: the English catalogue covers a handful of strings, so a visitor whose
# browser asks for English would get English menus around French pages and dates. French only
# until every template and message is translated; then add ("en", …) back here and the footer's
# language selector (it lists LANGUAGES and appears as soon as there are two).
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", DATA_DIR / "media"))
# Uploads: stopped while they stream past PASSNUM_MAX_UPLOAD_BYTES (passnum/uploads.py, a clear
# 413 page); a form body without files is capped by Django itself; a file stays in memory up to
# FILE_UPLOAD_MAX_MEMORY_SIZE, then goes to a temporary file.
PASSNUM_MAX_UPLOAD_BYTES = int(os.environ.get("PASSNUM_MAX_UPLOAD_BYTES", str(12 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, stated: form fields without files
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "passnum.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    # Local folder written atomically (passnum/storage.py); shared by every process of one host.
    "default": {"BACKEND": "passnum.storage.AtomicFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Several web and worker hosts: one S3-compatible bucket instead of the local folder. Files stay
# private (no public ACL); they are served by Passnum's access-checked views, or by signed URLs
# valid PASSNUM_S3_URL_SECONDS seconds.
if os.environ.get("PASSNUM_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "passnum.storage.SharedObjectStorage",
        "OPTIONS": {
            "bucket_name": os.environ["PASSNUM_S3_BUCKET"],
            "endpoint_url": os.environ.get("PASSNUM_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("PASSNUM_S3_REGION") or None,
            "access_key": os.environ.get("PASSNUM_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("PASSNUM_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("PASSNUM_S3_PREFIX", ""),
            "addressing_style": os.environ.get("PASSNUM_S3_ADDRESSING_STYLE") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": int(os.environ.get("PASSNUM_S3_URL_SECONDS", "300")),
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }

# --- E-mail -----------------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Passnum <ne-pas-repondre@passnum.invalid>")
# A server that accepts the connection but never answers must not hold a worker forever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
# First delay before a refused e-mail is sent again (passnum/mail.py); doubles up to an hour.
PASSNUM_MAIL_RETRY_SECONDS = int(os.environ.get("PASSNUM_MAIL_RETRY_SECONDS", "60"))

# --- API --------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "passnum.api_auth.OrganisationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "passnum.api_reference.FrenchAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "passnum.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "passnum.api.exception_handler",
    # Throttles read the client IP like the rest of the application (see passnum.client_ip).
    "NUM_PROXIES": PASSNUM_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Passnum",
    "DESCRIPTION": "API du Pass numérique : sites de médiation, guichets des prescripteurs, données ouvertes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations tagged by what they are about (redemptions, passes…), not all « v1 ».
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two « status » choice sets: each its own named enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "StatementStatusEnum": "clearing.models.StatementStatus",
        "RedemptionStatusEnum": ["live", "undone"],
    },
}

# --- Exports ------------------------------------------------------------------------------

# The operator's admin exports go through the project's one CSV escaping (passnum/csv_export.py).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
from passnum.csv_export import SafeCSV  # noqa: E402 (django-import-export wants classes)

EXPORT_FORMATS = [SafeCSV]

# --- Logging ----------------------------------------------------------------------------

# One JSON line per record on the standard output; ``passnum.requests`` writes one line per
# request (organisation, route, status, duration, request id — never a name, an e-mail or a code).
# Every record masks pass codes (they travel in URLs: « Not Found: /p/<code> »); gunicorn's own
# log masks them too (``logger_class`` in passnum/gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "passnum.observability.RequestIdFilter"},
        "mask_pass_codes": {"()": "passnum.logmask.MaskPassCodes"},
    },
    "formatters": {"json": {"()": "passnum.observability.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id", "mask_pass_codes"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        "passnum.requests": {"level": os.environ.get("PASSNUM_REQUEST_LOG_LEVEL", "INFO"), "propagate": True},
        # The request line above replaces Django's own (which logs the full path with its query).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "celery": {"level": "INFO"},
    },
}

# --- Passnum ----------------------------------------------------------------------------

# Sponsor invoices: operator fee and VAT on the fee, in basis points (stored on each invoice).
PASSNUM_SPONSOR_FEE_RATE_BP = int(os.environ.get("PASSNUM_SPONSOR_FEE_RATE_BP", "400"))
PASSNUM_VAT_RATE_BP = int(os.environ.get("PASSNUM_VAT_RATE_BP", "2000"))
# Exports: above this many rows, a Celery task writes the file; its link is valid so many days.
PASSNUM_EXPORT_ASYNC_ROWS = int(os.environ.get("PASSNUM_EXPORT_ASYNC_ROWS", "50000"))
PASSNUM_EXPORT_DAYS = int(os.environ.get("PASSNUM_EXPORT_DAYS", "7"))
PASSNUM_OPERATOR_NAME = os.environ.get("PASSNUM_OPERATOR_NAME", "Coopérative Passnum")

# The operator's account that pays the statements (debtor of the SEPA transfer files). A demo
# account outside production only: production must set its own.
PASSNUM_DEBTOR_NAME = os.environ.get("PASSNUM_DEBTOR_NAME", "" if PRODUCTION else "Coopérative Passnum")
PASSNUM_DEBTOR_IBAN = os.environ.get("PASSNUM_DEBTOR_IBAN", "" if PRODUCTION else "FR7630004000010001234567830")
PASSNUM_DEBTOR_BIC = os.environ.get("PASSNUM_DEBTOR_BIC", "" if PRODUCTION else "BNPAFRPPXXX")

# Personal data of beneficiaries is purged this many days after their programme ends.
PASSNUM_PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("PASSNUM_PERSONAL_DATA_RETENTION_DAYS", "365"))

# Print files (PDF with live codes) are deleted this many days after their run is marked delivered.
PASSNUM_PRINT_FILE_RETENTION_DAYS = int(os.environ.get("PASSNUM_PRINT_FILE_RETENTION_DAYS", "30"))

# Invitations to join an organisation are valid this many days.
PASSNUM_INVITATION_DAYS = int(os.environ.get("PASSNUM_INVITATION_DAYS", "14"))
