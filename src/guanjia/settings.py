"""Settings for every way Guanjia runs: `guanjia up`, the test suite, a province's servers.

Everything that differs between machines comes from the environment:
GUANJIA_HOME (data folder, default ./var), GUANJIA_DATABASE_URL (default: SQLite in
GUANJIA_HOME), GUANJIA_DEBUG, GUANJIA_ALLOWED_HOSTS, GUANJIA_REDIS_URL (scale-out, later).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
HOME = Path(os.environ.get("GUANJIA_HOME", "var")).resolve()
HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Generated once per GUANJIA_HOME and kept, so sessions survive restarts."""
    if key := os.environ.get("GUANJIA_SECRET_KEY"):
        return key
    path = HOME / "secret-key.txt"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("GUANJIA_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("GUANJIA_ALLOWED_HOSTS", "*").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("GUANJIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "treebeard",
    "django_tasks",
    "django_tasks_db",
    "guanjia.core",
    "guanjia.standards",
    "guanjia.vehicles",
    "guanjia.telemetry",
    "guanjia.canteens",
    "guanjia.evaluation",
    "guanjia.web",
    "guanjia.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guanjia.core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanjia.urls"
WSGI_APPLICATION = "guanjia.wsgi.application"
ASGI_APPLICATION = "guanjia.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanjia.web.context.navigation",
            ],
        },
    },
]

_db_url = os.environ.get("GUANJIA_DATABASE_URL") or f"sqlite:///{HOME / 'guanjia.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web workers read while the task worker writes; IMMEDIATE avoids
    # "database is locked" on upgrade from a read to a write transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / "test-guanjia.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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

# Lockout after repeated failures (django-axes): by username and address together, so one
# attacker cannot lock a colleague out from elsewhere.
AXES_FAILURE_LIMIT = int(os.environ.get("GUANJIA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag instead
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it even before `collectstatic`
MEDIA_URL = "/media/"
MEDIA_ROOT = HOME / "uploads"
ARCHIVE_ROOT = HOME / "archives"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders too, so tests and a fresh checkout work
# before `collectstatic`; `guanjia up` still collects for the compressed copies.
WHITENOISE_USE_FINDERS = True

NINJA_PAGINATION_MAX_LIMIT = 500  # the largest API page (core.api.LimitOffset caps ?limit=)

TASKS = {
    "default": {
        "BACKEND": os.environ.get("GUANJIA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANJIA_LOG_LEVEL", "WARNING")},
}

# How long the task worker may stay silent before /healthz reports it as down.
WORKER_HEARTBEAT_SECONDS = 30
GATEWAY_PORT = int(os.environ.get("GUANJIA_GATEWAY_PORT", "7808"))
