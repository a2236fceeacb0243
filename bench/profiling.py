"""cProfile of one measured path, in-process, against a seeded bench database (DATABASE_URL), to find causes.

    DATABASE_URL=sqlite:////tmp/attendance-bench-XXXX/bench.sqlite3 SECRET_KEY=x \
        .venv/bin/python bench/profiling.py WHAT [N] [--sort tottime|cumulative] [--lines 30]

WHAT is one of: checkin (N check-ins through the Flask test client, as gunicorn's workers run them), healthz,
register (N registration form posts), badge, certificate (N PDFs on demand), bulk (write_merged_pdf of N
certificates), headcount-pdf (N headcount PDFs). For PDFs it also prints the share of each stage (templates,
QR codes, CSS, layout, drawing, PDF writing, merging); for all it counts the SQL statements.

Use a database kept by `bench/run.py --keep`: check-ins use badges of the large session that the run has not
scanned yet, so that each is today's first scan of that badge, a new check-in.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _large_session():
    from attendance.extensions import db
    from attendance.models import MeetingSession

    return db.session.scalar(sa.select(MeetingSession).filter_by(slug="bench-large"))


def prepare(what: str, n: int, app):
    """Returns the action to profile, after a warm-up run of it outside the profile."""
    from attendance.api.tokens import create_api_token
    from attendance.extensions import db
    from attendance.models import Attendance, Registration, SessionDay

    if what in ("checkin", "healthz", "register"):
        client = app.test_client()
        if what == "healthz":
            return lambda: [client.get("/healthz") for _ in range(n)]
        if what == "register":
            from attendance.models import MeetingSession

            meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="bench-open"))
            types, regions = [t.id for t in meeting.entity_types], [r.id for r in meeting.regions]
            counter, run = iter(range(10**9)), secrets.token_hex(3)

            def register():
                for _ in range(n):
                    i = next(counter)
                    page = client.get("/sessions/bench-open/register").get_data()
                    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
                    client.post(
                        "/sessions/bench-open/register",
                        data={
                            "csrf_token": token,
                            "full_name": f"Profile {i}",
                            "email": f"profile.{run}.{i}@example.org",
                            "organisation": "ROCB",
                            "country": "BE",
                            "entity_type": types[0],
                            "region": regions[0],
                            "mode": "in_person",
                            "consent": "y",
                        },
                    )

            return register
        _record, token = create_api_token("Profile scanner")
        db.session.commit()
        meeting = _large_session()
        today = db.session.scalar(
            sa.select(SessionDay.id).filter_by(session_id=meeting.id).order_by(SessionDay.date.desc()).limit(1)
        )
        scanned = sa.select(Attendance.registration_id).where(Attendance.day_id == today)
        badges = iter(
            db.session.scalars(
                sa.select(Registration.badge_token).where(
                    Registration.session_id == meeting.id, Registration.id.not_in(scanned)
                )
            ).all()
        )
        headers = {"Authorization": f"Bearer {token}"}
        db.session.remove()  # the requests use their own sessions, as in the server
        scans = (
            {"token": badge, "session": meeting.slug, "door": "Door 1", "nonce": f"profile-{badge}"} for badge in badges
        )  # as the scanner page sends them
        return lambda: [client.post("/api/v1/checkins", json=next(scans), headers=headers) for _ in range(n)]

    import pdfs

    def laid_out(render):
        """Without the stored copies and QR codes that the warm-up leaves: every document is made from scratch."""
        from attendance.documents.qr import qr_png_uri
        from attendance.models import StoredPdf

        def action():
            with db.engine.begin() as connection:
                connection.execute(sa.delete(StoredPdf))
            qr_png_uri.cache_clear()
            return render()

        return action

    if what == "badge":
        from attendance.registration.badges import badge_pdf

        registrations = db.session.scalars(
            sa.select(Registration).filter_by(session_id=_large_session().id).limit(n)
        ).all()
        return laid_out(lambda: [badge_pdf(r) for r in registrations])
    if what in ("certificate", "bulk"):
        from attendance.certificates.render import certificate_pdf, write_merged_pdf

        pairs = pdfs.certificate_pairs(n)
        if what == "certificate":
            return laid_out(lambda: [certificate_pdf(*pair) for pair in pairs])
        return lambda: write_merged_pdf(pairs, io.BytesIO())
    if what == "headcount-pdf":
        from attendance.reports.formats import to_pdf
        from attendance.reports.headcount import headcount

        report = headcount(_large_session())
        return lambda: [to_pdf(report) for _ in range(n)]
    raise SystemExit(f"unknown: {what}")


# Where a PDF's time goes: (label, file suffix, function name); the cumulative time of each, as a share.
STAGES = [
    ("app: Jinja templates", "flask/templating.py", "render_template"),
    ("app: QR codes (qrcode)", "attendance/documents/qr.py", "qr_code"),
    ("WeasyPrint: HTML parsing", "tinyhtml5/parser.py", "parse"),
    ("WeasyPrint: the app's stylesheet, parsed", "weasyprint/css/__init__.py", "find_stylesheets"),
    ("WeasyPrint: cascade (incl. the parsing)", "weasyprint/css/__init__.py", "get_all_computed_styles"),
    ("WeasyPrint: box tree", "weasyprint/formatting_structure/build.py", "build_formatting_structure"),
    ("WeasyPrint: layout", "weasyprint/layout/__init__.py", "layout_document"),
    ("WeasyPrint: drawing", "weasyprint/draw/__init__.py", "draw_page"),
    ("WeasyPrint: PDF writing (incl. subsetting)", "weasyprint/document.py", "write_pdf"),
    ("WeasyPrint: font subsetting", "weasyprint/pdf/fonts.py", "subset"),
    ("pypdf: merging", "pypdf/_writer.py", "append"),
    ("pypdf: writing", "pypdf/_writer.py", "write"),
]


def print_stages(stats: pstats.Stats) -> None:
    total = max(cumulative for (_calls, _prim, _tt, cumulative, _callers) in stats.stats.values())
    print(f"Stages (cumulative share of {total:.2f} s under the profiler):")
    for label, suffix, name in STAGES:
        times = [
            entry[3]
            for (filename, _line, function), entry in stats.stats.items()
            if filename.endswith(suffix) and function == name
        ]
        if times:
            print(f"  {label:<45} {max(times) / total:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what")
    parser.add_argument("n", type=int, nargs="?", default=20)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=30)
    args = parser.parse_args()

    from attendance import create_app

    # Confirmation mails of `register` go to a temp dir, never to the repo's instance/outbox.
    app = create_app(
        {
            "RATELIMIT_ENABLED": bool(os.environ.get("PROFILE_RATELIMIT")),
            "RATELIMIT_STORAGE_URI": os.environ.get("PROFILE_RATELIMIT", "memory://"),
            "SMTP_HOST": "",
            "OUTBOX_DIR": tempfile.mkdtemp(prefix="attendance-profile-outbox-"),
        }
    )
    with app.app_context(), app.test_request_context("/", base_url="http://127.0.0.1"):
        from attendance.documents.pdf import font_config

        font_config()
        action = prepare(args.what, args.n, app)
        if args.what not in ("checkin", "register"):
            action()  # warm-up: fonts, templates, SQL caches
        from attendance.extensions import db

        statements = []
        sa.event.listen(
            db.engine, "before_cursor_execute", lambda _conn, _cursor, statement, *_rest: statements.append(statement)
        )
        profiler = cProfile.Profile()
        profiler.enable()
        action()
        profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.lines)
    if args.what in ("badge", "certificate", "bulk", "headcount-pdf"):
        print_stages(stats)
    if statements:
        print(f"{len(statements)} SQL statements, {len(statements) / args.n:.1f} per unit; the first unit's:")
    for statement in statements[: len(statements) // args.n]:
        print("   ", " ".join(statement.split())[:150])


if __name__ == "__main__":
    main()
