"""The one WeasyPrint renderer: templates in, PDF bytes out, nothing fetched from the network.

What WeasyPrint would otherwise redo for every document is done once per process: the font configuration, and
the parsing of the stylesheets that our PDF templates link from static/ (`<link rel="stylesheet" href="x.css">`).
"""

import base64
import gc
import logging
import os
import re
import threading
from contextlib import contextmanager
from email.message import EmailMessage

from flask import current_app, render_template
from weasyprint import CSS, HTML, Document, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from . import weasyprint_ua

log = logging.getLogger(__name__)

_font_config: FontConfiguration | None = None
_stylesheets: dict[tuple[str, int], tuple[CSS, bool]] = {}  # (path, modification time) -> _stylesheet()
_LINKED_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([\w-]+\.css)">')


def font_config() -> FontConfiguration:
    # One long-lived configuration: a new one reloads every system font.
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


class _URLFetcher(URLFetcher):
    """Our static files and `data:` URIs only. A base64 `data:` URI (a QR code) is decoded here: urllib's data
    handler and the header parsing around it cost about a millisecond per image."""

    _headers: dict[str, EmailMessage] = {}  # media type -> the headers of a response of that type

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"})

    def fetch(self, url, headers=None):
        media_type, base64_marker, data = url.removeprefix("data:").partition(";base64,")
        if not url.startswith("data:") or not base64_marker or "," in media_type or ";" in media_type:
            return super().fetch(url, headers)
        if media_type not in self._headers:
            message = EmailMessage()
            message["Content-Type"] = media_type or "text/plain"
            self._headers[media_type] = message
        return URLFetcherResponse(url, base64.b64decode(data), self._headers[media_type])


_MARGIN_BOX = re.compile(r"@(top|bottom|left|right)-")


def _stylesheet(name: str) -> tuple[CSS, bool]:
    """static/`name` parsed once per process (again when the file changes) with the shared font configuration,
    and whether it fills a page-margin box."""
    path = os.path.join(current_app.static_folder, name)
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _stylesheets:
        with open(path, encoding="utf-8") as source:
            margin_boxes = bool(_MARGIN_BOX.search(source.read()))
        _stylesheets[key] = CSS(filename=path, url_fetcher=_URLFetcher(), font_config=font_config()), margin_boxes
    return _stylesheets[key]


def render_pdf(template: str, **context) -> bytes:
    return html_to_pdf(render_template(template, **context), template)


def html_to_pdf(html: str, template: str = "") -> bytes:
    """`template` only names the document in warnings. One document at a time per process: see `_rendering`."""
    with _rendering, _collector_paused():
        return _html_to_pdf(html, template)


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while a document is laid out and written.

    A layout makes hundreds of thousands of objects that live until its PDF is written. The collector promotes
    them, and once the promoted ones make a quarter of its oldest generation, it walks every object of the
    process: 1.3-1.5 ms a certificate in a bulk export (9 %), measured. Most are freed by reference counting when
    the document is done, and the cycles they leave by the next collection: the peak memory of a bulk export did
    not change, and a sheet of 1,000 badges (7 s) peaked 6 MB higher. The pause is the process's, so the other
    threads of a gthread worker collect no cycles meanwhile either. One document at a time per process
    (`_rendering`), so this cannot nest."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The font configuration and the parsed stylesheets are shared, and Pango's font map under them is not
# thread-safe: two threads of a gthread worker laying out PDFs at once corrupted memory ("free(): invalid next
# size", SIGSEGV). The layout holds the GIL most of the time anyway, so the lock costs little.
_rendering = threading.Lock()


def _html_to_pdf(html: str, template: str) -> bytes:
    stylesheets = [_stylesheet(name) for name in _LINKED_STYLESHEET.findall(html)]
    source = weasyprint_ua.html(
        string=_LINKED_STYLESHEET.sub("", html),
        base_url=current_app.static_folder + "/",
        url_fetcher=_URLFetcher(),
        margin_boxes=any(margin_boxes for _sheet, margin_boxes in stylesheets),
    )
    document = source.render(font_config=font_config(), stylesheets=[sheet for sheet, _margin_boxes in stylesheets])
    pdf = document.write_pdf()
    try:
        warn_missing_glyphs(document, source, template)
    except Exception:  # a diagnostic must never cost the delegate their PDF
        log.exception("Could not check %s for missing glyphs", template)
    return pdf


def warn_missing_glyphs(document: Document, source: HTML, template: str = "") -> None:
    """Logs a warning for each text that printed a character as an empty box, naming the font that lacks it.

    WeasyPrint records, per font it drew with, the characters that no installed font has a glyph for (Pango fell
    back to that font and drew .notdef). Reading that record costs nothing when it is empty, which is the usual case;
    the texts are then looked up in the parsed HTML (`source`).
    """
    missing: dict[str, set[str]] = {}  # character -> families of the fonts that drew it as a box
    for font in document.fonts.values():
        for codepoint in font.missing:
            missing.setdefault(chr(codepoint), set()).add(font.family)
    if not missing:
        return
    reported: set[str] = set()
    unreported = set(missing)
    for element in source.etree_element.iter():
        if not isinstance(element.tag, str):  # a comment
            continue
        own_text = (element.text or "") + "".join(child.tail or "" for child in element)
        if not missing.keys() & set(own_text):
            continue
        text = " ".join("".join(element.itertext()).split())
        if text in reported:
            continue
        reported.add(text)
        chars = [c for c in dict.fromkeys(text) if c in missing]
        log.warning(
            "Missing glyph in %s: no installed font has %s, printed as an empty box in %r. "
            "Font lacking it: %s. Install a font that covers it (Debian: fonts-noto-core, fonts-noto-cjk) or "
            "add one to the stylesheet's font-family.",
            template or "a PDF",
            ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars),
            text[:200],
            ", ".join(sorted(set().union(*(missing[c] for c in chars)))),
        )
        unreported.difference_update(chars)
    for char in sorted(unreported):  # drawn outside the HTML's text, e.g. in an SVG chart
        log.warning(
            "Missing glyph in %s: no installed font has %r (U+%04X), printed as an empty box. Font lacking it: %s.",
            template or "a PDF",
            char,
            ord(char),
            ", ".join(sorted(missing[char])),
        )
