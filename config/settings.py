"""Closeloop settings: one file, driven by environment variables (see README)."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLOSELOOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "closeloop.core",
    "closeloop.accounts",
    "closeloop.people",
    "closeloop.pipeline",
    "closeloop.activities",
    "closeloop.leads",
    "closeloop.messaging",
    "closeloop.proposals",
    "closeloop.analytics",
    "closeloop.aftersales",
    "closeloop.integrations",
    "closeloop.privacy",
    "closeloop.api",
    "ninja",  # the API docs page serves Swagger UI from our static files, not a CDN (CSP)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "closeloop.core.request_cache.RequestMemoMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "closeloop.accounts.middleware.SessionIdleMiddleware",
    "closeloop.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "closeloop.core.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
                "closeloop.core.context_processors.workspace",
                "closeloop.core.context_processors.notifications",
            ],
            "builtins": ["closeloop.core.templatetags.closeloop"],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL switches to PostgreSQL (same code).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'closeloop.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at BEGIN so
    # two transactions never both read a row and then fight over the upgrade to a write lock.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 10,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = (
        0
        if "memory" in str(DATABASES["default"]["NAME"])
        else DATABASES["default"].get("CONN_MAX_AGE", 0)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["closeloop.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# New and changed passwords are hashed with argon2; PBKDF2 hashes made before still log in and
# are rehashed with argon2 at the user's next successful login (docs/security.md).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Checked wherever a password is set: the users page, the password page, `closeloop createuser`,
# the Django admin.
PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins (wrong password or unknown email) counted per email address and per client
# address in the database; past either limit the login form refuses every attempt until the
# window has passed (docs/security.md).
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_IP = int(os.environ.get("LOGIN_FAILURES_PER_IP", "20"))
LOGIN_FAILURE_MINUTES = int(os.environ.get("LOGIN_FAILURE_MINUTES", "15"))

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

BASE_CURRENCY = os.environ.get("BASE_CURRENCY", "EUR").upper()

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing directory before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A signed-in session ends after this many minutes without a request (closeloop.accounts.
# middleware.SessionIdleMiddleware moves the expiry forward while the user is active).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Served over HTTPS (HTTPS=1): cookies only over TLS, HTTP redirected to HTTPS, and browsers told
# to use HTTPS only (HSTS). SECURE_COOKIES=1 alone still sets only the cookie flags.
HTTPS = _env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS or _env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = _env_bool("SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("HSTS_PRELOAD", False)
# Behind a TLS proxy on another machine: the header it sets to "https" (e.g. X-Forwarded-Proto).
# Only when the app cannot be reached except through that proxy: anyone else could send it.
if PROXY_SSL_HEADER := os.environ.get("PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + PROXY_SSL_HEADER.upper().replace("-", "_"), "https")

# EMAIL_URL, e.g. smtp+tls://user:pass@host:587; unset keeps mail in the outbox (issue 5).
# The address users reach the app at, for links in mail the worker sends (reminders, invites).
SITE_URL = os.environ.get(
    "SITE_URL", f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
).rstrip("/")

EMAIL_URL = os.environ.get("EMAIL_URL", "")
# the From address of mail the workspace sends when the sender has none of their own
DEFAULT_FROM_EMAIL = os.environ.get("EMAIL_FROM", "Closeloop <closeloop@localhost>")
# the mail server accepts any From address of the users (so the workspace may let them use it)
EMAIL_ALLOW_USER_FROM = _env_bool("EMAIL_ALLOW_USER_FROM", False)

# The lead mailbox, e.g. imaps://user:pass@host/INBOX; unset switches inbound mail off.
IMAP_URL = os.environ.get("IMAP_URL", "")
IMAP_POLL_MINUTES = int(os.environ.get("IMAP_POLL_MINUTES", "3"))
# The address users BCC or forward to (shown on the settings page); default: IMAP_URL's user.
IMAP_ADDRESS = os.environ.get("IMAP_ADDRESS", "")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Region used to read phone numbers typed without a country code (ISO 3166 code, e.g. DE, US).
PHONE_REGION = os.environ.get("PHONE_REGION", "")

WEBFORM_RATE_PER_IP = int(os.environ.get("WEBFORM_RATE_PER_IP", "10"))  # posts a minute
WEBFORM_RATE_PER_FORM = int(os.environ.get("WEBFORM_RATE_PER_FORM", "100"))  # posts a minute
BOOKING_RATE_PER_IP = int(os.environ.get("BOOKING_RATE_PER_IP", "10"))  # posts a minute
BOOKING_VIEW_RATE_PER_IP = int(os.environ.get("BOOKING_VIEW_RATE_PER_IP", "120"))  # views a minute
CALENDAR_FEED_RATE_PER_IP = int(os.environ.get("CALENDAR_FEED_RATE_PER_IP", "60"))  # a minute
# how long a proposal link sent to a customer opens at all; acceptance also ends at validity
PROPOSAL_LINK_DAYS = int(os.environ.get("PROPOSAL_LINK_DAYS", "180"))
PROPOSAL_RATE_PER_IP = int(os.environ.get("PROPOSAL_RATE_PER_IP", "20"))  # answers a minute
# how long a survey link sent to a customer opens at all; answers a minute and views a minute
SURVEY_LINK_DAYS = int(os.environ.get("SURVEY_LINK_DAYS", "30"))
SURVEY_RATE_PER_IP = int(os.environ.get("SURVEY_RATE_PER_IP", "20"))
SURVEY_VIEW_RATE_PER_IP = int(os.environ.get("SURVEY_VIEW_RATE_PER_IP", "120"))
# the coupon a customer gets when a lead they referred is won: percent off, days valid, one use
REFERRAL_REWARD_PERCENT = int(os.environ.get("REFERRAL_REWARD_PERCENT", "10"))
REFERRAL_REWARD_DAYS = int(os.environ.get("REFERRAL_REWARD_DAYS", "180"))
REFERRAL_RATE_PER_IP = int(os.environ.get("REFERRAL_RATE_PER_IP", "60"))  # landing views a minute
# days a deleted lead, contact, organization or deal stays restorable before the daily purge
TRASH_DAYS = int(os.environ.get("TRASH_DAYS", "30"))

# Largest file the import page accepts (bytes); the command line reads any size.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))

# Largest total of the files attached to one email written in Closeloop (bytes).
EMAIL_ATTACHMENTS_MAX_BYTES = int(
    os.environ.get("EMAIL_ATTACHMENTS_MAX_BYTES", str(20 * 1024 * 1024))
)

# Largest material (spec sheet, guide) that may be attached to a proposal template or proposal.
PROPOSAL_MATERIAL_MAX_BYTES = int(
    os.environ.get("PROPOSAL_MATERIAL_MAX_BYTES", str(20 * 1024 * 1024))
)

# REST API (docs/api.md): requests per token (or signed-in user) and, for calls without valid
# credentials, per address — "N/s", "N/min", "N/hour" or "N/day". Counted in the database
# (the RateLimitHit table), which every server process shares; Django's default cache is
# per process and would let each gunicorn worker allow the full rate.
# Webhooks go to public internet addresses only; 1 allows the install's own network too
# (loopback, private and link-local addresses), for receivers that live beside it.
WEBHOOK_PRIVATE_ADDRESSES = _env_bool("WEBHOOK_PRIVATE_ADDRESSES", False)
# Days a webhook delivery that was delivered or given up (with its attempts and event) is kept.
WEBHOOK_KEEP_DAYS = int(os.environ.get("WEBHOOK_KEEP_DAYS", "30"))
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")
API_RATE_LIMIT_PER_IP = os.environ.get("API_RATE_LIMIT_PER_IP", "60/min")
# How long a POST's answer is kept for retries that send the same Idempotency-Key.
API_IDEMPOTENCY_HOURS = int(os.environ.get("API_IDEMPOTENCY_HOURS", "24"))

# Nightly backups (docs/operations.md): the scheduler writes one archive a day into BACKUP_DIR
# and deletes those older than BACKUP_KEEP_DAYS. Unset: no automatic backups.
BACKUP_DIR = os.environ.get("BACKUP_DIR", "")
BACKUP_KEEP_DAYS = int(os.environ.get("BACKUP_KEEP_DAYS", "14"))
