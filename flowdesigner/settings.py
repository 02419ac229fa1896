"""Flow Designer settings: every value comes from the environment, with safe development defaults.

In development (DEBUG on, the default) the secret key and the vault encryption key are generated once
into `var/dev-secrets.env`, which git ignores. With DEBUG off, a missing key stops start-up.
"""

from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)


def _dev_secrets() -> dict[str, str]:
    """Generate (once) and read the development-only keys file."""
    path = VAR_DIR / "dev-secrets.env"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(
            f"SECRET_KEY={get_random_secret_key()}\nFIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().split("\n") if "=" in line)


def _required(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return _dev_secrets()[name]
    raise ImproperlyConfigured(f"{name} is not set: it is required when DEBUG is off.")


SECRET_KEY = _required("SECRET_KEY")
# Vault encryption keys (Fernet, comma-separated): the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _required("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "vault",
    "actions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "flowdesigner.urls"
WSGI_APPLICATION = "flowdesigner.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'flowdesigner.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets the web server read while a run writes; NORMAL sync is safe under WAL and spares an fsync
    # per commit; IMMEDIATE transactions avoid "database is locked" on concurrent writers.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        transaction_mode="IMMEDIATE",
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")

# Content-Security-Policy: no inline script, no eval, nothing from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Preloading commits the whole domain to HTTPS for good: the operator opts in, so `check --deploy`
    # does not warn (security.W021) while it is off.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", False) else None

# Outbound HTTP (actions/http_client.py).
# Hosts, IPs or CIDRs (optionally host:port) that may be reached although they are not public.
FLOWS_OUTBOUND_ALLOWLIST = env.list("FLOWS_OUTBOUND_ALLOWLIST", default=[])
FLOWS_HTTP_MAX_RESPONSE_BYTES = env.int("FLOWS_HTTP_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
FLOWS_HTTP_DEFAULT_TIMEOUT = env.float("FLOWS_HTTP_DEFAULT_TIMEOUT", default=30.0)
FLOWS_HTTP_MAX_TIMEOUT = 120.0
# An outbound proxy is used only when the administrator sets one; proxy variables are ignored.
FLOWS_HTTP_PROXY = env.str("FLOWS_HTTP_PROXY", default="")
# A CA bundle (PEM file) for internal services with a private CA; empty: the public CAs (certifi).
FLOWS_HTTP_CA_BUNDLE = env.str("FLOWS_HTTP_CA_BUNDLE", default="")

# Largest request body accepted (test inputs, bodies, imports); a larger one gets a clear 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# Flow runs: a Delay action longer than this fails instead of holding a web worker.
FLOWS_MAX_INLINE_DELAY = env.float("FLOWS_MAX_INLINE_DELAY", default=10.0)
FLOWS_EXECUTION_RETENTION_DAYS = env.int("FLOWS_EXECUTION_RETENTION_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print every "django" record a second time.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
