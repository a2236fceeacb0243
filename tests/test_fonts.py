"""Names in every script print with real glyphs in badges, certificates and the headcount report.

Text extraction would find a name even when it printed as empty boxes, so these tests read the fonts embedded in
each PDF (tests/font_tools.py) and require a real glyph for every character of every name. The last tests prove
the check can fail: with only DejaVu installed, a Chinese name is drawn as boxes, the check says so, and the app
logs a warning naming the text and the font that lacks it.
"""

import logging
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from font_tools import contextual_forms, coverage, embedded_fonts, right_to_left_lines

from attendance.auth import Actor
from attendance.certificates.render import certificate_pdf
from attendance.certificates.service import issue
from attendance.checkin.rule import check_in
from attendance.extensions import db
from attendance.models import EntityType
from attendance.registration.badges import badge_pdf
from attendance.reports.formats import to_pdf
from attendance.reports.headcount import headcount

NAMES = {
    "latin": "Zoë Nørgaard-Łukasiewicz",
    "cyrillic": "Анна Смирнова",
    "arabic": "محمد العلي",
    "chinese": "王伟",
    "japanese": "佐藤花子",
    "korean": "김민준",
}
ROOT = Path(__file__).resolve().parents[1]
ORGANISER = Actor("user:0", "t", True)


def assert_drawn(pdf: bytes, text: str) -> None:
    result = coverage(pdf, text)
    fonts = ", ".join(f"{f.family} ({f.base_font})" for f in embedded_fonts(pdf))
    assert not result.missing, f"no embedded font has a glyph for {sorted(result.missing)} of {text!r}: {fonts}"
    assert not result.boxes, f"{text!r} has characters drawn as empty boxes: {result.boxes}"


def assert_no_missing_glyph_warning(caplog) -> None:
    warnings = [r.getMessage() for r in caplog.records if r.name == "attendance.documents.pdf"]
    assert warnings == []


def assert_joined_and_right_to_left_if_arabic(pdf: bytes, script: str, name: str) -> None:
    if script == "arabic":
        # "محمد العلي": 9 letters, of which only the alif stands alone; the rest are drawn in initial, medial or
        # final forms. Unshaped text would draw every letter with its isolated glyph.
        assert contextual_forms(pdf, name) >= 7
        # Read from right to left by where each glyph is drawn, every line holding the name reads as the name.
        lines = right_to_left_lines(pdf, name)
        assert lines and set(lines) == {name.replace(" ", "")}, lines


@pytest.mark.parametrize("script", NAMES)
def test_badge_draws_every_character_of_the_name(make_session, make_registration, caplog, script):
    name = NAMES[script]
    registration = make_registration(make_session(), full_name=name, organisation=f"{name} Office")
    with caplog.at_level(logging.WARNING):
        pdf = badge_pdf(registration)
    assert_drawn(pdf, name)
    assert_joined_and_right_to_left_if_arabic(pdf, script, name)
    assert_no_missing_glyph_warning(caplog)


@pytest.mark.parametrize("script", NAMES)
def test_certificate_draws_every_character_of_the_name(app, make_session, make_registration, caplog, script):
    name = NAMES[script]
    meeting = make_session(first_day=date(2024, 2, 19))
    registration = make_registration(meeting, full_name=name)
    with app.test_request_context(), caplog.at_level(logging.WARNING):
        check_in(actor=ORGANISER, registration_id=registration.id, session_slug=meeting.slug, day=meeting.days[0].date)
        certificate, result = issue(registration)
        db.session.commit()  # committed before rendering, as the download does
        pdf = certificate_pdf(certificate, result)
    assert_drawn(pdf, name)
    assert_joined_and_right_to_left_if_arabic(pdf, script, name)
    assert_no_missing_glyph_warning(caplog)


def _report_with_entity_types_named_in_every_script(make_session) -> bytes:
    meeting = make_session(first_day=date(2024, 2, 19))
    names = list(NAMES.values())
    for entity_type, name in zip(meeting.entity_types, names):
        entity_type.name = name
    for position, name in enumerate(names[len(meeting.entity_types) :], start=len(meeting.entity_types)):
        meeting.entity_types.append(EntityType(name=name, position=position))
    db.session.commit()
    return to_pdf(headcount(meeting))


def test_headcount_report_draws_entity_types_named_in_every_script(make_session, caplog):
    with caplog.at_level(logging.WARNING):
        pdf = _report_with_entity_types_named_in_every_script(make_session)
    for name in NAMES.values():
        assert_drawn(pdf, name)
    arabic = NAMES["arabic"]
    assert contextual_forms(pdf, arabic) >= 7
    # The chart and the tables (whole session, then each of the two days) write the Arabic name right to left.
    assert right_to_left_lines(pdf, arabic).count(arabic.replace(" ", "")) == 4
    assert_no_missing_glyph_warning(caplog)


def test_headcount_report_chart_writes_arabic_labels_right_to_left(make_session):
    pdf = _report_with_entity_types_named_in_every_script(make_session)
    arabic = NAMES["arabic"]
    assert set(right_to_left_lines(pdf, arabic)) == {arabic.replace(" ", "")}


def test_a_character_no_font_has_is_logged_with_its_text_and_font(make_session, make_registration, caplog):
    name = "Ana \U0010fffd Silva"  # a private-use character of plane 16: no font draws it
    registration = make_registration(make_session(), full_name=name)
    with caplog.at_level(logging.WARNING, logger="attendance.documents.pdf"):
        pdf = badge_pdf(registration)
    warnings = [r for r in caplog.records if r.name == "attendance.documents.pdf"]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING
    assert "U+10FFFD" in message and repr(name) in message
    assert "Font lacking it: Noto Sans." in message
    # And the check above sees the box that the warning is about.
    assert coverage(pdf, name).missing == {"\U0010fffd"}
    assert_drawn(pdf, "Ana Silva")


# ---- the check fails when the fonts are not there ----

RENDER_WITH_DEJAVU_ONLY = textwrap.dedent("""
    import logging, sys
    from weasyprint import HTML
    from attendance.documents.pdf import warn_missing_glyphs
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s|%(message)s")
    names = sys.argv[2:]
    html = ("<html><head><link rel=stylesheet href='badge.css'></head><body>"
            + "".join(f"<h1 class=name dir=auto>{n}</h1>" for n in names) + "</body></html>")
    source = HTML(string=html, base_url=sys.argv[1])
    document = source.render()
    sys.stdout.buffer.write(document.write_pdf())
    warn_missing_glyphs(document, source, "badges/badge.html")
""")


@pytest.fixture
def dejavu_only(tmp_path):
    """An environment whose fontconfig sees DejaVu alone, like a server without the Noto packages."""
    files = subprocess.run(["fc-list", "-f", "%{file}\n", "DejaVu Sans"], capture_output=True, text=True).stdout
    if not files.strip():
        pytest.skip("DejaVu Sans is not installed (Debian: fonts-dejavu-core)")
    folder = Path(files.split()[0]).parent
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><dir>{folder}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    return dict(os.environ, FONTCONFIG_FILE=str(config))


def test_with_dejavu_only_chinese_prints_as_boxes_the_check_fails_and_the_app_warns(dejavu_only):
    names = [NAMES["cyrillic"], NAMES["chinese"]]
    done = subprocess.run(
        [sys.executable, "-c", RENDER_WITH_DEJAVU_ONLY, str(ROOT / "static") + "/", *names],
        env=dejavu_only,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    pdf = done.stdout
    assert {f.family for f in embedded_fonts(pdf)} == {"DejaVu Sans"}
    assert_drawn(pdf, NAMES["cyrillic"])  # DejaVu has Cyrillic
    result = coverage(pdf, NAMES["chinese"])
    assert result.missing == set(NAMES["chinese"])
    assert result.boxes == {char: {"DejaVu Sans"} for char in NAMES["chinese"]}
    with pytest.raises(AssertionError, match="no embedded font has a glyph"):
        assert_drawn(pdf, NAMES["chinese"])
    app_warnings = [line for line in done.stderr.decode().splitlines() if line.startswith("attendance.documents.pdf|")]
    assert len(app_warnings) == 1
    assert (
        "'王伟'" in app_warnings[0]
        and "U+738B" in app_warnings[0]
        and "Font lacking it: DejaVu Sans." in app_warnings[0]
    )
