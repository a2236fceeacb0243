"""Custom registration questions per session, their answers and summary, and visa support letters."""

from flask import Blueprint

bp = Blueprint("questions", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
