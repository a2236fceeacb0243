"""The one WeasyPrint renderer: templates in, PDF bytes out, nothing fetched from the network.

What WeasyPrint would otherwise redo for every document is done once per process: the font configuration, and
the parsing of the stylesheets that our PDF templates link from static/ (`<link rel="stylesheet" href="x.css">`).
"""
import logging
import os
import re

from flask import current_app, render_template
from weasyprint import CSS, HTML, URLFetcher
from weasyprint import html as weasyprint_html
from weasyprint.formatting_structure.boxes import TextBox
from weasyprint.text.fonts import FontConfiguration

log = logging.getLogger(__name__)

_font_config: FontConfiguration | None = None
_stylesheets: dict[tuple[str, int], CSS] = {}  # (path, modification time) -> the parsed stylesheet
_LINKED_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([\w-]+\.css)">')


def font_config() -> FontConfiguration:
    # One long-lived configuration: a new one reloads every system font.
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def _url_fetcher() -> URLFetcher:
    return URLFetcher(allowed_protocols={"file", "data"})


def _user_agent_css() -> str:
    """WeasyPrint's HTML user-agent stylesheet without its rules for pseudo-elements of every element.

    `::marker`, `::footnote-call`, `::footnote-marker`, `::note-call`, `::note-marker` and `::note-callback` match
    any element, so WeasyPrint computed six pseudo-element styles for each element of every PDF: about a fifth of
    the cascade. Our PDFs have no footnotes or notes, and list markers only on `li`.
    """
    kept = []
    for line in weasyprint_html.UA.splitlines():
        if line.startswith(("::footnote-", "::note-", "@counter-style")):  # counter styles: registered already
            continue
        kept.append("li" + line if line.startswith("::marker") else line)
    return "\n".join(kept)


_USER_AGENT_STYLESHEET = CSS(string=_user_agent_css())


class _HTML(HTML):
    # WeasyPrint's own tests replace the user-agent stylesheet the same way; it is pinned in pyproject.toml.
    def _ua_stylesheets(self, forms=False):
        return [_USER_AGENT_STYLESHEET, weasyprint_html.UA_FORM_STYLESHEET] if forms else [_USER_AGENT_STYLESHEET]


def _stylesheet(name: str) -> CSS:
    """static/`name`, parsed once per process (again when the file changes), with the shared font configuration."""
    path = os.path.join(current_app.static_folder, name)
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _stylesheets:
        _stylesheets[key] = CSS(filename=path, url_fetcher=_url_fetcher(), font_config=font_config())
    return _stylesheets[key]


def render_pdf(template: str, **context) -> bytes:
    return html_to_pdf(render_template(template, **context), template)


def html_to_pdf(html: str, template: str = "") -> bytes:
    """`template` only names the document in warnings."""
    stylesheets = [_stylesheet(name) for name in _LINKED_STYLESHEET.findall(html)]
    document = _HTML(
        string=_LINKED_STYLESHEET.sub("", html),
        base_url=current_app.static_folder + "/",
        url_fetcher=_url_fetcher(),
    ).render(font_config=font_config(), stylesheets=stylesheets)
    pdf = document.write_pdf()
    try:
        warn_missing_glyphs(document, template)
    except Exception:  # a diagnostic must never cost the delegate their PDF
        log.exception("Could not check %s for missing glyphs", template)
    return pdf


def warn_missing_glyphs(document, template: str = "") -> None:
    """Logs a warning for each text that printed a character as an empty box, naming the font that lacks it.

    WeasyPrint records, per font it drew with, the characters that no installed font has a glyph for (Pango fell
    back to that font and drew .notdef). Reading that record costs nothing when it is empty, which is the usual case.
    """
    missing: dict[str, set[str]] = {}  # character -> families of the fonts that drew it as a box
    for font in document.fonts.values():
        for codepoint in font.missing:
            missing.setdefault(chr(codepoint), set()).add(font.family)
    if not missing:
        return
    reported: set[str] = set()
    unreported = set(missing)
    for page in document.pages:
        page_box = getattr(page, "_page_box", None)  # WeasyPrint is pinned; its box tree has no public name
        for box in page_box.descendants() if page_box is not None else ():
            if not isinstance(box, TextBox) or not missing.keys() & set(box.text):
                continue
            text = " ".join("".join(box.element.itertext()).split()) if box.element is not None else box.text
            if text in reported:
                continue
            reported.add(text)
            chars = [c for c in dict.fromkeys(text) if c in missing]
            log.warning(
                "Missing glyph in %s: no installed font has %s, printed as an empty box in %r. "
                "Font lacking it: %s; font-family asked: %s. Install a font that covers it "
                "(Debian: fonts-noto-core, fonts-noto-cjk) or add one to the stylesheet's font-family.",
                template or "a PDF", ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars), text[:200],
                ", ".join(sorted(set().union(*(missing[c] for c in chars)))),
                ", ".join(box.style["font_family"]))
            unreported.difference_update(chars)
    for char in sorted(unreported):  # drawn outside the text boxes, e.g. in an SVG chart
        log.warning("Missing glyph in %s: no installed font has %r (U+%04X), printed as an empty box. "
                    "Font lacking it: %s.", template or "a PDF", char, ord(char), ", ".join(sorted(missing[char])))
