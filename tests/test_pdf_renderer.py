"""The shared WeasyPrint renderer: stylesheets parsed once per process, and a user-agent stylesheet that WeasyPrint
really uses, without losing what our PDFs need from it."""

import pytest
import weasyprint
from pdf_tools import A6_POINTS, page_sizes, pdf_text

from attendance.documents import pdf, weasyprint_ua


def test_a_linked_stylesheet_is_parsed_once_and_still_applies(app, make_session, make_registration, monkeypatch):
    parsed = []

    class CountingCSS(pdf.CSS):
        def __init__(self, *args, **kwargs):
            parsed.append(kwargs.get("filename"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pdf, "CSS", CountingCSS)
    monkeypatch.setattr(pdf, "_stylesheets", {})
    meeting = make_session()
    first, second = (make_registration(meeting) for _ in range(2))
    with app.test_request_context():
        documents = [
            pdf.render_pdf(
                "badges/badge.html", badges=[{"registration": r, "country": "Belgium", "qr": ""}], sheet=False
            )
            for r in (first, second)
        ]
    assert [path.rsplit("/", 1)[1] for path in parsed] == ["badge.css"]
    for document in documents:
        assert page_sizes(document) == [A6_POINTS]  # `@page { size: A6 }` comes from badge.css


def test_the_guarded_weasyprint_hook_is_checked_on_this_version():
    """Fails on a WeasyPrint that the trimmed user-agent stylesheet was not checked on: see weasyprint_ua.py."""
    assert weasyprint_ua.USABLE, (
        f"WeasyPrint {weasyprint.__version__}: check weasyprint_ua's hook on it and add it to CHECKED_VERSIONS"
    )
    assert not weasyprint_ua.hook_is_usable("71.0")


def test_weasyprint_uses_our_user_agent_stylesheet_and_lists_keep_their_markers(app, monkeypatch):
    calls = []
    original = weasyprint_ua._TrimmedHTML._ua_stylesheets

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint_ua._TrimmedHTML, "_ua_stylesheets", spy)
    with app.test_request_context():
        document = pdf.html_to_pdf("<html><body><h1>Reasons</h1><ul><li>first</li><li>second</li></ul></body></html>")
    assert calls, "WeasyPrint no longer asks for the user-agent stylesheet this way: the override does nothing"
    text = pdf_text(document)
    assert "Reasons" in text and text.count("•") == 2


@pytest.mark.parametrize("hook_usable", [True, False])
def test_pdfs_are_the_same_to_read_with_or_without_the_guarded_hook(app, monkeypatch, hook_usable):
    """On an unchecked WeasyPrint the renderer falls back to WeasyPrint's own stylesheet: slower, same content."""
    monkeypatch.setattr(weasyprint_ua, "USABLE", hook_usable)
    with app.test_request_context():
        document = pdf.html_to_pdf("<html><body><h1>Reasons</h1><ul><li>first</li><li>second</li></ul></body></html>")
    text = pdf_text(document)
    assert "Reasons" in text and text.count("•") == 2


def test_page_numbers_keep_their_place_in_the_margin_box(make_session):
    """The headcount report prints "1 / 2" in its @bottom-right margin box: centred in the height of the bottom
    margin, as WeasyPrint's user-agent stylesheet has it, although documents that fill no margin box go without
    those rules (without them the number would sit at the top of the margin, 31 pt from the page's edge)."""
    from font_tools import placed_glyphs

    from attendance.reports.formats import to_pdf
    from attendance.reports.headcount import headcount

    glyphs = [g for g in placed_glyphs(to_pdf(headcount(make_session()))) if g.page == 0 and g.y < 40]
    assert "".join(g.text for g in sorted(glyphs, key=lambda g: g.x)).replace(" ", "") == "1/2"
    assert min(g.x for g in glyphs) > 500  # at the right margin (A4: 595 pt wide, 34 pt margin)
    assert max(g.y for g in glyphs) < 24  # the baseline, in a bottom margin of 14 mm (40 pt)


def test_data_uris_are_decoded_without_urllib_and_other_urls_keep_their_rules():
    fetcher = pdf._URLFetcher()
    response = fetcher.fetch("data:image/png;base64,iVBORw0KGgo=")
    assert response.read() == b"\x89PNG\r\n\x1a\n" and response.content_type == "image/png"
    assert fetcher.fetch("data:text/plain,plain%20text").read() == b"plain text"  # not base64: urllib's handler
    with pytest.raises(ValueError, match="disallowed protocol"):
        fetcher.fetch("http://example.org/logo.png")


THREADED_RENDERS = """
import sys, threading
from attendance import create_app
from attendance.documents.pdf import html_to_pdf
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
html = ('<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="badge.css"></head><body>'
        '<h1>Amélie Dubois</h1><p>Алексей Смирнов · 王小明 · <span dir="rtl">محمد علي</span></p></body></html>')
pages = []
def render():
    with app.app_context():
        for _ in range(15):
            pages.append(html_to_pdf(html))
threads = [threading.Thread(target=render) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
sys.exit(0 if len(pages) == 120 and all(p.startswith(b"%PDF") for p in pages) else 1)
"""


def test_threads_of_one_worker_can_render_pdfs_at_once():
    """gunicorn's gthread workers render badges in several threads; unguarded, that corrupted memory and killed
    the worker now and then (SIGSEGV, "free(): invalid next size"). Run in a process of its own: a crash is a
    failed test, not a dead test run."""
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-c", THREADED_RENDERS], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_the_garbage_collector_pauses_while_rendering_and_runs_again_after_success_or_failure(app, monkeypatch):
    """See pdf._collector_paused: bulk exports are 9 % faster. A worker left without the collector would grow
    until killed."""
    import gc

    during = []
    real = pdf._html_to_pdf

    def watching(html, template):
        during.append(gc.isenabled())
        return real(html, template)

    monkeypatch.setattr(pdf, "_html_to_pdf", watching)
    with app.app_context():
        assert pdf.html_to_pdf("<p>Amélie Dubois</p>").startswith(b"%PDF")
        assert gc.isenabled()
        with pytest.raises(FileNotFoundError):
            pdf.html_to_pdf('<link rel="stylesheet" href="no-such-sheet.css"><p>x</p>')
        assert gc.isenabled()
    assert during == [False, False]
