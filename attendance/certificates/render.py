"""Certificate PDFs: one on demand, or many for bulk export without holding them all in memory."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from typing import BinaryIO

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from ..countries import country_name
from ..documents.pdf import render_pdf
from ..documents.pdf_concat import PdfConcatenator, batches
from ..documents.qr import qr_png_uri
from ..documents.stored_pdfs import stored_pdf
from ..links import public_url
from ..models import Certificate, PdfKind
from .service import Eligibility, certificate_language, day_statement

#: certificates laid out per WeasyPrint document in bulk: a larger batch spreads a document's own costs (fonts
#: subset and embedded, the PDF written and read back) over more pages, and holds more layout. Measured per
#: certificate (CPU, 200 certificates): 30.0 ms in batches of 50, 26.2 in batches of 100, 25.4 in batches of 200;
#: peak memory +63, +71 and +89 MB.
BATCH = 100


def certificate_context(certificate: Certificate, result: Eligibility, document_language: str | None = None) -> dict:
    registration = certificate.registration
    verify_url = public_url("certificates.verify", public_id=certificate.public_id)
    language = certificate_language(certificate)
    return {
        "certificate": certificate,
        "registration": registration,
        "meeting": registration.session,
        "result": result,
        "country": country_name(registration.country, language),
        "language": language,
        "document_language": document_language,
        "verify_url": verify_url,
        "qr": qr_png_uri(verify_url, fixed_mask=True),
        "statement": day_statement,
    }


def _section(certificate: Certificate, result: Eligibility, document_language: str | None = None) -> Markup:
    """One certificate's page, in its own language (a merged PDF may mix languages). It names its language unless
    the whole document is in it (`document_language`)."""
    context = certificate_context(certificate, result, document_language)
    with force_locale(context["language"]):
        return Markup(render_template("certificates/_certificate.html", c=context))


def certificate_pdf(certificate: Certificate, result: Eligibility) -> bytes:
    """In the certificate's language whoever asks for it, as the bulk export makes it; served from the stored copy
    while nothing printed on it (days, hours, names, language...) changed."""
    language = certificate_language(certificate)
    with force_locale(language):
        return stored_pdf(
            PdfKind.CERTIFICATE,
            certificate.registration,
            "certificates/certificate.html",
            sections=[_section(certificate, result, language)],
        )


def write_merged_pdf(
    pairs: Iterable[tuple[Certificate, Eligibility]], out: BinaryIO, progress: Callable[[int], None] = lambda n: None
) -> int:
    """All certificates as one PDF, a page each. Rendered in batches, each written to `out` as soon as it is
    laid out: memory holds one batch, whatever the number of certificates."""
    merged, count = PdfConcatenator(out), 0
    for batch in batches(pairs, BATCH):
        language = certificate_language(batch[0][0])  # the batch's document: its sections in it name no language
        with force_locale(language):
            merged.add(
                render_pdf("certificates/certificate.html", sections=[_section(c, r, language) for c, r in batch])
            )
        count += len(batch)
        progress(len(batch))
    merged.close()
    return count


def filename_for(certificate: Certificate) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in certificate.registration.full_name)[:60].strip("-")
    return f"{certificate.public_id}-{safe or 'certificate'}.pdf"


def write_zip(
    pairs: Iterable[tuple[Certificate, Eligibility]], out: BinaryIO, progress: Callable[[int], None] = lambda n: None
) -> int:
    """One PDF per certificate in a ZIP, written as they are made."""
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate, result in pairs:
            archive.writestr(filename_for(certificate), certificate_pdf(certificate, result))
            count += 1
            progress(1)
    return count
