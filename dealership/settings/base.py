"""Settings, all read from the environment through one `env` object.

Defaults run the whole product on one machine with nothing else installed
(SQLite, a filesystem Celery broker, mail written to files, a Maildir mailbox);
production sets DATABASE_URL, CELERY_BROKER_URL, MAILBOX_URL, SMTP and secrets.
"""

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
import holidays
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

from leads.business_hours import parse_business_hours

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

# Schemes whose URL names a server, with the user's password before its host (django-environ's, for
# the database, the cache and the broker).
_SERVER_SCHEMES = (
    *("postgres", "postgresql", "pgsql", "postgis", "mysql", "mysql2"),
    *("redis", "rediss", "rediscache", "valkey", "valkeys", "amqp"),
)


def _url(name: str, *, default: str, example: str) -> str:
    """A URL setting, refused at start-up when it cannot be read as written. An unencoded #, / or ?
    in a password ends the server's part early: its host or port would be read wrong, or from the
    user name. Never quoted: it holds a password."""
    url = env.str(name, default=default)
    scheme, separator, rest = url.partition("://")
    if not (scheme and separator):
        raise ImproperlyConfigured(f"{name} needs a scheme: write it as a URL such as {example}.")
    if scheme.partition("+")[0].lower() in _SERVER_SCHEMES:
        netloc = urlsplit(url).netloc
        # Whatever a password's # / ? cut off still holds the "@" before the host.
        readable = "@" not in rest[len(netloc) :]
        # Nothing after the user: the local socket ("postgres:///name", "postgres://user:pass@/name").
        # Else each server named (comma-separated) has a host, and a port that is a number.
        servers = netloc.rpartition("@")[2]
        for server in servers.split(",") if servers else []:
            try:
                parts = urlsplit(f"//{server}")
                parts.port  # noqa: B018 (ValueError: a port that is not a number)
            except ValueError:
                readable = False
            else:
                readable = readable and bool(parts.hostname)
        if not readable:
            raise ImproperlyConfigured(
                f"{name} cannot be read: its host or port is missing, or a character of its user name or "
                "password ends it early. Write any special character of its user name or password "
                "percent-encoded: # as %23, / as %2F, ? as %3F, @ as %40, a comma as %2C, % as %25 "
                f"(such as {example})."
            )
    return url


DEBUG = env.bool("DEBUG", default=True)
# Only the development default is in code; any deployment (DEBUG=false) must set its own.
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
# Former keys, comma-separated, after changing SECRET_KEY: links already mailed (unsubscribe) still work.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "bootstrap",
    "axes",
    "dealership",
    "leads",
    "inventory",
    "promotions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Staff pages in the language the person chose (the menu's switch), else their browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dealership.middleware.htmx_fragments",
    "dealership.middleware.personal_pages_not_stored",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dealership.urls"
WSGI_APPLICATION = "dealership.wsgi.application"

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
                "django.template.context_processors.csp",
                "dealership.context_processors.store",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url_config(
        _url(
            "DATABASE_URL",
            default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
            example="postgres://user:password@host:5432/name",
        )
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for the lock instead of failing, and take the write
    # lock when a transaction begins (a read lock upgraded later fails at once when another writes).
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dealership.auth_backends.StaffModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Reverse proxies in front of the application that append the visitor's address to X-Forwarded-For
# (README, "HTTPS"). 0: the address that connected, which behind a proxy is the proxy's own. In
# production the store's proxy is assumed (as SECURE_PROXY_SSL_HEADER assumes it): left at 0 behind
# it, every visitor would share one address, and the website's forms one small allowance.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0 if DEBUG else 1)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXIES: {TRUSTED_PROXIES} is not a number of proxies: 1 behind one, 0 without one."
    )

# Login throttling: lock a username+IP after repeated failures, for a cool-off. The IP is the
# visitor's as the rest of the product reads it (behind the proxy, not the proxy's).
AXES_CLIENT_IP_CALLABLE = "dealership.client_address.client_address"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sessions are read from the cache and written through to the database: a page does not wait on
# the database to know who is asking, and a restart of the cache logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Every web and worker process must share one cache (Redis in production), or a count one of them
# refreshed would stay stale in the others; one process on the embedded defaults keeps it in memory.
CACHES = {
    "default": env.cache_url_config(
        _url("CACHE_URL", default="locmemcache://", example="redis://:password@redis:6379/1")
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # While Redis is down or restarting, pages read everything from the database (dealership/cache.py),
    # and wait at most half a second for a server that does not answer (the URL may set its own).
    CACHES["default"]["BACKEND"] = "dealership.cache.RedisCacheSkippedWhenDown"
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        **CACHES["default"].get("OPTIONS", {}),
    }

# The store's language, en or fr: the site's default, and a customer's when their mail does not tell.
STORE_LANGUAGE = env.str("STORE_LANGUAGE", default="en").strip().lower()
if STORE_LANGUAGE not in ("en", "fr"):
    raise ImproperlyConfigured(f"STORE_LANGUAGE: {STORE_LANGUAGE!r} is neither en (English) nor fr (French).")
LANGUAGE_CODE = STORE_LANGUAGE
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = env.str("STORE_TIME_ZONE", default="America/Toronto")
if TIME_ZONE not in ("UTC", "Etc/UTC") and ("/" not in TIME_ZONE or TIME_ZONE.startswith("Etc/")):
    raise ImproperlyConfigured(
        f"STORE_TIME_ZONE: {TIME_ZONE!r} is not a region's time zone: EST and the like keep one offset all "
        "year, an hour off while daylight saving time is on. Name the store's region, such as "
        "America/Toronto, America/Halifax, America/Winnipeg, America/Edmonton or America/Vancouver."
    )
USE_I18N = True
# Translations of the pages under templates/ (each app keeps its own code's in <app>/locale).
LOCALE_PATHS = [BASE_DIR / "dealership" / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise looks for it at start-up
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Vehicle photos: how many one upload may hold, and the largest file accepted.
INVENTORY_PHOTOS_PER_UPLOAD = env.int("INVENTORY_PHOTOS_PER_UPLOAD", default=40)
INVENTORY_PHOTO_MAX_BYTES = env.int("INVENTORY_PHOTO_MAX_MB", default=30) * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content-Security-Policy: everything is served by the app itself.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Outgoing mail: SMTP when configured (and always in production, localhost:25 by default);
# in development without a server, messages are written to files under var/outbox.
SMTP_HOST = env.str("EMAIL_HOST", default="" if DEBUG else "localhost")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": SMTP_HOST,
                "port": env.int("EMAIL_PORT", default=25),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=False),
                "use_ssl": env.bool("EMAIL_USE_SSL", default=False),
                "timeout": env.int("EMAIL_TIMEOUT", default=30),
            },
        }
        if SMTP_HOST
        else {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "outbox")},
        }
    ),
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Maple Motors <internet@maplemotors.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The store's identity, printed on every commercial message and printed item.
STORE = {
    "name": env.str("STORE_NAME", default="Maple Motors"),
    "address": env.str("STORE_ADDRESS", default="1200 King Street West, Toronto, ON M6K 1G4"),
    "phone": env.str("STORE_PHONE", default="+1 416 555 0100"),
    "website": env.str("STORE_WEBSITE", default="https://www.maplemotors.example"),
    "province": env.str("STORE_PROVINCE", default="ON"),
}

# The address people reach this application at, for links in outgoing mail (unsubscribe).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Lead response clock: the first answer is due within RESPONSE_TARGET_MINUTES business minutes
# of the inquiry (the OEM target); the clock turns amber at RESPONSE_WARNING_MINUTES.
RESPONSE_TARGET_MINUTES = env.int("RESPONSE_TARGET_MINUTES", default=30)
RESPONSE_WARNING_MINUTES = env.int("RESPONSE_WARNING_MINUTES", default=15)
# Opening hours in the store time zone, Monday first: "9-21", "8:30-17:30" or "closed".
# "9-24" closes at midnight. Read once here: a malformed value stops start-up, not the inbox.
BUSINESS_HOURS = env.list("BUSINESS_HOURS", default=["9-21"] * 5 + ["9-17", "closed"])
try:
    parse_business_hours(BUSINESS_HOURS)
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from None


def _closed_day(item: str) -> str | date:
    """The word "holidays" or a date; anything else stops start-up, not the first response clock."""
    item = item.strip().lower()
    if item == "holidays":
        if STORE["province"] not in holidays.CA.subdivisions:
            raise ImproperlyConfigured(
                f'BUSINESS_CLOSED_DAYS: "holidays" needs STORE_PROVINCE to be a Canadian province or '
                f"territory ({', '.join(holidays.CA.subdivisions)}); got {STORE['province']!r}."
            )
        return item
    try:
        return date.fromisoformat(item)
    except ValueError:
        raise ImproperlyConfigured(
            f'BUSINESS_CLOSED_DAYS: {item!r} is neither "holidays" nor a date such as 2026-12-26.'
        ) from None


# Days the store is closed besides the weekly pattern: "holidays" (the public holidays of
# STORE_PROVINCE) and dates such as 2026-12-26. Empty: the weekly pattern alone.
BUSINESS_CLOSED_DAYS = [_closed_day(item) for item in env.list("BUSINESS_CLOSED_DAYS", default=["holidays"])]

# Mailboxes the workers poll: a list of URLs (imaps://, imap://, maildir://).
MAILBOX_URLS = env.list("MAILBOX_URL", default=[f"maildir://{VAR_DIR / 'mailbox'}"])
MAILBOX_POLL_SECONDS = env.float("MAILBOX_POLL_SECONDS", default=30.0)
# The first read of an IMAP folder leaves the mail already in it alone (the store's history), but
# for what reached it within the last day and nobody has read yet. True: it reads every message
# already there, once; mail that reached the mailbox over a day before it is read becomes a lead
# dated from its arrival, with no acknowledgement and no follow-up plan.
MAILBOX_READ_HISTORY = env.bool("MAILBOX_READ_HISTORY", default=False)
# Mail taken in is marked read in the mailbox (IMAP \Seen; a Maildir file's S flag). False: the read
# marks stay as the people who keep the mailbox open in their own mail client set them; the CRM
# knows what it has taken in by its checkpoint, not by the mark.
MAILBOX_MARK_READ = env.bool("MAILBOX_MARK_READ", default=True)
# An inbound attachment larger than this is recorded (name, type, size) but its content is not kept.
MAIL_ATTACHMENT_MAX_BYTES = env.int("MAIL_ATTACHMENT_MAX_BYTES", default=15 * 1024 * 1024)
# A poll then waits this long (IMAP IDLE; a Maildir is looked at every second) for new mail, and
# queues the next poll: one worker process stays on each mailbox. 0: only beat's polls.
MAILBOX_IDLE_SECONDS = env.float("MAILBOX_IDLE_SECONDS", default=25.0)
# A poller's hold on its mailbox lapses when not renewed for this long (a crashed worker).
MAILBOX_LOCK_SECONDS = env.float("MAILBOX_LOCK_SECONDS", default=60.0)
# Messages fetched and stored per transaction.
MAILBOX_FETCH_BATCH = env.int("MAILBOX_FETCH_BATCH", default=100)
# Larger messages are not read whole: their header and text make the lead, the rest stays in the mailbox.
MAIL_MAX_MESSAGE_BYTES = env.int("MAIL_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024)
# Time budget of processing one message, and when a message still waiting is queued again.
MAIL_PROCESS_SECONDS = env.int("MAIL_PROCESS_SECONDS", default=60)
MAIL_REQUEUE_SECONDS = env.float("MAIL_REQUEUE_SECONDS", default=300.0)

# Celery: an embedded filesystem broker by default, Redis in production.
CELERY_BROKER_URL = _url(
    "CELERY_BROKER_URL", default="filesystem://", example="redis://:password@redis:6379/0"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Several deployments (or test runs) may share one Redis.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": env.str("CELERY_KEY_PREFIX", default="")}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = TIME_ZONE
# Mailbox polls and routing have queues of their own (every worker consumes all, in turn): a
# backlog of mail being routed never holds back reading the mailbox, and a new inquiry is routed
# without waiting behind the acknowledgements and replies a backlog queued before it.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("celery", "mailbox", "routing")]
CELERY_TASK_ROUTES = {
    "leads.tasks.poll_mailbox*": {"queue": "mailbox"},
    "leads.tasks.process_inbound": {"queue": "routing"},
}
CELERY_BEAT_SCHEDULE: dict = {
    "poll-mailboxes": {
        "task": "leads.tasks.poll_mailboxes",
        "schedule": MAILBOX_POLL_SECONDS,
        "options": {"expires": MAILBOX_POLL_SECONDS},
    },
    # Follow-up plans: new leads in, finished plans stopped, due steps claimed and sent.
    "followup-dispatch": {"task": "leads.tasks.followup_dispatch_task", "schedule": 60.0},
    # Appointment reminders, the day before.
    "appointment-reminders": {"task": "leads.tasks.appointment_reminders_task", "schedule": 300.0},
    "leads-messages-sweep": {"task": "leads.tasks.messages_sweep_task", "schedule": 300.0},
    "loyalty-tasks-daily": {
        "task": "leads.tasks.loyalty_tasks_create_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "promotions-advance-daily": {
        "task": "promotions.tasks.promotions_advance_task",
        "schedule": crontab(hour=0, minute=5),
    },
    "promotions-campaigns-resume": {
        "task": "promotions.tasks.campaigns_resume_task",
        "schedule": timedelta(minutes=5),
    },
    "inventory-photos-stuck": {"task": "inventory.tasks.photos_stuck_sweep_task", "schedule": 300.0},
}

# Promotion email campaigns leave at a steady rate, in batches of this size.
PROMOTIONS_CAMPAIGN_PER_MINUTE = env.int("PROMOTIONS_CAMPAIGN_PER_MINUTE", default=120)
PROMOTIONS_CAMPAIGN_BATCH_SIZE = env.int("PROMOTIONS_CAMPAIGN_BATCH_SIZE", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Secure defaults whenever debug is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
