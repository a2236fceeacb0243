"""Settings from the environment. SQLite in `instance/` unless DATABASE_URL names another database."""

import os
import secrets
from pathlib import Path


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{instance_path / 'attendance.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: a shorter key can be guessed offline from one signed cookie, and then any login forged
MIN_SECRET_KEY_BYTES = 32


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY", "")
    if production and key and len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"SECRET_KEY is too short ({len(key.encode())} bytes). In production (ATTENDANCE_ENV=production) it must "
            f"be at least {MIN_SECRET_KEY_BYTES} bytes: generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    if key:
        return key
    if production:
        raise RuntimeError(
            "SECRET_KEY is not set. In production (ATTENDANCE_ENV=production) the app refuses to start "
            "without one: generate it with `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    # Development: make one once and keep it, so logins survive a restart.
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _ratelimit_storage() -> str:
    """Where the rate limits count: RATELIMIT_STORAGE_URI, else the job queue's Redis when JOBS_URL names one (as
    in production), else each process's memory (`memory://`: with several gunicorn workers, each counts alone, so
    two workers allow twice the configured rate)."""
    jobs_url = os.environ.get("JOBS_URL", "")
    shared = jobs_url if jobs_url.startswith(("redis://", "rediss://")) else "memory://"
    return os.environ.get("RATELIMIT_STORAGE_URI") or shared


def load_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    production = os.environ.get("ATTENDANCE_ENV", "development") == "production"
    return {
        "PRODUCTION": production,
        "SECRET_KEY": _secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        # Absolute base for links in emails and PDFs, e.g. https://meet.example.org
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").rstrip("/"),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", True),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Meeting secretariat <noreply@example.org>"),
        "OUTBOX_DIR": os.environ.get("OUTBOX_DIR") or str(instance_path / "outbox"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        #: how many reverse proxies stand in front of the app (their X-Forwarded-* headers are trusted)
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # The job queue: empty for SQLite storage in instance/jobs.sqlite3 (make run starts a worker beside the
        # server), redis://host:6379/0 in production (any number of workers, on any machine).
        "JOBS_URL": os.environ.get("JOBS_URL", ""),
        #: the queue's name, also its key prefix in Redis
        "JOBS_NAME": os.environ.get("JOBS_NAME", "attendance"),
        #: run jobs at once in the process that asks for them (tests; a single-process demo)
        "JOBS_IMMEDIATE": _env_bool("JOBS_IMMEDIATE", False),
        "JOBS_RETRIES": int(os.environ.get("JOBS_RETRIES", "4")),
        #: seconds before the first retry of a failed job, doubled at each next one
        "JOBS_RETRY_DELAY": int(os.environ.get("JOBS_RETRY_DELAY", "30")),
        #: a job or mail claimed longer ago than this is taken back: its worker died
        "JOB_LEASE_SECONDS": int(os.environ.get("JOB_LEASE_SECONDS", "1800")),
        "MAIL_LEASE_SECONDS": int(os.environ.get("MAIL_LEASE_SECONDS", "600")),
        #: where bulk exports are built for download
        "EXPORTS_DIR": os.environ.get("EXPORTS_DIR") or str(instance_path / "exports"),
        #: a finished export's file is deleted after so many days (the names in it are personal data)
        "EXPORTS_KEPT_DAYS": int(os.environ.get("EXPORTS_KEPT_DAYS", "7")),
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(),
        # Redis down: each process counts alone for a while rather than every limited request failing
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "attendance"),
        # No X-RateLimit-* headers on every limited answer: they cost two more Redis round trips per check-in (the
        # counter's value and its expiry), and no client of ours reads them. A refusal says when to retry
        # (Retry-After, set by the 429 handler).
        "RATELIMIT_HEADERS_ENABLED": False,
    }
