"""Badges: one A6 PDF per delegate, and A4 sheets of four for printing in bulk."""
from collections.abc import Sequence

from flask_babel import force_locale

from ..countries import country_name
from ..models import PdfKind, Registration
from ..pdf import render_pdf
from ..qr import qr_png_uri
from ..stored_pdfs import stored_pdf


def badge_context(registration: Registration) -> dict:
    return {
        "registration": registration,
        "country": country_name(registration.country, registration.locale),
        "qr": qr_png_uri(registration.badge_token),
    }


def badge_pdf(registration: Registration) -> bytes:
    """In the language the delegate registered in; served from the stored copy while nothing on it changed."""
    with force_locale(registration.locale):
        return stored_pdf(PdfKind.BADGE, registration, "badges/badge.html",
                          badges=[badge_context(registration)], sheet=False)


def badge_sheet_pdf(registrations: Sequence[Registration]) -> bytes:
    """Four A6 badges to an A4 page, for cutting along the grey lines."""
    return render_pdf("badges/badge.html", badges=[badge_context(r) for r in registrations], sheet=True)
