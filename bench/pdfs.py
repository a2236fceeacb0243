"""PDF timings, measured in-process against the bench database (DATABASE_URL), one mode per subprocess.

    python bench/pdfs.py on-demand   -> floor, badge and certificate on demand (ms per document, median): the
                                        first render (no stored copy yet, so laid out and stored), then the same
                                        document again, served from its stored copy
    python bench/pdfs.py bulk N      -> write_merged_pdf for N certificates: ms per certificate, the growth of
                                        the process's peak memory (ru_maxrss) while writing them, and the
                                        floor again, measured just before and after
    python bench/pdfs.py sheets N    -> write_badge_sheets for N delegates (four badges to an A4 page): ms per
                                        badge and the growth of the peak memory

Each prints one JSON object as its last line. Bulk and sheet runs get a fresh process each, so that the peak-memory
figures for 100 and 1,000 documents can be compared: memory that grows with the count shows there.

The floor is a trivial one-page document in the certificates' own fonts, rendered by the app's own renderer
(`html_to_pdf`, which `render_pdf` calls), so it pays exactly what every document of the app pays.
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa

FLOOR_HTML = """<!doctype html><html><head><meta charset="utf-8"><style>
@page { size: A4 landscape; margin: 10mm; }
html { font-family: "Noto Serif", "Noto Sans", "DejaVu Serif", serif; }
</style></head><body><h1>Certificate of attendance</h1><p>Amélie Dubois attended the Session.</p></body></html>"""

ACTOR_KEY, ACTOR_LABEL = "user:0", "bench"


def subsetter() -> str:
    """Which font subsetter WeasyPrint uses here: HarfBuzz's hb-subset when loadable (and >= 4.1), else fontTools."""
    import ctypes.util

    from weasyprint.text import ffi

    found = ctypes.util.find_library("harfbuzz-subset")
    if ffi.harfbuzz_subset is not None and ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        return f"HarfBuzz hb-subset ({found or 'libharfbuzz-subset'})"
    return "fontTools (libharfbuzz-subset not loadable)"


def _ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def render_floor() -> bytes:
    """The floor document through the app's own renderer (its WeasyPrint set-up, shared fonts and user-agent
    stylesheet), which is faster than stock WeasyPrint: a floor rendered the stock way would flatter the ratios."""
    from attendance.documents.pdf import html_to_pdf

    return html_to_pdf(FLOOR_HTML, "bench floor")


def floor_ms(repeats: int) -> list[float]:
    return [_ms(render_floor) for _ in range(repeats)]


def _session(slug: str):
    from attendance.extensions import db
    from attendance.models import MeetingSession

    return db.session.scalar(sa.select(MeetingSession).filter_by(slug=slug))


def _large_session():
    return _session("bench-large")


def certificate_pairs(count: int) -> list:
    """(certificate, eligibility) for `count` eligible registrations of the ended session, issued by the app.

    Not the large session's: its last day is today, and the app issues no certificate before a meeting ends."""
    from attendance.certificates.service import NotEligible, issue
    from attendance.extensions import db
    from attendance.models import Registration

    meeting = _session("bench-ended")
    registrations = db.session.scalars(
        sa.select(Registration).filter_by(session_id=meeting.id).order_by(Registration.id).limit(int(count * 1.2) + 10)
    ).all()
    pairs = []
    for registration in registrations:
        try:
            pairs.append(issue(registration))
        except NotEligible:  # a no-show on both days: take the next one
            continue
        if len(pairs) == count:
            break
    if len(pairs) < count:  # say so, rather than an IndexError or a smaller run under the same heading
        raise SystemExit(f"only {len(pairs)} of {count} certificates could be issued in {meeting.slug!r}")
    # issue() only flushes; as the app's views do, commit before rendering: the stored copy is written on a
    # connection of its own, which SQLite would keep waiting behind this session's open write.
    db.session.commit()
    return pairs


def on_demand(repeats: int) -> dict:
    """Floor, badge and certificate in turn, `repeats` times, so that other load on the machine weighs on each
    alike; the medians. Each badge and certificate is another delegate's (names in several scripts).

    `badge` and `certificate` are first renders: their stored copies are deleted before each, so WeasyPrint lays
    them out (and the copy is stored). `*_stored` asks for the same document again, served from that copy; the
    QR memo is cleared first, as for a worker that has not drawn this delegate's QR yet."""
    from attendance.certificates.render import certificate_pdf
    from attendance.documents.qr import qr_png_uri
    from attendance.extensions import db
    from attendance.models import Registration, StoredPdf
    from attendance.registration.badges import badge_pdf

    pairs = certificate_pairs(repeats + 1)  # first: its commit would expire the delegates loaded before it
    registrations = db.session.scalars(
        sa.select(Registration).filter_by(session_id=_large_session().id).order_by(Registration.id).limit(repeats + 1)
    ).all()

    # On connections of their own: a commit in the app's session would expire the delegates loaded in it.
    def forget_stored() -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.delete(StoredPdf))
        qr_png_uri.cache_clear()

    def stored_copies() -> dict:
        with db.engine.connect() as connection:
            return dict(connection.execute(sa.select(StoredPdf.kind, StoredPdf.created_at)).all())

    # The first document of each kind loads system fonts and compiles templates: not what a request pays.
    render_floor(), badge_pdf(registrations[-1]), certificate_pdf(*pairs[-1])
    times = {"floor": [], "badge": [], "certificate": [], "badge_stored": [], "certificate_stored": []}
    for i in range(repeats):
        times["floor"].append(_ms(render_floor))
        forget_stored()
        first = {}
        times["badge"].append(_ms(lambda: first.setdefault("badge", badge_pdf(registrations[i]))))
        times["certificate"].append(_ms(lambda: first.setdefault("certificate", certificate_pdf(*pairs[i]))))
        stored = stored_copies()
        qr_png_uri.cache_clear()
        again = {}
        times["badge_stored"].append(_ms(lambda: again.setdefault("badge", badge_pdf(registrations[i]))))
        times["certificate_stored"].append(_ms(lambda: again.setdefault("certificate", certificate_pdf(*pairs[i]))))
        # A render would have stored its copy anew: unchanged copies mean both came from the store.
        if len(stored) != 2 or stored_copies() != stored or again != first:
            raise SystemExit("the second request for a badge or certificate was not served from its stored copy")
    return {
        "subsetter": subsetter(),
        "repeats": repeats,
        **{f"{kind}_ms": statistics.median(values) for kind, values in times.items()},
    }


def _write_measured(write) -> dict:
    """`write(out)` into a temporary file: what it returned (the number of documents written), seconds, the
    growth of the process's peak memory, pages and bytes."""
    from pypdf import PdfReader

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        count = write(out)
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out.seek(0)
        pages = len(PdfReader(out, strict=True).pages)
        size = out.seek(0, 2)
    return {
        "count": count,
        "seconds": seconds,
        "pages": pages,
        "bytes": size,
        "baseline_mb": baseline_kb / 1024,
        "peak_growth_mb": (peak_kb - baseline_kb) / 1024,
    }


def bulk(count: int) -> dict:
    """The real `write_merged_pdf` of `count` issued certificates into a temporary file, in this fresh process."""
    from attendance.certificates import render

    pairs = certificate_pairs(count)
    # Fonts loaded and templates compiled before the baseline, as in a long-running server. By laying out a page:
    # certificate_pdf() may be served from the stored copy that the on-demand run left, and load nothing.
    render.write_merged_pdf(pairs[:1], io.BytesIO())
    floor = floor_ms(10)  # this run's own floor, measured just before and after it
    measured = _write_measured(lambda out: render.write_merged_pdf(pairs, out))
    floor += floor_ms(10)
    return {
        **measured,
        "floor_ms": statistics.median(floor),
        "batch": render.BATCH,
        "ms_per_certificate": measured["seconds"] * 1000 / max(measured["count"], 1),
    }


def sheets(count: int) -> dict:
    """The organiser's badge sheets (`write_badge_sheets`) of `count` delegates, in this fresh process."""
    from attendance.extensions import db
    from attendance.models import Registration
    from attendance.registration import badges

    registrations = db.session.scalars(
        sa.select(Registration).filter_by(session_id=_large_session().id).order_by(Registration.id).limit(count)
    ).all()
    badges.badge_sheet_pdf(registrations[:4])  # fonts loaded and templates compiled, as in a long-running server
    measured = _write_measured(lambda out: badges.write_badge_sheets(registrations, out))
    return {
        **measured,
        "batch": badges.SHEET_BATCH,
        "ms_per_badge": measured["seconds"] * 1000 / max(measured["count"], 1),
    }


def main(argv: list[str]) -> dict:
    from attendance import create_app

    app = create_app()
    with app.app_context(), app.test_request_context("/", base_url="http://127.0.0.1"):
        if argv[0] == "on-demand":
            return on_demand(int(argv[1]) if len(argv) > 1 else 15)
        if argv[0] == "bulk":
            return bulk(int(argv[1]))
        if argv[0] == "sheets":
            return sheets(int(argv[1]))
    raise SystemExit(f"unknown mode {argv[0]!r}: on-demand [REPEATS] | bulk N | sheets N")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
