"""Badges: one A6 PDF per delegate, and A4 sheets of four for printing in bulk."""

from collections.abc import Callable, Sequence
from typing import BinaryIO

from flask_babel import force_locale, gettext

from ..countries import country_name
from ..documents.pdf import render_pdf
from ..documents.pdf_concat import PdfConcatenator, batches
from ..documents.qr import qr_png_uri
from ..documents.stored_pdfs import stored_pdf
from ..formatting import format_days
from ..models import PdfKind, Registration
from ..text import is_wide
from ..tokens import grouped_badge_code


def why_no_badge(registration: Registration, *, to_delegate: bool = False) -> str | None:
    """Why `registration` has no badge, in words (to the delegate themselves, or to staff), or None when it has."""
    if registration.is_cancelled:
        return gettext("This registration is cancelled, so it has no badge.")
    if registration.waits_without_seat:
        if to_delegate:
            return gettext(
                "You are on the waiting list: no seat yet, so no badge. We email it to you when a seat is yours."
            )
        return gettext("On the waiting list: no seat yet, so no badge until a seat is theirs.")
    if not registration.is_registered:
        return gettext("This registration is not approved, so it has no badge.")
    return None


def badge_context(registration: Registration) -> dict:
    """A badge's words, in the language its delegate registered in: on an organiser's sheet as on their own badge."""
    with force_locale(registration.locale):
        return {
            "registration": registration,
            "lang": registration.locale,
            "mode": registration.mode.label,
            "role": registration.role.label,
            "dates": format_days(registration.session.days),
            "country": country_name(registration.country, registration.locale),
            "qr": qr_png_uri(registration.badge_token),
            "code": grouped_badge_code(registration.badge_token),
            "name_length": _length_class(registration.full_name, NAME_LENGTHS),
            "organisation_length": _length_class(registration.organisation, ORGANISATION_LENGTHS),
        }


#: Names and organisations wider than these print smaller (badge.css), each in at most so many lines, so that
#: every line of the badge stays above its QR code up to the form's 200 characters.
NAME_LENGTHS = {"long": 32, "longer": 60, "longest": 110}
ORGANISATION_LENGTHS = {"long": 50, "longest": 110}


def _length_class(text: str, lengths: dict[str, int]) -> str:
    """The class of the longest of `lengths` that `text` is wider than, or ''."""
    width = _text_width(text)
    return next((name for name, limit in reversed(lengths.items()) if width > limit), "")


def _text_width(text: str) -> float:
    """About how wide `text` prints, in widths of a lower-case Latin letter: a capital is wider, a CJK
    character about two."""
    return sum(2 if is_wide(c) else 1.3 if c.isupper() else 1 for c in text)


def badge_pdf(registration: Registration) -> bytes:
    """In the language the delegate registered in; served from the stored copy while nothing on it changed."""
    with force_locale(registration.locale):
        return stored_pdf(
            PdfKind.BADGE, registration, "badges/badge.html", badges=[badge_context(registration)], sheet=False
        )


#: badges laid out per WeasyPrint document on sheets: a multiple of four, so that every batch fills its pages.
#: One document for all took +150 MB at 1,000 badges, and grew with them.
SHEET_BATCH = 100


def badge_sheet_pdf(registrations: Sequence[Registration]) -> bytes:
    """Four A6 badges to an A4 page, for cutting along the grey lines."""
    return render_pdf("badges/badge.html", badges=[badge_context(r) for r in registrations], sheet=True)


def write_badge_sheets(
    registrations: Sequence[Registration], out: BinaryIO, progress: Callable[[int], None] = lambda n: None
) -> int:
    """All the badges on A4 sheets, as one PDF written to `out` batch by batch: memory holds one batch. Returns
    the number of badges."""
    merged = PdfConcatenator(out)
    for batch in batches(registrations, SHEET_BATCH):
        merged.add(badge_sheet_pdf(batch))
        progress(len(batch))
    merged.close()
    return len(registrations)
