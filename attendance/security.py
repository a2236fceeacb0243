"""Response headers that every page gets, and the stricter ones for secret links."""

import logging
import re
from functools import wraps

from flask import Flask, make_response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Pages whose camera reads badges with the vendored ZXing-C++ WebAssembly may compile it; no other page may.
CAMERA_PAGE_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
SECRET_LINK_PREFIXES = ("/me/", "/join/", "/invitations/")


def reads_badges_with_camera(view):
    """Sends CAMERA_PAGE_POLICY with the view's page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = CAMERA_PAGE_POLICY
        return response

    return wrapped


def init_app(app: Flask) -> None:
    redact_request_logs(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: the client's address (rate limits) and https come from its headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap it
            app.wsgi_app,
            x_for=app.config["TRUSTED_PROXIES"],
            x_proto=app.config["TRUSTED_PROXIES"],
            x_host=app.config["TRUSTED_PROXIES"],
        )

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if request.path.startswith(SECRET_LINK_PREFIXES):
            # The access key is in the URL: no page we link to may learn it.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "private, no-store"
        else:
            response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["PRODUCTION"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response


_SECRET_IN_PATH = re.compile(r"/(me|join|invitations)/([A-Za-z0-9_-]{6})[A-Za-z0-9_-]+")


class RedactSecretLinks(logging.Filter):
    """Cuts access keys in logged request lines (werkzeug's, gunicorn's) to their first characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_IN_PATH.sub(r"/\1/\2…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_request_logs(app: Flask) -> None:
    """On the loggers that write request paths, and on the root handlers every logger ends in (Flask's
    "Exception on /me/<key>" lines among them)."""
    for logger in (logging.getLogger("werkzeug"), logging.getLogger("gunicorn.access"), app.logger):
        logger.addFilter(RedactSecretLinks())
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecretLinks())
