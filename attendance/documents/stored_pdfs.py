"""A delegate's badge and certificate PDFs, served from a stored copy while what they show is unchanged.

The copy is kept with a fingerprint of all that decides the PDF: its HTML (every field printed, the QR, the
language), the stylesheets, the renderer, WeasyPrint's version and the installed fonts. A request renders the HTML
(about a millisecond) and hashes it; only when the fingerprint differs does it pay for the layout (tens of ms).
So any change of the data invalidates the copy by itself: there is no invalidation hook to forget.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from functools import cache, lru_cache
from pathlib import Path

import sqlalchemy as sa
import weasyprint
from flask import current_app, render_template

from ..clock import utcnow
from ..dbutil import serialized_writes, upsert
from ..extensions import db
from ..models import PdfKind, Registration, StoredPdf
from . import pdf, weasyprint_ua

log = logging.getLogger(__name__)


def stored_pdf(kind: PdfKind, registration: Registration, template: str, **context) -> bytes:
    """`template` rendered with `context` as a PDF: the stored copy when its fingerprint matches, else rendered
    and stored. A failure to read or store the copy is logged and costs only the time to render."""
    html = render_template(template, **context)
    if registration.id is None:  # not saved yet: nothing to store it with
        return pdf.html_to_pdf(html, template)
    fingerprint = _fingerprint(html)
    try:
        stored = _lookup(kind, registration.id, fingerprint)
    except Exception:
        _failed("read", kind, registration)
        stored = None
    if stored is not None:
        return stored
    document = pdf.html_to_pdf(html, template)
    try:
        _store(kind, registration.id, fingerprint, document)
    except Exception:
        _failed("write", kind, registration)
    return document


def _fingerprint(html: str) -> str:
    digest = hashlib.sha256(_environment_digest())
    digest.update(html.encode())
    return digest.hexdigest()


def _lookup(kind: PdfKind, registration_id: int, fingerprint: str) -> bytes | None:
    # A connection of its own, as in _store: a failure here never spoils the caller's transaction.
    with db.engine.connect() as connection:
        return connection.scalar(
            sa.select(StoredPdf.pdf).where(
                StoredPdf.registration_id == registration_id,
                StoredPdf.kind == kind,
                StoredPdf.fingerprint == fingerprint,
            )
        )


def _store(kind: PdfKind, registration_id: int, fingerprint: str, document: bytes) -> None:
    """Inserts or replaces the copy in a transaction of its own, so it never commits the caller's changes.

    Two first requests at once both render and both write; ON CONFLICT makes the second an update rather than an
    error, and whichever wins, a copy whose fingerprint no longer matches is simply rendered again.
    """
    statement = upsert(StoredPdf.__table__, ["registration_id", "kind"], ["fingerprint", "pdf", "created_at"])
    with serialized_writes(), db.engine.begin() as connection:
        connection.execute(
            statement,
            {
                "kind": kind,
                "registration_id": registration_id,
                "fingerprint": fingerprint,
                "pdf": document,
                "created_at": utcnow(),
            },
        )


def _failed(action: str, kind: PdfKind, registration: Registration) -> None:
    """Called while handling the failure: in tests it raises it again, so that none goes unnoticed."""
    if current_app.testing:
        raise
    log.exception(
        "Could not %s the stored %s PDF of registration %s; the delegate gets a fresh render",
        action,
        kind,
        registration.id,
    )


def _environment_digest() -> bytes:
    """What besides the HTML decides a PDF's bytes: the stylesheets the templates link (read again when one
    changes, as the renderer parses them again), the renderer's own code (its options), WeasyPrint's version and
    the fonts fontconfig offers it (read once per process)."""
    stylesheets = sorted(Path(current_app.static_folder).glob("*.css"))
    return _digest(tuple((str(path), path.stat().st_mtime_ns) for path in stylesheets))


@lru_cache(maxsize=16)
def _digest(stylesheets: tuple[tuple[str, int], ...]) -> bytes:
    digest = hashlib.sha256(_process_digest())
    for path, _modified in stylesheets:
        digest.update(Path(path).name.encode() + b"\n" + Path(path).read_bytes())
    return digest.digest()


@cache
def _process_digest() -> bytes:
    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}\n".encode())
    for renderer in (pdf, weasyprint_ua):  # its options and its user-agent stylesheet
        digest.update(Path(renderer.__file__).read_bytes())
    digest.update(_installed_fonts().encode())
    return digest.digest()


def _installed_fonts() -> str:
    """The font files fontconfig knows: installing a font (for a script that printed as boxes) renders anew."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ""
    try:
        listing = subprocess.run(
            [fc_list, "--format", "%{file}\n"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        log.warning("fc-list failed: a font installed later will not refresh stored badges and certificates")
        return ""
    return "\n".join(sorted(set(listing.splitlines())))
