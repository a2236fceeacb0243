"""Organisers' pages: setting up sessions and their vocabularies, and managing registrations."""

from flask import Blueprint

bp = Blueprint("organiser", __name__)

from . import approvals, door_staff, import_views, invitation_views, registrations, sessions  # noqa: E402,F401  (routes attach to bp)
