"""Self-registration and the delegate's own page."""

from flask import Blueprint

bp = Blueprint("registration", __name__)

from . import find, invitation_views, views  # noqa: E402,F401  (routes attach to bp)
