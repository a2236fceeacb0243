"""The on-site desk: door staff find a delegate by name, reprint or replace their badge, and register walk-ins."""

from flask import Blueprint

bp = Blueprint("desk", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
