"""Reports for organisers: the headcount per entity type and region, in person and online."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
