"""Online attendance: join links, platform webhooks, report imports, minutes attended."""

from flask import Blueprint

bp = Blueprint("online", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
