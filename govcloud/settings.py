"""Settings for the GovCloud portal, read from the environment.

With no variables set the project runs on its embedded default: SQLite under ``var/``,
Celery tasks executed eagerly, e-mail written to files under ``var/mail/``, media under
``var/media/``. Setting ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``EMAIL_URL`` (or the SMTP
variables), ``SECRET_KEY`` and ``ALLOWED_HOSTS`` switches to production, where secrets have
no default and ``manage.py check --deploy`` stays quiet.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("GOVCLOUD_VAR_DIR", default=str(BASE_DIR / "var")))

# A SECRET_KEY in the environment means production: then nothing security-relevant has a
# default. Without one this is the embedded default of a developer's machine.
PRODUCTION = env.bool("GOVCLOUD_PRODUCTION", default="SECRET_KEY" in env)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # no default: production must set it
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="django-insecure-embedded-default-not-for-production"
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_otp",
    # Third-party apps under Chinese names (their admin pages): govcloud/apps.py.
    "govcloud.apps.OtpTotpConfig",
    "govcloud.apps.AxesConfig",
    "govcloud.apps.GovcloudConfig",
    "billing.apps.BillingConfig",
    "requests_app.apps.RequestsAppConfig",
    "sla.apps.SlaConfig",
]

MIDDLEWARE = [
    "govcloud.middleware.RequestSizeLimitMiddleware",
    "govcloud.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "govcloud.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "govcloud.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "govcloud.middleware.NoStoreWhenSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "govcloud.middleware.RequestContextMiddleware",
    "govcloud.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "govcloud.middleware.PortalNotFoundMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govcloud.urls"
WSGI_APPLICATION = "govcloud.wsgi.application"
ASGI_APPLICATION = "govcloud.asgi.application"

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
                "govcloud.context_processors.portal",
            ],
            # One money format in every template (pages, PDFs, e-mails) without a {% load %}.
            "builtins": ["govcloud.templatetags.money"],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while a Celery task (or a second request) writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "govcloud.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "govcloud.auth_backends.PeopleOnlyModelBackend",
]

# Argon2id first (govcloud/hashers.py); PBKDF2 stays to verify, and upgrade, older hashes.
PASSWORD_HASHERS = [
    "govcloud.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions end after 30 minutes (等保三级: 登录连接超时自动退出).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout after repeated failures (django-axes): 5 failures lock the account for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Per account *and* address: a stranger at another address cannot lock anyone out, and a whole
# bureau behind one NAT address of the government network is not locked out together either
# (each username+address pair counts on its own). See README, "Sign-in lockouts".
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Across all addresses, one username is capped at this many failures in the cool-off window
# (a slow spread-out guess): it then waits 30 minutes (govcloud.forms.LoginForm), never longer.
AXES_USERNAME_CAP = env.int("AXES_USERNAME_CAP", default=50)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The one rule for "which address is the client" (audit trail and lockouts alike).
AXES_CLIENT_IP_CALLABLE = "govcloud.middleware.client_ip"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "政务云服务管理平台"
# Authenticator secrets are never shown again after enrolment, not even to the superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The largest request body at all (a form with a few 20 MB attachments): a bigger one is refused
# with 413 from its Content-Length before a byte of it is read, and a body without one is cut
# off by the upload handler once it passes the limit (govcloud.middleware).
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=64 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "govcloud.middleware.RequestSizeUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# The cache holds the API's throttle counters: per process by default (the embedded demo); set
# CACHE_URL (e.g. redis://127.0.0.1:6379/1) where several workers serve, so they count together.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# E-mail: files by default, SMTP (or anything django-environ understands) via EMAIL_URL.
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="政务云服务管理平台 <noreply@govcloud.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=465)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = 30

# Celery: eager without a broker (embedded default), Redis in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing never holds a request up: with the broker down ``.delay()`` fails within seconds
# (the action has committed; the outbox flush and the document resume task catch up), and no
# result backend is contacted at send time (results are ignored unless a task asks for them).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
# A claim older than this is a worker that died mid-task: the sweeper / flush take it over
# (jobs: longer than any task's time limit; e-mails: 10 minutes). Lowered only by fault tests.
JOBS_STALE_CLAIM_SECONDS = env.int("JOBS_STALE_CLAIM_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
OUTBOX_STALE_CLAIM_SECONDS = env.int("OUTBOX_STALE_CLAIM_SECONDS", default=600)
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 0}}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "outbox-flush": {"task": "govcloud.outbox_flush", "schedule": 120.0},
    # Document renders whose enqueue was lost (broker down) or whose worker died.
    "jobs-sweep": {"task": "govcloud.jobs_sweep", "schedule": 60.0},
    # Contract states follow the business date; the expiry warnings go out in office hours.
    "contract-states": {"task": "govcloud.contract_states", "schedule": crontab(hour=0, minute=5)},
    "contract-expiry-warnings": {
        "task": "govcloud.contract_expiry_warnings",
        "schedule": crontab(hour=8, minute=15),
    },
    "delivery-clocks": {"task": "requests_app.check_delivery_clocks", "schedule": 600.0},
    "billing-escalate-disputes": {
        "task": "billing.escalate_disputes",
        "schedule": crontab(hour=8, minute=0),
    },
    "billing-statement-due": {
        "task": "billing.statement_due_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
    "billing-statement-pdf-resume": {"task": "billing.statement_pdf_resume", "schedule": 3600.0},
    "sla-handover-plans": {
        "task": "sla.ensure_handover_plans",
        "schedule": crontab(hour=7, minute=0),
    },
    "sla-rightsizing-advice": {
        "task": "sla.compute_rightsizing_advice",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    # One e-mail per department and month about the advice it has to answer (sent on the
    # first run of a month for advice the previous month's digest did not announce).
    "sla-advice-digests": {
        "task": "sla.send_advice_digests",
        "schedule": crontab(hour=8, minute=45),
    },
}

REST_FRAMEWORK = {
    # Token first: an anonymous call then gets 401 with a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "govcloud.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "govcloud.api_auth.TokenScopePermission",
        "govcloud.api_auth.BusinessReaderPermission",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "govcloud.api_query.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "govcloud.exceptions.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # Per user (token or session) and per address for the anonymous: a token that leaks or a
    # script that loops is slowed down, not the people (a page makes a handful of calls).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_USER_RATE", default="600/min"),
        "anon": env.str("API_ANON_RATE", default="60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "政务云服务管理平台 API",
    "DESCRIPTION": "GovCloud portal REST API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every operation documents its errors in the one shape (govcloud/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "govcloud.api_schema.postprocess_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PricePeriodEnum": "govcloud.models.PricePeriod",
        "ContractStatusEnum": "govcloud.models.ContractStatus",
        "RequestStatusEnum": "requests_app.models.RequestStatus",
        "ReceiptProblemEnum": "requests_app.models.ReceiptProblem",
        "RequestKindEnum": "requests_app.models.RequestKind",
        "ExitKindEnum": "sla.models.exit.ExitKind",
        "ExitMethodEnum": "sla.models.exit.ExitMethod",
        "ResourceStatusEnum": "billing.models.ResourceStatus",
        "StatementStatusEnum": "billing.models.StatementStatus",
        "EscalationDecisionEnum": "billing.models.EscalationDecision",
        "ReauthMethodEnum": "billing.models.ReauthMethod",
    },
}

# Reverse proxies in front of the portal (README "Behind a proxy"). Without them the client is
# REMOTE_ADDR and X-Forwarded-For is ignored. TRUSTED_PROXIES lists the proxies' networks
# (e.g. "127.0.0.1/32,10.20.0.0/16"); TRUSTED_PROXY_COUNT says how many proxies stand in line
# whatever their address. Either way the client is the right-most address in X-Forwarded-For
# that is not a trusted proxy — never the left-most, which the client itself can write.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
try:
    TRUSTED_PROXY_NETWORKS = [
        ipaddress.ip_network(cidr.strip(), strict=False) for cidr in TRUSTED_PROXIES if cidr.strip()
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# Security headers; cookies are secure in production (served behind TLS).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Signing keys for statement PDFs (per party PKCS#12), see README.
SIGNING_DIR = Path(env.str("SIGNING_DIR", default=str(VAR_DIR / "signing")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},  # one line per laid-out page at INFO
        "fontTools": {"level": "WARNING"},
    },
}
