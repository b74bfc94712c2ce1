"""Configuration classes; every variable the platform reads is listed and explained here.

Values come from the environment. Development defaults are safe for one person on one machine;
``ProductionConfig`` refuses to start without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    """Read an environment flag: 1/true/yes/on mean True."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - the public development value production refuses


class Config:
    """Base configuration, read from the environment with development defaults."""

    #: Signs sessions and CSRF tokens. Development uses a fixed, public value; production must set it.
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    #: SQLAlchemy URL. Default: a SQLite file in the instance folder (WAL mode is switched on at connect).
    #: PostgreSQL: ``postgresql+psycopg://user:password@host:5432/dbname``.
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL"
    )  # None -> instance/itsm.sqlite (set in create_app)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    #: Folder of the BPMN and DMN files deployed at start-up.
    PROCESSES_DIR = os.environ.get("PROCESSES_DIR", str(BASE_DIR / "processes"))
    #: Folder of the user-task form definitions (JSON Schema plus display hints).
    FORMS_DIR = os.environ.get("FORMS_DIR", str(BASE_DIR / "forms"))
    #: Start the in-process APScheduler that wakes timer and outbox services. Off in tests.
    SCHEDULER_ENABLED = _bool("SCHEDULER_ENABLED", False)
    #: Languages of the UI; the first is the fallback. Chosen per user, else from Accept-Language.
    LANGUAGES = ["zh_CN", "en"]
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    #: Time zone in which dates are shown when a user has not chosen one.
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai")
    #: Rows per page in the inbox and the lists.
    PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "25"))
    #: Script tasks: CPU seconds, wall seconds and memory (MiB) each run may use.
    SCRIPT_CPU_SECONDS = int(os.environ.get("SCRIPT_CPU_SECONDS", "2"))
    SCRIPT_WALL_SECONDS = float(os.environ.get("SCRIPT_WALL_SECONDS", "5"))
    SCRIPT_MEMORY_MB = int(os.environ.get("SCRIPT_MEMORY_MB", "256"))
    #: werkzeug password hash method; the default is deliberately slow (scrypt).
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    #: Key of the HMAC on the audit checkpoint (kept outside the database). Default: derived from SECRET_KEY.
    AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY")
    #: File holding the signed audit checkpoint; default instance/audit-checkpoint.json.
    AUDIT_CHECKPOINT_PATH = os.environ.get("AUDIT_CHECKPOINT_PATH")
    #: Largest request body accepted (bytes); room for a few knowledge attachments of at most 5 MiB each.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)))
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    TESTING = False


class TestingConfig(Config):
    """Configuration for the test suite: in-memory SQLite unless a test passes a URL, CSRF on."""

    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105 - fixed value for tests only
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SCHEDULER_ENABLED = False
    SCRIPT_WALL_SECONDS = 5.0
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a method name; fast hashes keep tests quick
    #: A write to SQLite outside a service command raises (app/services/core/unit.py) instead of a log line.
    SQLITE_STRICT_WRITES = True


class ProductionConfig(Config):
    """Production: secure cookies, and no start without a real SECRET_KEY."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY")
        if not secret or secret == DEV_SECRET or len(secret) < 16:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 16 characters in production."
            )
        self.SECRET_KEY = secret


def config_from_env() -> type[Config] | Config:
    """Pick the configuration named by APP_ENV (development, production)."""
    if os.environ.get("APP_ENV", "development") == "production":
        return ProductionConfig()
    return Config
