"""The merged certificate PDF is written batch by batch as it is laid out, and reads back whole and in order."""

import io
import subprocess
from datetime import date

import pytest
from pdf_tools import A4_POINTS, page_sizes, qr_codes
from pypdf import PdfReader

from attendance.auth import Actor
from attendance.certificates import render
from attendance.certificates.service import issue
from attendance.checkin.rule import check_in
from attendance.documents.pdf_concat import PdfConcatenator
from attendance.extensions import db

ORGANISER = Actor("user:0", "t", True)
NAMES = ["Amélie Dubois", "Анна Смирнова", "Zoë Nørgaard", "王伟", "Ole Hansen"]


@pytest.fixture
def issued(app, make_session, make_registration):
    """A certificate for each of NAMES, in that order."""
    meeting = make_session(first_day=date(2024, 2, 19))
    pairs = []
    with app.test_request_context():
        for name in NAMES:
            registration = make_registration(meeting, full_name=name)
            check_in(
                actor=ORGANISER, registration_id=registration.id, session_slug=meeting.slug, day=meeting.days[0].date
            )
            pairs.append(issue(registration))
        db.session.commit()  # committed before rendering, as the download does
    return pairs


class Recorder(io.BytesIO):
    """An output that remembers how many bytes it held each time a batch was reported done."""

    def __init__(self):
        super().__init__()
        self.sizes_at_progress: list[int] = []

    def progress(self, _count: int) -> None:
        self.sizes_at_progress.append(self.tell())


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    done = subprocess.run(
        [tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"],
        input=pdf,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()  # no syntax warnings either
    return done.stdout.decode()


def test_merged_pdf_is_written_batch_by_batch_and_reads_back_in_order(app, issued, monkeypatch):
    monkeypatch.setattr(render, "BATCH", 2)  # 5 certificates: batches of 2, 2 and 1
    out = Recorder()
    with app.test_request_context():
        assert render.write_merged_pdf(issued, out, progress=out.progress) == len(NAMES)
    pdf = out.getvalue()

    # Each batch reached the output before the next was laid out: nothing waits in memory for the end.
    first, second, third = out.sizes_at_progress
    assert 0 < first < second < third < len(pdf)

    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == len(NAMES)
    for page, name in zip(reader.pages, NAMES):
        assert name.replace(" ", "") in page.extract_text().replace(" ", "").replace("\n", "")
    assert page_sizes(pdf) == [A4_POINTS[::-1]] * len(NAMES)
    ids = [certificate.public_id for certificate, _result in issued]
    assert [code.rsplit("/verify/", 1)[1] for code in qr_codes(pdf, dpi=150)] == ids

    assert "Pages:           5" in poppler("pdfinfo", pdf)
    text = poppler("pdftotext", pdf).split("\f")
    assert [i for i, page in enumerate(text[:5]) if "Ole Hansen" in page] == [4]


def test_concatenating_keeps_each_page_its_size_and_content(app, issued):
    with app.test_request_context():
        a4 = render.render_pdf("certificates/certificate.html", sections=[render._section(*issued[0])])
    from attendance.registration.badges import badge_sheet_pdf

    a6_pages = badge_sheet_pdf([issued[1][0].registration])  # an A4 sheet
    out = io.BytesIO()
    merged = PdfConcatenator(out)
    assert merged.add(a4) == 1 and merged.add(a6_pages) == 1 and merged.add(a4) == 1
    merged.close()
    pdf = out.getvalue()
    assert page_sizes(pdf) == [A4_POINTS[::-1], A4_POINTS, A4_POINTS[::-1]]
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(pdf), strict=True).pages]
    assert "Amélie Dubois" in texts[0] and "Анна Смирнова" in texts[1] and "Amélie Dubois" in texts[2]
    poppler("pdfinfo", pdf)


def test_an_added_input_leaves_none_of_its_objects_to_the_garbage_collector(app, issued):
    """Each input's parsed objects (page streams, fonts) go as soon as they are written. Rendering pauses the
    collector, so objects that waited for it stayed through a bulk export: +20 MB at 1,000 certificates."""
    import gc

    from pypdf.generic import StreamObject

    with app.test_request_context():
        pdf = render.render_pdf("certificates/certificate.html", sections=[render._section(*issued[0])])
    gc.collect()
    gc.disable()
    try:
        before = {id(o) for o in gc.get_objects() if isinstance(o, StreamObject)}
        PdfConcatenator(io.BytesIO()).add(pdf)
        left = [o for o in gc.get_objects() if isinstance(o, StreamObject) and id(o) not in before]
    finally:
        gc.enable()
    assert left == []


def test_an_empty_merge_is_still_a_valid_pdf():
    out = io.BytesIO()
    merged = PdfConcatenator(out)
    merged.close()
    assert len(PdfReader(io.BytesIO(out.getvalue()), strict=True).pages) == 0


def test_a_merged_pdf_may_mix_languages_and_only_the_odd_one_names_its_own(app, issued, monkeypatch):
    french = issued[1][0].registration
    french.locale = "fr"
    sections = []
    real_section = render._section

    def remember(*args):
        sections.append(real_section(*args))
        return sections[-1]

    monkeypatch.setattr(render, "_section", remember)
    out = io.BytesIO()
    with app.test_request_context():
        render.write_merged_pdf(issued[:3], out)
    # In the batch's language (the first certificate's), a section names none, so that WeasyPrint can share the
    # computed styles of all the sections; the French one says it is French.
    assert ['lang="fr"' in section for section in sections] == [False, True, False]
    assert all("lang=" not in section for i, section in enumerate(sections) if i != 1)
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue()), strict=True).pages]
    assert "Certificat de participation" in texts[1] and "Certificate of attendance" in texts[2]
