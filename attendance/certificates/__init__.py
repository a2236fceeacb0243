"""Attendance certificates: who may have one, the PDF, public verification, bulk export."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
