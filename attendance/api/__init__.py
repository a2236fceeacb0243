"""The JSON API under /api/v1: thin over the same domain functions the pages use."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import kiosk, views  # noqa: E402,F401  (routes attach to bp)
