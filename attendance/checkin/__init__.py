"""Door check-in: the scanner page, the check-in rules, live attendance and the scan log."""

from flask import Blueprint

bp = Blueprint("checkin", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
