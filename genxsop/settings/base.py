"""GenXSOP settings: every value comes from the environment (OPS-12).

There is no production.py: production is this module with production environment variables.
Unsafe production configurations are refused at the end of this module (OPS-14).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from genxsop import __version__
from genxsop.guardrails import DEV_SECRET_KEY, enforce_guardrails
from genxsop.logging import build_logging_config
from genxsop.settings.email import email_settings
from genxsop.settings.env import (
    env_bool,
    env_choice,
    env_daily_cron,
    env_int,
    env_json,
    env_list,
    env_rate,
    env_str,
)
from governance.choices import Role

BASE_DIR = Path(__file__).resolve().parent.parent.parent

if env_bool("DJANGO_READ_DOT_ENV_FILE", False):
    from genxsop.settings.dotenv import load_dotenv

    load_dotenv(BASE_DIR / ".env")

# GENERAL
# ------------------------------------------------------------------------------
APP_NAME = "GenXSOP"
APP_VERSION = __version__
ENVIRONMENT = env_choice(
    "ENVIRONMENT",
    "development",
    {"development": "development", "dev": "development", "test": "test", "staging": "staging",
     "production": "production", "prod": "production"},
)  # fmt: skip
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
ADMIN_URL = env_str("ADMIN_URL", "admin/").strip("/") + "/"
PLANNING_TIME_ZONE = env_str("PLANNING_TIME_ZONE", "UTC")
CURRENCY_CODE = env_str("CURRENCY_CODE", "USD")
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "genxsop.urls"
WSGI_APPLICATION = "genxsop.wsgi.application"

# APPS
# ------------------------------------------------------------------------------
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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "guardian",
    "csp",
    "django_q",
    "mozilla_django_oidc",
    "genxsop",
    "governance",
    "planning",
    "forecasting",
]

# DATABASES
# ------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "sqlite:///genxsop.sqlite3")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] not in ("", ":memory:") and not os.path.isabs(_db["NAME"]):
        _db["NAME"] = str(BASE_DIR / _db["NAME"])
    # The web server and the django-q2 worker write to one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock up front (no deadlock on lock upgrade) and the busy
    # timeout waits instead of failing with "database is locked" (OPS-19).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # A partition that drops packets without a reset would hold an open connection until the kernel
    # gives up (minutes); keepalives and a send timeout turn it into an error the 503 path handles.
    for _key, _value in (("keepalives", 1), ("keepalives_idle", 30), ("keepalives_interval", 10),
                         ("keepalives_count", 3), ("tcp_user_timeout", 30000)):  # fmt: skip
        _db["OPTIONS"].setdefault(_key, _value)
DATABASES = {"default": _db}
DATABASE_IS_SQLITE = _db["ENGINE"] == "django.db.backends.sqlite3"

# CACHES
# ------------------------------------------------------------------------------
CACHE_URL = env_str("CACHE_URL", "db://genxsop_cache")
if CACHE_URL.startswith("db://"):
    _cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_URL[5:] or "genxsop_cache"}
elif CACHE_URL.startswith(("redis://", "rediss://")):
    _cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
elif CACHE_URL.startswith("locmem://"):
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": CACHE_URL[9:] or "genxsop"}
else:
    raise ImproperlyConfigured("CACHE_URL must start with db://, redis://, rediss:// or locmem://.")
CACHES = {"default": _cache}

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked accounts before any password check (ACC-18)
    "governance.permission_backend.RolePermissionBackend",  # role permissions in one query (OPS-60)
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "governance.oidc.StrictOIDCBackend",  # SSO callback only; None unless OIDC_ENABLED (ACC-27)
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", True)
SELF_REGISTRATION_ENABLED = env_bool("SELF_REGISTRATION_ENABLED", False)
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "governance.accounts.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions, so no AnonymousUser row
GUARDIAN_MONKEY_PATCH_USER = False
SESSION_COOKIE_AGE = env_int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12, minimum=1) * 3600
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 60, minimum=1)
SESSION_ABSOLUTE_TIMEOUT_HOURS = SESSION_COOKIE_AGE // 3600
# ACC-18: LOGIN_MAX_FAILURES failures lock the account for LOGIN_LOCKOUT_MINUTES (django-axes, keyed
# on the lower-cased email only); per-IP login attempts are capped by allauth's rate limits.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "governance.axes.get_username"
AXES_USERNAME_FORM_FIELD = "login"  # allauth's field; explicit, as axes' lazy default has no stable value
AXES_LOCKOUT_CALLABLE = "governance.axes.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a locked account stays locked for the stated time, no longer
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "30/m/ip"}  # per-key lockout is axes' job
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = APP_NAME
# allauth.mfa refuses TOTP set-up while the address is unverified. Accounts here are created by
# administrators (no self sign-up, ACCOUNT_EMAIL_VERIFICATION "none"), and an anonymous "forgot
# password" request marks the address unverified, which would let anyone block a person's MFA.
MFA_ALLOW_UNVERIFIED_EMAIL = not SELF_REGISTRATION_ENABLED
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES")
if _unknown_roles := sorted(set(MFA_REQUIRED_ROLES) - set(Role.values)):
    raise ImproperlyConfigured(
        f"MFA_REQUIRED_ROLES names unknown roles {', '.join(_unknown_roles)}; use {', '.join(Role.values)}."
    )
API_TOKEN_PEPPER = env_str("API_TOKEN_PEPPER") or ("" if IS_PRODUCTION else f"pepper:{SECRET_KEY}")
API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90, minimum=1)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1)
# ACC-16: /api/v1/auth/login access and refresh tokens; an SSO-only deployment switches API login off.
API_LOGIN_ENABLED = env_bool("API_LOGIN_ENABLED", True)
ACCESS_TOKEN_EXPIRE_MINUTES = env_int("ACCESS_TOKEN_EXPIRE_MINUTES", 30, minimum=1)
REFRESH_TOKEN_EXPIRE_DAYS = env_int("REFRESH_TOKEN_EXPIRE_DAYS", 7, minimum=1)
ENFORCE_SEGREGATION_OF_DUTIES = env_bool("ENFORCE_SEGREGATION_OF_DUTIES", True)
OIDC_ENABLED = env_bool("OIDC_ENABLED", False)
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
# Single sign-on policy (ACC-27…32, docs/runbooks/sso.md). The backend is always listed and answers
# None while OIDC_ENABLED is false, so enabling SSO is a settings change only.
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT")
# Asymmetric algorithms only: the ID token is verified with the provider's JWKS, never the client secret.
OIDC_RP_SIGN_ALGO = env_choice(
    "OIDC_RP_SIGN_ALGO", "RS256", {a.lower(): a for a in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")}
)
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_ROLE_CLAIM = env_str("OIDC_ROLE_CLAIM", "groups")
OIDC_DEFAULT_ROLE = env_choice("OIDC_DEFAULT_ROLE", "viewer", {role: role for role in Role.values})
OIDC_DENY_UNMAPPED = env_bool("OIDC_DENY_UNMAPPED", False)
OIDC_JIT_PROVISIONING = env_bool("OIDC_JIT_PROVISIONING", True)
OIDC_LINK_BY_EMAIL = env_bool("OIDC_LINK_BY_EMAIL", True)
OIDC_ALLOWED_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in env_list("OIDC_ALLOWED_EMAIL_DOMAINS")]
OIDC_SYNC_ROLE_ON_LOGIN = env_bool("OIDC_SYNC_ROLE_ON_LOGIN", True)
OIDC_REQUIRED_ACR = env_list("OIDC_REQUIRED_ACR")  # the ID token's acr must be one of these (IdP MFA)
OIDC_REQUIRED_AMR = env_list("OIDC_REQUIRED_AMR")  # the ID token's amr must contain one of these
OIDC_API_BEARER_ENABLED = env_bool("OIDC_API_BEARER_ENABLED", True)
OIDC_API_AUDIENCE = env_str("OIDC_API_AUDIENCE")  # empty: the client id
# mozilla-django-oidc, derived from the above: PKCE and nonce on, ID token kept for RP-initiated
# logout, our views (404 while SSO is off, refusals shown on the login page) and logout URL builder.
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATE_CLASS = "governance.oidc.SsoAuthenticateView"
OIDC_CALLBACK_CLASS = "governance.oidc.SsoCallbackView"
OIDC_OP_LOGOUT_URL_METHOD = "governance.oidc.provider_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"

# MIDDLEWARE
# ------------------------------------------------------------------------------
ENABLE_REQUEST_ID = env_bool("ENABLE_REQUEST_ID", True)
ENABLE_REQUEST_LOGGING = env_bool("ENABLE_REQUEST_LOGGING", True)
ENABLE_SECURITY_HEADERS = env_bool("ENABLE_SECURITY_HEADERS", True)
LOG_PROBES = env_bool("LOG_PROBES", False)
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Security headers wrap everything inside the request context, so that answers short-circuited by
# inner middleware (SSL redirect, whitenoise, auth redirects) carry them too (OPS-08).
_security_headers = ["genxsop.middleware.SecurityHeadersMiddleware"] if ENABLE_SECURITY_HEADERS else []
MIDDLEWARE = [
    "genxsop.middleware.RequestContextMiddleware",
    "genxsop.metrics.MetricsMiddleware",  # OPS-51: times all inner middleware too
    *_security_headers,
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "governance.middleware.SessionTimeoutMiddleware",  # ACC-21 idle and absolute limits
    "governance.middleware.MfaEnrolmentMiddleware",  # ACC-19 roles that must enrol TOTP first
]
if ENABLE_SECURITY_HEADERS:
    # Innermost, so that the CSP middleware sees the response first and the nonce of the rendered
    # page; it gives API responses the deny-all policy (OPS-09).
    MIDDLEWARE += [
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "genxsop.middleware.ContentSecurityPolicyMiddleware",
    ]
# allauth's MFA change pages run in one transaction with their audit rows (GOV-31).
MIDDLEWARE += ["governance.middleware.MfaChangeAtomicMiddleware"]
# Last (innermost): turns an axes lockout into the login form with its error, which the CSP and
# security-header middleware above then see like any other page (ACC-18).
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]

# SECURITY
# ------------------------------------------------------------------------------
STRICT_TRANSPORT_SECURITY_SECONDS = env_int("STRICT_TRANSPORT_SECURITY_SECONDS", 31536000, minimum=0)
HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
SECURITY_CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)  # not CSP_*: django-csp 4 rejects old-style names
SECURE_CONTENT_TYPE_NOSNIFF = ENABLE_SECURITY_HEADERS
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin" if ENABLE_SECURITY_HEADERS else None
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin" if ENABLE_SECURITY_HEADERS else None
X_FRAME_OPTIONS = "DENY"
# Django's SecurityMiddleware only adds HSTS on secure requests, which is what OPS-08 asks.
SECURE_HSTS_SECONDS = STRICT_TRANSPORT_SECURITY_SECONDS if (ENABLE_SECURITY_HEADERS and not DEBUG) else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = HSTS_PRELOAD and SECURE_HSTS_SECONDS > 0
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_secure_cookies = ENVIRONMENT not in ("development", "test")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure_cookies)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _secure_cookies)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "genxsop.errors_views.csrf_failure"
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
_form_action = [SELF]
if OIDC_ENABLED:
    # Origins only: console logout is a form POST that redirects to the provider (ACC-31).
    for _url in (OIDC_OP_ISSUER, OIDC_OP_LOGOUT_ENDPOINT):
        if _url and (_origin := "/".join(_url.split("/")[:3])) not in _form_action:
            _form_action.append(_origin)
_csp = {
    "EXCLUDE_URL_PREFIXES": [f"/{ADMIN_URL}"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": _form_action,
        "report-uri": "/csp-report/",
    },
}
if SECURITY_CSP_REPORT_ONLY:
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50000, minimum=1)
INTEGRATION_MAX_ITEMS = env_int("INTEGRATION_MAX_ITEMS", 5000, minimum=1)
INTEGRATION_REQUIRE_IDEMPOTENCY_KEY = env_bool("INTEGRATION_REQUIRE_IDEMPOTENCY_KEY", True)
INTEGRATION_BATCH_RETENTION_DAYS = env_int("INTEGRATION_BATCH_RETENTION_DAYS", 90, minimum=1)

# TEMPLATES AND STATIC FILES
# ------------------------------------------------------------------------------
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
                "csp.context_processors.nonce",
                "genxsop.context_processors.console",
            ],
        },
    },
]
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the source folders, so `make run` needs no
# collectstatic step; production serves the hashed, compressed files from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# API
# ------------------------------------------------------------------------------
API_THROTTLE_RATE_USER = env_rate("API_THROTTLE_RATE_USER", "600/min")
API_THROTTLE_RATE_ANON = env_rate("API_THROTTLE_RATE_ANON", "60/min")
API_THROTTLE_RATE_WRITE = env_rate("API_THROTTLE_RATE_WRITE", "120/min")
AUTH_THROTTLE_RATE = env_rate("AUTH_THROTTLE_RATE", "30/min")  # per client address on /auth/login, /refresh (ACC-18)
# The lists answered as plain arrays (results, consensus, inventory exceptions) have no pages: above this
# many matching rows they are 400 and the caller narrows the filters (genxsop/row_limits.py).
API_LIST_MAX_ROWS = env_int("API_LIST_MAX_ROWS", 10_000, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "genxsop.api.authentication.ApiTokenAuthentication",
        "genxsop.api.login_authentication.LoginTokenAuthentication",  # gxa_ access tokens of /auth/login
        "governance.oidc.OidcBearerAuthentication",  # IdP access tokens, when SSO is on (issue 5)
        "genxsop.api.authentication.ConsoleSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["genxsop.api.permissions.IsAuthenticatedWithTokenScope"],
    "DEFAULT_PAGINATION_CLASS": "genxsop.api.pagination.EnvelopePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["genxsop.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "genxsop.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "genxsop.api.throttling.AnonThrottle",
        "genxsop.api.throttling.UserThrottle",
        "genxsop.api.throttling.WriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": API_THROTTLE_RATE_ANON,
        "user": API_THROTTLE_RATE_USER,
        "writes": API_THROTTLE_RATE_WRITE,
        "login": AUTH_THROTTLE_RATE,
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GenXSOP API",
    "DESCRIPTION": "Sales & Operations Planning: catalog, plans, forecasts and governance.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["genxsop.api.schema.drop_trailing_slash_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default, kept
        "genxsop.api.schema.document_if_match_errors",
    ],
    # Several entities have a `status`; name each enum after its entity instead of a hash suffix.
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "planning.choices.ProductStatus",
        "PlanStatusEnum": "planning.choices.PlanStatus",
        "InventoryStatusEnum": "planning.choices.InventoryStatus",
        "ServiceLevelMethodEnum": "planning.services.inventory_analytics.SERVICE_LEVEL_METHODS",
        "AnomalyMethodEnum": "forecasting.choices.AnomalyMethod",
        "BatchStatusEnum": "planning.choices.BatchStatus",
        "OutboundStatusEnum": "planning.choices.OutboundStatus",
        "PlanSourceEnum": "planning.choices.PlanSource",
        "ApiTokenStatusEnum": "governance.api.serializers.TOKEN_STATUSES",
        "ForecastJobStatusEnum": "forecasting.choices.JobStatus",
        "DecisionStatusEnum": "governance.choices.DecisionStatus",
        "ActionItemStatusEnum": "governance.choices.ActionItemStatus",
        "SopCycleStepStatusEnum": "governance.choices.StepStatus",
        "SopCycleStatusEnum": "governance.choices.CycleStatus",
    },
}

# BACKGROUND JOBS
# ------------------------------------------------------------------------------
FORECAST_JOB_RETENTION_DAYS = env_int("FORECAST_JOB_RETENTION_DAYS", 30, minimum=1)
FORECAST_JOB_TIMEOUT_SECONDS = env_int("FORECAST_JOB_TIMEOUT_SECONDS", 900, minimum=10)
FORECAST_JOB_MAX_ATTEMPTS = env_int("FORECAST_JOB_MAX_ATTEMPTS", 2, minimum=1)
FORECAST_JOB_HEARTBEAT_SECONDS = env_int("FORECAST_JOB_HEARTBEAT_SECONDS", 10, minimum=1)
FORECAST_JOB_CLEANUP_CRON = env_daily_cron("FORECAST_JOB_CLEANUP_CRON", "15 3 * * *")
FORECAST_NIGHTLY_ENABLED = env_bool("FORECAST_NIGHTLY_ENABLED", False)
FORECAST_NIGHTLY_CRON = env_daily_cron("FORECAST_NIGHTLY_CRON", "0 2 * * *")
FORECAST_MAX_HORIZON = env_int("FORECAST_MAX_HORIZON", 24, minimum=1, maximum=24)
FORECAST_DEFAULT_HORIZON = env_int("FORECAST_DEFAULT_HORIZON", 6, minimum=1, maximum=FORECAST_MAX_HORIZON)
FORECAST_ACCURACY_LAG = env_int("FORECAST_ACCURACY_LAG", 1, minimum=1, maximum=24)
FORECAST_MISSING_AS_ZERO = env_bool("FORECAST_MISSING_AS_ZERO", True)
FORECAST_SNAPSHOT_RETENTION_MONTHS = env_int("FORECAST_SNAPSHOT_RETENTION_MONTHS", 60, minimum=1)
# S&OP cycle step gates (WF-42)
SOP_REVIEW_HORIZON_MONTHS = env_int("SOP_REVIEW_HORIZON_MONTHS", 3, minimum=1, maximum=24)
SOP_GATE_ACTUALS_COVERAGE_PCT = env_int("SOP_GATE_ACTUALS_COVERAGE_PCT", 95, minimum=0, maximum=100)
SOP_GATE_FORECAST_COVERAGE_PCT = env_int("SOP_GATE_FORECAST_COVERAGE_PCT", 90, minimum=0, maximum=100)
SOP_GATE_INVENTORY_MAX_AGE_HOURS = env_int("SOP_GATE_INVENTORY_MAX_AGE_HOURS", 72, minimum=1)
# Inventory working capital (FRM-12): annual carrying cost as a % of the inventory value.
INVENTORY_CARRYING_RATE_PCT = env_int("INVENTORY_CARRYING_RATE_PCT", 18, minimum=0, maximum=100)
# Policy recommendations (FRM-09): a change of the reorder point by at least this % is high-impact (maker-checker).
INVENTORY_HIGH_IMPACT_PCT = env_int("INVENTORY_HIGH_IMPACT_PCT", 20, minimum=1, maximum=1000)
# Production scheduling (FRM-33): the start hour of each shift in the planning time zone.
SHIFT_START_HOURS = env_json("SHIFT_START_HOURS", {"Shift-A": 6, "Shift-B": 14, "Shift-C": 22})
# KPI refresh (FRM-38): nightly over the last three closed months.
KPI_REFRESH_CRON = env_daily_cron("KPI_REFRESH_CRON", "30 3 * * *")
# Dashboard and KPI overview reads in the shared cache (OPS-44); 0 turns the cache off.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 60, minimum=0, maximum=3600)
Q_WORKERS = env_int("Q_WORKERS", 2, minimum=1, maximum=32)
# The task broker (OPS-61, docs/scale-out.md): empty keeps the queue in the default database (ORM
# broker); redis://host:port/db or rediss://... uses django-q2's Redis broker. Bounded socket
# timeouts, so that /metrics, /ready and the reaper answer when Redis is gone instead of hanging.
Q_BROKER_URL = env_str("Q_BROKER_URL")
if Q_BROKER_URL:
    if not Q_BROKER_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("Q_BROKER_URL must be empty (database broker) or start with redis:// or rediss://.")
    from redis.connection import parse_url

    try:
        _q_broker = {"redis": {"socket_connect_timeout": 2, "socket_timeout": 5, **parse_url(Q_BROKER_URL)}}
    except ValueError as exc:
        raise ImproperlyConfigured(f"Q_BROKER_URL is not a valid Redis URL: {exc}") from None
else:
    _q_broker = {"orm": "default"}
_q_timeout = FORECAST_JOB_TIMEOUT_SECONDS + 60
Q_CLUSTER = {
    "name": "genxsop",
    **_q_broker,
    "workers": Q_WORKERS,
    "timeout": _q_timeout,
    "retry": _q_timeout + 60,  # must exceed timeout or a long task is redelivered while still running
    "max_attempts": 3,
    "ack_failures": True,  # the job row, not the broker, drives retries (OPS-19)
    "catch_up": False,
    "poll": 0.5,
    "save_limit": 1000,
    "label": "Background jobs",
}

# READINESS
# ------------------------------------------------------------------------------
READINESS_CHECK_DATABASE = env_bool("READINESS_CHECK_DATABASE", True)
READINESS_CHECK_MIGRATIONS = env_bool("READINESS_CHECK_MIGRATIONS", True)
READINESS_CHECK_WORKER = env_bool("READINESS_CHECK_WORKER", False)
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = env_str("METRICS_TOKEN")
# Mounts GET /bench/floor, a bare JSON view behind the full middleware stack: the latency floor
# `bench/load.py` compares the API with. Off in normal deployments.
BENCH_FLOOR_VIEW = env_bool("BENCH_FLOOR_VIEW", False)

# DEMO DATA
# ------------------------------------------------------------------------------
DEMO_SEED = env_int("DEMO_SEED", 42)
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Password123!")

# EMAIL
# ------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL")
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "genxsop@localhost")

# LOGGING
# ------------------------------------------------------------------------------
LOG_LEVEL = env_choice(
    "LOG_LEVEL", "INFO", {name.lower(): name for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}
)
LOG_FORMAT = env_choice("LOG_FORMAT", "json", {"json": "json", "standard": "standard"})
LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# GUARDRAILS (OPS-14): refuse to start in production on an unsafe configuration.
# ------------------------------------------------------------------------------
OIDC_ROLE_MAPPING = env_json("OIDC_ROLE_MAPPING", {})
if not isinstance(OIDC_ROLE_MAPPING, dict) or not all(
    isinstance(k, str) and k.strip() and v in Role.values for k, v in OIDC_ROLE_MAPPING.items()
):
    raise ImproperlyConfigured(
        'OIDC_ROLE_MAPPING must be a JSON object of claim value to role, e.g. {"sop-admins": "admin"}; '
        f"roles: {', '.join(Role.values)}."
    )
enforce_guardrails(globals())

# auth.W004 asks for a unique USERNAME_FIELD; ours is unique case-insensitively through the
# functional constraint uq_users_email_ci, which the check cannot see.
# security.W021 asks for HSTS preload; preloading is a commitment browsers keep for months, so it
# stays the operator's explicit choice (HSTS_PRELOAD, default false per OPS-12).
# axes.W006 asks to lock by IP too; ACC-18 locks the account (email) only, and the per-IP cap is
# allauth's login rate limit, so one shared office address cannot lock everybody out.
SILENCED_SYSTEM_CHECKS = ["auth.W004", "security.W021", "axes.W006"]
