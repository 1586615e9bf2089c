"""Settings shared by every mode. Everything that varies between machines comes from the
environment (config/env.py); development.py, test.py and production.py only change defaults.

DATABASE_URL set -> that Postgres; unset -> the embedded Postgres under .pgdata/.
REDIS_URL set -> Celery broker, results and the cache on Redis; unset -> eager Celery and an
in-memory cache.
"""

from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env
from core.export_formats import FORMATS as EXPORT_FORMATS_SAFE

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-9c1d4f0e7b2a4f63a8b5c6d7e8f9a0b1c2d3e4f5a6b7")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "import_export",
    "django_celery_beat",
    "core",
    "stores",
    "members",
    "loyalty",
    "coupons",
    "pos",
    "mall",
    "analytics",
    "mining",
    "feedback",
    "config.demo",
    "config",  # the composition root's wiring (config/apps.py)
]

MIDDLEWARE = [
    "core.middleware.HealthCheckMiddleware",
    "core.middleware.JsonApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.client_ip.ClientIpMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.NulRefusalMiddleware",
    "core.middleware.DatabaseBusyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.StaffMfaMiddleware",
]

# Paths under this prefix are machine APIs: every answer there is JSON, errors included.
JSON_API_PREFIX = "/api/"

# Runs of a transaction Postgres aborted with a deadlock or serialization failure before
# core.retry gives up with DatabaseBusy (503 on the POS API). docs/LOCKING.md.
DB_RETRY_TRIES = 3

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
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_postgres",
            "NAME": env("EMBEDDED_DB_NAME", default="mall"),
            "USER": "postgres",
            "HOST": str(env.path("EMBEDDED_PGDATA", default=str(BASE_DIR / ".pgdata"))),
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # one redis-py client per pool
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mall"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the tasks run in the caller's process, so the embedded mode needs no worker.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
CELERY_TASK_TIME_LIMIT = 35 * 60
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above the
# longest task so a running nightly job is not started a second time.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Authentication (staff: allauth with username or email; members: WeChat, later) ---------
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
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "backoffice:home"
ACCOUNT_ADAPTER = "core.auth.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_SESSION_REMEMBER = False
# How many reverse proxies under our control stand in front of the app, each appending to
# X-Forwarded-For (core/client_ip.py): 0 reads REMOTE_ADDR; 1 for nginx alone; 2 for a CDN or
# load balancer in front of nginx. Rate limits, lockouts and audit rows all depend on it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT  # StaffAccountAdapter reads core's helper
# allauth throttles failed logins per IP and per account through the cache.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Two-factor sign-in for staff (TOTP in an authenticator app, plus recovery codes). Staff of the
# roles in STAFF_MFA_ROLES cannot use the back office or the admin until they have set it up;
# production requires it of HQ administrators by default.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ALLOW_UNVERIFIED_EMAIL = True  # staff accounts are made by an administrator
STAFF_MFA_ROLES = env.list("STAFF_MFA_ROLES", default=[])

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Admin import and export (django-import-export) ----------------------------------------
# Exported cells that a spreadsheet would run as formulas (=HYPERLINK(…) typed as a name) are
# defused; core/export_formats.py widens import-export's own escaping to + - @ as well.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_FORMATS = EXPORT_FORMATS_SAFE
# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic writes (the image bakes it in; the benchmarks use a temporary one).
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Members' receipt photos: never under MEDIA_ROOT, so nothing that serves media can reach them;
# only views that check the staff member's scope or the owning member hand them out.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private_media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- WeChat (official account web authorization, JS-SDK, template messages) ---------------
# Without WECHAT_APP_ID the project talks to its fake WeChat server (manage.py fake_wechat),
# which `make run` starts on port 8011.
WECHAT_APP_ID = env("WECHAT_APP_ID", default="wx_fake_app")
WECHAT_SECRET = env("WECHAT_SECRET", default="fake-secret")
WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", default="http://127.0.0.1:8011/")
WECHAT_OAUTH_BASE_URL = env("WECHAT_OAUTH_BASE_URL", default="http://127.0.0.1:8011/connect/")
WECHAT_TIMEOUT = env.float("WECHAT_TIMEOUT", default=5.0)
WECHAT_NOTICE_TEMPLATE_ID = env("WECHAT_NOTICE_TEMPLATE_ID", default="fake_notice_template")

# --- Basket mining ------------------------------------------------------------------------
# "mlxtend" on this machine, or "spark" (the spark extra, Java, SPARK_MASTER): docs/MINING.md
MINING_ENGINE = env("MINING_ENGINE", default="mlxtend")

# --- SMS ---------------------------------------------------------------------------------
SMS_BACKEND = env("SMS_BACKEND", default="members.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_KEY = env("SMS_GATEWAY_KEY", default="")
SMS_SIGN = env("SMS_SIGN", default="星河购物中心")
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=5.0)
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5
SMS_RESEND_COOLDOWN_SECONDS = 60
SMS_DAILY_LIMIT_PER_PHONE = 10
SMS_DAILY_LIMIT_PER_IP = 30

# --- Marketing sends (analytics' group actions) ---------------------------------------------
# No marketing SMS or WeChat/inbox message goes out between these Shanghai times (the job waits
# until the end); coupons and tags are not held. At most CAP marketing touches (coupons, SMS,
# messages together; never verification codes or notices) per member in any DAYS days.
MARKETING_QUIET_HOURS = (
    env("MARKETING_QUIET_START", default="21:00"),
    env("MARKETING_QUIET_END", default="09:00"),
)
MARKETING_FREQUENCY_CAP = env.int("MARKETING_FREQUENCY_CAP", default=3)
MARKETING_FREQUENCY_DAYS = env.int("MARKETING_FREQUENCY_DAYS", default=7)

# --- Personal data -------------------------------------------------------------------------
# National ID numbers are encrypted with this key (base64 of 32 bytes; members/pii.py). The
# default is for development and tests only; production requires its own.
PII_ENCRYPTION_KEY = env(
    "PII_ENCRYPTION_KEY", default="ZGV2ZWxvcG1lbnQtb25seS1waWkta2V5LTMyYnl0ZXM="
)

# --- The POS API -----------------------------------------------------------------------------
# GET members/resolve: at most this many lookups per terminal in each window (then 429 with
# Retry-After). Lookups by phone are written to the audit log, the phone masked.
POS_RESOLVE_RATE_LIMIT = env.int("POS_RESOLVE_RATE_LIMIT", default=60)
POS_RESOLVE_RATE_WINDOW = env.int("POS_RESOLVE_RATE_WINDOW", default=60)  # seconds

# --- The mall -------------------------------------------------------------------------------
# Receipts older than this many days (counted back from now, an instant: not a local date)
# earn no points: the POS API refuses them, import_receipts records them without points.
RECEIPT_EARN_WINDOW_DAYS = env.int("RECEIPT_EARN_WINDOW_DAYS", default=90)
MALL_NAME = env("MALL_NAME", default="星河购物中心")
MFA_TOTP_ISSUER = MALL_NAME  # the account's name in the staff member's authenticator app

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"pii": {"()": "core.logging.PiiMaskFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["pii"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}
