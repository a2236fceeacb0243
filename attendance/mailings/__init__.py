"""Messages to registrants through the job queue: the automatic reminder before a session, and an organiser's
message to a group. Each person gets each once: one outbox row per registration, purpose and version."""

from flask import Blueprint

bp = Blueprint("mailings", __name__)

from . import views  # noqa: E402,F401  (routes attach to bp)
